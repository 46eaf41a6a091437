import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The bearer token a request carries: `Authorization: Bearer <token>`, else `x-failmode-token`, else (WebSocket
 * upgrades only, where browsers cannot set headers) the `token` query parameter. null when there is none.
 */
export function requestToken(req: IncomingMessage, opts: { readonly allowQuery?: boolean } = {}): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1]!;
  }
  const header = req.headers['x-failmode-token'];
  if (typeof header === 'string' && header !== '') return header;
  if (opts.allowQuery && req.url) {
    const q = new URL(req.url, 'http://localhost').searchParams.get('token');
    if (q) return q;
  }
  return null;
}

/** Constant-time comparison (hashes first, so lengths leak nothing either). */
export function tokenMatches(given: string | null, expected: string): boolean {
  if (given === null) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
