/**
 * Load on `failmode serve`: C concurrent samples of L tokens from the simulator through the proxy, with S WebSocket
 * subscribers (all runs, per-token ticks on), one of them deliberately slow (its socket paused while the load runs).
 *
 * Checks: every subscriber that keeps up receives every message (per sample: sample_started, ticks 0…L−1 in order,
 * sample_finished, vote) and no `lagged`; the slow one gets `lagged` with the number it missed; the server's outbound
 * buffer per subscriber stays under the bound (+ one frame); memory is sampled throughout.
 * Baseline in the same run: the same requests straight to the simulator (no proxy, no monitor, no feed).
 *
 *   node --import tsx bench/feed-load.ts [--samples 64] [--tokens 2000] [--subscribers 8] [--queue-bytes 1048576]
 *     [--ticks batch|each] [--caller-top 20] [--rounds 5] [--workers N] [--bus nats://HOST:PORT] [--json DIR]
 * Every caller (direct and through serve) asks for `logprobs` with `top_logprobs` = --caller-top (default 20, what
 * serve asks the upstream for its monitor), so both paths carry the same top-20 stream. `--caller-top 0`: callers ask
 * for no logprobs (the direct baseline then gets small chunks while serve still asks the upstream for top-20).
 * With --bus, two serve instances share the load (every other request) and the subscribers read instance 1's feed
 * (its own samples only): compare the tokens/s with and without --bus.
 */
import { parseArgs } from 'node:util';
import { benchArgs, recordBench } from './lib/bench-json.ts';
import { isMainThread, parentPort, workerData, type Worker } from 'node:worker_threads';
import { startTsWorker } from '../src/ts-worker.ts';
import { WebSocket } from 'ws';
import { startServe } from '../src/feed/serve-server.ts';
import type { ServerMessage } from '../src/feed/protocol.ts';
import type { ModelFile } from '../src/models/model-file.ts';
import { startSimulator } from '../src/stream/simulator/index.ts';

export interface FeedLoadOptions {
  readonly samples: number;
  readonly tokens: number;
  readonly subscribers: number;
  /** Per-subscriber outbound bound (bytes). */
  readonly queueBytes: number;
  readonly model?: ModelFile | null;
  /** Measure the direct-to-simulator baseline too. */
  readonly baseline?: boolean;
  /** How subscribers take ticks: `batch` (`tokens: "batch"`, token_batch messages) or `each` (`tokens: true`). @default 'batch' */
  readonly tickMode?: 'batch' | 'each';
  /** Told each phase's result as soon as it is measured. */
  readonly progress?: (line: string) => void;
  /** NATS URL: a second serve instance on the bus shares the load (half the samples each). */
  readonly bus?: string | null;
  /** The callers' top_logprobs (0: no logprobs asked). @default 20 */
  readonly callerTop?: number;
  /** Rounds of (direct, serve without subscribers); medians are reported. @default 3 (the CLI: 5) */
  readonly rounds?: number;
  /** serve's worker threads (`serve --workers N`). @default 0 */
  readonly workers?: number;
}

/** One timed phase. */
export interface PhaseResult {
  readonly seconds: number;
  readonly tokensPerSecond: number;
  /** Process CPU time (user + system, all threads) per token (µs): less sensitive to other jobs than wall time. */
  readonly cpuMicrosPerToken: number;
}

export interface SubscriberReport {
  readonly slow: boolean;
  readonly messages: number;
  readonly ticks: number;
  readonly lagged: number;
  readonly dropped: number;
  /** Samples whose ticks were not exactly 0…L−1 in order, or that lacked started / finished / vote. */
  readonly incompleteSamples: number;
}

export interface FeedLoadResult {
  readonly samples: number;
  readonly tokens: number;
  readonly seconds: number;
  readonly tokensPerSecond: number;
  /** Straight to the simulator: the median round. */
  readonly baseline: PhaseResult | null;
  /** Through the proxy and monitor with no subscriber connected: the median round. */
  readonly proxyOnly: PhaseResult | null;
  /** Every round of each (direct, serve without subscribers), in order. */
  readonly rounds: { readonly direct: readonly PhaseResult[]; readonly proxyOnly: readonly PhaseResult[] };
  /** Process CPU time (all threads: simulator, proxy, callers, subscribers) per token of the loaded run (µs). */
  readonly cpuMicrosPerToken: number;
  readonly subscribers: readonly SubscriberReport[];
  /** Largest server-side bufferedAmount seen per subscriber (bytes). */
  readonly maxBuffered: readonly number[];
  readonly maxFrameBytes: number;
  readonly peakRssMB: number;
  /** Proxy processing per upstream read (ms), from its arrival to the caller's write, with the subscribers on: p50 and p99. */
  readonly chunkMs: { readonly p50: number; readonly p99: number; readonly n: number };
  /** The same without subscribers. */
  readonly chunkMsProxyOnly: { readonly p50: number; readonly p99: number; readonly n: number } | null;
  /** With workers, no subscribers: a worker's write to the caller's write on the main thread (ms); null without. */
  readonly hopMsProxyOnly: { readonly p50: number; readonly p90: number; readonly p99: number; readonly n: number } | null;
  readonly peakHeapMB: number;
  readonly framesDropped: number;
}

const MCQ = 'Which option is right?\n(A) one\n(B) two\n(C) three\n(D) four';

export async function runFeedLoad(o: FeedLoadOptions): Promise<FeedLoadResult> {
  const sim = await startSimulator({ seed: 7 });
  const chunkTimes: number[] = [];
  const onChunkProcessed = (ms: number): void => { if (chunkTimes.length < 2_000_000) chunkTimes.push(ms); };
  // With workers: from a worker's write to the caller's write on the main thread.
  const hopTimes: number[] = [];
  const onWorkerHop = (ms: number): void => { if (hopTimes.length < 2_000_000) hopTimes.push(ms); };
  const serve = await startServe({ port: 0, upstream: sim.url, model: o.model ?? null, maxSubscriberQueueBytes: o.queueBytes, heartbeatMs: 60_000, bus: o.bus ?? null, onChunkProcessed, onWorkerHop, workers: o.workers ?? 0 });
  // With a bus: a second instance (same process, its own hub) takes every other request.
  const serve2 = o.bus ? await startServe({ port: 0, upstream: sim.url, model: o.model ?? null, heartbeatMs: 60_000, bus: o.bus, onChunkProcessed }) : null;
  const target = (i: number) => `${(serve2 && i % 2 === 1 ? serve2 : serve).url}/v1`;
  const top = o.callerTop ?? 20;
  const logprobs = top > 0 ? { logprobs: true, top_logprobs: top } : {};
  const body = (i: number) => JSON.stringify({ model: 'sim', messages: [{ role: 'user', content: `${MCQ} #${i}` }], stream: true, ...logprobs, failmode_sim: { length: o.tokens } });
  const drain = async (url: string, i: number, headers: Record<string, string> = {}): Promise<void> => {
    const res = await fetch(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: body(i) });
    for await (const _ of res.body as unknown as AsyncIterable<Uint8Array>) { /* the caller reads everything */ }
  };
  const rounds = Math.max(1, o.rounds ?? 3);
  const timed = async (run: () => Promise<unknown>): Promise<PhaseResult> => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await run();
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { seconds, tokensPerSecond: (o.samples * o.tokens) / seconds, cpuMicrosPerToken: (cpu.user + cpu.system) / (o.samples * o.tokens) };
  };
  const directRuns: PhaseResult[] = [];
  const proxyRuns: PhaseResult[] = [];
  try {
    let baseline: FeedLoadResult['baseline'] = null;
    let proxyOnly: FeedLoadResult['proxyOnly'] = null;
    let chunkMsProxyOnly: FeedLoadResult['chunkMsProxyOnly'] = null;
    let hopMsProxyOnly: FeedLoadResult['hopMsProxyOnly'] = null;
    if (o.baseline) {
      // Warm-up of both paths (not measured): the JIT compiles the simulator, the proxy and the monitor before any
      // phase is timed, so the first timed phase does not pay for it.
      const warm = Math.min(8, o.samples);
      await Promise.all(Array.from({ length: warm }, (_, i) => drain(sim.url, i)));
      await Promise.all(Array.from({ length: warm }, (_, i) => drain(target(i), i, { 'x-failmode-run': 'warm-up' })));
      // Rounds of direct, then serve, back to back: on a shared machine the load drifts, so each path is measured
      // several times interleaved and the medians are compared.
      for (let r = 0; r < rounds; r++) {
        directRuns.push(await timed(() => Promise.all(Array.from({ length: o.samples }, (_, i) => drain(sim.url, i)))));
        chunkTimes.length = 0;
        hopTimes.length = 0;
        proxyRuns.push(await timed(() => Promise.all(Array.from({ length: o.samples }, (_, i) => drain(target(i), i, { 'x-failmode-run': 'warm' })))));
        if (r === rounds - 1) {
          chunkMsProxyOnly = percentiles(chunkTimes);
          hopMsProxyOnly = hopTimes.length > 0 ? percentiles(hopTimes) : null;
        }
        const d = directRuns.at(-1)!;
        const p = proxyRuns.at(-1)!;
        o.progress?.(`round ${r + 1}: direct ${d.tokensPerSecond.toFixed(0)} tok/s; serve without subscribers ${p.tokensPerSecond.toFixed(0)} tok/s (${(100 * p.tokensPerSecond / d.tokensPerSecond).toFixed(1)} %)`);
      }
      baseline = median(directRuns);
      proxyOnly = median(proxyRuns);
    }

    if (o.bus) {
      // Scale-out run: only the proxy throughput is compared (subscribers would need a gateway).
      const p = proxyOnly!;
      return {
        samples: o.samples, tokens: o.tokens, seconds: p.seconds, tokensPerSecond: p.tokensPerSecond, cpuMicrosPerToken: p.cpuMicrosPerToken, baseline, proxyOnly,
        rounds: { direct: directRuns, proxyOnly: proxyRuns }, subscribers: [],
        maxBuffered: [], maxFrameBytes: 0, peakRssMB: 0, peakHeapMB: 0, framesDropped: 0, chunkMs: percentiles(chunkTimes), chunkMsProxyOnly, hopMsProxyOnly,
      };
    }
    const feedUrl = `${serve.url.replace('http', 'ws')}/feed`;
    // Subscribers run in a worker thread: a real client has its own event loop, and the server's must not read for it.
    const pool = new SubscriberPool(feedUrl, o.subscribers, o.samples, o.tokens, o.tickMode ?? 'batch');
    await pool.ready;
    // Connection ids in subscriber order (the worker connects them one after the other; the slow one is last).
    const ids = [...serve.feed.connections].map((c) => c.id).sort((a, b) => a - b);

    let peakRss = 0;
    let peakHeap = 0;
    const maxBuffered = new Map<number, number>();
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
      for (const c of serve.feed.connections) maxBuffered.set(c.id, Math.max(maxBuffered.get(c.id) ?? 0, c.ws.bufferedAmount));
    }, 20);

    chunkTimes.length = 0;
    const loaded = await timed(() => Promise.all(Array.from({ length: o.samples }, (_, i) => drain(target(i), i, { 'x-failmode-run': 'load', 'x-failmode-question': `q${i}` }))));
    const chunkMs = percentiles(chunkTimes);
    const { reports, maxFrame } = await pool.finish();
    clearInterval(sampler);
    const framesDropped = serve.feed.stats().framesDropped;
    if (o.baseline) {
      // Once more straight to the simulator right after the loaded run; the baseline is the median of every direct run.
      directRuns.push(await timed(() => Promise.all(Array.from({ length: o.samples }, (_, i) => drain(sim.url, i)))));
      o.progress?.(`direct after the loaded run ${directRuns.at(-1)!.tokensPerSecond.toFixed(0)} tok/s`);
      baseline = median(directRuns);
    }
    return {
      samples: o.samples, tokens: o.tokens, seconds: loaded.seconds, tokensPerSecond: loaded.tokensPerSecond, cpuMicrosPerToken: loaded.cpuMicrosPerToken, baseline, proxyOnly,
      rounds: { direct: directRuns, proxyOnly: proxyRuns },
      subscribers: reports, maxBuffered: ids.map((id) => maxBuffered.get(id) ?? 0), maxFrameBytes: maxFrame,
      peakRssMB: peakRss / 2 ** 20, peakHeapMB: peakHeap / 2 ** 20, framesDropped, chunkMs, chunkMsProxyOnly, hopMsProxyOnly,
    };
  } finally {
    await serve2?.close();
    await serve.close();
    await sim.close();
  }
}

/** Serve's tokens/s over the direct round run just before it, round by round (the machine's drift cancels in pairs). */
function pairedShares(rounds: FeedLoadResult['rounds']): number[] {
  return rounds.proxyOnly.map((p, i) => p.tokensPerSecond / rounds.direct[i]!.tokensPerSecond);
}

function medianOf(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** The round with the median tokens/s (the lower middle one for an even count). */
function median(runs: readonly PhaseResult[]): PhaseResult {
  const sorted = [...runs].sort((a, b) => a.tokensPerSecond - b.tokensPerSecond);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function percentiles(xs: number[]): { p50: number; p90: number; p99: number; n: number } {
  const s = Float64Array.from(xs).sort();
  const at = (q: number) => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]!);
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), n: s.length };
}

/** Runs the subscribers in a worker thread; the last one pauses its socket until the load is done. */
class SubscriberPool {
  readonly ready: Promise<void>;
  private readonly worker: Worker;
  private result: Promise<{ reports: SubscriberReport[]; maxFrame: number }>;

  constructor(url: string, count: number, samples: number, tokens: number, tickMode: 'batch' | 'each') {
    this.worker = startTsWorker(new URL(import.meta.url), { workerData: { role: WORKER_ROLE, url, count, samples, tokens, tickMode } });
    let resolveReady!: () => void;
    let resolveResult!: (r: { reports: SubscriberReport[]; maxFrame: number }) => void;
    let reject!: (err: unknown) => void;
    this.ready = new Promise<void>((r, j) => { resolveReady = r; reject = j; });
    this.result = new Promise((r, j) => { resolveResult = r; const prev = reject; reject = (e) => { prev(e); j(e); }; });
    this.worker.on('message', (m: { type: string; reports?: SubscriberReport[]; maxFrame?: number; error?: string }) => {
      if (m.type === 'ready') resolveReady();
      else if (m.type === 'result') resolveResult({ reports: m.reports!, maxFrame: m.maxFrame! });
      else if (m.type === 'error') reject(new Error(m.error));
    });
    this.worker.on('error', (err) => reject(err));
  }

  /** The load is done: wait for the fast subscribers to get everything, then let the slow one catch up. */
  async finish(): Promise<{ reports: SubscriberReport[]; maxFrame: number }> {
    this.worker.postMessage({ type: 'load-done' });
    try {
      return await this.result;
    } finally {
      await this.worker.terminate();
    }
  }
}

const WORKER_ROLE = 'failmode-feed-load-subscribers';

async function subscriberWorker(d: { url: string; count: number; samples: number; tokens: number; tickMode: 'batch' | 'each' }): Promise<void> {
  const subs: Subscriber[] = [];
  for (let k = 0; k < d.count; k++) subs.push(await Subscriber.connect(d.url, k === d.count - 1, d.tickMode)); // in order: ids match
  // --subscribers 0: the loaded run measures the proxy alone (nothing to wait for).
  const slow = subs.at(-1);
  slow?.pause();
  const loadDone = new Promise<void>((resolve) => parentPort!.on('message', (m: { type: string }) => { if (m.type === 'load-done') resolve(); }));
  parentPort!.postMessage({ type: 'ready' });
  await loadDone;
  try {
    await Promise.all(subs.filter((s) => !s.slow).map((s) => s.waitFor(() => s.votes >= d.samples, 60_000)));
    if (slow !== undefined) {
      slow.resume();
      await slow.waitFor(() => slow.laggedNotices > 0, 30_000);
      // Then everything sent after the notice: received + dropped = what a fast subscriber got (or give up after 10 s).
      const total = subs[0]!.messages;
      await slow.waitFor(() => slow.messages - slow.laggedNotices + slow.dropped >= total, 10_000).catch(() => undefined);
    }
    parentPort!.postMessage({ type: 'result', reports: subs.map((s) => s.report(d.tokens, d.samples)), maxFrame: Math.max(0, ...subs.map((s) => s.maxFrame)) });
  } catch (err) {
    parentPort!.postMessage({ type: 'error', error: (err as Error).message });
  }
  for (const s of subs) s.close();
}

/** A feed subscriber that checks completeness as it goes (no message kept beyond counters). */
class Subscriber {
  readonly slow: boolean;
  messages = 0;
  ticks = 0;
  votes = 0;
  laggedNotices = 0;
  dropped = 0;
  maxFrame = 0;
  private readonly ws: WebSocket;
  private readonly perSample = new Map<string, { next: number; broken: boolean; started: boolean; finished: boolean }>();
  private readonly votedQuestions = new Set<string>();
  private wake: (() => void) | null = null;

  private constructor(ws: WebSocket, slow: boolean) {
    this.ws = ws;
    this.slow = slow;
  }

  static async connect(url: string, slow: boolean, tickMode: 'batch' | 'each'): Promise<Subscriber> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const s = new Subscriber(ws, slow);
    ws.on('message', (data: Buffer) => s.onMessage(data));
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.on('message', function first(data: Buffer) {
        if (JSON.parse(data.toString()).type === 'subscribed') {
          ws.off('message', first);
          resolve();
        }
      });
      ws.once('open', () => ws.send(JSON.stringify({ type: 'subscribe', run: 'all', tokens: tickMode === 'batch' ? 'batch' : true })));
    });
    return s;
  }

  pause(): void {
    (this.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  }

  resume(): void {
    (this.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  }

  async waitFor(cond: () => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`subscriber (${this.slow ? 'slow' : 'fast'}) timed out: ${this.messages} messages, ${this.votes} votes, ${this.laggedNotices} lagged`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.wake = () => { clearTimeout(t); resolve(); };
      });
    }
  }

  private onMessage(data: Buffer): void {
    this.messages++;
    this.maxFrame = Math.max(this.maxFrame, data.length);
    const m = JSON.parse(data.toString()) as ServerMessage;
    const state = (id: string) => {
      let st = this.perSample.get(id);
      if (!st) this.perSample.set(id, (st = { next: 0, broken: false, started: false, finished: false }));
      return st;
    };
    switch (m.type) {
      case 'sample_started': state(m.sampleId).started = true; break;
      case 'token': {
        this.ticks++;
        const st = state(m.sampleId);
        if (m.index !== st.next) st.broken = true;
        st.next = m.index + 1;
        break;
      }
      case 'token_batch': {
        this.ticks += m.tokens.length;
        const st = state(m.sampleId);
        if (m.from !== st.next) st.broken = true;
        st.next = m.from + m.tokens.length;
        break;
      }
      case 'sample_finished': state(m.sampleId).finished = true; break;
      case 'vote': this.votes++; this.votedQuestions.add(m.question); break;
      case 'lagged': this.laggedNotices++; this.dropped += m.dropped; break;
      default: break;
    }
    this.wake?.();
  }

  report(tokens: number, samples: number): SubscriberReport {
    let incomplete = samples - this.perSample.size;
    for (const st of this.perSample.values()) if (st.broken || !st.started || !st.finished || st.next !== tokens) incomplete++;
    return { slow: this.slow, messages: this.messages, ticks: this.ticks, lagged: this.laggedNotices, dropped: this.dropped, incompleteSamples: incomplete + (samples - this.votedQuestions.size) };
  }

  close(): void {
    this.ws.terminate();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: benchArgs().rest,
    options: {
      samples: { type: 'string', default: '64' }, tokens: { type: 'string', default: '2000' }, subscribers: { type: 'string', default: '8' },
      'queue-bytes': { type: 'string', default: String(1024 * 1024) }, ticks: { type: 'string', default: 'batch' }, bus: { type: 'string' },
      'caller-top': { type: 'string', default: '20' }, rounds: { type: 'string', default: '5' }, workers: { type: 'string', default: '0' },
    },
  });
  const tickMode = values.ticks === 'each' ? 'each' as const : 'batch' as const;
  const o = { samples: Number(values.samples), tokens: Number(values.tokens), subscribers: Number(values.subscribers), queueBytes: Number(values['queue-bytes']), baseline: true, tickMode, bus: values.bus ?? null, callerTop: Number(values['caller-top']), rounds: Number(values.rounds), workers: Number(values.workers), progress: (l: string) => console.log(`  … ${l}`) };
  console.log(`feed-load: ${o.samples} concurrent samples × ${o.tokens} tokens (callers ask ${o.callerTop > 0 ? `top_logprobs ${o.callerTop}` : 'no logprobs'}; from the simulator, in this process) through ${o.bus ? 'two failmode serve instances on NATS' : o.workers > 0 ? `failmode serve --workers ${o.workers}` : 'failmode serve'}, ${o.subscribers} subscribers (ticks ${tickMode === 'batch' ? 'as token_batch' : 'one message per token'}, last one slow), queue bound ${o.queueBytes} B`);
  const r = await runFeedLoad(o);
  const f = (x: number, d = 0) => x.toFixed(d);
  const line = (name: string, p: PhaseResult) => `  ${name.padEnd(38)} ${f(p.seconds, 2).padStart(7)} s ${f(p.tokensPerSecond).padStart(9)} tok/s ${f(p.cpuMicrosPerToken, 1).padStart(7)} µs CPU/token`
    + (p === r.baseline ? '' : `   ${f(p.tokensPerSecond / r.baseline!.tokensPerSecond * 100, 1).padStart(5)} % of direct (CPU: ${f(r.baseline!.cpuMicrosPerToken / p.cpuMicrosPerToken * 100, 1)} %)`);
  console.log('');
  console.log(`  (medians of ${r.rounds.proxyOnly.length} interleaved rounds; the direct median includes one run after the loaded phase)`);
  console.log(line('direct to the simulator', r.baseline!));
  console.log(line('serve, no subscriber', r.proxyOnly!));
  const paired = pairedShares(r.rounds);
  console.log(`  serve's share of direct round by round (each serve round over the direct round just before it): ${paired.map((x) => `${f(100 * x, 1)} %`).join(', ')}; median ${f(100 * medianOf(paired), 1)} %`);
  if (o.bus) {
    console.log('  (two instances on the bus; no subscriber phase)');
    return;
  }
  console.log(line(`serve + ${o.subscribers} tick subscribers`, { seconds: r.seconds, tokensPerSecond: r.tokensPerSecond, cpuMicrosPerToken: r.cpuMicrosPerToken }));
  const ms = (p: { p50: number; p99: number; n: number } | null) => (p === null ? 'n/a' : `p50 ${f(p.p50 * 1000)} µs, p99 ${f(p.p99 * 1000)} µs (${p.n} reads)`);
  const where = o.workers > 0 ? 'in the worker, arrival → response handed to the main thread' : 'arrival → caller write';
  console.log(`  added latency per upstream read (proxy processing, ${where}): no subscriber ${ms(r.chunkMsProxyOnly)}; with subscribers ${ms(r.chunkMs)}`);
  if (r.hopMsProxyOnly) console.log(`  then from the worker to the caller's write on the main thread, no subscriber: ${ms(r.hopMsProxyOnly)}, p90 ${f(r.hopMsProxyOnly.p90 * 1000)} µs`);
  console.log(`  peak RSS ${f(r.peakRssMB, 1)} MB, peak heap ${f(r.peakHeapMB, 1)} MB; frames dropped (slow subscriber) ${r.framesDropped}; largest frame ${r.maxFrameBytes} B`);
  console.log('');
  console.log('  subscriber   messages     ticks   lagged   dropped   incomplete samples   max server buffer');
  r.subscribers.forEach((s, i) => {
    console.log(`  ${(s.slow ? `#${i} slow` : `#${i}`).padEnd(10)} ${String(s.messages).padStart(10)} ${String(s.ticks).padStart(9)} ${String(s.lagged).padStart(8)} ${String(s.dropped).padStart(9)} ${String(s.incompleteSamples).padStart(20)} ${String(r.maxBuffered[i] ?? 0).padStart(19)}`);
  });
  const fast = r.subscribers.filter((s) => !s.slow);
  const ok = fast.every((s) => s.lagged === 0 && s.incompleteSamples === 0 && s.ticks === r.samples * r.tokens)
    && (r.subscribers.length === 0 || r.subscribers.at(-1)!.lagged > 0) && r.maxBuffered.every((b) => b <= o.queueBytes + r.maxFrameBytes);
  console.log('');
  console.log(ok ? '  OK: no loss for subscribers that keep up; slow one lagged; buffers bounded' : '  FAILED: see the table');
  process.exitCode = ok ? 0 : 1;
  // With --workers, its own file: the single-thread figures stay beside it.
  recordBench(o.workers > 0 ? 'feed-load-workers' : 'feed-load', {
    samples: r.samples, tokens_per_sample: r.tokens, caller_top: o.callerTop, subscribers: o.subscribers, tick_mode: tickMode, rounds: r.rounds.proxyOnly.length, workers: o.workers,
    direct_tokens_per_s: r.baseline!.tokensPerSecond, direct_cpu_us_per_token: r.baseline!.cpuMicrosPerToken,
    serve_tokens_per_s: r.proxyOnly!.tokensPerSecond, serve_cpu_us_per_token: r.proxyOnly!.cpuMicrosPerToken,
    serve_share_of_direct: r.proxyOnly!.tokensPerSecond / r.baseline!.tokensPerSecond,
    serve_share_by_round: paired, serve_share_median_paired: medianOf(paired),
    loaded_tokens_per_s: r.tokensPerSecond, loaded_cpu_us_per_token: r.cpuMicrosPerToken, loaded_share_of_direct: r.tokensPerSecond / r.baseline!.tokensPerSecond,
    read_ms_no_subscriber: r.chunkMsProxyOnly, read_ms_with_subscribers: r.chunkMs, ...(r.hopMsProxyOnly ? { worker_hop_ms_no_subscriber: r.hopMsProxyOnly } : {}), ok,
  });
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === WORKER_ROLE) await subscriberWorker(workerData);
else if (isMainThread && import.meta.url === `file://${process.argv[1]}`) await main();
