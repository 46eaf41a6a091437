import { strict as assert } from 'node:assert';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { readBody, type BodyRead } from '../../src/read-body.ts';

// A server that reads every request body with a 16-byte limit and hands the result to the test.
describe('readBody', () => {
  const reads: Array<(r: BodyRead) => void> = [];
  const arrived: Array<() => void> = [];
  const server = createServer((req: IncomingMessage, res) => {
    arrived.shift()?.();
    void readBody(req, 16).then((r) => {
      reads.shift()?.(r);
      res.writeHead(r.kind === 'ok' ? 200 : 413).end();
    });
  });
  let port = 0;
  before(async () => {
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((ok) => server.close(() => ok())));

  function send(chunks: readonly string[], headers: Record<string, string> = {}, abort = false): Promise<BodyRead> {
    const got = new Promise<BodyRead>((ok) => reads.push(ok));
    // Abort only once the server has the request (an abort before connecting would send nothing at all).
    const atServer = new Promise<void>((ok) => arrived.push(ok));
    const req = request({ port, host: '127.0.0.1', method: 'POST', headers });
    req.on('error', () => undefined);
    req.on('response', (res) => res.resume());
    for (const c of chunks) req.write(c);
    if (abort) void atServer.then(() => req.destroy());
    else req.end();
    return got;
  }

  it('returns the whole body when it fits, exactly at the limit too', async () => {
    assert.deepEqual(await send(['{"a":', '1}']), { kind: 'ok', text: '{"a":1}' });
    assert.deepEqual(await send(['0123456789abcdef']), { kind: 'ok', text: '0123456789abcdef' });
  });

  it('says too-large for a declared length over the limit, with that length', async () => {
    assert.deepEqual(await send(['x'.repeat(17)], { 'content-length': '17' }), { kind: 'too-large', declared: 17 });
  });

  it('says too-large when the received bytes pass the limit without a declared length', async () => {
    assert.deepEqual(await send(['0123456789', 'abcdefg'], { 'transfer-encoding': 'chunked' }), { kind: 'too-large', declared: null });
  });

  it('says closed when the client goes away before the body ends', async () => {
    assert.deepEqual(await send(['0123'], { 'content-length': '10' }, true), { kind: 'closed' });
  });
});
