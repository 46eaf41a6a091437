import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ChunkDecoder } from '../stream/chunk-decoder.ts';
import type { StreamEvent } from '../stream/token-event.ts';
import type { FeedHub } from './feed-hub.ts';
import type { LiveSample } from './live-sample.ts';
import { FeedProtocolError, MAX_ID_LENGTH } from './protocol.ts';
import { readJsonBody, sendJsonError } from './http-body.ts';
import { CHAT_SHAPE, type AssembledChoice, type ProxyShape } from './proxy-shape.ts';
import { DEFAULT_REFUSAL_LIMITS, relayUpstreamRefusal, type RefusalLimits } from './relay-upstream-refusal.ts';
import { DEFAULT_MAX_EVENT_CHARS } from '../stream/sse-source.ts';
import { SseLineParser } from '../stream/sse-line-parser.ts';
import { countedUsage, upstreamErrorChunk, upstreamErrorResponse, type Truncation } from './upstream-truncation.ts';

export interface ChatProxyOptions {
  /** Upstream base URL ending in `/v1` (no trailing slash needed). */
  readonly upstream: string;
  /** Bearer key for the upstream; null → the caller's own `Authorization` is passed through (only without --token). */
  readonly upstreamApiKey: string | null;
  /** Whether the proxy itself checks a token (then the caller's Authorization is ours, never forwarded). */
  readonly passCallerAuth: boolean;
  readonly hub: FeedHub;
  /** top_logprobs the monitor needs (the model's top-k; 20 without a model). */
  readonly topK: number;
  /** Server-side early stopping needs a model; without one the request is served and monitored only. */
  readonly canStop: boolean;
  readonly maxBodyBytes: number;
  /** Upstream request timeout. */
  readonly timeoutMs: number;
  /** The API proxied: chat completions (default) or the legacy completions. */
  readonly shape?: ProxyShape;
  /** Counts requests and upstream failures (serve's /metrics). */
  readonly observer?: ProxyObserver;
  /** Send our request id as SGLang's body field `rid` too (the abort check's explicit abort names it). */
  readonly sendRid?: boolean;
  /** Bounds on an upstream body that is not an event stream (an error). @default 1 MiB, 30 s */
  readonly refusalLimits?: RefusalLimits;
}

/** Longest SSE event read from the upstream, as `watch` reads: longer ends the response as truncated, unread. */
const MAX_UPSTREAM_EVENT_CHARS = DEFAULT_MAX_EVENT_CHARS;

/** What the proxy reports for the operator's metrics. */
export interface ProxyObserver {
  request(api: string): void;
  upstreamError(kind: 'unreachable' | 'http' | 'truncated'): void;
  tokensSaved(estimated: number): void;
}

/** A request failmode aborted upstream because its samples were stopped (for the abort check). */
export interface StoppedRequest {
  readonly requestId: string;
  readonly run: string;
  readonly sampleIds: readonly string[];
  /** Σ over the stopped choices of (max_tokens − tokens so far); 0 without max_tokens. */
  readonly estimatedSaved: number;
}

/** The request controls of failmode, from headers or the body's `failmode` object (removed before forwarding). */
export interface FailmodeControls {
  readonly earlyStop: boolean;
  readonly run: string;
  readonly question: string | null;
  readonly reference: string | null;
  /** Self-consistency guard: the question's sample count and how many must stay unstopped. */
  readonly keep: { readonly samples: number; readonly minKeep: number } | null;
}

/** The finish_reason of a chunk that ends a sample failmode stopped. */
export const FAILMODE_STOP = 'failmode_stop';

const EARLY_STOP_WITHOUT_MODEL = 'early stop requested but the server has no model';

type Json = Record<string, unknown>;

/**
 * `POST /v1/chat/completions`: forwards to the upstream as a streaming request with logprobs on (top_logprobs = the
 * larger of the model's top-k and the caller's), monitors every choice as a sample, and answers the caller in the shape
 * it asked for: SSE chunks when `stream: true` (else one assembled `chat.completion`), logprobs only if it asked for
 * them (trimmed to its top_logprobs). With early stopping on, a flagged choice gets a last chunk with
 * `finish_reason: "failmode_stop"`; when no choice is left running the stream ends with `[DONE]` and the upstream
 * request is aborted, so the engine stops generating. The caller going away aborts the upstream request too.
 */
export async function handleChatCompletions(req: IncomingMessage, res: ServerResponse, o: ChatProxyOptions): Promise<StoppedRequest | null> {
  const body = await readJsonBody(req, res, o.maxBodyBytes);
  if (body === null) return null;
  let controls: FailmodeControls;
  try {
    controls = failmodeControls(req, body);
  } catch (err) {
    sendJsonError(res, 400, (err as Error).message, 'invalid_request_error');
    return null;
  }
  const shape = o.shape ?? CHAT_SHAPE;
  o.observer?.request(shape === CHAT_SHAPE ? 'chat' : 'completions');
  const callerStream = body.stream === true;
  const { wants: callerLogprobs, top: callerTop } = shape.callerLogprobs(body);
  const callerUsage = callerStream ? (body.stream_options as Json | undefined)?.include_usage === true : true;
  const upstreamTop = Math.max(callerTop, o.topK);
  const upstreamBody: Json = {
    ...body,
    stream: true,
    ...shape.upstreamLogprobs(upstreamTop),
    stream_options: { ...(typeof body.stream_options === 'object' && body.stream_options !== null ? body.stream_options as Json : {}), include_usage: callerUsage },
  };
  delete upstreamBody.failmode;
  const requestId = `fm-${randomUUID().slice(0, 12)}`;
  if (o.sendRid) upstreamBody.rid = requestId;
  const earlyStop = controls.earlyStop && o.canStop;
  const abort = new AbortController();
  const timeout = setTimeout(() => abort.abort(new Error('upstream timeout')), o.timeoutMs);
  timeout.unref();
  // Our own id for the request: the engine's logs (vLLM with --enable-request-id-headers) and its explicit abort name it.
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream', 'x-request-id': requestId };
  if (o.upstreamApiKey) headers.authorization = `Bearer ${o.upstreamApiKey}`;
  else if (o.passCallerAuth && typeof req.headers.authorization === 'string') headers.authorization = req.headers.authorization;

  let callerGone = false;
  res.on('close', () => {
    if (!res.writableFinished) {
      callerGone = true;
      abort.abort(new Error('caller disconnected'));
    }
  });

  let upstream: Response;
  try {
    upstream = await fetch(`${o.upstream.replace(/\/+$/, '')}${shape.path}`, { method: 'POST', headers, body: JSON.stringify(upstreamBody), signal: abort.signal });
  } catch (err) {
    clearTimeout(timeout);
    o.observer?.upstreamError('unreachable');
    if (!callerGone) sendJsonError(res, 502, `Cannot reach the upstream: ${(err as Error).message}`, 'upstream_error');
    return null;
  }
  const type = upstream.headers.get('content-type') ?? '';
  if (!upstream.ok || !upstream.body || !type.includes('text/event-stream')) {
    // Errors (and anything that is not a stream) go back as the upstream sent them, unmonitored, within bounds.
    clearTimeout(timeout);
    o.observer?.upstreamError('http');
    await relayUpstreamRefusal(upstream, res, o.refusalLimits ?? DEFAULT_REFUSAL_LIMITS, () => callerGone);
    return null;
  }

  const expectedChoices = typeof body.n === 'number' && Number.isInteger(body.n) && body.n > 1 ? body.n : 1;
  const maxTokens = [body.max_tokens, body.max_completion_tokens].find((v): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0) ?? null;
  const session = new ProxySession({ ...o, shape, upstreamTop, callerUsage, maxTokens, requestId, controls, earlyStop, callerStream, callerLogprobs, callerTop, expectedChoices, res, abort });
  if (callerStream) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive',
      'x-failmode-request-id': requestId, ...(controls.earlyStop && !o.canStop ? { 'x-failmode-warning': EARLY_STOP_WITHOUT_MODEL } : {}),
    });
  }
  let eventNo = 0;
  let failure: string | null = null;
  const parser = new SseLineParser({
    onEvent: (data, event) => {
      eventNo++;
      if (event !== undefined && event !== 'message') return;
      session.data(data, `event ${eventNo}`);
    },
    onTooLong: () => {
      failure = `event ${eventNo + 1} longer than ${MAX_UPSTREAM_EVENT_CHARS} characters`;
      o.hub.streamError(controls.run, `${requestId} upstream ${failure}: the rest of the stream is not read`);
      abort.abort(new Error(failure));
    },
  }, MAX_UPSTREAM_EVENT_CHARS);
  const decoder = new TextDecoder();
  try {
    for await (const chunk of upstream.body as unknown as AsyncIterable<Uint8Array>) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      if (session.done || failure !== null) break;
    }
    parser.feed(decoder.decode());
  } catch (err) {
    // Aborted (stop, caller gone, timeout) or the upstream dropped: the session below ends what is still open.
    const cause = (err as Error)?.cause as Error | undefined;
    failure ??= `${(err as Error)?.message ?? String(err)}${cause?.message ? ` (${cause.message})` : ''}`;
  } finally {
    clearTimeout(timeout);
  }
  session.close(callerGone ? 'abort' : 'error', failure);
  if (session.stoppedUpstream === null) return null;
  o.observer?.tokensSaved(session.stoppedUpstream.estimatedSaved);
  return session.stoppedUpstream;
}

interface SessionInit extends ChatProxyOptions {
  readonly shape: ProxyShape;
  /** top_logprobs asked of the upstream. */
  readonly upstreamTop: number;
  /** The caller asked for `stream_options.include_usage` (always true for a non-streaming caller). */
  readonly callerUsage: boolean;
  /** The request's max_tokens (for the tokens-saved estimate), null if it set none. */
  readonly maxTokens: number | null;
  readonly requestId: string;
  readonly controls: FailmodeControls;
  readonly earlyStop: boolean;
  readonly callerStream: boolean;
  readonly callerLogprobs: boolean;
  readonly callerTop: number;
  /** The request's `n`: the response may end early only once every choice has been seen and closed. */
  readonly expectedChoices: number;
  readonly res: ServerResponse;
  readonly abort: AbortController;
}

interface ChoiceState extends AssembledChoice {
  sample: LiveSample | null;
  /** No more chunks of this choice go to the caller (it finished, or failmode stopped it). */
  closed: boolean;
  stopAnnounced: boolean;
  /** Tokens of this choice seen (the usage reported when the upstream's own never comes). */
  tokens: number;
}

/** One proxied request: decodes the upstream chunks into samples and writes the caller's response. */
class ProxySession {
  done = false;
  /** Set when a stop made failmode abort the upstream request. */
  stoppedUpstream: StoppedRequest | null = null;
  private readonly o: SessionInit;
  private readonly decoder: ChunkDecoder;
  private readonly choices = new Map<number, ChoiceState>();
  private meta: Json = {};
  private usage: unknown = undefined;
  private pendingStops: number[] = [];
  /** True while an upstream chunk is decoded: a stop decided then is announced after the chunk's own tokens. */
  private inChunk = false;

  constructor(o: SessionInit) {
    this.o = o;
    this.decoder = new ChunkDecoder((ev) => this.onEvent(ev), { requestId: o.requestId, maxTopLogprobs: o.upstreamTop });
  }

  /** One SSE data payload from the upstream. */
  data(data: string, position: string): void {
    if (this.done) return;
    if (data.trim() === '[DONE]') {
      this.decoder.done();
      this.finishResponse();
      return;
    }
    let chunk: Json | null = null;
    try {
      const parsed: unknown = JSON.parse(data);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) chunk = parsed as Json;
    } catch {
      // The decoder reports it as a stream_error; the caller gets the data unchanged.
    }
    if (chunk === null) {
      // Reported on the feed (stream_error); not forwarded: the caller's client would fail on it and lose the rest.
      this.decoder.decodeData(data, position);
      return;
    }
    for (const k of ['id', 'created', 'model', 'system_fingerprint'] as const) if (chunk[k] !== undefined && this.meta[k] === undefined) this.meta[k] = chunk[k];
    if (chunk.usage !== undefined && chunk.usage !== null) this.usage = chunk.usage;
    this.inChunk = true;
    try {
      this.decoder.decodeChunk(chunk, position);
      this.forward(chunk);
    } finally {
      this.inChunk = false;
    }
    this.afterStops();
  }

  /** Announces pending stops; once every choice has ended and one was stopped, ends the response and the engine's work. */
  private afterStops(): void {
    this.flushStops();
    if (!this.done && this.choices.size >= this.o.expectedChoices && this.allClosed() && this.anyStopped()) {
      this.finishResponse();
      this.stoppedUpstream = this.stoppedRequest();
      this.o.abort.abort(new Error('failmode early stop'));
    }
  }

  /**
   * The upstream body ended or failed (`failure`: why): end open samples and the caller's response. A response the
   * upstream left unfinished (no [DONE], a choice without finish_reason) ends with an error, never a clean end.
   */
  close(reason: 'abort' | 'error', failure: string | null = null): void {
    for (const c of this.choices.values()) c.sample?.abandon(c.sample.stopped ? 'failmode_stop' : reason);
    this.decoder.finish();
    if (this.done) return;
    const open = [...this.choices.values()].filter((c) => !c.closed).map((c) => c.index);
    if (reason === 'error' && (open.length > 0 || this.choices.size === 0)) this.failResponse({ failure, openChoices: open, choicesSeen: this.choices.size });
    else this.finishResponse();
  }

  private onEvent(ev: StreamEvent): void {
    if (ev.type === 'token') {
      const c = this.choices.get(Number(ev.sampleId.slice(ev.sampleId.lastIndexOf(':') + 1)));
      if (c) c.tokens++;
    }
    if (ev.type === 'stream_error' && ev.sampleId === undefined) {
      this.o.hub.streamError(this.o.controls.run, `${this.o.requestId} ${ev.position}: ${ev.message}`);
      return;
    }
    if (ev.type === 'start') {
      const index = Number(ev.sampleId.slice(ev.sampleId.lastIndexOf(':') + 1));
      const c = this.choice(index);
      const { controls } = this.o;
      try {
        c.sample = this.o.hub.begin({
          sampleId: ev.sampleId, run: controls.run, question: controls.question ?? this.o.requestId, source: 'proxy',
          model: ev.model ?? null, earlyStop: this.o.earlyStop, reference: controls.reference, keep: controls.keep,
          onStop: () => {
            this.pendingStops.push(index);
            // A stop from outside (a feed client's `stop`) takes effect now, not at the next upstream chunk.
            if (!this.inChunk) this.afterStops();
          },
        });
      } catch (err) {
        if (!(err instanceof FeedProtocolError)) throw err;
        // Over the monitoring limit: the request is still served, just not monitored.
      }
      return;
    }
    this.o.hub.route(ev);
  }

  private choice(index: number): ChoiceState {
    let c = this.choices.get(index);
    if (!c) {
      c = { index, sample: null, closed: false, stopAnnounced: false, content: '', reasoning: '', logprobs: [], reasoningLogprobs: [], finishReason: null, tokens: 0 };
      this.choices.set(index, c);
    }
    return c;
  }

  /** Writes (stream) or accumulates (non-stream) the caller's view of one upstream chunk. */
  private forward(chunk: Json): void {
    const choices = Array.isArray(chunk.choices) ? chunk.choices as Json[] : [];
    const kept: Json[] = [];
    for (const raw of choices) {
      if (raw === null || typeof raw !== 'object') continue;
      const index = typeof raw.index === 'number' ? raw.index : 0;
      const c = this.choice(index);
      if (c.closed) continue;
      // A choice stopped while this chunk was decoded still gets this chunk's tokens, then its stop chunk.
      if (typeof raw.finish_reason === 'string' && raw.finish_reason !== '') {
        c.closed = true;
        c.finishReason = raw.finish_reason;
      }
      const out = this.o.shape.callerChoice(raw, this.o.callerLogprobs, this.o.callerTop);
      if (this.o.callerStream) kept.push(out);
      else this.o.shape.accumulate(c, out);
    }
    if (!this.o.callerStream) return;
    const hasUsage = chunk.usage !== undefined && chunk.usage !== null;
    if (kept.length === 0 && choices.length > 0 && !hasUsage) return;
    this.write(`data: ${JSON.stringify({ ...chunk, choices: kept })}\n\n`);
  }

  /** Announces to the caller every choice failmode stopped since the last chunk. */
  private flushStops(): void {
    if (this.pendingStops.length === 0) return;
    const stops = this.pendingStops;
    this.pendingStops = [];
    for (const index of stops) {
      const c = this.choice(index);
      if (c.stopAnnounced) continue;
      c.stopAnnounced = true;
      c.closed = true;
      c.finishReason = FAILMODE_STOP;
      if (this.o.callerStream) this.write(`data: ${JSON.stringify(this.o.shape.stopChunk(this.responseMeta(), index, FAILMODE_STOP))}\n\n`);
    }
  }

  private allClosed(): boolean {
    for (const c of this.choices.values()) if (!c.closed) return false;
    return true;
  }

  private anyStopped(): boolean {
    for (const c of this.choices.values()) if (c.finishReason === FAILMODE_STOP) return true;
    return false;
  }

  private finishResponse(): void {
    if (this.done) return;
    this.flushStops();
    this.done = true;
    const res = this.o.res;
    if (res.destroyed || res.writableEnded) return;
    if (this.o.callerStream) {
      // A stop cut the upstream before its usage chunk: the caller that asked for usage gets the counted tokens.
      if (this.o.callerUsage && this.usage === undefined && this.anyStopped()) {
        res.write(`data: ${JSON.stringify({ ...this.o.shape.stopChunk(this.responseMeta(), 0, ''), choices: [], usage: countedUsage(this.countedTokens()) })}\n\n`);
      }
      res.end('data: [DONE]\n\n');
      return;
    }
    const usage = this.usage ?? (this.anyStopped() ? countedUsage(this.countedTokens()) : undefined);
    res.writeHead(200, { 'content-type': 'application/json', 'x-failmode-request-id': this.o.requestId, ...this.warningHeader() });
    res.end(JSON.stringify(this.assembled(usage)));
  }

  /** The upstream left the response unfinished: the caller gets an error (stream) or a 502 with the partial answer. */
  private failResponse(t: Truncation): void {
    this.o.observer?.upstreamError('truncated');
    this.flushStops();
    this.done = true;
    const res = this.o.res;
    if (res.destroyed || res.writableEnded) return;
    if (this.o.callerStream) {
      res.end(upstreamErrorChunk(t));
      return;
    }
    const body = upstreamErrorResponse(t, this.assembled(this.usage));
    res.writeHead(502, { 'content-type': 'application/json', 'x-failmode-request-id': this.o.requestId, ...this.warningHeader() });
    res.end(JSON.stringify(body));
  }

  private assembled(usage: unknown): Json {
    const choices = [...this.choices.values()].sort((a, b) => a.index - b.index)
      .map((c) => ({ ...c, finishReason: c.finishReason ?? (c.sample?.stopped ? FAILMODE_STOP : null) }));
    return this.o.shape.assemble(this.responseMeta(), choices, this.o.callerLogprobs, usage);
  }

  private responseMeta(): { id: unknown; created: unknown; model: unknown; system_fingerprint?: unknown } {
    return {
      id: this.meta.id ?? this.o.requestId, created: this.meta.created ?? Math.floor(Date.now() / 1000), model: this.meta.model ?? null,
      ...(this.meta.system_fingerprint !== undefined ? { system_fingerprint: this.meta.system_fingerprint } : {}),
    };
  }

  private stoppedRequest(): StoppedRequest {
    let saved = 0;
    const ids: string[] = [];
    for (const c of this.choices.values()) {
      ids.push(`${this.o.requestId}:${c.index}`);
      if (c.finishReason === FAILMODE_STOP && this.o.maxTokens !== null) saved += Math.max(0, this.o.maxTokens - c.tokens);
    }
    return { requestId: this.o.requestId, run: this.o.controls.run, sampleIds: ids, estimatedSaved: saved };
  }

  private countedTokens(): number {
    let n = 0;
    for (const c of this.choices.values()) n += c.tokens;
    return n;
  }

  /** `x-failmode-warning` on a non-streaming answer too (a streaming one got it with its headers). */
  private warningHeader(): Record<string, string> {
    return this.o.controls.earlyStop && !this.o.canStop ? { 'x-failmode-warning': EARLY_STOP_WITHOUT_MODEL } : {};
  }

  private write(text: string): void {
    const res = this.o.res;
    if (!res.destroyed && !res.writableEnded) res.write(text);
  }
}

/**
 * Reads failmode's request controls: header `x-failmode-early-stop: 1` (or `true`) or body `failmode.early_stop: true`;
 * run / question / reference ids from `x-failmode-run`, `x-failmode-question`, `x-failmode-reference` or the body's
 * `failmode.run` / `failmode.question` / `failmode.reference`; the self-consistency guard from `x-failmode-samples` /
 * `x-failmode-min-keep` or `failmode.samples` / `failmode.min_keep` (min-keep defaults to 1 when samples is given).
 * Throws on malformed values.
 */
export function failmodeControls(req: IncomingMessage, body: Json): FailmodeControls {
  const fm = body.failmode;
  if (fm !== undefined && (fm === null || typeof fm !== 'object' || Array.isArray(fm))) {
    throw new TypeError(`Expected \`failmode\` to be an object like {"early_stop": true}, got ${JSON.stringify(fm)}`);
  }
  const f = (fm ?? {}) as Json;
  const header = (name: string): string | undefined => {
    const v = req.headers[name];
    return typeof v === 'string' ? v : undefined;
  };
  const earlyHeader = header('x-failmode-early-stop');
  if (f.early_stop !== undefined && typeof f.early_stop !== 'boolean') throw new TypeError(`Expected \`failmode.early_stop\` to be a boolean, got ${JSON.stringify(f.early_stop)}`);
  const earlyStop = f.early_stop === true || (earlyHeader !== undefined && /^(1|true|yes|on)$/i.test(earlyHeader.trim()));
  const str = (name: 'run' | 'question' | 'reference', max: number): string | null => {
    const v = f[name] ?? header(`x-failmode-${name}`);
    if (v === undefined) return null;
    if (typeof v !== 'string' || v === '' || v.length > max) throw new TypeError(`Expected failmode ${name} to be a non-empty string of at most ${max} characters, got ${JSON.stringify(v).slice(0, 60)}`);
    return v;
  };
  const int = (name: 'samples' | 'min_keep', header: string, min: number): number | null => {
    const raw = f[name] ?? (req.headers[header] === undefined ? undefined : Number(req.headers[header]));
    if (raw === undefined) return null;
    if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > 100_000) throw new TypeError(`Expected failmode ${name} (or ${header}) to be an integer ≥ ${min}, got ${JSON.stringify(f[name] ?? req.headers[header])}`);
    return raw;
  };
  const samples = int('samples', 'x-failmode-samples', 1);
  const minKeep = int('min_keep', 'x-failmode-min-keep', 0);
  const question = str('question', MAX_ID_LENGTH);
  if (samples !== null && question === null) throw new TypeError('failmode samples (x-failmode-samples) needs a question id (x-failmode-question): the guard counts stops per question');
  return {
    earlyStop, run: str('run', MAX_ID_LENGTH) ?? 'default', question, reference: str('reference', 10_000),
    keep: samples === null ? null : { samples, minKeep: minKeep ?? 1 },
  };
}
