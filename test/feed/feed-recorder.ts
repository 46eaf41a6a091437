/**
 * A feed subscriber that files every message by sample and run, and the request helper, shared by the end-to-end
 * tests of many serve instances (NATS) and of serve's worker threads.
 */
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import type { SampleFinishedMessage, ServerMessage, TokenTickMessage } from '../../src/feed/protocol.ts';

export const LONG = 60_000;
const MCQ = 'Which option is right?\n(A) one\n(B) two\n(C) three\n(D) four';

/** Starts a streaming request and reads it to the end; resolves with the request id and the finish reasons seen. */
export async function request(base: string, headers: Record<string, string>, opts: { length: number; n?: number; i: number }): Promise<{ requestId: string; finish: string[] }> {
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'sim', stream: true, n: opts.n ?? 1, messages: [{ role: 'user', content: `${MCQ} #${opts.i}` }], failmode_sim: { length: opts.length } }),
  });
  assert.equal(res.status, 200);
  const text = await res.text();
  const finish = [...text.matchAll(/"finish_reason":"([a-z_]+)"/g)].map((m) => m[1]!);
  return { requestId: res.headers.get('x-failmode-request-id')!, finish };
}

/**
 * A feed subscriber that files every message as it arrives (per sample, per run), so each wait checks a counter
 * instead of scanning everything received: the test process also runs the simulator and the gateway.
 */
export class FeedRecorder {
  readonly perSample = new Map<string, ServerMessage[]>();
  readonly started = new Map<string, string[]>();
  readonly finished = new Map<string, SampleFinishedMessage[]>();
  readonly stops = new Map<string, ServerMessage[]>();
  readonly votes = new Map<string, Array<Extract<ServerMessage, { type: 'vote' }>>>();
  readonly errors: Array<Extract<ServerMessage, { type: 'error' }>> = [];
  messages = 0;
  private readonly ws: WebSocket;
  private waiters: Array<() => void> = [];
  private constructor(ws: WebSocket) {
    this.ws = ws;
  }
  static async connect(url: string): Promise<FeedRecorder> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const r = new FeedRecorder(ws);
    ws.on('message', (d: Buffer) => r.file(JSON.parse(d.toString()) as ServerMessage));
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
    ws.send(JSON.stringify({ type: 'subscribe', run: 'all', tokens: true }));
    return r;
  }
  send(obj: unknown): void {
    this.ws.send(JSON.stringify(obj));
  }
  sample(id: string): ServerMessage[] {
    return this.perSample.get(id) ?? [];
  }
  ticks(id: string): number {
    let n = 0;
    for (const m of this.sample(id)) if (m.type === 'token') n++;
    return n;
  }
  startedOf(run: string): string[] {
    return this.started.get(run) ?? [];
  }
  finishedOf(run: string): SampleFinishedMessage[] {
    return this.finished.get(run) ?? [];
  }
  async waitFor(cond: () => boolean, what: string, ms = LONG): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what} (${this.messages} messages received)`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }
  close(): void {
    this.ws.terminate();
  }
  private file(m: ServerMessage): void {
    this.messages++;
    const push = <T>(map: Map<string, T[]>, key: string, v: T) => { let l = map.get(key); if (!l) map.set(key, (l = [])); l.push(v); };
    if ('sampleId' in m && typeof m.sampleId === 'string') push(this.perSample, m.sampleId, m);
    if (m.type === 'sample_started') push(this.started, m.run, m.sampleId);
    if (m.type === 'sample_finished') push(this.finished, m.run, m);
    if (m.type === 'stop') push(this.stops, m.run, m);
    if (m.type === 'vote') push(this.votes, m.run, m);
    if (m.type === 'error') this.errors.push(m);
    // Wake the waiters at most once per message burst.
    if (this.waiters.length > 0 && (m.type !== 'token' || this.messages % 64 === 0)) {
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }
}

/** Waits until `n` samples of `run` have finished. */
export async function finishedCount(c: FeedRecorder, run: string, n: number): Promise<SampleFinishedMessage[]> {
  await c.waitFor(() => c.finishedOf(run).length >= n, `${n} sample_finished of ${run}`);
  return c.finishedOf(run);
}

/** Per sample: sample_started first, ticks 0…k−1 with no gap, sample_finished last (and nothing after it). */
export function assertInOrder(c: FeedRecorder, run: string, sampleId: string, opts: { complete: boolean }): void {
  const ms = c.sample(sampleId);
  assert.equal(ms[0]?.type, 'sample_started', `${sampleId}: first message`);
  const fin = ms.findIndex((m) => m.type === 'sample_finished');
  assert.equal(fin, ms.length - 1, `${sampleId}: sample_finished is last`);
  let next = 0;
  for (const m of ms) {
    if (m.type !== 'token') continue;
    assert.equal((m as TokenTickMessage).index, next, `${sampleId}: tick ${next} in order`);
    next++;
  }
  if (opts.complete) assert.equal(next, (ms[fin] as SampleFinishedMessage).tokens, `${sampleId}: every tick`);
  for (const m of ms) if ('run' in m) assert.equal(m.run, run);
}

