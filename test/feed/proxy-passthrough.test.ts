import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServe, type ServeHandle } from '../../src/feed/serve-server.ts';
import { startSimulator, type Simulator } from '../../src/stream/simulator/index.ts';
import { constantRiskModel, messages } from './feed-helpers.ts';

const MCQ = 'Which option is right?\n(A) one\n(B) two\n(C) three\n(D) four';

/** The `data:` payloads of an SSE body, with the per-request `id` and `created` blanked (they differ between requests). */
/** The raw body of a streaming top-20 chat request through serve (what the caller receives, byte for byte). */
async function streamedTop20(serveUrl: string): Promise<string> {
  return fetch(`${serveUrl}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', messages: messages('hi'), stream: true, logprobs: true, top_logprobs: 20 }),
  }).then((r) => r.text());
}

async function payloads(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<string[]> {
  const res = await fetch(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6)
    .replace(/"id":"[^"]*"/g, '"id":"X"').replace(/"created":\d+/g, '"created":0'));
}

describe('proxy passthrough (the caller asked for what the upstream sends)', () => {
  let sim: Simulator;
  let serve: ServeHandle;
  before(async () => {
    sim = await startSimulator({ seed: 5 });
    serve = await startServe({ port: 0, upstream: sim.url, model: constantRiskModel({ T: 128, intercept: 5 }), heartbeatMs: 60_000 });
  });
  after(async () => {
    await serve.close();
    await sim.close();
  });

  it('forwards every event exactly as the upstream sent it (same request straight to the simulator as the reference)', async () => {
    // A request seed makes the trace a function of the request alone: direct and proxied get the same tokens.
    const body = { model: 'sim', messages: messages(MCQ), stream: true, logprobs: true, top_logprobs: 20, seed: 42, n: 2, stream_options: { include_usage: true }, failmode_sim: { length: 300 } };
    const direct = await payloads(sim.url, body);
    const proxied = await payloads(`${serve.url}/v1`, body);
    assert.ok(direct.length > 300);
    assert.ok(direct.some((d) => d.includes('"bytes":[')), 'the reference carries bytes members, which must come through');
    assert.deepEqual(proxied, direct);
  });

  it('only a stop changes the stream: the stopped choice gets failmode_stop and nothing after, the other goes on', async () => {
    const body = { model: 'sim', messages: messages(MCQ), stream: true, logprobs: true, top_logprobs: 20, seed: 43, n: 2, failmode_sim: { length: 400 } };
    const direct = await payloads(sim.url, body);
    const headers = { 'x-failmode-early-stop': '1' };
    const proxied = await payloads(`${serve.url}/v1`, body, headers);
    const parsed = proxied.filter((d) => d !== '[DONE]').map((d) => JSON.parse(d) as { choices: Array<{ index: number; finish_reason: string | null; logprobs: { content: unknown[] } | null }> });
    // Every choice is flagged at T = 128: each gets exactly 128 tokens, then its failmode_stop chunk, then nothing.
    for (const index of [0, 1]) {
      const mine = parsed.flatMap((c) => c.choices).filter((c) => c.index === index);
      const stopAt = mine.findIndex((c) => c.finish_reason === 'failmode_stop');
      assert.ok(stopAt >= 0, `choice ${index} stopped`);
      assert.equal(stopAt, mine.length - 1, `nothing after choice ${index}'s stop`);
      assert.equal(mine.reduce((s, c) => s + (c.logprobs?.content.length ?? 0), 0), 128);
    }
    // Before the first stop, events are the upstream's own bytes.
    const firstStop = proxied.findIndex((d) => d.includes('failmode_stop'));
    assert.deepEqual(proxied.slice(0, firstStop), direct.slice(0, firstStop));
    assert.equal(proxied.at(-1), '[DONE]');
  });
});

describe('proxy passthrough: what is not forwarded', () => {
  /** An upstream that answers every request with `body` (a fixed SSE text) and ends. */
  async function fixedUpstream(body: string | ((res: import('node:http').ServerResponse) => void)) {
    const { createServer } = await import('node:http');
    const up = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (typeof body === 'string') res.end(body);
      else body(res);
    });
    await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(up.address() as { port: number }).port}/v1`, close: () => new Promise<void>((r) => up.close(() => r())) };
  }
  // Written as Python's json.dumps writes it (spaces after separators, `-1e-05`): a re-serialised chunk would differ.
  const chunk = (c: string, fin: string | null = null) => `{"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [{"index": 0, "delta": {"content": "${c}"}, "logprobs": {"content": [{"token": "${c}", "logprob": -1e-05, "bytes": [1, 2], "top_logprobs": [{"token": "${c}", "logprob": -1e-05, "bytes": [1, 2]}]}]}, "finish_reason": ${fin === null ? 'null' : `"${fin}"`}}]}`;

  it('an unparsable event is left out (reported on the feed); every other event goes out byte for byte', async () => {
    const events = [chunk('Hel'), '{not json', chunk('lo', 'stop'), '[DONE]'];
    const up = await fixedUpstream(events.map((e) => `data: ${e}\n\n`).join(''));
    const serve = await startServe({ port: 0, upstream: up.url, heartbeatMs: 60_000 });
    try {
      const got = await streamedTop20(serve.url);
      assert.equal(got, [events[0], events[2], events[3]].map((e) => `data: ${e}\n\n`).join(''));
    } finally {
      await serve.close();
      await up.close();
    }
  });

  it('an event longer than the bound ends the answer as truncated instead of buffering it', async () => {
    // 9 Mi characters of one data line that never ends (the bound is 8 Mi), sent in 1 MiB pieces.
    const up = await fixedUpstream((res) => {
      res.write(`data: ${chunk('a')}\n\n`);
      let left = 9;
      const piece = `data: ${'x'.repeat(1 << 20)}`;
      const next = (): void => {
        if (left-- === 0) return;
        if (res.write(left === 8 ? piece : 'x'.repeat(1 << 20))) setImmediate(next);
        else res.once('drain', next);
      };
      next();
      res.on('close', () => { left = 0; });
    });
    const serve = await startServe({ port: 0, upstream: up.url, heartbeatMs: 60_000 });
    try {
      const got = await streamedTop20(serve.url);
      const out = got.split('\n\n').filter((e) => e !== '');
      assert.equal(out[0], `data: ${chunk('a')}`);
      const last = JSON.parse(out.at(-1)!.slice(6)) as { error: { type: string; code: string; message: string } };
      assert.equal(last.error.code, 'upstream_truncated');
      assert.match(last.error.message, /event 2 longer than 8388608 characters/);
      assert.ok(!got.includes('[DONE]'));
    } finally {
      await serve.close();
      await up.close();
    }
  });
});
