import type { ProxyResponse } from './proxy-response.ts';
import type { AssembledChoice, ProxyShape, ResponseMeta } from './proxy-shape.ts';
import { countedUsage, upstreamErrorChunk, upstreamErrorResponse, type Truncation } from './upstream-truncation.ts';

type Json = Record<string, unknown>;

/** The finish_reason of a chunk that ends a sample failmode stopped. */
export const FAILMODE_STOP = 'failmode_stop';

/** What the caller asked for, read once from its request body. */
export interface CallerShape {
  /** The API proxied (chat or legacy completions). */
  readonly api: ProxyShape;
  /** `stream: true`: SSE chunks; else one assembled answer. */
  readonly stream: boolean;
  /** The caller asked for logprobs. */
  readonly logprobs: boolean;
  /** The caller's top-k (0 = none asked). */
  readonly top: number;
  /** The caller gets usage: `stream_options.include_usage` when streaming, always otherwise. */
  readonly usage: boolean;
  /**
   * The upstream's chunks are exactly what the caller asked for (streaming, logprobs on, its k ≥ the monitor's): each
   * event's data is forwarded as received, never re-serialised; only a stop (or a choice that has ended) changes it.
   */
  readonly passthrough: boolean;
}

/** How the response ends, as the session knows it. */
export interface ResponseEnd {
  readonly meta: ResponseMeta;
  /** Every choice seen, by ascending index, with its final finish_reason (null: never given one). */
  readonly choices: readonly { readonly index: number; readonly finishReason: string | null }[];
  /** The upstream's own usage; undefined when none came. */
  readonly usage: unknown;
  /** Completion tokens counted by failmode when one of its stops cut the upstream (else null). */
  readonly countedTokens: number | null;
}

/** The caller's side of one proxied request: streamed (SSE) or assembled (one JSON object). */
export interface CallerResponse {
  /** One upstream chunk (`raw` its data text, `chunk` parsed); choices for which `closed` holds get nothing more. */
  chunk(raw: string, chunk: Json, closed: (index: number) => boolean): void;
  /** The last chunk of a choice failmode stopped. */
  stopped(index: number, meta: ResponseMeta): void;
  /** Sends what is buffered (after each upstream read, and after a stop decided between reads). */
  flush(): void;
  /** A complete response ends. */
  end(e: ResponseEnd): void;
  /** The upstream left the response unfinished: an error chunk (stream) or a 502 with the partial answer. */
  fail(t: Truncation, e: ResponseEnd): void;
}

/**
 * SSE to the caller. What one upstream read produced goes out as one `write` (a network read usually holds several
 * events). In passthrough each event's data is forwarded as received; otherwise each chunk is rebuilt with the
 * logprobs removed or cut to the caller's k.
 */
export class StreamingCallerResponse implements CallerResponse {
  private readonly res: ProxyResponse;
  private readonly shape: CallerShape;
  private pending = '';

  constructor(res: ProxyResponse, shape: CallerShape) {
    this.res = res;
    this.shape = shape;
  }

  chunk(raw: string, chunk: Json, closed: (index: number) => boolean): void {
    const choices = Array.isArray(chunk.choices) ? chunk.choices as unknown[] : [];
    if (this.shape.passthrough && !anyClosed(choices, closed)) {
      this.pending += `data: ${raw}\n\n`;
      return;
    }
    // In passthrough the parsed chunk lacks its `bytes` members (never parsed): rebuild from the text.
    const source = this.shape.passthrough ? JSON.parse(raw) as Json : chunk;
    const kept: Json[] = [];
    const all = Array.isArray(source.choices) ? source.choices as unknown[] : [];
    for (const c of all) {
      if (c === null || typeof c !== 'object' || closed(choiceIndex(c as Json))) continue;
      kept.push(this.shape.api.callerChoice(c as Json, this.shape.logprobs, this.shape.top));
    }
    const hasUsage = source.usage !== undefined && source.usage !== null;
    if (kept.length === 0 && all.length > 0 && !hasUsage) return;
    this.pending += `data: ${JSON.stringify({ ...source, choices: kept })}\n\n`;
  }

  stopped(index: number, meta: ResponseMeta): void {
    this.pending += `data: ${JSON.stringify(this.shape.api.stopChunk(meta, index, FAILMODE_STOP))}\n\n`;
  }

  flush(): void {
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    if (!this.res.destroyed && !this.res.writableEnded) this.res.write(text);
  }

  end(e: ResponseEnd): void {
    // A stop cut the upstream before its usage chunk: the caller that asked for usage gets the counted tokens.
    if (this.shape.usage && e.usage === undefined && e.countedTokens !== null) {
      this.pending += `data: ${JSON.stringify({ ...this.shape.api.stopChunk(e.meta, 0, ''), choices: [], usage: countedUsage(e.countedTokens) })}\n\n`;
    }
    this.close('data: [DONE]\n\n');
  }

  fail(t: Truncation): void {
    this.close(upstreamErrorChunk(t));
  }

  private close(last: string): void {
    const text = this.pending + last;
    this.pending = '';
    if (!this.res.destroyed && !this.res.writableEnded) this.res.end(text);
  }
}

/** One answer assembled from the stream, for a caller that did not ask to stream. */
export class AssembledCallerResponse implements CallerResponse {
  private readonly res: ProxyResponse;
  private readonly shape: CallerShape;
  /** Headers of the answer (request id, warnings). */
  private readonly headers: Record<string, string>;
  private readonly choices = new Map<number, AssembledChoice>();

  constructor(res: ProxyResponse, shape: CallerShape, headers: Record<string, string>) {
    this.res = res;
    this.shape = shape;
    this.headers = headers;
  }

  chunk(_raw: string, chunk: Json, closed: (index: number) => boolean): void {
    if (!Array.isArray(chunk.choices)) return;
    for (const raw of chunk.choices as unknown[]) {
      if (raw === null || typeof raw !== 'object') continue;
      const index = choiceIndex(raw as Json);
      if (closed(index)) continue;
      this.shape.api.accumulate(this.choice(index), this.shape.api.callerChoice(raw as Json, this.shape.logprobs, this.shape.top));
    }
  }

  stopped(): void {
    // The stop shows in the assembled choice's finish_reason.
  }

  flush(): void {
    // Everything goes out at the end.
  }

  end(e: ResponseEnd): void {
    const usage = e.usage ?? (e.countedTokens !== null ? countedUsage(e.countedTokens) : undefined);
    this.send(200, this.shape.api.assemble(e.meta, this.assembled(e), this.shape.logprobs, usage));
  }

  fail(t: Truncation, e: ResponseEnd): void {
    this.send(502, upstreamErrorResponse(t, this.shape.api.assemble(e.meta, this.assembled(e), this.shape.logprobs, e.usage)));
  }

  private assembled(e: ResponseEnd): AssembledChoice[] {
    return e.choices.map(({ index, finishReason }) => ({ ...this.choice(index), finishReason }));
  }

  private send(status: number, body: unknown): void {
    if (this.res.destroyed || this.res.writableEnded) return;
    this.res.writeHead(status, { 'content-type': 'application/json', ...this.headers });
    this.res.end(JSON.stringify(body));
  }

  private choice(index: number): AssembledChoice {
    let c = this.choices.get(index);
    if (!c) {
      c = { index, content: '', reasoning: '', logprobs: [], reasoningLogprobs: [], finishReason: null };
      this.choices.set(index, c);
    }
    return c;
  }
}

/** A choice's `index` (0 when absent, as the decoder reads it). */
export function choiceIndex(raw: Json): number {
  return typeof raw.index === 'number' ? raw.index : 0;
}

function anyClosed(choices: readonly unknown[], closed: (index: number) => boolean): boolean {
  for (const c of choices) if (c !== null && typeof c === 'object' && closed(choiceIndex(c as Json))) return true;
  return false;
}
