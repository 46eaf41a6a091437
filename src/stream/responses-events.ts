/**
 * The Responses API stream (`POST /v1/responses`, `stream: true`), read as chat-completion chunks so one decoder
 * serves every shape. The events that matter (each an SSE event whose data has a `type`):
 *
 *   response.created            {response: {id, model, …}}                  → the request id and model
 *   response.output_text.delta  {delta: " Paris", logprobs: [{token, logprob, top_logprobs: [{token, logprob}]}]}
 *   response.reasoning_text.delta {delta}                                   → reasoning text (no logprobs sent)
 *   response.completed          {response: {usage: {input_tokens, output_tokens}}} → finish_reason "stop"
 *   response.incomplete         {response: {incomplete_details: {reason: "max_output_tokens"}}} → "length"
 *   response.failed / error     → a stream error, the sample ends with "error"
 *
 * A response has one output (no `n`), so it is one sample, `${id}:0`. Reasoning *summaries*
 * (`response.reasoning_summary_text.delta`) are a rewrite of the reasoning, not its tokens, and are skipped, as are
 * the item / content-part bookkeeping events.
 */

type Json = Record<string, unknown>;

/** What one Responses event means for the decoder. */
export type ResponsesStep =
  | { readonly kind: 'chunks'; readonly chunks: readonly Json[]; readonly endOfRequest: boolean }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'skip' };

/** True for an event of the Responses API stream. */
export function isResponsesEvent(c: Json): boolean {
  return typeof c.type === 'string' && (c.type.startsWith('response.') || (c.type === 'error' && c.choices === undefined));
}

/** Converts Responses events to chat chunks; holds the response id and model (one instance per stream). */
export class ResponsesEventAdapter {
  private id: string | undefined;
  private model: string | undefined;

  step(ev: Json): ResponsesStep {
    const type = ev.type as string;
    const response = (ev.response !== null && typeof ev.response === 'object' ? ev.response : null) as Json | null;
    if (response) {
      if (typeof response.id === 'string' && this.id === undefined) this.id = response.id;
      if (typeof response.model === 'string' && this.model === undefined) this.model = response.model;
    }
    switch (type) {
      case 'response.created':
      case 'response.in_progress':
        return { kind: 'skip' };
      case 'response.output_text.delta':
        return this.delta({ content: str(ev.delta) }, ev.logprobs === undefined ? null : { content: ev.logprobs });
      case 'response.reasoning_text.delta':
        return this.delta({ reasoning: str(ev.delta) }, null);
      case 'response.completed':
      case 'response.incomplete': {
        const reason = type === 'response.completed' ? 'stop' : incompleteReason(response);
        const finish = this.chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: reason }]);
        const u = response?.usage as Json | undefined;
        const chunks: Json[] = [finish];
        if (u && typeof u === 'object') {
          chunks.push(this.chunk([], { usage: { prompt_tokens: u.input_tokens, completion_tokens: u.output_tokens } }));
        }
        return { kind: 'chunks', chunks, endOfRequest: true };
      }
      case 'response.failed': {
        const e = response?.error as Json | undefined;
        return { kind: 'error', message: `Response failed: ${typeof e?.message === 'string' ? e.message : 'no reason given'}` };
      }
      case 'error':
        return { kind: 'error', message: `Server error in stream: ${typeof ev.message === 'string' ? ev.message : JSON.stringify(ev).slice(0, 200)}` };
      default:
        return { kind: 'skip' };
    }
  }

  private delta(delta: Json, logprobs: Json | null): ResponsesStep {
    return { kind: 'chunks', chunks: [this.chunk([{ index: 0, delta, logprobs, finish_reason: null }])], endOfRequest: false };
  }

  private chunk(choices: Json[], extra: Json = {}): Json {
    return { ...(this.id !== undefined ? { id: this.id } : {}), ...(this.model !== undefined ? { model: this.model } : {}), choices, ...extra };
  }
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** `incomplete_details.reason` in chat terms: running out of output tokens is finish_reason "length". */
function incompleteReason(response: Json | null): string {
  const d = response?.incomplete_details as Json | null | undefined;
  const r = d && typeof d.reason === 'string' ? d.reason : 'incomplete';
  return r === 'max_output_tokens' ? 'length' : r;
}
