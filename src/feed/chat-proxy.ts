import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AssembledCallerResponse, StreamingCallerResponse, type CallerShape } from './caller-response.ts';
import { failmodeControls, type FailmodeControls } from './failmode-controls.ts';
import type { FeedHub } from './feed-hub.ts';
import { readJsonBody, sendJsonError } from './http-body.ts';
import { ProxySession } from './proxy-session.ts';
import { SseLineParser } from '../stream/sse-line-parser.ts';
import { StringDecoder } from 'node:string_decoder';

export { FAILMODE_STOP } from './caller-response.ts';
export { failmodeControls, type FailmodeControls } from './failmode-controls.ts';

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
  /** Told, per upstream read, how long (ms) its processing took until the caller's write (benchmarks). */
  readonly onChunkProcessed?: (ms: number) => void;
}

type Json = Record<string, unknown>;

/** Longest SSE event read from the upstream (a top-200 chunk is ~20 kB). */
const MAX_UPSTREAM_EVENT_CHARS = 8 * 1024 * 1024;

/**
 * `POST /v1/chat/completions`: forwards to the upstream as a streaming request with logprobs on (top_logprobs = the
 * larger of the model's top-k and the caller's), monitors every choice as a sample, and answers the caller in the shape
 * it asked for: SSE chunks when `stream: true` (else one assembled `chat.completion`), logprobs only if it asked for
 * them (trimmed to its top_logprobs). With early stopping on, a flagged choice gets a last chunk with
 * `finish_reason: "failmode_stop"`; when no choice is left running the stream ends with `[DONE]` and the upstream
 * request is aborted, so the engine stops generating. The caller going away aborts the upstream request too.
 *
 * Steps: read the caller's request and controls → shape the upstream request → open it (errors go back as the upstream
 * sent them) → pump the upstream's events through a {@link ProxySession} → end.
 */
export async function handleChatCompletions(req: IncomingMessage, res: ServerResponse, o: ChatProxyOptions): Promise<void> {
  const body = await readJsonBody(req, res, o.maxBodyBytes);
  if (body === null) return;
  let controls: FailmodeControls;
  try {
    controls = failmodeControls(req, body);
  } catch (err) {
    return sendJsonError(res, 400, (err as Error).message, 'invalid_request_error');
  }
  const shape = callerShape(body, o.topK);
  const requestId = `fm-${randomUUID().slice(0, 12)}`;
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
    const upstream = await openUpstream(req, res, o, upstreamBody(body, shape, o.topK), abort.signal, () => callerGone);
    if (upstream === null) return;
    const session = new ProxySession({
      hub: o.hub, requestId, controls, earlyStop: controls.earlyStop && o.canStop, expectedChoices: requestedChoices(body),
      caller: shape.stream ? new StreamingCallerResponse(res, shape) : new AssembledCallerResponse(res, shape),
      keepBytes: shape.logprobs && !shape.passthrough, abortUpstream: (reason) => abort.abort(reason),
    });
    if (shape.stream) {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive',
        'x-failmode-request-id': requestId, ...(controls.earlyStop && !o.canStop ? { 'x-failmode-warning': 'early stop requested but the server has no model' } : {}),
      });
    }
    await pumpEvents(upstream, session, o.onChunkProcessed);
    session.close(callerGone ? 'abort' : 'error');
  } finally {
    clearTimeout(timeout);
  }
}

/** What the caller asked for (see {@link CallerShape}). */
function callerShape(body: Json, topK: number): CallerShape & { readonly usage: boolean } {
  const stream = body.stream === true;
  const logprobs = body.logprobs === true;
  const top = typeof body.top_logprobs === 'number' && Number.isInteger(body.top_logprobs) && body.top_logprobs > 0 ? body.top_logprobs : 0;
  const usage = stream ? (body.stream_options as Json | undefined)?.include_usage === true : true;
  return { stream, logprobs, top, usage, passthrough: stream && logprobs && top >= topK };
}

/** The upstream request: streaming, logprobs on, top_logprobs = max(caller's, monitor's), usage as the caller wants it. */
function upstreamBody(body: Json, shape: ReturnType<typeof callerShape>, topK: number): Json {
  const out: Json = {
    ...body,
    stream: true,
    logprobs: true,
    top_logprobs: Math.max(shape.top, topK),
    stream_options: { ...(typeof body.stream_options === 'object' && body.stream_options !== null ? body.stream_options as Json : {}), include_usage: shape.usage },
  };
  delete out.failmode;
  return out;
}

function requestedChoices(body: Json): number {
  return typeof body.n === 'number' && Number.isInteger(body.n) && body.n > 1 ? body.n : 1;
}

/**
 * Sends the request upstream. Returns its SSE body, or null after answering the caller itself (upstream unreachable:
 * 502; an error status or anything that is not a stream: passed back as the upstream sent it, unmonitored).
 */
async function openUpstream(req: IncomingMessage, res: ServerResponse, o: ChatProxyOptions, body: Json, signal: AbortSignal, callerGone: () => boolean): Promise<AsyncIterable<Uint8Array> | null> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
  if (o.upstreamApiKey) headers.authorization = `Bearer ${o.upstreamApiKey}`;
  else if (o.passCallerAuth && typeof req.headers.authorization === 'string') headers.authorization = req.headers.authorization;
  let upstream: Response;
  try {
    upstream = await fetch(`${o.upstream.replace(/\/+$/, '')}/chat/completions`, { method: 'POST', headers, body: JSON.stringify(body), signal });
  } catch (err) {
    if (!callerGone()) sendJsonError(res, 502, `Cannot reach the upstream: ${(err as Error).message}`, 'upstream_error');
    return null;
  }
  const type = upstream.headers.get('content-type') ?? '';
  if (!upstream.ok || !upstream.body || !type.includes('text/event-stream')) {
    const text = await upstream.text().catch(() => '');
    if (callerGone()) return null;
    res.writeHead(upstream.ok ? 502 : upstream.status, { 'content-type': type || 'application/json' });
    res.end(upstream.ok ? JSON.stringify({ error: { message: `Expected an SSE stream from the upstream, got ${type || 'no content type'}`, type: 'upstream_error' } }) : text);
    return null;
  }
  return upstream.body as unknown as AsyncIterable<Uint8Array>;
}

/** Reads the upstream body: each read decoded once, split into events, handed to the session, flushed to the caller. */
async function pumpEvents(body: AsyncIterable<Uint8Array>, session: ProxySession, timed?: (ms: number) => void): Promise<void> {
  let eventNo = 0;
  const parser = new SseLineParser({
    onEvent: (data, event) => {
      eventNo++;
      if (event !== undefined && event !== 'message') return;
      session.data(data, `event ${eventNo}`);
    },
    // An endless event: the rest of the stream is not read; the session ends what is open.
    onTooLong: () => undefined,
  }, MAX_UPSTREAM_EVENT_CHARS);
  const decoder = new StringDecoder('utf8');
  try {
    for await (const chunk of body) {
      const t0 = timed ? performance.now() : 0;
      parser.feed(decoder.write(chunk as Buffer));
      session.flush();
      if (timed) timed(performance.now() - t0);
      if (session.done) break;
    }
    parser.feed(decoder.end());
    session.flush();
  } catch {
    // Aborted (stop, caller gone, timeout) or the upstream dropped: the session's close ends what is still open.
  }
}
