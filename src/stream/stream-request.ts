/** Which OpenAI-compatible API a live request uses (`--api`). */
export type StreamApi = 'chat' | 'completions' | 'responses';

export const STREAM_APIS: readonly StreamApi[] = ['chat', 'completions', 'responses'];

/** What a streaming request asks for, whatever the API. */
export interface StreamRequestSpec {
  readonly model: string;
  /** The user prompt. */
  readonly prompt: string;
  readonly system?: string | null;
  /** Completions per request (chat and completions; the Responses API has one output). */
  readonly n?: number;
  readonly maxTokens?: number;
  readonly temperature?: number;
  /** Alternatives per token; 0 = the chosen token's logprob only. */
  readonly topLogprobs: number;
  readonly extraBody?: Readonly<Record<string, unknown>>;
}

/**
 * The path (relative to the base URL) and JSON body of a streaming request with logprobs, per API:
 *
 * - `chat` → `/chat/completions`: `messages` (system + user), `logprobs: true`, `top_logprobs: k`,
 *   `stream_options.include_usage`.
 * - `completions` → `/completions`: `prompt` (the system prompt, if any, then a blank line, then the prompt — the
 *   legacy API has no roles), `logprobs: k` (an integer there), `stream_options.include_usage`.
 * - `responses` → `/responses`: `input` = the prompt, `instructions` = the system prompt, `top_logprobs: k` with
 *   `include: ["message.output_text.logprobs"]`, `max_output_tokens`. One output per request: `n` > 1 is refused.
 *
 * Throws a TypeError naming the problem (n > 1 with the Responses API).
 */
export function streamRequest(api: StreamApi, r: StreamRequestSpec): { path: string; body: Record<string, unknown> } {
  const common = {
    model: r.model,
    stream: true,
    ...(r.temperature !== undefined ? { temperature: r.temperature } : {}),
  };
  switch (api) {
    case 'chat':
      return {
        path: '/chat/completions',
        body: {
          ...common,
          messages: [...(r.system ? [{ role: 'system', content: r.system }] : []), { role: 'user', content: r.prompt }],
          stream_options: { include_usage: true },
          ...(r.topLogprobs > 0 ? { logprobs: true, top_logprobs: r.topLogprobs } : { logprobs: true }),
          ...(r.n !== undefined ? { n: r.n } : {}),
          ...(r.maxTokens !== undefined ? { max_tokens: r.maxTokens } : {}),
          ...r.extraBody,
        },
      };
    case 'completions':
      return {
        path: '/completions',
        body: {
          ...common,
          prompt: r.system ? `${r.system}\n\n${r.prompt}` : r.prompt,
          stream_options: { include_usage: true },
          logprobs: r.topLogprobs,
          ...(r.n !== undefined ? { n: r.n } : {}),
          ...(r.maxTokens !== undefined ? { max_tokens: r.maxTokens } : {}),
          ...r.extraBody,
        },
      };
    case 'responses':
      if (r.n !== undefined && r.n > 1) throw new TypeError(`The Responses API gives one output per request: expected n = 1, got ${r.n} (use --api chat or completions for n > 1)`);
      return {
        path: '/responses',
        body: {
          ...common,
          input: r.prompt,
          ...(r.system ? { instructions: r.system } : {}),
          include: ['message.output_text.logprobs'],
          top_logprobs: r.topLogprobs,
          ...(r.maxTokens !== undefined ? { max_output_tokens: r.maxTokens } : {}),
          ...r.extraBody,
        },
      };
  }
}
