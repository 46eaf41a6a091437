import type { ProxyResponse } from './proxy-response.ts';
import { readCappedBody, type CappedBodyEnd } from './read-capped-body.ts';

/** Bounds on an upstream body that is not the SSE stream asked for (an error, or a stream:false answer). */
export interface RefusalLimits {
  /** Most bytes of an upstream error body passed to the caller. @default 1 MiB */
  readonly maxBytes: number;
  /** Longest the whole body may take to arrive, in ms. @default 30 s */
  readonly timeoutMs: number;
}

export const DEFAULT_REFUSAL_LIMITS: RefusalLimits = { maxBytes: 1024 * 1024, timeoutMs: 30_000 };

/** Characters of a cut or unexpected body quoted in our own error message. */
const QUOTED_CHARS = 200;

/**
 * Answers the caller when the upstream did not send the SSE stream asked for, reading the upstream's body within
 * `limits` (never all of it: a 1 GB body held 2 GB of memory, a dripping one never ended):
 * - an error status whose body arrives whole within the limits → passed through as the upstream sent it (status,
 *   content type, body);
 * - an error status whose body is over `maxBytes`, not finished within `timeoutMs` or broken off → the same status with
 *   failmode's `{"error": {…, "type": "upstream_error", "code": "upstream_error_body_too_large" |
 *   "upstream_error_body_timeout" | "upstream_error_body_failed"}}` quoting its beginning;
 * - a success that is not an event stream → 502 `upstream_not_streaming` quoting its beginning (the rest is not read).
 */
export async function relayUpstreamRefusal(upstream: Response, res: ProxyResponse, limits: RefusalLimits, callerGone: () => boolean): Promise<void> {
  const type = upstream.headers.get('content-type') ?? '';
  if (upstream.ok) {
    const head = await readCappedBody(upstream.body, { maxBytes: QUOTED_CHARS, timeoutMs: limits.timeoutMs });
    if (callerGone()) return;
    const message = `Expected an SSE stream (text/event-stream) from the upstream, got ${type || 'no content type'}${quote(head.text, head.end)}`;
    writeJson(res, 502, { error: { message, type: 'upstream_error', code: 'upstream_not_streaming' } });
    return;
  }
  const body = await readCappedBody(upstream.body, limits);
  if (callerGone()) return;
  if (body.end === 'end') {
    res.writeHead(upstream.status, { 'content-type': type || 'application/json' });
    res.end(body.text);
    return;
  }
  const why = body.end === 'limit' ? `over the ${limits.maxBytes}-byte limit`
    : body.end === 'timeout' ? `not finished after ${limits.timeoutMs / 1000} s (${body.bytes} bytes)`
      : `broken off after ${body.bytes} bytes`;
  const code = body.end === 'limit' ? 'upstream_error_body_too_large' : body.end === 'timeout' ? 'upstream_error_body_timeout' : 'upstream_error_body_failed';
  writeJson(res, upstream.status, { error: { message: `The upstream answered HTTP ${upstream.status} with an error body ${why}${quote(body.text, 'limit')}`, type: 'upstream_error', code } });
}

function quote(text: string, end: CappedBodyEnd): string {
  if (text === '') return '';
  const cut = text.length > QUOTED_CHARS || end !== 'end';
  return `; it begins: ${JSON.stringify(text.slice(0, QUOTED_CHARS))}${cut ? '…' : ''}`;
}

function writeJson(res: ProxyResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
