/**
 * Online feature / monitor benchmark.
 *
 *   node --import tsx --expose-gc bench/online.ts [filter]
 *
 * Cases (filter by substring): `update` — per-token cost at top-k 20 and 200 of (baseline) computeTopKSignals +
 * one SignalAccumulator push, SampleFeatures.push, and the whole monitor (64 interleaved samples, a model scoring
 * every window); `latency` — p50/p99/max of single monitor pushes with 64 concurrent samples; `memory` — heap
 * growth of one sample after 1k vs 1M tokens (needs --expose-gc for stable numbers).
 */
import { SignalAccumulator } from '../src/features/signal-accumulator.ts';
import { benchArgs, recordBench } from './lib/bench-json.ts';
import { computeTopKSignals, DEFAULT_SIGNAL_PARAMS, type TopKSignals } from '../src/features/token-signals.ts';
import type { ModelFile, WindowClassifier } from '../src/models/model-file.ts';
import { createSampleMonitor } from '../src/online/monitor.ts';
import { SampleFeatures } from '../src/online/sample-features.ts';
import type { TokenEvent, TopLogprob } from '../src/stream/token-event.ts';

const filter = benchArgs().rest[0] ?? '';
/** Everything measured, for --json DIR. */
const figures: Record<string, unknown> = {};
const gc: () => void = (globalThis as { gc?: () => void }).gc ?? (() => {});

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 4294967296; };
}

const WORDS = ['so ', 'the ', 'value ', 'is ', 'therefore ', '\n', 'we ', 'get ', '3', '.', ' x', '=', '\n\n', 'Final', ' Answer', ': B'];

/** A pool of token events (cycled), k alternatives each; about 1 in 50 without a top-k list. */
function tokenPool(k: number, size = 4096): TokenEvent[] {
  const r = rng(k);
  const pool: TokenEvent[] = [];
  for (let i = 0; i < size; i++) {
    const top: TopLogprob[] = [];
    let lp = -r() * 0.5;
    for (let j = 0; j < k; j++) { top.push({ token: `t${j}`, logprob: lp }); lp -= r() * 1.5; }
    pool.push({ type: 'token', sampleId: 's:0', index: i, token: WORDS[Math.floor(r() * WORDS.length)]!, logprob: top[0]!.logprob, top: r() < 0.02 ? null : top, channel: 'content', t: i });
  }
  return pool;
}

function classifier(window: number | 'full', names: string[]): WindowClassifier {
  return {
    window, featureNames: names, fill: names.map(() => 0.5), mean: names.map(() => 0.5), scale: names.map(() => 1), coef: names.map(() => 0.1), intercept: -1,
    oof: { prauc: 0.6, auroc: 0.6 }, stop: { threshold: 0.9, targetPrecision: 0.9, precision: 0.9, recall: 0.2 },
  };
}
const FEATS = ['entropy_mean', 'entropy_max', 'nll_mean', 'nll_max', 'margin_mean', 'margin_max', 'nucleus_size_mean', 'nucleus_size_max', 'near_tie_mean', 'near_tie_max', 'fork_rate'];
const WINDOWS = [128, 256, 400, 512, 1024, 2048];
const MODEL: ModelFile = {
  format: 'failmode-model', version: 1, createdAt: '2026-01-01T00:00:00Z', signal: { topK: 20, nucleusP: 0.7, tieDelta: 0.5 },
  prefinal: true, profile: 'final-answer', windows: WINDOWS,
  classifiers: [...WINDOWS.map((T) => classifier(T, FEATS.map((f) => `${f}_prefinal_w${T}`))), classifier('full', FEATS.map((f) => `${f}_prefinal`))],
  regime: 'committed', commitmentPoint: 256, training: { name: 'bench', n: 100, failures: 30, failureRate: 0.3 },
};

/** Best of 3 timed runs after a warm-up (the machine is shared; the minimum is the least disturbed run). */
function nsPerToken(fn: () => void, tokens: number): number {
  fn();
  let best = Infinity;
  for (let rep = 0; rep < 3; rep++) {
    gc();
    const t0 = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / tokens);
  }
  return best;
}

function fmt(ns: number): string {
  return ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`;
}

if ('update'.includes(filter) || filter === '') {
  for (const k of [20, 200]) {
    const pool = tokenPool(k);
    const N = k === 20 ? 400_000 : 50_000;
    const baseline = nsPerToken(() => {
      const acc = new SignalAccumulator();
      const lp = new Float64Array(k);
      const scratch = new Float64Array(k);
      const out: TopKSignals = { entropy: 0, margin: 0, nucleusSize: 0, nearTie: 0, fork: 0 };
      for (let i = 0; i < N; i++) {
        const ev = pool[i & 4095]!;
        const top = ev.top;
        if (top && top.length) { for (let j = 0; j < top.length; j++) lp[j] = top[j]!.logprob; acc.push(-ev.logprob, computeTopKSignals(lp, top.length, DEFAULT_SIGNAL_PARAMS, scratch, out)); } else acc.push(-ev.logprob, null);
      }
    }, N);
    const sample = nsPerToken(() => {
      const sf = new SampleFeatures({ profile: 'final-answer' });
      for (let i = 0; i < N; i++) sf.push(pool[i & 4095]!);
    }, N);
    const sampleNoText = nsPerToken(() => {
      const sf = new SampleFeatures({ profile: 'final-answer', keepText: false });
      for (let i = 0; i < N; i++) sf.push(pool[i & 4095]!);
    }, N);
    const S = 64;
    const ids = Array.from({ length: S }, (_, s) => `r${s}:0`);
    const events = pool.map((ev, i) => ({ ...ev, sampleId: ids[i % S]! }));
    const mon = nsPerToken(() => {
      let emitted = 0;
      const m = createSampleMonitor({ model: MODEL }, () => { emitted++; });
      for (let i = 0; i < N; i++) m.push(events[i & 4095]!);
      m.end();
      if (emitted === 0) throw new Error('no events');
    }, N);
    figures[`update_top${k}_ns`] = { baseline: baseline, sample_features_push: sample, sample_features_push_no_text: sampleNoText, monitor_64_samples_with_model: mon };
    console.log(`update  top-k ${String(k).padStart(3)}: baseline signals+accumulator ${fmt(baseline)}/token | SampleFeatures.push ${fmt(sample)} (${(sample / baseline).toFixed(2)}×; no text tail ${fmt(sampleNoText)}) | monitor, 64 samples + model ${fmt(mon)} (${(mon / baseline).toFixed(2)}×) → ${(1e9 / mon / 1e6).toFixed(2)} M tokens/s`);
  }
}

if ('latency'.includes(filter) || filter === '') {
  const pool = tokenPool(20);
  const S = 64;
  const N = 400_000;
  const ids = Array.from({ length: S }, (_, s) => `r${s}:0`);
  const events = pool.map((ev, i) => ({ ...ev, sampleId: ids[i % S]! }));
  const m = createSampleMonitor({ model: MODEL }, () => {});
  for (let i = 0; i < 50_000; i++) m.push(events[i & 4095]!);
  const lat = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const t0 = process.hrtime.bigint();
    m.push(events[i & 4095]!);
    lat[i] = Number(process.hrtime.bigint() - t0);
  }
  lat.sort();
  const q = (p: number) => lat[Math.min(N - 1, Math.floor(p * N))]!;
  // Timer overhead baseline in the same run.
  const empty = new Float64Array(100_000);
  for (let i = 0; i < empty.length; i++) { const t0 = process.hrtime.bigint(); empty[i] = Number(process.hrtime.bigint() - t0); }
  empty.sort();
  figures.latency_64_samples_top20_ns = { pushes: N, p50: q(0.5), p99: q(0.99), p999: q(0.999), max: lat[N - 1]!, timer_p50: empty[50_000]! };
  console.log(`latency monitor.push, 64 concurrent samples, top-k 20 (${N} pushes): p50 ${fmt(q(0.5))}, p99 ${fmt(q(0.99))}, p99.9 ${fmt(q(0.999))}, max ${fmt(lat[N - 1]!)}; timer baseline p50 ${fmt(empty[50_000]!)}`);
}

if ('memory'.includes(filter) || filter === '') {
  if (!(globalThis as { gc?: unknown }).gc) console.log('memory  (run with --expose-gc for stable numbers)');
  const pool = tokenPool(20);
  const SAMPLES = 16;
  /** Heap retained by SAMPLES live samples after n tokens each, per sample (several samples average out GC noise). */
  // Typed-array backing stores live outside the JS heap: count heapUsed + arrayBuffers.
  const used = (): number => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
  const heapPerSample = (n: number, keepText: boolean): number => {
    gc(); gc();
    const before = used();
    const live: SampleFeatures[] = [];
    for (let s = 0; s < SAMPLES; s++) {
      const sf = new SampleFeatures({ profile: 'final-answer', keepText });
      for (let i = 0; i < n; i++) sf.push(pool[(i + s) & 4095]!);
      live.push(sf);
    }
    gc(); gc();
    const after = used();
    if (live.some((sf) => sf.length !== n)) throw new Error('length');
    return (after - before) / SAMPLES;
  };
  // Baseline in the same run: a bare SignalAccumulator (the least any sample must hold).
  gc(); gc();
  const b0 = used();
  const accs = Array.from({ length: 1024 }, () => new SignalAccumulator());
  gc(); gc();
  const bare = (used() - b0) / accs.length;
  for (const keepText of [true, false]) {
    const a = heapPerSample(1_000, keepText);
    const b = heapPerSample(1_000_000, keepText);
    figures[keepText ? 'memory_per_sample_bytes' : 'memory_per_sample_no_text_bytes'] = { after_1k_tokens: a, after_1m_tokens: b, bare_accumulator: bare, live_samples: SAMPLES };
    console.log(`memory  per sample${keepText ? '' : ' (no text tail)'} (${SAMPLES} live samples): ${(a / 1024).toFixed(1)} KiB after 1k tokens, ${(b / 1024).toFixed(1)} KiB after 1M tokens (bare accumulator ${(bare / 1024).toFixed(2)} KiB)`);
  }
}

recordBench('online', figures);
