import type { IncomingMessage } from 'node:http';
import type { ProxyResponse } from './proxy-response.ts';
import { readBody } from '../read-body.ts';

/**
 * Reads a JSON request body of at most `maxBytes` (413 above it, before buffering more), requiring a JSON content
 * type (415 otherwise — which also keeps browsers' cross-site "simple" form posts out) and an object (400).
 * On failure the error response is sent and null returned.
 */
export async function readJsonBody(req: IncomingMessage, res: ProxyResponse, maxBytes: number): Promise<Record<string, unknown> | null> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) {
    sendJsonError(res, 415, `Expected Content-Type application/json, got ${type === '' ? 'none' : `\`${type.slice(0, 80)}\``}`, 'invalid_request_error');
    req.resume();
    return null;
  }
  const body = await readBody(req, maxBytes);
  if (body.kind === 'closed') return null; // the client went away
  if (body.kind === 'too-large') {
    sendJsonError(res, 413, body.declared !== null ? `Request body of ${body.declared} bytes is over the limit of ${maxBytes} bytes` : `Request body is over the limit of ${maxBytes} bytes`, 'invalid_request_error');
    req.destroy();
    return null;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.text);
  } catch (err) {
    sendJsonError(res, 400, `Expected a JSON body, got unparsable text (${(err as Error).message})`, 'invalid_request_error');
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    sendJsonError(res, 400, `Expected a JSON object body, got ${Array.isArray(parsed) ? 'an array' : typeof parsed}`, 'invalid_request_error');
    return null;
  }
  return parsed as Record<string, unknown>;
}

/** An OpenAI-style error body: `{"error": {"message", "type", "code"}}`. */
export function sendJsonError(res: ProxyResponse, status: number, message: string, type: string, code: string | null = null): void {
  if (res.headersSent || res.destroyed) {
    if (!res.writableEnded && !res.destroyed) res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message, type, code } }));
}
