/**
 * A caller that does not read: serve stops reading the upstream (the simulator's generation stalls on TCP) instead of
 * holding the whole answer in memory; once the caller reads, everything arrives. On one thread and through a worker
 * (where the main thread tells the worker what the caller has taken).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { startServe } from '../../src/feed/serve-server.ts';
import { startSimulator } from '../../src/stream/simulator/index.ts';

const LENGTH = 50_000; // ~85 MB of top-20 chunks: far more than the sockets' buffers along the way

describe('serve: back-pressure from a slow caller', { timeout: 600_000 }, () => {
  for (const workers of [0, 1]) {
    it(`a caller that does not read holds the upstream back; nothing is lost when it reads (${workers === 0 ? 'one thread' : 'a worker'})`, async () => {
      const sim = await startSimulator({ seed: 2 });
      const serve = await startServe({ port: 0, upstream: sim.url, workers });
      try {
        const req = request(`${serve.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } });
        req.end(JSON.stringify({ model: 'sim', stream: true, logprobs: true, top_logprobs: 20, messages: [{ role: 'user', content: 'Which? (A) a (B) b' }], failmode_sim: { length: LENGTH } }));
        const [res] = await once(req, 'response') as [IncomingMessage];
        res.pause();
        // Stalled: the simulator's count stands still over three polls (an outer bound of 120 s, never a speed).
        let last = -1;
        let still = 0;
        const deadline = Date.now() + 120_000;
        while (still < 3) {
          assert.ok(Date.now() < deadline, 'the generation never stalled');
          await new Promise((r) => setTimeout(r, 300));
          const now = sim.stats().tokensGenerated;
          still = now === last && now > 0 ? still + 1 : 0;
          last = now;
        }
        assert.equal(sim.stats().completed, 0, 'the simulator finished: serve read the whole answer into memory');
        assert.ok(last < LENGTH, `generated ${last}`);
        res.setEncoding('utf8');
        let text = '';
        res.on('data', (d: string) => { text += d; });
        res.resume();
        await once(res, 'end');
        assert.ok(text.endsWith('data: [DONE]\n\n'));
        assert.match(text, /"finish_reason":"stop"/);
        assert.equal(sim.stats().completed, 1);
        assert.equal(sim.stats().tokensGenerated, LENGTH);
        assert.equal(text.split('\n\n').filter((e) => e.includes('"logprobs":{"content":[{')).length, LENGTH, 'every token reached the caller');
      } finally {
        await serve.close();
        await sim.close();
      }
    });
  }
});
