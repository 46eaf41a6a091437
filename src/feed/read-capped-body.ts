/** How an upstream body read by {@link readCappedBody} ended. */
export type CappedBodyEnd =
  /** The whole body arrived (within the limits). */
  | 'end'
  /** More than `maxBytes` arrived: the rest was not read. */
  | 'limit'
  /** The body had not ended after `timeoutMs` (a body that drips): the rest was not read. */
  | 'timeout'
  /** The connection failed mid-body. */
  | 'error';

/** What {@link readCappedBody} read: the text of at most `maxBytes` bytes and why reading stopped. */
export interface CappedBody {
  /** UTF-8 text of the bytes kept (the first `maxBytes` at most; a character cut at the limit becomes U+FFFD). */
  readonly text: string;
  /** Bytes received (kept or not). */
  readonly bytes: number;
  readonly end: CappedBodyEnd;
}

export interface CappedBodyOptions {
  /** Most bytes kept; one byte more stops the read. */
  readonly maxBytes: number;
  /** Longest the whole read may take, in ms (not per chunk: a body dripping one byte a second never ends otherwise). */
  readonly timeoutMs: number;
}

/**
 * Reads an HTTP response body (a fetch `Response.body`) with two bounds: bytes and total time. Past either, the body
 * is cancelled — the connection is released and nothing more is buffered — and the answer says which bound it hit.
 * `Response.text()` has neither: a 1 GB error body held 2 GB of memory in `serve`, and one that drips never ends.
 *
 * ## Example
 * ```ts
 * const r = await readCappedBody(upstream.body, { maxBytes: 1 << 20, timeoutMs: 30_000 });
 * if (r.end === 'end') res.end(r.text);
 * ```
 */
export async function readCappedBody(body: ReadableStream<Uint8Array> | null, opts: CappedBodyOptions): Promise<CappedBody> {
  if (!(Number.isInteger(opts.maxBytes) && opts.maxBytes >= 0)) throw new TypeError(`Expected \`maxBytes\` to be a non-negative integer, got \`${opts.maxBytes}\` (${typeof opts.maxBytes})`);
  if (!(Number.isFinite(opts.timeoutMs) && opts.timeoutMs > 0)) throw new TypeError(`Expected \`timeoutMs\` to be a positive number, got \`${opts.timeoutMs}\` (${typeof opts.timeoutMs})`);
  if (body === null) return { text: '', bytes: 0, end: 'end' };
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let kept = 0;
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), opts.timeoutMs);
  });
  let end: CappedBodyEnd = 'end';
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), timedOut]);
      if (next === 'timeout') { end = 'timeout'; break; }
      if (next.done) break;
      bytes += next.value.byteLength;
      const room = opts.maxBytes - kept;
      if (next.value.byteLength > room) {
        if (room > 0) parts.push(next.value.subarray(0, room));
        kept += room;
        end = 'limit';
        break;
      }
      parts.push(next.value);
      kept += next.value.byteLength;
    }
  } catch {
    end = 'error';
  } finally {
    clearTimeout(timer);
  }
  // Stop the transfer: undici would otherwise keep receiving (and buffering) the rest of the body.
  if (end !== 'end') reader.cancel().catch(() => undefined);
  else reader.releaseLock();
  return { text: Buffer.concat(parts).toString('utf8'), bytes, end };
}
