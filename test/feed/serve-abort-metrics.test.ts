import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startServe } from '../../src/feed/serve-server.ts';
import type { AbortUnconfirmedMessage, ServerMessage } from '../../src/feed/protocol.ts';
import { ResultsLog, type SampleLine } from '../../src/sampler/results-log.ts';
import { runSelfConsistency } from '../../src/sampler/self-consistency.ts';
import { startSimulator } from '../../src/stream/simulator/index.ts';
import { constantRiskModel, FeedClient, messages, metric, postChat } from './feed-helpers.ts';

const MCQ = 'Which option is right?\n(A) one\n(B) two\n(C) three\n(D) four';

describe('failmode serve: checked aborts and /metrics', () => {
  for (const workers of [0, 1]) it(`--zombie-rate 1: the abort is detected as unconfirmed, the explicit abort is sent with our request id, and /metrics counts it${workers > 0 ? ' (the proxy in a worker thread)' : ''}`, async () => {
    // Every aborted request keeps generating until /abort_request names it (paced so it never ends on its own first).
    const sim = await startSimulator({ seed: 3, zombieRate: 1, tokensPerSecond: 2000 });
    const serve = await startServe({ port: 0, upstream: sim.url, model: constantRiskModel({ T: 128, intercept: 5 }), heartbeatMs: 60_000, abortGraceMs: 300, abortPollMs: 50, workers });
    try {
      const client = await new FeedClient(`${serve.url.replace('http', 'ws')}/feed`).open();
      await client.subscribe('all');
      const r = await postChat(serve.url, {
        model: 'sim', messages: messages(MCQ), stream: true, max_tokens: 100_000,
        failmode: { early_stop: true, run: 'z' }, failmode_sim: { kind: 'committed', length: 100_000 },
      });
      assert.equal(r.chunks.at(-1), '[DONE]');
      const requestId = r.headers.get('x-failmode-request-id')!;
      const msg = await client.waitFor<AbortUnconfirmedMessage>((m: ServerMessage) => m.type === 'abort_unconfirmed', 60_000, 'abort_unconfirmed');
      assert.equal(msg.requestId, requestId);
      assert.deepEqual(msg.sampleIds, [`${requestId}:0`]);
      assert.equal(msg.explicitAbort, 'sent');
      assert.equal(msg.status, 'confirmed_after_explicit_abort');
      assert.equal(sim.stats().zombies, 1);
      assert.equal(sim.stats().explicitAborts, 1);
      const text = await (await fetch(`${serve.url}/metrics`)).text();
      assert.equal(metric(text, 'failmode_aborts_unconfirmed_total'), 1);
      assert.equal(metric(text, 'failmode_aborts_checked_total', 'status="confirmed_after_explicit_abort"'), 1);
      assert.equal(metric(text, 'failmode_samples_stopped_total'), 1);
      // max_tokens 100000 − the tokens decoded when the request was aborted (the stop came at T = 128).
      const saved = metric(text, 'failmode_tokens_saved_estimated_total');
      assert.ok(saved > 100_000 - 200 && saved <= 100_000 - 128, `saved ${saved}`);
      assert.equal(metric(text, 'failmode_tokens_saved_confirmed_total'), saved);
      client.close();
    } finally {
      await serve.close();
      await sim.close();
    }
  });

  it('an engine that stops on its own: the abort is confirmed, nothing is sent or announced', async () => {
    const sim = await startSimulator({ seed: 3, tokensPerSecond: 2000 });
    const serve = await startServe({ port: 0, upstream: sim.url, model: constantRiskModel({ T: 128, intercept: 5 }), heartbeatMs: 60_000, abortGraceMs: 30_000, abortPollMs: 50 });
    try {
      await postChat(serve.url, { model: 'sim', messages: messages(MCQ), stream: true, failmode: { early_stop: true }, failmode_sim: { kind: 'committed', length: 100_000 } });
      let text = '';
      for (let i = 0; i < 400 && metric(text, 'failmode_aborts_checked_total') === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
        text = await (await fetch(`${serve.url}/metrics`)).text();
      }
      assert.equal(metric(text, 'failmode_aborts_checked_total', 'status="confirmed"'), 1);
      assert.equal(metric(text, 'failmode_aborts_unconfirmed_total'), 0);
      assert.equal(sim.stats().explicitAborts, 0);
    } finally {
      await serve.close();
      await sim.close();
    }
  });

  it('curl /metrics after a sampled run shows what the run\'s log implies', async () => {
    const sim = await startSimulator({ seed: 9 });
    const serve = await startServe({ port: 0, upstream: sim.url, model: constantRiskModel({ T: 128, intercept: 5 }), heartbeatMs: 60_000, token: 'sekret-token-1' });
    const dir = await mkdtemp(join(tmpdir(), 'failmode-metrics-'));
    const path = join(dir, 'run.jsonl');
    try {
      const log = await ResultsLog.open(path);
      await runSelfConsistency([{ id: 'q1', prompt: MCQ, answer: 'B' }, { id: 'q2', prompt: `${MCQ}\nSecond.`, answer: 'C' }], log, {
        baseURL: `${serve.url}/v1`, apiKey: 'sekret-token-1', model: 'sim', n: 3, earlyStop: true, monitorModel: null, profile: 'final-answer',
        vote: 'majority', concurrency: 3, minKeep: 1, maxTokens: 3000,
      });
      await log.close();
      const lines = (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as SampleLine & { kind: string });
      const samples = lines.filter((l) => l.kind === 'sample');
      assert.equal(samples.length, 6);
      const stopped = samples.filter((s) => s.stopped).length;
      assert.ok(stopped >= 1 && stopped <= 4, `stopped ${stopped}`);

      assert.equal((await fetch(`${serve.url}/metrics`)).status, 401, 'token-protected like the rest');
      const text = await (await fetch(`${serve.url}/metrics`, { headers: { authorization: 'Bearer sekret-token-1' } })).text();
      assert.equal(metric(text, 'failmode_requests_total', 'api="chat"'), 6);
      assert.equal(metric(text, 'failmode_samples_finished_total'), 6);
      assert.equal(metric(text, 'failmode_samples_stopped_total'), stopped);
      assert.equal(metric(text, 'failmode_tokens_monitored_total'), samples.reduce((a, s) => a + s.tokens, 0));
      const savedByLog = samples.filter((s) => s.stopped).reduce((a, s) => a + 3000 - s.tokens, 0);
      assert.equal(metric(text, 'failmode_tokens_saved_estimated_total'), savedByLog);
      // One risk per sample at T = 128 (every sample reaches it; the model has one window).
      assert.equal(metric(text, 'failmode_risk_count', 'window="128"'), 6);
      assert.equal(metric(text, 'failmode_upstream_errors_total'), 0);
      assert.equal(metric(text, 'failmode_feed_subscribers'), 0);
    } finally {
      await serve.close();
      await sim.close();
    }
  });
});
