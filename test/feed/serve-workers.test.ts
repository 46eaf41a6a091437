/**
 * `serve --workers`: the proxy runs in worker threads, the main thread keeps the sockets, the feed and the metrics.
 * End to end in front of the simulator (paced by tokens, never by time): one feed view of every worker's samples,
 * stops routed to the worker that runs the sample, min-keep whole per question, metrics and health summed, a worker
 * that dies ending its samples and callers with errors and being started again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServe, type ServeHandle } from '../../src/feed/serve-server.ts';
import type { ServeWorkers } from '../../src/feed/workers/serve-workers.ts';
import { startSimulator, type Simulator } from '../../src/stream/simulator/index.ts';
import { switchableGate } from '../fixtures/token-gate.ts';
import { constantRiskModel, FeedClient, metric } from './feed-helpers.ts';
import { FeedRecorder, LONG, assertInOrder, finishedCount, request as post } from './feed-recorder.ts';

/** Requests sent to serve by this file (the metrics test counts them). */
let requestsSent = 0;
const request: typeof post = (...args) => {
  requestsSent++;
  return post(...args);
};

describe('serve --workers 2', { timeout: 10 * LONG }, () => {
  let sim: Simulator;
  let serve: ServeHandle;
  let pool: ServeWorkers;
  let sub: FeedRecorder;
  const gate = switchableGate();
  const { hold, release: releaseHold } = gate;

  before(async () => {
    sim = await startSimulator({ seed: 5, pace: gate.pace });
    // Flags every sample at T = 128 (only requests asking for early stop are stopped).
    serve = await startServe({ port: 0, upstream: sim.url, model: constantRiskModel({ T: 128, intercept: 5 }), workers: 2 });
    pool = serve.workers!;
    sub = await FeedRecorder.connect(`${serve.url.replace('http', 'ws')}/feed`);
  });
  after(async () => {
    releaseHold();
    sub?.close();
    await serve?.close();
    await sim?.close();
  });

  it('one feed: every sample of both workers reaches the subscriber, ticks complete and in order', async () => {
    // Two requests for each of 4 questions (each question's pair goes to one worker), and 2 requests of n = 2
    // without a question (the least busy worker).
    const reqs = await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => request(serve.url, { 'x-failmode-run': 'both', 'x-failmode-question': `q${i >> 1}` }, { length: 300, i })),
      ...[8, 9].map((i) => request(serve.url, { 'x-failmode-run': 'both' }, { length: 300, n: 2, i })),
    ]);
    const done = await finishedCount(sub, 'both', 12);
    const ids = reqs.flatMap((r, i) => (i < 8 ? [`${r.requestId}:0`] : [`${r.requestId}:0`, `${r.requestId}:1`]));
    assert.deepEqual(done.map((m) => m.sampleId).sort(), ids.sort());
    for (const m of done) {
      assert.equal(m.finishReason, 'stop');
      assert.equal(m.tokens, 300);
      assertInOrder(sub, 'both', m.sampleId, { complete: true });
    }
    const workers = pool.describe();
    assert.ok(workers.every((w) => w.started > 0), `both workers ran samples: ${JSON.stringify(workers)}`);
    // Each question's last vote counts both of its samples: one worker's vote board saw the whole question.
    await sub.waitFor(() => (sub.votes.get('both') ?? []).length >= 10, 'votes');
    for (let q = 0; q < 4; q++) {
      const last = (sub.votes.get('both') ?? []).filter((v) => v.question === `q${q}`).at(-1)!;
      assert.equal(last.answers.length, 2, `q${q}: ${JSON.stringify(last.answers)}`);
    }
  });

  it('a batch subscriber gets token_batch messages of worker samples', async () => {
    const c = await new FeedClient(`${serve.url.replace('http', 'ws')}/feed`).open();
    try {
      await c.subscribe('batched', 'batch' as unknown as boolean);
      const r = await request(serve.url, { 'x-failmode-run': 'batched' }, { length: 200, i: 40 });
      await c.waitFor((m) => m.type === 'sample_finished', LONG, 'sample_finished');
      let ticks = 0;
      for (const m of c.messages) if (m.type === 'token_batch' && m.sampleId === `${r.requestId}:0`) ticks += m.tokens.length;
      assert.equal(ticks, 200);
    } finally {
      c.close();
    }
  });

  it('a stop sent to the feed stops the sample in its worker (the upstream request is aborted)', async () => {
    const abortedBefore = sim.stats().aborted;
    hold(50);
    const pending = request(serve.url, { 'x-failmode-run': 'stopme' }, { length: 100_000, i: 3 });
    await sub.waitFor(() => sub.startedOf('stopme').length > 0, 'sample_started');
    const sampleId = sub.startedOf('stopme')[0]!;
    assert.notEqual(pool.workerOf(sampleId), null);
    await sub.waitFor(() => sub.ticks(sampleId) >= 20, 'ticks');
    sub.send({ type: 'stop', sampleId });
    const fin = (await finishedCount(sub, 'stopme', 1))[0]!;
    assert.equal(fin.stopped, true);
    assert.equal(fin.finishReason, 'failmode_stop');
    const r = await pending;
    releaseHold();
    assert.deepEqual(r.finish, ['failmode_stop']);
    await sub.waitFor(() => sim.stats().aborted > abortedBefore, 'the simulator seeing the abort');
    sub.send({ type: 'stop', sampleId: 'no-such-sample' });
    await sub.waitFor(() => sub.errors.some((m) => m.sampleId === 'no-such-sample'), 'error');
    assert.equal(sub.errors.find((m) => m.sampleId === 'no-such-sample')!.code, 'unknown_sample');
  });

  it('--min-keep holds: a question\'s samples share one worker and its count', async () => {
    const h = { 'x-failmode-run': 'keep', 'x-failmode-question': 'q-keep', 'x-failmode-samples': '4', 'x-failmode-min-keep': '2', 'x-failmode-early-stop': '1' };
    const all = await Promise.all([10, 11, 12, 13].map((i) => request(serve.url, h, { length: 400, i })));
    const done = await finishedCount(sub, 'keep', 4);
    assert.equal(done.filter((m) => m.stopped).length, 2, done.map((m) => `${m.sampleId} ${m.finishReason}`).join(', '));
    for (const m of done.filter((x) => !x.stopped)) assert.equal(m.tokens, 400);
    assert.equal(all.filter((r) => r.finish[0] === 'failmode_stop').length, 2);
  });

  it('/metrics and /health count every worker\'s requests and samples', async () => {
    const health = await (await fetch(`${serve.url}/health`)).json() as { samples: { finished: number; started: number; live: number }; workers: Array<{ alive: boolean; started: number }> };
    const text = await (await fetch(`${serve.url}/metrics`)).text();
    const finishedOnFeed = [...sub.finished.values()].reduce((a, l) => a + l.length, 0);
    assert.equal(health.samples.finished, finishedOnFeed);
    assert.equal(metric(text, 'failmode_samples_finished_total'), finishedOnFeed);
    assert.equal(metric(text, 'failmode_requests_total'), requestsSent);
    assert.equal(metric(text, 'failmode_samples_stopped_total'), 3); // 1 client stop + 2 risk stops
    assert.equal(health.workers.length, 2);
    assert.ok(health.workers.every((w) => w.alive));
  });

  it('a worker that dies mid-run ends its samples with `error`, its caller\'s stream with an error event, and is started again', async () => {
    hold(200);
    const pending = fetch(`${serve.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-failmode-run': 'crash' },
      body: JSON.stringify({ model: 'sim', stream: true, messages: [{ role: 'user', content: 'Which? (A) a (B) b' }], failmode_sim: { length: 100_000 } }),
    }).then((r) => r.text());
    await sub.waitFor(() => sub.startedOf('crash').length > 0, 'sample_started');
    const sampleId = sub.startedOf('crash')[0]!;
    await sub.waitFor(() => sub.ticks(sampleId) >= 20, 'ticks');
    const index = pool.workerOf(sampleId)!;
    await pool.crashForTest(index);
    const fin = (await finishedCount(sub, 'crash', 1))[0]!;
    assert.equal(fin.finishReason, 'error');
    assert.equal(fin.sampleId, sampleId);
    const text = await pending;
    releaseHold();
    assert.match(text, /"code":"worker_exited"/);
    assert.doesNotMatch(text, /\[DONE\]/);
    // Started again: the next requests are served (whichever worker they reach).
    await sub.waitFor(() => pool.describe()[index]!.alive, 'the worker started again');
    assert.equal(pool.describe()[index]!.restarts, 1);
    // Questions hash to workers: send until one reaches the replacement (a handful at most).
    let sent = 0;
    while (pool.describe()[index]!.started === 0 && sent < 32) {
      const r = await request(serve.url, { 'x-failmode-run': 'after-crash', 'x-failmode-question': `a${sent}` }, { length: 100, i: 50 + sent });
      sent++;
      assert.deepEqual(r.finish, ['stop']);
    }
    assert.ok(pool.describe()[index]!.started > 0, 'a request reached the restarted worker');
    // The replacement knows who wants ticks: its samples reach the feed complete.
    for (const m of await finishedCount(sub, 'after-crash', sent)) assertInOrder(sub, 'after-crash', m.sampleId, { complete: true });
  });
});

describe('serve --workers 1 --shadow', { timeout: 10 * LONG }, () => {
  it('the worker\'s shadow decisions reach the feed and the server\'s log; nothing is stopped', async () => {
    const sim = await startSimulator({ seed: 6 });
    const lines: string[] = [];
    const serve = await startServe({ port: 0, upstream: sim.url, model: constantRiskModel({ T: 128, intercept: 5 }), workers: 1, shadow: true, log: (l) => lines.push(l) });
    const sub = await FeedRecorder.connect(`${serve.url.replace('http', 'ws')}/feed`);
    try {
      const r = await post(serve.url, { 'x-failmode-run': 'shadow', 'x-failmode-early-stop': '1' }, { length: 300, i: 1 });
      assert.deepEqual(r.finish, ['stop']);
      const fin = (await finishedCount(sub, 'shadow', 1))[0]!;
      assert.equal(fin.stopped, false);
      assert.equal(fin.tokens, 300);
      const stop = (sub.stops.get('shadow') ?? [])[0] as { shadow?: boolean; reason: string } | undefined;
      assert.equal(stop?.shadow, true);
      assert.ok(lines.some((l) => l.startsWith('shadow stop ') && l.includes(fin.sampleId)), lines.join('\n'));
    } finally {
      sub.close();
      await serve.close();
      await sim.close();
    }
  });
});
