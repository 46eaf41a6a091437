import type { IncomingMessage } from 'node:http';

/** A request body read up to a limit: its text, too large (declared or received), or the client went away first. */
export type BodyRead =
  | { readonly kind: 'ok'; readonly text: string }
  | { readonly kind: 'too-large'; /** The declared content-length when that was over the limit, else null. */ readonly declared: number | null }
  | { readonly kind: 'closed' };

/**
 * Reads a request body of at most `maxBytes` bytes as UTF-8. Past the limit nothing more is buffered and the answer is
 * `too-large` at once (the rest of the body keeps draining; the caller answers 413 and may drop the connection).
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyRead> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      req.resume();
      resolve({ kind: 'too-large', declared });
      return;
    }
    const parts: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > maxBytes) {
        over = true;
        parts.length = 0;
        resolve({ kind: 'too-large', declared: null });
        return;
      }
      parts.push(c);
    });
    let ended = false;
    req.on('end', () => {
      ended = true;
      if (!over) resolve({ kind: 'ok', text: Buffer.concat(parts).toString('utf8') });
    });
    // A client gone before the body ended: nothing to answer.
    req.on('error', () => resolve({ kind: 'closed' }));
    req.on('close', () => { if (!ended && !over) resolve({ kind: 'closed' }); });
  });
}
