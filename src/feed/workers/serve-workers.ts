import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '../../ts-worker.ts';
import { failmodeControls } from '../failmode-controls.ts';
import { readJsonBody, sendJsonError } from '../http-body.ts';
import { FeedProtocolError, type ServerMessage } from '../protocol.ts';
import { lostSampleEnd } from '../bus/instance-tracker.ts';
import type { StoppedRequest } from '../proxy-session.ts';
import { SERVE_WORKER_ROLE } from './serve-worker.ts';
import { sumHubStats, type HubStats } from '../feed-hub.ts';
import type { FromWorker, ServeWorkerConfig, ToWorker } from './worker-messages.ts';

export interface ServeWorkersOptions {
  readonly count: number;
  readonly config: Omit<ServeWorkerConfig, 'index'>;
  /** A feed message of a worker's sample (or one the pool makes: the error end of a dead worker's samples). */
  readonly onFeed: (run: string, type: string, text: string, msg: ServerMessage | undefined) => void;
  readonly onRequest?: (api: string) => void;
  readonly onUpstreamError?: (kind: 'unreachable' | 'http' | 'truncated') => void;
  readonly onReadTimes?: (ms: readonly number[]) => void;
  /** With `config.timeReads`: the time (ms) from a worker sending a write to the caller's `write` here. */
  readonly onHop?: (ms: number) => void;
  readonly log?: (line: string) => void;
}

/** A request handed to a worker, until its `done`. */
interface PendingRequest {
  readonly res: ServerResponse;
  readonly done: (stopped: StoppedRequest | null) => void;
  /** The worker answered as an event stream (a dead worker's stream then ends with an error event). */
  eventStream: boolean;
  /** Characters of the response the caller's connection has taken, and the count last told to the worker. */
  taken: number;
  told: number;
  /** The connection's buffer is full: `taken` grows again at its `drain`. */
  full: boolean;
}

/** The main thread tells a worker what a caller has taken every this many characters (and at each `drain`). */
const TELL_TAKEN_EVERY = 64 * 1024;
/** … and how much of its writes it has handled, every this many characters (well under the worker's allowance). */
const TELL_DELIVERED_EVERY = 256 * 1024;

interface Slot {
  readonly index: number;
  worker: Worker;
  /** Set once the worker said `ready`; a worker that dies before is not started again. */
  ready: boolean;
  dead: boolean;
  readonly requests: Map<number, PendingRequest>;
  /** Samples this worker runs: sampleId → what their error end needs. */
  readonly samples: Map<string, { readonly run: string; readonly question: string }>;
  /** Samples started by this thread (a replacement starts from 0). */
  started: number;
  /** Characters of this thread's writes handled here, and the count last told to it. */
  delivered: number;
  toldDelivered: number;
  /** Times the worker of this index died and was started again. */
  readonly restarts: number;
  /** Shutting down: called when the thread says it has ended what was in flight. */
  onClosed?: () => void;
}

/** One worker as `/health` shows it. */
export interface WorkerState {
  readonly index: number;
  /** Its thread is running (false while a replacement starts, or if it could not start again). */
  readonly alive: boolean;
  /** Callers' requests in flight. */
  readonly requests: number;
  /** Samples running. */
  readonly samples: number;
  /** Samples started by this thread. */
  readonly started: number;
  /** Times the thread died and was started again. */
  readonly restarts: number;
}

/**
 * `failmode serve --workers N`: the proxy's work — upstream requests, parsing, monitoring, stopping — runs in N
 * worker threads while the main thread keeps the sockets (callers, feed subscribers) and the metrics, so the feed and
 * `/metrics` stay one view. Requests of one (run, question) go to one worker (its vote and min-keep count stay
 * whole); requests without a question go to the least busy worker. A worker that dies ends its callers' responses
 * and its samples (`finishReason: "error"`) and is started again.
 */
export class ServeWorkers {
  private readonly o: ServeWorkersOptions;
  private readonly slots: Slot[] = [];
  /** sampleId → the slot running it. */
  private readonly owner = new Map<string, Slot>();
  private nextId = 1;
  private nextAsk = 1;
  private readonly asks = new Map<number, { readonly resolve: (m: FromWorker) => void; readonly slot: Slot }>();
  private closing = false;
  /** The last {@link setTickRuns}, for a worker started again. */
  private tickRuns: readonly string[] = [];

  private constructor(o: ServeWorkersOptions) {
    this.o = o;
  }

  /** Starts the workers; resolves once every one is ready (rejects with the first start-up error). */
  static async start(o: ServeWorkersOptions): Promise<ServeWorkers> {
    if (!(Number.isInteger(o.count) && o.count >= 1 && o.count <= 256)) throw new TypeError(`Expected the worker count to be an integer from 1 to 256, got ${o.count}`);
    const pool = new ServeWorkers(o);
    try {
      await Promise.all(Array.from({ length: o.count }, (_, i) => pool.spawn(i)));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** How many workers. */
  get count(): number {
    return this.slots.length;
  }

  /** Reads the caller's body here, then hands the request to a worker; resolves when the worker is done with it. */
  async handle(req: IncomingMessage, res: ServerResponse, api: 'chat' | 'completions'): Promise<StoppedRequest | null> {
    const body = await readJsonBody(req, res, this.o.config.proxy.maxBodyBytes);
    if (body === null) return null;
    let run: string;
    let question: string | null;
    try {
      ({ run, question } = failmodeControls(req, body));
    } catch (err) {
      sendJsonError(res, 400, (err as Error).message, 'invalid_request_error');
      return null;
    }
    const slot = this.pick(run, question);
    if (slot === null) {
      sendJsonError(res, 503, 'No failmode serve worker is running (they failed to start again)', 'server_error');
      return null;
    }
    const id = this.nextId++;
    return await new Promise<StoppedRequest | null>((resolve) => {
      slot.requests.set(id, { res, done: resolve, eventStream: false, taken: 0, told: 0, full: false });
      res.on('close', () => {
        if (!res.writableFinished && slot.requests.has(id)) this.post(slot, { type: 'caller-closed', id });
      });
      this.post(slot, { type: 'request', id, api, headers: req.headers, body });
    });
  }

  /** Whether a worker runs this sample. */
  owns(sampleId: string): boolean {
    return this.owner.has(sampleId);
  }

  /** The index of the worker running a sample, or null. */
  workerOf(sampleId: string): number | null {
    return this.owner.get(sampleId)?.index ?? null;
  }

  /** Each worker's load, as the main thread tracks it. */
  describe(): WorkerState[] {
    return this.slots.map((s) => ({
      index: s.index, alive: s.ready && !s.dead, requests: s.requests.size, samples: s.samples.size, started: s.started, restarts: s.restarts,
    }));
  }

  /** A feed client's stop for a worker's sample; rejects with FeedProtocolError as the hub's own stop throws. */
  async stop(sampleId: string): Promise<void> {
    const slot = this.owner.get(sampleId);
    if (!slot) throw new FeedProtocolError('unknown_sample', `No sample \`${sampleId}\` is running`);
    const reply = await this.ask(slot, (ask) => ({ type: 'stop', ask, sampleId }));
    if (reply.type === 'stop-reply' && reply.error) throw new FeedProtocolError(reply.error.code, reply.error.message);
  }

  /** Tells every worker which runs' ticks are wanted (`all` for every run). */
  setTickRuns(runs: readonly string[]): void {
    this.tickRuns = runs;
    for (const s of this.slots) if (!s.dead) this.post(s, { type: 'tick-runs', runs });
  }

  /** The workers' hub counts, summed. */
  async stats(): Promise<HubStats> {
    const replies = await Promise.all(this.slots.filter((s) => !s.dead).map((s) => this.ask(s, (ask) => ({ type: 'stats', ask }))));
    let sum: HubStats = { live: 0, started: 0, finished: 0, stopped: 0, tokens: 0, questions: 0 };
    for (const r of replies) if (r.type === 'stats-reply') sum = sumHubStats(sum, r.stats);
    return sum;
  }

  /** Ends what is in flight (its samples publish their ends), then stops the threads. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.filter((s) => !s.dead && s.ready).map((s) => new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      s.onClosed = () => { clearTimeout(timer); resolve(); };
      this.post(s, { type: 'close' });
    })));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  /** Kills one worker's thread as a crash would (tests). */
  async crashForTest(index: number): Promise<void> {
    await this.slots[index]!.worker.terminate();
  }

  private spawn(index: number, restarts = 0): Promise<void> {
    const worker = startTsWorker(new URL('./serve-worker.ts', import.meta.url), { workerData: { role: SERVE_WORKER_ROLE, config: { ...this.o.config, index } } });
    const slot: Slot = { index, worker, ready: false, dead: false, requests: new Map(), samples: new Map(), started: 0, delivered: 0, toldDelivered: 0, restarts };
    this.slots[index] = slot;
    if (this.tickRuns.length > 0) worker.postMessage({ type: 'tick-runs', runs: this.tickRuns } satisfies ToWorker);
    return new Promise<void>((resolve, reject) => {
      let failure: Error | null = null;
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          slot.ready = true;
          resolve();
        } else {
          this.onMessage(slot, m);
        }
      });
      worker.on('error', (err) => { failure = err; });
      worker.on('exit', (code) => {
        slot.dead = true;
        if (!slot.ready) {
          reject(new Error(`failmode serve worker ${index} failed to start: ${failure?.message ?? `exit code ${code}`}`));
          return;
        }
        if (this.closing) return;
        this.buried(slot, failure?.message ?? `exit code ${code}`);
      });
    });
  }

  /** A worker died: its callers' responses end with an error, its samples with `error`, and it is started again. */
  private buried(slot: Slot, why: string): void {
    this.o.log?.(`serve worker ${slot.index} stopped unexpectedly (${why}); starting it again`);
    const message = `failmode serve worker ${slot.index} stopped unexpectedly (${why}): the answer is truncated`;
    for (const p of slot.requests.values()) {
      if (!p.res.headersSent) sendJsonError(p.res, 502, message, 'server_error', 'worker_exited');
      else if (p.eventStream && !p.res.writableEnded) p.res.end(`data: ${JSON.stringify({ error: { message, type: 'server_error', code: 'worker_exited' } })}\n\n`);
      else p.res.destroy();
      p.done(null);
    }
    slot.requests.clear();
    const t = performance.timeOrigin + performance.now();
    for (const [sampleId, s] of slot.samples) {
      this.owner.delete(sampleId);
      const end = lostSampleEnd(sampleId, s.run, s.question, 0, t);
      this.o.onFeed(s.run, end.type, JSON.stringify(end), end);
    }
    slot.samples.clear();
    for (const [ask, a] of this.asks) {
      if (a.slot !== slot) continue;
      this.asks.delete(ask);
      a.resolve({ type: 'stop-reply', ask, error: { code: 'unknown_sample', message: message } });
    }
    this.spawn(slot.index, slot.restarts + 1).catch((err: unknown) => this.o.log?.((err as Error).message));
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    switch (m.type) {
      case 'feed':
        if (m.msg?.type === 'sample_started') {
          slot.samples.set(m.msg.sampleId, { run: m.msg.run, question: m.msg.question });
          slot.started++;
          this.owner.set(m.msg.sampleId, slot);
        } else if (m.msg?.type === 'sample_finished') {
          slot.samples.delete(m.msg.sampleId);
          this.owner.delete(m.msg.sampleId);
        }
        this.o.onFeed(m.run, m.msgType, m.text, m.msg);
        break;
      case 'head': {
        const p = slot.requests.get(m.id);
        if (!p || p.res.headersSent || p.res.destroyed) break;
        p.eventStream = (m.headers['content-type'] ?? '').startsWith('text/event-stream');
        p.res.writeHead(m.status, m.headers);
        break;
      }
      case 'write': {
        slot.delivered += m.text.length;
        if (slot.delivered - slot.toldDelivered >= TELL_DELIVERED_EVERY) {
          slot.toldDelivered = slot.delivered;
          this.post(slot, { type: 'delivered', chars: slot.delivered });
        }
        const p = slot.requests.get(m.id);
        if (!p || p.res.destroyed || p.res.writableEnded) break;
        const room = p.res.write(m.text);
        if (m.at !== undefined) this.o.onHop?.(performance.timeOrigin + performance.now() - m.at);
        p.taken += m.text.length;
        if (room && !p.full) this.tellTaken(slot, m.id, p, false);
        else if (!p.full) {
          // Told only once the caller has read it: the worker stops reading the upstream past its allowance.
          p.full = true;
          p.res.once('drain', () => {
            p.full = false;
            this.tellTaken(slot, m.id, p, true);
          });
        }
        break;
      }
      case 'end': {
        const res = slot.requests.get(m.id)?.res;
        if (res && !res.destroyed && !res.writableEnded) res.end(m.text);
        break;
      }
      case 'done': {
        const p = slot.requests.get(m.id);
        slot.requests.delete(m.id);
        if (m.readMs) this.o.onReadTimes?.(m.readMs);
        p?.done(m.stopped);
        break;
      }
      case 'observe':
        if (m.what === 'request') this.o.onRequest?.(m.api);
        else this.o.onUpstreamError?.(m.kind);
        break;
      case 'stop-reply':
      case 'stats-reply': {
        const a = this.asks.get(m.ask);
        this.asks.delete(m.ask);
        a?.resolve(m);
        break;
      }
      case 'log':
        this.o.log?.(m.line);
        break;
      case 'closed':
        slot.onClosed?.();
        break;
      case 'ready':
        break;
    }
  }

  private tellTaken(slot: Slot, id: number, p: PendingRequest, now: boolean): void {
    if (!now && p.taken - p.told < TELL_TAKEN_EVERY) return;
    p.told = p.taken;
    if (slot.requests.has(id)) this.post(slot, { type: 'written', id, chars: p.taken });
  }

  private ask(slot: Slot, make: (ask: number) => ToWorker): Promise<FromWorker> {
    const ask = this.nextAsk++;
    return new Promise<FromWorker>((resolve) => {
      this.asks.set(ask, { resolve, slot });
      this.post(slot, make(ask));
    });
  }

  private post(slot: Slot, m: ToWorker): void {
    slot.worker.postMessage(m);
  }

  /** The worker of a (run, question); without a question the one with the fewest requests in flight. */
  private pick(run: string, question: string | null): Slot | null {
    const alive = this.slots.filter((s) => !s.dead);
    if (alive.length === 0) return null;
    if (question === null) return alive.reduce((a, b) => (b.requests.size < a.requests.size ? b : a));
    const home = this.slots[hash(`${run}\n${question}`) % this.slots.length]!;
    // Its worker is being started again: the next alive one (the question's later samples follow it there).
    return home.dead ? alive[hash(`${run}\n${question}`) % alive.length]! : home;
  }
}

/** FNV-1a over UTF-16 code units: a stable spread of questions over workers. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
