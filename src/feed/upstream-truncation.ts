/**
 * What the caller of `failmode serve` gets when the upstream leaves a response unfinished (the connection dropped or
 * closed before every choice had a finish_reason): never a clean end. A streaming caller's stream ends with
 *   data: {"error": {"message": "…", "type": "upstream_error", "code": "upstream_truncated"}}
 * and no `[DONE]`; a non-streaming caller gets HTTP 502 with the same error and the partial answer under
 * `error.partial`.
 */

/** What was missing when the upstream stopped. */
export interface Truncation {
  /** The transport's reason (e.g. "terminated (other side closed)"), null when the body simply ended. */
  readonly failure: string | null;
  /** Choices that never got a finish_reason. */
  readonly openChoices: readonly number[];
  readonly choicesSeen: number;
}

export function truncationMessage(t: Truncation): string {
  const what = t.choicesSeen === 0
    ? 'before sending any choice'
    : `before finishing choice${t.openChoices.length === 1 ? '' : 's'} ${t.openChoices.join(', ')} (no finish_reason)`;
  return `The upstream ${t.failure ? `failed (${t.failure})` : 'closed the stream'} ${what}: the answer is truncated`;
}

/** The last SSE event of a truncated stream (the caller sees no `[DONE]`). */
export function upstreamErrorChunk(t: Truncation): string {
  return `data: ${JSON.stringify({ error: { message: truncationMessage(t), type: 'upstream_error', code: 'upstream_truncated' } })}\n\n`;
}

/** The 502 body of a truncated non-streaming answer, with the partial answer. */
export function upstreamErrorResponse(t: Truncation, partial: unknown): unknown {
  return { error: { message: truncationMessage(t), type: 'upstream_error', code: 'upstream_truncated', partial } };
}

/**
 * The usage reported when failmode stopped a request before the upstream's usage came: the completion tokens
 * failmode counted (all choices); the prompt's size is not known to the proxy, so its fields are null.
 */
export function countedUsage(completionTokens: number): { prompt_tokens: null; completion_tokens: number; total_tokens: null } {
  return { prompt_tokens: null, completion_tokens: completionTokens, total_tokens: null };
}
