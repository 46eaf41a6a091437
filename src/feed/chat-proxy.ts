import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { SseLineParser } from '../stream/sse-line-parser.ts';
import { AssembledCallerResponse, StreamingCallerResponse, type CallerShape } from './caller-response.ts';
import { failmodeControls, type FailmodeControls } from './failmode-controls.ts';
import type { FeedHub } from './feed-hub.ts';
import { readJsonBody, sendJsonError } from './http-body.ts';
import { CHAT_SHAPE, type ProxyShape } from './proxy-shape.ts';
import { callerDrained, type ProxyRequestHead, type ProxyResponse } from './proxy-response.ts';
import { ProxySession, type StoppedRequest } from './proxy-session.ts';
import { DEFAULT_REFUSAL_LIMITS, relayUpstreamRefusal, type RefusalLimits } from './relay-upstream-refusal.ts';
import { DEFAULT_MAX_EVENT_CHARS } from '../stream/sse-source.ts';

export { FAILMODE_STOP } from './caller-response.ts';
export { failmodeControls, type FailmodeControls } from './failmode-controls.ts';
export type { StoppedRequest } from './proxy-session.ts';

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
  /** Told the processing time (ms) of each upstream read, from its arrival to the caller's write (benchmarks). */
  readonly onChunkProcessed?: (ms: number) => void;
  /** Bounds on an upstream body that is not an event stream (an error). @default 1 MiB, 30 s */
  readonly refusalLimits?: RefusalLimits;
}

/** The proxy's settings from the server's options: the same on serve's main thread and in each of its workers. */
export type ProxySettings = Omit<ChatProxyOptions, 'hub' | 'shape' | 'observer' | 'onChunkProcessed'>;

/** What the proxy reports for the operator's metrics (the tokens a stop saved: from the request's StoppedRequest). */
export interface ProxyObserver {
  request(api: string): void;
  upstreamError(kind: 'unreachable' | 'http' | 'truncated'): void;
}

const EARLY_STOP_WITHOUT_MODEL = 'early stop requested but the server has no model';

/** Longest SSE event read from the upstream, as `watch` reads: longer ends the response as truncated, unread. */
const MAX_UPSTREAM_EVENT_CHARS = DEFAULT_MAX_EVENT_CHARS;

type Json = Record<string, unknown>;

/**
 * `POST /v1/chat/completions` (and `/v1/completions`): forwards to the upstream as a streaming request with logprobs on
 * (top_logprobs = the larger of the model's top-k and the caller's), monitors every choice as a sample, and answers
 * the caller in the shape it asked for: SSE chunks when `stream: true` (else one assembled answer), logprobs only if
 * it asked for them (trimmed to its top_logprobs). When the caller asked for what the upstream sends, each event is
 * forwarded as received. With early stopping on, a flagged choice gets a last chunk with
 * `finish_reason: "failmode_stop"`; when no choice is left running the stream ends with `[DONE]` and the upstream
 * request is aborted, so the engine stops generating. The caller going away aborts the upstream request too.
 *
 * Steps: read the caller's request and controls → shape the upstream request → open it (errors go back as the
 * upstream sent them) → pump the upstream's events through a {@link ProxySession} → end, and report what a stop saved.
 */
export async function handleChatCompletions(req: IncomingMessage, res: ProxyResponse, o: ChatProxyOptions): Promise<StoppedRequest | null> {
  const body = await readJsonBody(req, res, o.maxBodyBytes);
  if (body === null) return null;
  return await proxyChatRequest(req, body, res, o);
}

/** {@link handleChatCompletions} once the caller's body is read (a serve worker gets it read by the main thread). */
export async function proxyChatRequest(req: ProxyRequestHead, body: Json, res: ProxyResponse, o: ChatProxyOptions): Promise<StoppedRequest | null> {
  let controls: FailmodeControls;
  try {
    controls = failmodeControls(req, body);
  } catch (err) {
    sendJsonError(res, 400, (err as Error).message, 'invalid_request_error');
    return null;
  }
  const shape = callerShape(body, o.shape ?? CHAT_SHAPE, o.topK);
  o.observer?.request(shape.api === CHAT_SHAPE ? 'chat' : 'completions');
  const requestId = `fm-${randomUUID().slice(0, 12)}`;
  const upstreamTop = Math.max(shape.top, o.topK);
  const abort = new AbortController();
  let callerGone = false;
  res.on('close', () => {
    if (!res.writableFinished) {
      callerGone = true;
      abort.abort(new Error('caller disconnected'));
    }
  });
  const timeout = setTimeout(() => abort.abort(new Error('upstream timeout')), o.timeoutMs);
  timeout.unref();
  try {
    const upstream = await openUpstream(req, res, o, shape.api.path, upstreamBody(body, shape, upstreamTop, o.sendRid ? requestId : null), requestId, abort.signal, () => callerGone);
    if (upstream === null) return null;
    const warning: Record<string, string> = controls.earlyStop && !o.canStop ? { 'x-failmode-warning': EARLY_STOP_WITHOUT_MODEL } : {};
    const session = new ProxySession({
      hub: o.hub, requestId, controls, earlyStop: controls.earlyStop && o.canStop, expectedChoices: requestedChoices(body),
      maxTokens: maxTokens(body), upstreamTop,
      caller: shape.stream ? new StreamingCallerResponse(res, shape) : new AssembledCallerResponse(res, shape, { 'x-failmode-request-id': requestId, ...warning }),
      keepBytes: shape.logprobs && !shape.passthrough, abortUpstream: (reason) => abort.abort(reason),
      onTruncated: () => o.observer?.upstreamError('truncated'),
    });
    if (shape.stream) {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive',
        'x-failmode-request-id': requestId, ...warning,
      });
    }
    const failure = await pumpEvents(upstream, session, res, abort, (what) => o.hub.streamError(controls.run, `${requestId} upstream ${what}: the rest of the stream is not read`), o.onChunkProcessed);
    session.close(callerGone ? 'abort' : 'error', failure);
    return session.stoppedUpstream;
  } finally {
    clearTimeout(timeout);
  }
}

/** What the caller asked for (see {@link CallerShape}). */
function callerShape(body: Json, api: ProxyShape, topK: number): CallerShape {
  const stream = body.stream === true;
  const { wants, top } = api.callerLogprobs(body);
  const usage = stream ? (body.stream_options as Json | undefined)?.include_usage === true : true;
  // Chat only: a completions upstream may add the chosen token as a (k+1)-th alternative, which the caller's k cuts.
  return { api, stream, logprobs: wants, top, usage, passthrough: api === CHAT_SHAPE && stream && wants && top >= topK };
}

/** The upstream request: streaming, logprobs on with k = `top`, usage as the caller wants it, failmode's own fields out. */
function upstreamBody(body: Json, shape: CallerShape, top: number, rid: string | null): Json {
  const out: Json = {
    ...body,
    stream: true,
    ...shape.api.upstreamLogprobs(top),
    stream_options: { ...(typeof body.stream_options === 'object' && body.stream_options !== null ? body.stream_options as Json : {}), include_usage: shape.usage },
  };
  delete out.failmode;
  if (rid !== null) out.rid = rid;
  return out;
}

function requestedChoices(body: Json): number {
  return typeof body.n === 'number' && Number.isInteger(body.n) && body.n > 1 ? body.n : 1;
}

function maxTokens(body: Json): number | null {
  return [body.max_tokens, body.max_completion_tokens].find((v): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0) ?? null;
}

/**
 * Sends the request upstream. Returns its SSE body, or null after answering the caller itself (upstream unreachable:
 * 502; an error status or anything that is not a stream: passed back as the upstream sent it, unmonitored).
 */
async function openUpstream(
  req: ProxyRequestHead, res: ProxyResponse, o: ChatProxyOptions, path: string, body: Json, requestId: string, signal: AbortSignal, callerGone: () => boolean,
): Promise<AsyncIterable<Uint8Array> | null> {
  // Our own id for the request: the engine's logs (vLLM with --enable-request-id-headers) and its explicit abort name it.
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream', 'x-request-id': requestId };
  if (o.upstreamApiKey) headers.authorization = `Bearer ${o.upstreamApiKey}`;
  else if (o.passCallerAuth && typeof req.headers.authorization === 'string') headers.authorization = req.headers.authorization;
  let upstream: Response;
  try {
    upstream = await fetch(`${o.upstream.replace(/\/+$/, '')}${path}`, { method: 'POST', headers, body: JSON.stringify(body), signal });
  } catch (err) {
    o.observer?.upstreamError('unreachable');
    if (!callerGone()) sendJsonError(res, 502, `Cannot reach the upstream: ${(err as Error).message}`, 'upstream_error');
    return null;
  }
  const type = upstream.headers.get('content-type') ?? '';
  if (!upstream.ok || !upstream.body || !type.includes('text/event-stream')) {
    // Errors (and anything that is not a stream) go back as the upstream sent them, unmonitored, within bounds.
    o.observer?.upstreamError('http');
    await relayUpstreamRefusal(upstream, res, o.refusalLimits ?? DEFAULT_REFUSAL_LIMITS, callerGone);
    return null;
  }
  return upstream.body as unknown as AsyncIterable<Uint8Array>;
}

/**
 * Reads the upstream body: each read decoded once, split into events, handed to the session, and what the caller gets
 * of it written at once. Returns why the body ended early (aborted, dropped, an endless event), or null. An event over
 * the bound is reported (`tooLong`) and the rest of the body is not read.
 */
async function pumpEvents(
  body: AsyncIterable<Uint8Array>, session: ProxySession, res: ProxyResponse, abort: AbortController, tooLong: (what: string) => void, timed?: (ms: number) => void,
): Promise<string | null> {
  let eventNo = 0;
  let failure: string | null = null;
  const parser = new SseLineParser({
    onEvent: (data, event) => {
      eventNo++;
      if (event !== undefined && event !== 'message') return;
      session.data(data, eventNo);
    },
    onTooLong: () => {
      failure = `event ${eventNo + 1} longer than ${MAX_UPSTREAM_EVENT_CHARS} characters`;
      tooLong(failure);
      abort.abort(new Error(failure));
    },
  }, MAX_UPSTREAM_EVENT_CHARS);
  const decoder = new StringDecoder('utf8');
  try {
    for await (const chunk of body) {
      const t0 = timed ? performance.now() : 0;
      parser.feed(decoder.write(chunk as Buffer));
      session.flush();
      if (timed) timed(performance.now() - t0);
      if (session.done || failure !== null) break;
      // A caller that reads slowly holds the upstream back (bounded memory here).
      const room = callerDrained(res, abort.signal);
      if (room) await room;
    }
    parser.feed(decoder.end());
    session.flush();
  } catch (err) {
    // Aborted (stop, caller gone, timeout) or the upstream dropped: the session's close ends what is still open.
    const cause = (err as Error)?.cause as Error | undefined;
    failure ??= `${(err as Error)?.message ?? String(err)}${cause?.message ? ` (${cause.message})` : ''}`;
  }
  return failure;
}
