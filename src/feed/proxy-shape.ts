/**
 * What differs between the two APIs `failmode serve` proxies — `/v1/chat/completions` and `/v1/completions` — seen
 * from the caller: how logprobs are asked for, how a choice is trimmed to what the caller asked, how a non-streaming
 * answer is assembled, and what the chunk that announces a failmode stop looks like. Everything else (monitoring,
 * stopping, aborting) is shared.
 */

type Json = Record<string, unknown>;

/** The caller's view of one choice, accumulated for a non-streaming answer. */
export interface AssembledChoice {
  readonly index: number;
  content: string;
  reasoning: string;
  /** Chat: `logprobs.content` entries; completions: one {token, logprob, top, offset} per position. */
  logprobs: unknown[];
  reasoningLogprobs: unknown[];
  finishReason: string | null;
}

/** Response metadata kept from the upstream's first chunks. */
export interface ResponseMeta {
  readonly id: unknown;
  readonly created: unknown;
  readonly model: unknown;
  readonly system_fingerprint?: unknown;
}

export interface ProxyShape {
  /** Upstream path under the base URL. */
  readonly path: '/chat/completions' | '/completions';
  /** The caller's own logprobs request: whether it wants them and its k. */
  callerLogprobs(body: Json): { wants: boolean; top: number };
  /** The logprob fields of the upstream request (k = the larger of the monitor's and the caller's). */
  upstreamLogprobs(k: number): Json;
  /** The choice as the caller asked for it: logprobs removed, or their top lists trimmed to its k. */
  callerChoice(raw: Json, wants: boolean, top: number): Json;
  accumulate(c: AssembledChoice, choice: Json): void;
  /** The streaming chunk that ends a choice failmode stopped. */
  stopChunk(meta: ResponseMeta, index: number, finishReason: string): Json;
  /** The non-streaming answer. */
  assemble(meta: ResponseMeta, choices: readonly AssembledChoice[], wants: boolean, usage: unknown): Json;
}

const positiveInt = (v: unknown): number => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : 0);

export const CHAT_SHAPE: ProxyShape = {
  path: '/chat/completions',
  callerLogprobs: (body) => ({ wants: body.logprobs === true, top: positiveInt(body.top_logprobs) }),
  upstreamLogprobs: (k) => ({ logprobs: true, top_logprobs: k }),
  callerChoice(raw, wants, top) {
    if (raw.logprobs === undefined || raw.logprobs === null) return raw;
    if (!wants) return { ...raw, logprobs: null };
    const lp = raw.logprobs as Json;
    const trim = (list: unknown): unknown => (Array.isArray(list)
      ? list.map((e) => (e !== null && typeof e === 'object' && Array.isArray((e as Json).top_logprobs)
        ? { ...(e as Json), top_logprobs: ((e as Json).top_logprobs as unknown[]).slice(0, top) }
        : e))
      : list);
    const out: Json = { ...lp };
    for (const k of ['content', 'reasoning_content', 'reasoning']) if (lp[k] !== undefined) out[k] = trim(lp[k]);
    return { ...raw, logprobs: out };
  },
  accumulate(c, choice) {
    const delta = (choice.delta ?? {}) as Json;
    if (typeof delta.content === 'string') c.content += delta.content;
    const r = delta.reasoning_content ?? delta.reasoning;
    if (typeof r === 'string') c.reasoning += r;
    const lp = choice.logprobs as Json | null | undefined;
    if (lp && Array.isArray(lp.content)) c.logprobs.push(...lp.content);
    const rl = lp ? (lp.reasoning_content ?? lp.reasoning) : undefined;
    if (Array.isArray(rl)) c.reasoningLogprobs.push(...rl);
  },
  stopChunk: (meta, index, finishReason) => ({
    id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model,
    choices: [{ index, delta: {}, logprobs: null, finish_reason: finishReason }],
  }),
  assemble: (meta, choices, wants, usage) => ({
    id: meta.id, object: 'chat.completion', created: meta.created, model: meta.model,
    ...(meta.system_fingerprint !== undefined ? { system_fingerprint: meta.system_fingerprint } : {}),
    choices: choices.map((c) => ({
      index: c.index,
      message: { role: 'assistant', content: c.content, ...(c.reasoning !== '' ? { reasoning_content: c.reasoning } : {}) },
      logprobs: wants ? { content: c.logprobs, ...(c.reasoningLogprobs.length > 0 ? { reasoning_content: c.reasoningLogprobs } : {}) } : null,
      finish_reason: c.finishReason,
    })),
    ...(usage !== undefined ? { usage } : {}),
  }),
};

/** The legacy completions API: `logprobs` is the k itself and the logprobs object holds parallel arrays. */
/** The shape of a proxied route's API. */
export function proxyShape(api: 'chat' | 'completions'): ProxyShape {
  return api === 'completions' ? COMPLETIONS_SHAPE : CHAT_SHAPE;
}

export const COMPLETIONS_SHAPE: ProxyShape = {
  path: '/completions',
  callerLogprobs: (body) => ({ wants: typeof body.logprobs === 'number' && Number.isInteger(body.logprobs) && body.logprobs >= 0, top: positiveInt(body.logprobs) }),
  upstreamLogprobs: (k) => ({ logprobs: k }),
  callerChoice(raw, wants, top) {
    if (raw.logprobs === undefined || raw.logprobs === null) return raw;
    if (!wants) return { ...raw, logprobs: null };
    const lp = raw.logprobs as Json;
    if (!Array.isArray(lp.top_logprobs)) return raw;
    return { ...raw, logprobs: { ...lp, top_logprobs: lp.top_logprobs.map((m) => trimTopObject(m, top)) } };
  },
  accumulate(c, choice) {
    if (typeof choice.text === 'string') c.content += choice.text;
    const lp = choice.logprobs as Json | null | undefined;
    if (!lp || !Array.isArray(lp.tokens)) return;
    const lps = Array.isArray(lp.token_logprobs) ? lp.token_logprobs : [];
    const tops = Array.isArray(lp.top_logprobs) ? lp.top_logprobs : [];
    const offs = Array.isArray(lp.text_offset) ? lp.text_offset : [];
    for (let i = 0; i < lp.tokens.length; i++) c.logprobs.push({ token: lp.tokens[i], logprob: lps[i] ?? null, top: tops[i] ?? null, offset: offs[i] ?? null });
  },
  stopChunk: (meta, index, finishReason) => ({
    id: meta.id, object: 'text_completion', created: meta.created, model: meta.model,
    choices: [{ index, text: '', logprobs: null, finish_reason: finishReason }],
  }),
  assemble: (meta, choices, wants, usage) => ({
    id: meta.id, object: 'text_completion', created: meta.created, model: meta.model,
    ...(meta.system_fingerprint !== undefined ? { system_fingerprint: meta.system_fingerprint } : {}),
    choices: choices.map((c) => {
      const p = c.logprobs as { token: unknown; logprob: unknown; top: unknown; offset: unknown }[];
      return {
        index: c.index, text: c.content,
        logprobs: wants ? { tokens: p.map((x) => x.token), token_logprobs: p.map((x) => x.logprob), top_logprobs: p.map((x) => x.top), text_offset: p.map((x) => x.offset) } : null,
        finish_reason: c.finishReason,
      };
    }),
    ...(usage !== undefined ? { usage } : {}),
  }),
};

/** A `{token: logprob}` object cut to its k most likely entries. */
function trimTopObject(m: unknown, k: number): unknown {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return m;
  const entries = Object.entries(m as Json);
  if (entries.length <= k) return m;
  entries.sort((a, b) => (typeof b[1] === 'number' ? b[1] : -Infinity) - (typeof a[1] === 'number' ? a[1] : -Infinity));
  return Object.fromEntries(entries.slice(0, k));
}
