/**
 * End to end over NATS: nats-server, two `failmode serve --bus` processes in front of the simulator, one
 * `failmode feed --bus` gateway. Every wait is for an event (with a generous outer timeout), never for a time.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startFeedGateway, type FeedGatewayHandle } from '../../src/feed/feed-gateway.ts';
import { startSimulator, type Simulator } from '../../src/stream/simulator/index.ts';
import { constantRiskModel } from './feed-helpers.ts';
import { switchableGate } from '../fixtures/token-gate.ts';
import { skipWithoutNats, startNatsServer, type NatsServer } from './nats-server.ts';
import { FeedRecorder, LONG, assertInOrder, finishedCount, request } from './feed-recorder.ts';

const BIN = fileURLToPath(new URL('../../bin/failmode', import.meta.url));

/** A `failmode serve --bus` child process. */
class ServeProcess {
  readonly proc: ChildProcess;
  url = '';
  private log = '';
  private constructor(proc: ChildProcess) {
    this.proc = proc;
  }
  static async start(args: string[]): Promise<ServeProcess> {
    const p = new ServeProcess(spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] }));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`serve did not start: ${p.log}`)), LONG);
      p.proc.stderr!.on('data', (d: Buffer) => {
        p.log = (p.log + d.toString()).slice(-4000);
        const m = /listening on (http:\/\/\S+)/.exec(p.log);
        // Ready once it has printed its whole banner (the bus line comes after the URL).
        if (m && p.log.includes('Ctrl-C')) {
          clearTimeout(t);
          p.url = m[1]!;
          resolve();
        }
      });
      p.proc.once('exit', (code) => { clearTimeout(t); reject(new Error(`serve exited (${code}): ${p.log}`)); });
    });
    return p;
  }
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.proc.once('exit', () => resolve());
      this.proc.kill(signal);
    });
  }
}

describe('scale-out: two serve instances and a feed gateway over NATS', { skip: skipWithoutNats(), timeout: 10 * LONG }, () => {
  let nats: NatsServer;
  let sim: Simulator;
  let a: ServeProcess;
  let b: ServeProcess;
  let gw: FeedGatewayHandle;
  let dir: string;
  let sub: FeedRecorder;
  /** While set, every response holds at its token count until released (or its client goes away). */
  const gate = switchableGate();
  const { hold, release: releaseHold } = gate;

  before(async () => {
    nats = await startNatsServer();
    // Paced by tokens, not speed: a test that needs a sample still running (stopped, its instance killed, NATS
    // restarted) holds the engine's responses at a token count until it has done what it tests (see `hold`).
    sim = await startSimulator({ seed: 11, pace: gate.pace });
    dir = mkdtempSync(join(tmpdir(), 'failmode-scale-'));
    const model = join(dir, 'model.json');
    writeFileSync(model, JSON.stringify(constantRiskModel({ T: 128, intercept: 5 })));
    const args = ['--upstream', sim.url, '--model-file', model, '--bus', nats.url];
    [a, b] = await Promise.all([ServeProcess.start(args), ServeProcess.start(args)]);
    gw = await startFeedGateway({ bus: nats.url, port: 0 });
    sub = await FeedRecorder.connect(`${gw.url.replace('http', 'ws')}/feed`);
  });
  after(async () => {
    releaseHold();
    sub?.close();
    await gw?.close();
    await Promise.all([a?.kill(), b?.kill()]);
    await sim?.close();
    await nats?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the gateway sees every sample of both instances, in order per sample', async () => {
    const h = { 'x-failmode-run': 'both' };
    const [ra, rb] = await Promise.all([request(a.url, h, { length: 300, n: 2, i: 1 }), request(b.url, h, { length: 300, n: 2, i: 2 })]);
    const done = await finishedCount(sub, 'both', 4);
    const ids = [0, 1].flatMap((k) => [`${ra.requestId}:${k}`, `${rb.requestId}:${k}`]).sort();
    assert.deepEqual(done.map((m) => m.sampleId).sort(), ids);
    for (const m of done) {
      assert.equal(m.finishReason, 'stop');
      assert.equal(m.tokens, 300);
      assertInOrder(sub, 'both', m.sampleId, { complete: true });
    }
  });

  it('a stop sent to the gateway stops a sample running on an instance (its upstream request is aborted)', async () => {
    const abortedBefore = sim.stats().aborted;
    hold(50); // the sample is still running when the stop comes; the abort ends the hold
    const pending = request(b.url, { 'x-failmode-run': 'stopme' }, { length: 100_000, i: 3 });
    await sub.waitFor(() => sub.startedOf('stopme').length > 0, 'sample_started');
    const sampleId = sub.startedOf('stopme')[0]!;
    await sub.waitFor(() => sub.ticks(sampleId) >= 20, 'ticks');
    sub.send({ type: 'stop', sampleId });
    const fin = (await finishedCount(sub, 'stopme', 1))[0]!;
    assert.equal(fin.stopped, true);
    assert.equal(fin.finishReason, 'failmode_stop');
    assert.ok((sub.stops.get('stopme') ?? []).some((m) => m.type === 'stop' && m.reason === 'client'));
    const r = await pending;
    releaseHold();
    assert.deepEqual(r.finish, ['failmode_stop']);
    await sub.waitFor(() => sim.stats().aborted > abortedBefore, 'the simulator seeing the abort');
    assert.ok(fin.tokens < 100_000);
    // A sample nobody runs: `unknown_sample` at once (NATS has no responder for it).
    sub.send({ type: 'stop', sampleId: 'no-such-sample' });
    await sub.waitFor(() => sub.errors.some((m) => m.sampleId === 'no-such-sample'), 'error');
    assert.equal(sub.errors.find((m) => m.sampleId === 'no-such-sample')!.code, 'unknown_sample');
  });

  it('--min-keep holds across instances (the count lives in NATS KV)', async () => {
    // 4 samples of one question, 2 on each instance, all flagged at T=128: only 4 − 2 = 2 may be stopped.
    const h = { 'x-failmode-run': 'keep', 'x-failmode-question': 'q-keep', 'x-failmode-samples': '4', 'x-failmode-min-keep': '2', 'x-failmode-early-stop': '1' };
    // Held at 200 (past the flag at 128) until two stops are out, so the KV round trips decide, not the engine's speed.
    hold(200);
    const all = Promise.all([
      request(a.url, h, { length: 400, i: 10 }), request(a.url, h, { length: 400, i: 11 }),
      request(b.url, h, { length: 400, i: 12 }), request(b.url, h, { length: 400, i: 13 }),
    ]);
    await sub.waitFor(() => (sub.stops.get('keep') ?? []).length >= 2, 'two stops');
    releaseHold();
    await all;
    const done = await finishedCount(sub, 'keep', 4);
    assert.equal(done.filter((m) => m.stopped).length, 2, done.map((m) => `${m.sampleId} ${m.finishReason}`).join(', '));
    for (const m of done.filter((x) => !x.stopped)) assert.equal(m.tokens, 400);
  });

  it('after nats-server restarts mid-run, the instances reconnect and the feed continues', async () => {
    const h = { 'x-failmode-run': 'restart' };
    hold(200); // still running across the outage, however long the restart takes
    const inFlight = Promise.all([request(a.url, h, { length: 6000, i: 20 }), request(b.url, h, { length: 6000, i: 21 })]);
    await sub.waitFor(() => sub.startedOf('restart').length === 2 && sub.startedOf('restart').every((id) => sub.ticks(id) >= 100), 'ticks before the restart');
    await nats.kill();
    const seenAtRestart = sub.messages;
    await nats.restart();
    // Let the held samples go on once both instances publish again (their heartbeats reach the gateway).
    await waitUntil(async () => (await gatewayInstances(gw)) >= 2, LONG, 'both instances back on the bus');
    releaseHold();
    // The in-flight samples go on through the outage (the proxy does not need NATS to serve).
    await inFlight;
    await sub.waitFor(() => sub.messages > seenAtRestart, 'messages after the restart');
    // New samples after the restart reach the gateway complete and in order.
    const h2 = { 'x-failmode-run': 'after-restart' };
    // The first request may start before an instance is back on NATS: wait until both are (their heartbeats).
    await waitUntil(async () => (await gatewayInstances(gw)) >= 2, LONG, 'both instances back on the bus');
    await Promise.all([request(a.url, h2, { length: 300, i: 22 }), request(b.url, h2, { length: 300, i: 23 })]);
    const done = await finishedCount(sub, 'after-restart', 2);
    for (const m of done) {
      assert.equal(m.finishReason, 'stop');
      assertInOrder(sub, 'after-restart', m.sampleId, { complete: true });
    }
    // Nobody was declared dead for the outage.
    for (const run of ['restart', 'after-restart']) assert.equal(sub.finishedOf(run).filter((m) => m.finishReason === 'error').length, 0);
  });

  it('killing one instance mid-run ends its samples with `error` and leaves the other\'s intact', async () => {
    const h = { 'x-failmode-run': 'kill' };
    hold(3001); // A's samples (100,000 tokens) are held running until their instance dies; B's (3,000) finish
    const onA = request(a.url, h, { length: 100_000, n: 2, i: 30 }).catch(() => null);
    const onB = request(b.url, h, { length: 3000, i: 31 });
    await sub.waitFor(() => sub.startedOf('kill').length >= 3, 'three samples started');
    // A's request has n = 2 (ids …:0 and …:1), B's one sample is the only one of its request.
    const reqOf = (id: string) => id.slice(0, id.lastIndexOf(':'));
    const ids = sub.startedOf('kill');
    const bSample = ids.find((id) => ids.filter((x) => reqOf(x) === reqOf(id)).length === 1)!;
    const aSamples = ids.filter((id) => id !== bSample);
    assert.equal(aSamples.length, 2);
    await sub.waitFor(() => aSamples.every((id) => sub.ticks(id) >= 20), 'A streaming');
    await a.kill('SIGKILL');
    const done = await finishedCount(sub, 'kill', 3);
    releaseHold();
    await onA;
    await onB;
    for (const id of aSamples) {
      const fin = done.find((m) => m.sampleId === id)!;
      assert.equal(fin.finishReason, 'error', `${id} of the killed instance`);
      assertInOrder(sub, 'kill', id, { complete: false });
    }
    const finB = done.find((m) => m.sampleId === bSample)!;
    assert.equal(finB.finishReason, 'stop');
    assert.equal(finB.tokens, 3000);
    assertInOrder(sub, 'kill', bSample, { complete: true });
  });
});

describe('scale-out: a serve with --workers 2 on the bus', { skip: skipWithoutNats(), timeout: 10 * LONG }, () => {
  let nats: NatsServer;
  let sim: Simulator;
  let w: ServeProcess;
  let gw: FeedGatewayHandle;
  let dir: string;
  let sub: FeedRecorder;
  const gate = switchableGate();

  before(async () => {
    nats = await startNatsServer();
    sim = await startSimulator({ seed: 13, pace: gate.pace });
    dir = mkdtempSync(join(tmpdir(), 'failmode-scale-w-'));
    const model = join(dir, 'model.json');
    writeFileSync(model, JSON.stringify(constantRiskModel({ T: 128, intercept: 5 })));
    w = await ServeProcess.start(['--upstream', sim.url, '--model-file', model, '--bus', nats.url, '--workers', '2']);
    gw = await startFeedGateway({ bus: nats.url, port: 0 });
    sub = await FeedRecorder.connect(`${gw.url.replace('http', 'ws')}/feed`);
    // Each worker is an instance on the bus (and the main thread one for pushed samples).
    await waitUntil(async () => (await gatewayInstances(gw)) >= 3, LONG, 'the main thread and both workers on the bus');
  });
  after(async () => {
    gate.release();
    sub?.close();
    await gw?.close();
    await w?.kill();
    await sim?.close();
    await nats?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the gateway sees the samples of both workers complete and in order; a stop through it reaches the worker; min-keep holds in KV', async () => {
    const h = { 'x-failmode-run': 'wbus' };
    const reqs = await Promise.all([0, 1, 2, 3].map((i) => request(w.url, { ...h, 'x-failmode-question': `q${i}` }, { length: 300, i })));
    const done = await finishedCount(sub, 'wbus', 4);
    assert.deepEqual(done.map((m) => m.sampleId).sort(), reqs.map((r) => `${r.requestId}:0`).sort());
    for (const m of done) assertInOrder(sub, 'wbus', m.sampleId, { complete: true });
    const health = await (await fetch(`${w.url}/health`)).json() as { workers: Array<{ started: number }> };
    assert.ok(health.workers.every((x) => x.started > 0), JSON.stringify(health.workers));

    const abortedBefore = sim.stats().aborted;
    gate.hold(50);
    const pending = request(w.url, { 'x-failmode-run': 'wstop' }, { length: 100_000, i: 9 });
    await sub.waitFor(() => sub.startedOf('wstop').length > 0, 'sample_started');
    const sampleId = sub.startedOf('wstop')[0]!;
    await sub.waitFor(() => sub.ticks(sampleId) >= 20, 'ticks');
    sub.send({ type: 'stop', sampleId });
    const fin = (await finishedCount(sub, 'wstop', 1))[0]!;
    assert.equal(fin.finishReason, 'failmode_stop');
    assert.deepEqual((await pending).finish, ['failmode_stop']);
    gate.release();
    await sub.waitFor(() => sim.stats().aborted > abortedBefore, 'the simulator seeing the abort');

    const k = { 'x-failmode-run': 'wkeep', 'x-failmode-question': 'q-keep', 'x-failmode-samples': '4', 'x-failmode-min-keep': '2', 'x-failmode-early-stop': '1' };
    // Held at 200 (past the flag at 128) until two stops are out, so the KV round trips decide, not the engine's speed.
    gate.hold(200);
    const all = Promise.all([10, 11, 12, 13].map((i) => request(w.url, k, { length: 400, i })));
    await sub.waitFor(() => (sub.stops.get('wkeep') ?? []).length >= 2, 'two stops');
    gate.release();
    await all;
    const kept = await finishedCount(sub, 'wkeep', 4);
    assert.equal(kept.filter((m) => m.stopped).length, 2, kept.map((m) => `${m.sampleId} ${m.finishReason}`).join(', '));
  });
});

async function gatewayInstances(gw: FeedGatewayHandle): Promise<number> {
  const h = await (await fetch(`${gw.url}/health`)).json() as { bus: { instances: number } };
  return h.bus.instances;
}

async function waitUntil(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
