import type { ServerResponse } from 'node:http';

type Json = Record<string, unknown>;

/** The finish_reason of a chunk that ends a sample failmode stopped. */
export const FAILMODE_STOP = 'failmode_stop';

/** What the caller asked for, read once from its request body. */
export interface CallerShape {
  /** `stream: true`: SSE chunks; else one assembled `chat.completion`. */
  readonly stream: boolean;
  readonly logprobs: boolean;
  /** The caller's top_logprobs (0 = none asked). */
  readonly top: number;
  /**
   * The upstream's chunks are exactly what the caller asked for (streaming, logprobs on, its top_logprobs ≥ the
   * monitor's): each event's data is forwarded as received, never re-serialised; only a stop changes the stream.
   */
  readonly passthrough: boolean;
}

/** Request identity for chunks failmode writes itself (a stop chunk, the assembled completion). */
export interface ResponseMeta {
  id?: unknown;
  created?: unknown;
  model?: unknown;
  system_fingerprint?: unknown;
}

/** The caller's side of one proxied request: streamed (SSE) or assembled (one JSON object). */
export interface CallerResponse {
  /** One upstream chunk (`raw` its data text, `chunk` parsed), given the set of choices no longer forwarded. */
  chunk(raw: string, chunk: Json, closed: (index: number) => boolean): void;
  /** Data the proxy could not parse: forwarded unchanged to a streaming caller. */
  unparsed(raw: string): void;
  /** The last chunk of a choice failmode stopped. */
  stopped(index: number, meta: ResponseMeta, requestId: string): void;
  /** Sends what is buffered (called after each upstream read). */
  flush(): void;
  /** Ends the response. */
  end(meta: ResponseMeta, requestId: string, finish: (index: number) => string | null, usage: unknown): void;
}

/**
 * SSE to the caller. Writes of one upstream read go out as one `write` (the upstream's network chunk usually holds
 * several events). In passthrough the event data is forwarded as received; otherwise each chunk is rebuilt with
 * logprobs removed or cut to the caller's top_logprobs.
 */
export class StreamingCallerResponse implements CallerResponse {
  private readonly res: ServerResponse;
  private readonly shape: CallerShape;
  private pending = '';

  constructor(res: ServerResponse, shape: CallerShape) {
    this.res = res;
    this.shape = shape;
  }

  chunk(raw: string, chunk: Json, closed: (index: number) => boolean): void {
    const choices = Array.isArray(chunk.choices) ? chunk.choices as Json[] : [];
    let allOpen = true;
    for (const c of choices) if (c !== null && typeof c === 'object' && closed(choiceIndex(c))) allOpen = false;
    if (this.shape.passthrough && allOpen) {
      this.pending += `data: ${raw}\n\n`;
      return;
    }
    // A choice that ended (finished or stopped) gets nothing more; the rest as the caller asked for it.
    const source = this.shape.passthrough ? JSON.parse(raw) as Json : chunk;
    const kept: Json[] = [];
    for (const c of Array.isArray(source.choices) ? source.choices as Json[] : []) {
      if (c === null || typeof c !== 'object' || closed(choiceIndex(c))) continue;
      kept.push(callerChoice(c, this.shape));
    }
    const hasUsage = source.usage !== undefined && source.usage !== null;
    if (kept.length === 0 && choices.length > 0 && !hasUsage) return;
    this.pending += `data: ${JSON.stringify({ ...source, choices: kept })}\n\n`;
  }

  unparsed(raw: string): void {
    this.pending += `data: ${raw}\n\n`;
  }

  stopped(index: number, meta: ResponseMeta, requestId: string): void {
    this.pending += `data: ${JSON.stringify({
      id: meta.id ?? requestId, object: 'chat.completion.chunk', created: meta.created ?? Math.floor(Date.now() / 1000),
      model: meta.model ?? null, choices: [{ index, delta: {}, logprobs: null, finish_reason: FAILMODE_STOP }],
    })}\n\n`;
  }

  flush(): void {
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    if (!this.res.destroyed && !this.res.writableEnded) this.res.write(text);
  }

  end(): void {
    this.pending += 'data: [DONE]\n\n';
    const text = this.pending;
    this.pending = '';
    if (!this.res.destroyed && !this.res.writableEnded) this.res.end(text);
  }
}

interface Assembled {
  content: string;
  reasoning: string;
  logprobs: unknown[];
  reasoningLogprobs: unknown[];
  finishReason: string | null;
}

/** One `chat.completion` assembled from the stream, for a caller that did not ask to stream. */
export class AssembledCallerResponse implements CallerResponse {
  private readonly res: ServerResponse;
  private readonly shape: CallerShape;
  private readonly choices = new Map<number, Assembled>();

  constructor(res: ServerResponse, shape: CallerShape) {
    this.res = res;
    this.shape = shape;
  }

  chunk(_raw: string, chunk: Json, closed: (index: number) => boolean): void {
    for (const raw of Array.isArray(chunk.choices) ? chunk.choices as Json[] : []) {
      if (raw === null || typeof raw !== 'object') continue;
      const index = choiceIndex(raw);
      if (closed(index)) continue;
      const c = this.choice(index);
      const choice = callerChoice(raw, this.shape);
      const delta = (choice.delta ?? {}) as Json;
      if (typeof delta.content === 'string') c.content += delta.content;
      const r = delta.reasoning_content ?? delta.reasoning;
      if (typeof r === 'string') c.reasoning += r;
      const lp = choice.logprobs as Json | null | undefined;
      if (lp && Array.isArray(lp.content)) c.logprobs.push(...lp.content);
      const rl = lp ? (lp.reasoning_content ?? lp.reasoning) : undefined;
      if (Array.isArray(rl)) c.reasoningLogprobs.push(...rl);
    }
  }

  unparsed(): void {
    // Nothing to assemble from it.
  }

  stopped(index: number): void {
    this.choice(index);
  }

  flush(): void {
    // Everything goes out at the end.
  }

  end(meta: ResponseMeta, requestId: string, finish: (index: number) => string | null, usage: unknown): void {
    if (this.res.destroyed || this.res.writableEnded) return;
    const choices = [...this.choices.entries()].sort((a, b) => a[0] - b[0]).map(([index, c]) => ({
      index,
      message: { role: 'assistant', content: c.content, ...(c.reasoning !== '' ? { reasoning_content: c.reasoning } : {}) },
      logprobs: this.shape.logprobs ? { content: c.logprobs, ...(c.reasoningLogprobs.length > 0 ? { reasoning_content: c.reasoningLogprobs } : {}) } : null,
      finish_reason: finish(index),
    }));
    const json = JSON.stringify({
      id: meta.id ?? requestId, object: 'chat.completion', created: meta.created ?? Math.floor(Date.now() / 1000),
      model: meta.model ?? null, ...(meta.system_fingerprint !== undefined ? { system_fingerprint: meta.system_fingerprint } : {}),
      choices, ...(usage !== undefined ? { usage } : {}),
    });
    this.res.writeHead(200, { 'content-type': 'application/json', 'x-failmode-request-id': requestId });
    this.res.end(json);
  }

  private choice(index: number): Assembled {
    let c = this.choices.get(index);
    if (!c) {
      c = { content: '', reasoning: '', logprobs: [], reasoningLogprobs: [], finishReason: null };
      this.choices.set(index, c);
    }
    return c;
  }
}

export function choiceIndex(raw: Json): number {
  return typeof raw.index === 'number' ? raw.index : 0;
}

/** The choice as the caller asked for it: logprobs removed, or their top lists trimmed to its top_logprobs. */
function callerChoice(raw: Json, shape: CallerShape): Json {
  if (raw.logprobs === undefined || raw.logprobs === null) return raw;
  if (!shape.logprobs) return { ...raw, logprobs: null };
  if (shape.passthrough) return raw;
  const lp = raw.logprobs as Json;
  const trim = (list: unknown): unknown => (Array.isArray(list)
    ? list.map((e) => (e !== null && typeof e === 'object' && Array.isArray((e as Json).top_logprobs)
      ? { ...(e as Json), top_logprobs: ((e as Json).top_logprobs as unknown[]).slice(0, shape.top) }
      : e))
    : list);
  const out: Json = { ...lp };
  for (const k of ['content', 'reasoning_content', 'reasoning']) if (lp[k] !== undefined) out[k] = trim(lp[k]);
  return { ...raw, logprobs: out };
}
