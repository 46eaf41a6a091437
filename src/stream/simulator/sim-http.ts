import type { IncomingMessage, ServerResponse } from 'node:http';

/** Reads the body up to `limit` bytes; null if it is larger (the rest is not buffered). */
export function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      resolve(null);
      return;
    }
    const parts: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > limit) {
        over = true;
        parts.length = 0;
        resolve(null);
        return;
      }
      parts.push(c);
    });
    let ended = false;
    req.on('end', () => {
      ended = true;
      if (!over) resolve(Buffer.concat(parts).toString('utf8'));
    });
    req.on('error', reject);
    // A client gone before the body ended: nothing to answer (the rejection only ends this handler).
    req.on('close', () => { if (!ended && !over) reject(new Error('client closed the connection while sending the body')); });
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Errors in the OpenAI shape, so the SDK reports them with status and message. */
export function sendError(res: ServerResponse, status: number, message: string, type: string): void {
  sendJson(res, status, { error: { message, type, param: null, code: status } });
}

export function methodNotAllowed(res: ServerResponse, allowed: string): void {
  res.setHeader('allow', allowed);
  sendError(res, 405, `Method not allowed; use ${allowed}`, 'invalid_request_error');
}
