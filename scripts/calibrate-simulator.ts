/**
 * Fits the simulator's synthetic traces to the paper's data and writes src/stream/simulator/calibration.json.
 *
 *   node --import tsx scripts/calibrate-simulator.ts [--results ../shared/paper/results] [--check 300]
 *
 * For each profile (multiple choice ← a GPQA file, math ← a MATH-500 file) and class (correct / failure):
 * 1. targets: per window T ∈ DEFAULT_WINDOWS, mean and SD over traces with generated_len ≥ T of the six window features
 *    (windows with < MIN_ROWS such traces are not fitted; the last fitted segment continues);
 * 2. segment targets: the window means are prefix means, so the mean over tokens [T_{i-1}, T_i) is
 *    (T_i·m_i − T_{i-1}·m_{i-1}) / (T_i − T_{i-1}), both m computed on the same traces (len ≥ T_i);
 * 3. a lookup E[feature | ln tau] on a grid, by drawing tokens with the simulator's own token model (top-k = the file's
 *    vocab_size, 200) and the shared SPEC §1.2 signal code, for each global shape (tail Zipf exponent, tail offset,
 *    sampling temperature) of a small grid;
 * 4. per segment, (mu, sigma_tot) of ln tau ~ N(mu, sigma_tot²) by grid search minimising Σ_f ((pred_f − target_f)/sd_f)²,
 *    with sd_f the between-trace SD of the feature; the shape with the least total error wins;
 * 5. per class, the SD rho of a per-trace offset of ln tau (sigma² = sigma_tot² − rho², so window means stay put) such
 *    that simulated between-trace SDs of the w128/w512 means match the paper's;
 * 6. the generated_len quantiles (0, 5, …, 100 %) per class, and the file's accuracy.
 * Then it simulates traces with the fitted model (the simulator's TraceModel) and prints target vs simulated window
 * means (markdown, pasted into docs/simulator.md).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseScriptArgs } from '../src/cli/script-args.ts';
import { parse as parseCsv } from 'csv-parse/sync';
import { readSheet } from 'read-excel-file/node';
import { DEFAULT_WINDOWS, windowColumn } from '../src/features/columns.ts';
import { computeTopKSignals, DEFAULT_SIGNAL_PARAMS, type TopKSignals } from '../src/features/token-signals.ts';
import { CALIBRATED_FEATURES, type Calibration, type CalibrationProfile, type CalibratedFeature, type ClassCurve, type Segment } from '../src/stream/simulator/calibration.ts';
import { Rng } from '../src/stream/simulator/rng.ts';
import { drawToken, SIM_VOCAB, type TokenShape } from '../src/stream/simulator/token-model.ts';
import { SIM_KINDS, TraceModel, sampleLength, type SimKind } from '../src/stream/simulator/trace-model.ts';

const HELP = `calibrate-simulator — fit the simulator's synthetic traces to the paper's data

Usage
  node --import tsx scripts/calibrate-simulator.ts [--results DIR] [--check N]

  Writes src/stream/simulator/calibration.json and prints target vs simulated window means (markdown, for
  docs/simulator.md). Reads gpqa_gemma4-31b.final.xlsx (multiple choice) and math500_qwen3.5-2b.final.xlsx (math).

Options
  --results DIR   the paper's results tables (default ../shared/paper/results)
  --check N       traces simulated per profile and class for the check table (default 300)
  -h, --help      show this help

Examples
  node --import tsx scripts/calibrate-simulator.ts
  node --import tsx scripts/calibrate-simulator.ts --results ~/paper/results --check 1000
`;
const { values: args } = parseScriptArgs('calibrate-simulator', HELP, { results: { type: 'string' }, check: { type: 'string' } });
const RESULTS = args.results ?? new URL('../../shared/paper/results/', import.meta.url).pathname;
const CHECK_TRACES = Number(args.check ?? '300');
if (!(Number.isInteger(CHECK_TRACES) && CHECK_TRACES > 0)) {
  process.stderr.write(`calibrate-simulator: Expected --check to be a positive integer, got \`${args.check}\`\n`);
  process.exit(2);
}
const OUT = new URL('../src/stream/simulator/calibration.json', import.meta.url);
const FILES = { mc: 'gpqa_gemma4-31b.final.xlsx', math: 'math500_qwen3.5-2b.final.xlsx' } as const;
const MIN_ROWS = 20;
const TOP_K = 200; // the open-weight runs' vocab_size
const COMMIT_AT = 400;
const PERSISTENT_RAMP = 0.6;
const WINDOWS = [...DEFAULT_WINDOWS];

type Table = { columns: string[]; rows: unknown[][] };

async function readTable(file: string): Promise<Table> {
  const path = `${RESULTS.replace(/\/?$/, '/')}${file}`;
  const bytes = readFileSync(path);
  const rows = file.endsWith('.csv')
    ? (parseCsv(bytes, { relax_column_count: true }) as unknown[][])
    : ((await readSheet(bytes)) as unknown[][]);
  return { columns: (rows[0] as unknown[]).map(String), rows: rows.slice(1) };
}

function column(t: Table, name: string): number[] {
  const i = t.columns.indexOf(name);
  if (i < 0) throw new Error(`column ${name} missing`);
  return t.rows.map((r) => (r[i] === null || r[i] === '' ? NaN : Number(r[i])));
}

const meanSd = (xs: number[]): { mean: number; sd: number } => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean: m, sd: Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length) };
};

interface ClassData {
  targets: ClassCurve['targets'];
  /** Per fitted segment: target mean per feature, SD per feature. */
  segTargets: { end: number; mean: Record<CalibratedFeature, number>; sd: Record<CalibratedFeature, number> }[];
  lengths: number[];
}

function classData(t: Table, correctValue: 0 | 1): ClassData {
  const correct = column(t, 'correct');
  const len = column(t, 'generated_len');
  const feats = Object.fromEntries(CALIBRATED_FEATURES.map((f) => [f, Object.fromEntries(WINDOWS.map((T) => [T, column(t, windowColumn(f, T))]))])) as Record<CalibratedFeature, Record<number, number[]>>;
  const inClass = (i: number): boolean => correct[i] === correctValue;
  const targets: Record<string, Record<string, unknown>> = {};
  const segTargets: ClassData['segTargets'] = [];
  for (let w = 0; w < WINDOWS.length; w++) {
    const T = WINDOWS[w]!;
    const rows = len.map((_, i) => i).filter((i) => inClass(i) && len[i]! >= T && CALIBRATED_FEATURES.every((f) => Number.isFinite(feats[f][T]![i]!)));
    if (rows.length < MIN_ROWS) break;
    const entry: Record<string, unknown> = { n: rows.length };
    const mean = {} as Record<CalibratedFeature, number>;
    const sd = {} as Record<CalibratedFeature, number>;
    for (const f of CALIBRATED_FEATURES) {
      const here = meanSd(rows.map((i) => feats[f][T]![i]!));
      entry[f] = here;
      sd[f] = here.sd;
      if (w === 0) mean[f] = here.mean;
      else {
        const P = WINDOWS[w - 1]!;
        const prev = meanSd(rows.map((i) => feats[f][P]![i]!)).mean;
        mean[f] = (T * here.mean - P * prev) / (T - P);
      }
    }
    targets[String(T)] = entry;
    segTargets.push({ end: T, mean, sd });
  }
  return { targets: targets as unknown as ClassCurve['targets'], segTargets, lengths: len.filter((_, i) => inClass(i) && Number.isFinite(len[i]!)) };
}

// --- lookup E[feature | ln tau] --------------------------------------------------------------------------------
const GRID = Array.from({ length: 64 }, (_, i) => -7.5 + 0.15 * i);
const lp = new Float64Array(SIM_VOCAB);
const scratch = new Float64Array(SIM_VOCAB);
const sig: TopKSignals = { entropy: 0, margin: 0, nucleusSize: 0, nearTie: 0, fork: 0 };
const draw = { chosenRank: 0, chosenLogprob: 0 };

/** Accumulates the six per-token values of one drawn token into acc[offset..offset+6). */
function tokenFeatures(tau: number, shape: TokenShape, rng: Rng, acc: Float64Array, offset: number): void {
  drawToken(tau, shape, rng, TOP_K, lp, draw);
  computeTopKSignals(lp, TOP_K, DEFAULT_SIGNAL_PARAMS, scratch, sig);
  acc[offset] += sig.entropy;
  acc[offset + 1] += -draw.chosenLogprob;
  acc[offset + 2] += sig.margin;
  acc[offset + 3] += sig.fork;
  acc[offset + 4] += sig.nearTie;
  acc[offset + 5] += sig.nucleusSize;
}

function lookup(shape: TokenShape, n = 1200): Float64Array {
  const table = new Float64Array(GRID.length * 6);
  const rng = new Rng(12345);
  for (let g = 0; g < GRID.length; g++) {
    const tau = Math.exp(GRID[g]!);
    for (let i = 0; i < n; i++) tokenFeatures(tau, shape, rng, table, g * 6);
    for (let f = 0; f < 6; f++) table[g * 6 + f]! /= n;
  }
  return table;
}

function predict(table: Float64Array, mu: number, sigma: number, out: Float64Array): void {
  out.fill(0);
  let wsum = 0;
  for (let g = 0; g < GRID.length; g++) {
    const z = (GRID[g]! - mu) / sigma;
    const w = Math.exp(-0.5 * z * z);
    wsum += w;
    for (let f = 0; f < 6; f++) out[f] += w * table[g * 6 + f]!;
  }
  for (let f = 0; f < 6; f++) out[f]! /= wsum;
}

function fitSegment(table: Float64Array, target: ClassData['segTargets'][number]): { mu: number; sigma: number; err: number } {
  const pred = new Float64Array(6);
  let best = { mu: 0, sigma: 1, err: Infinity };
  for (let mu = -7; mu <= 1; mu += 0.05) {
    for (let sigma = 0.15; sigma <= 2.5; sigma += 0.05) {
      predict(table, mu, sigma, pred);
      let err = 0;
      CALIBRATED_FEATURES.forEach((f, i) => { err += ((pred[i]! - target.mean[f]) / Math.max(target.sd[f], 1e-6)) ** 2; });
      if (err < best.err) best = { mu, sigma, err };
    }
  }
  return { mu: round(best.mu), sigma: round(best.sigma), err: best.err };
}

const round = (x: number, d = 4): number => Number(x.toFixed(d));

function quantiles(xs: number[]): number[] {
  const s = [...xs].sort((a, b) => a - b);
  return Array.from({ length: 21 }, (_, i) => {
    const pos = (i / 20) * (s.length - 1);
    const lo = Math.floor(pos);
    return Math.round(s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (pos - lo));
  });
}

/** Between-trace SD of simulated w128 / w512 means for a per-trace offset SD `rho`, against the targets. */
function traceSdError(segments: Segment[], shape: TokenShape, rho: number, data: ClassData): number {
  const rng = new Rng(777);
  const checkAt = data.segTargets.map((s) => s.end).filter((T) => T === 128 || T === 512);
  const per: Record<number, number[][]> = Object.fromEntries(checkAt.map((T) => [T, CALIBRATED_FEATURES.map(() => [])]));
  const acc = new Float64Array(6);
  const maxT = Math.max(...checkAt);
  for (let tr = 0; tr < 120; tr++) {
    acc.fill(0);
    const off = rho * rng.normal();
    let seg = 0;
    for (let t = 0; t < maxT; t++) {
      while (seg < segments.length - 1 && t >= segments[seg]!.end) seg++;
      const s = segments[seg]!;
      tokenFeatures(Math.exp(s.mu + off + s.sigma * rng.normal()), shape, rng, acc, 0);
      if (per[t + 1]) for (let f = 0; f < 6; f++) per[t + 1]![f]!.push(acc[f]! / (t + 1));
    }
  }
  let err = 0;
  for (const T of checkAt) {
    const tgt = data.targets[String(T)]!;
    CALIBRATED_FEATURES.forEach((f, i) => { err += Math.log(meanSd(per[T]![i]!).sd / tgt[f].sd) ** 2; });
  }
  return err;
}

async function fitProfile(file: string): Promise<{ profile: CalibrationProfile; report: string[] }> {
  const t = await readTable(file);
  const correct = column(t, 'correct');
  const data = { correct: classData(t, 1), failure: classData(t, 0) };
  const report: string[] = [];
  let best: { shape: TokenShape; fits: Record<'correct' | 'failure', { mu: number; sigma: number; err: number }[]>; err: number } | undefined;
  for (const tailShape of [0.25, 0.5, 1]) {
    for (const tailOffset of [4, 5, 6]) {
      for (const sampleTemperature of [0.6, 0.8, 1]) {
        const shape: TokenShape = { shape: tailShape, tailOffset, sampleTemperature };
        const table = lookup(shape);
        const fits = { correct: data.correct.segTargets.map((s) => fitSegment(table, s)), failure: data.failure.segTargets.map((s) => fitSegment(table, s)) };
        const err = [...fits.correct, ...fits.failure].reduce((a, f) => a + f.err, 0);
        report.push(`  shape ${tailShape} tailOffset ${tailOffset} sampleTemperature ${sampleTemperature}: total error ${err.toFixed(2)}`);
        if (!best || err < best.err) best = { shape, fits, err };
      }
    }
  }
  const curves = {} as Record<'correct' | 'failure', ClassCurve>;
  for (const cls of ['correct', 'failure'] as const) {
    const d = data[cls];
    // The fit gives the per-token spread of ln tau over all traces, sigma_tot; a per-trace offset of SD rho takes
    // its share (sigma² = sigma_tot² − rho²), so the pooled token distribution — and every window mean — is unchanged.
    const withRho = (rho: number): Segment[] => best!.fits[cls].map((f, i) => ({
      end: i === best!.fits[cls].length - 1 ? 1e9 : d.segTargets[i]!.end,
      mu: f.mu,
      sigma: round(Math.sqrt(Math.max(f.sigma ** 2 - rho ** 2, 0.01))),
    }));
    let bestRho = { rho: 0, err: Infinity };
    for (let rho = 0; rho <= 1.2001; rho += 0.1) {
      const err = traceSdError(withRho(rho), best!.shape, rho, d);
      if (err < bestRho.err) bestRho = { rho: round(rho, 2), err };
    }
    const segments = withRho(bestRho.rho);
    report.push(`  ${cls}: segments ${segments.map((s) => `<${s.end === 1e9 ? '∞' : s.end}: mu ${s.mu} sigma ${s.sigma}`).join(', ')}; trace SD ${bestRho.rho}`);
    curves[cls] = { segments, traceSd: bestRho.rho, lengthQuantiles: quantiles(d.lengths), targets: d.targets };
  }
  const nCorrect = correct.filter((c) => c === 1).length;
  const nLabelled = correct.filter((c) => c === 0 || c === 1).length;
  return {
    profile: { source: file, accuracy: round(nCorrect / nLabelled), shape: best!.shape, topK: TOP_K, correct: curves.correct, failure: curves.failure },
    report,
  };
}

/** Simulates traces of each kind with the simulator's TraceModel; returns per class and window the feature means. */
function simulateCheck(cal: Calibration, profile: CalibrationProfile, nTraces: number): Record<'correct' | 'failure' | SimKind, Record<number, number[]>> {
  const rng = new Rng(4242);
  const out = {} as Record<'correct' | 'failure' | SimKind, Record<number, number[]>>;
  const sums = {} as Record<string, Record<number, { acc: Float64Array; sq: Float64Array; n: number }>>;
  for (const k of [...SIM_KINDS, 'failure']) sums[k] = Object.fromEntries(WINDOWS.map((T) => [T, { acc: new Float64Array(6), sq: new Float64Array(6), n: 0 }]));
  const acc = new Float64Array(6);
  for (const kind of SIM_KINDS) {
    const curve = kind === 'correct' ? profile.correct : profile.failure;
    for (let tr = 0; tr < nTraces; tr++) {
      const length = sampleLength(curve, rng);
      const model = new TraceModel(cal, profile, kind, length, rng);
      acc.fill(0);
      const stop = Math.min(length, WINDOWS.at(-1)!);
      for (let t = 0; t < stop; t++) {
        tokenFeatures(model.tau(t, rng), profile.shape, rng, acc, 0);
        const T = t + 1;
        if (sums[kind]![T]) {
          for (const k of kind === 'correct' ? [kind] : [kind, 'failure']) {
            const s = sums[k]![T]!;
            for (let f = 0; f < 6; f++) {
              s.acc[f] += acc[f]! / T;
              s.sq[f] += (acc[f]! / T) ** 2;
            }
            s.n++;
          }
        }
      }
    }
  }
  for (const k of Object.keys(sums)) {
    // [6 means, n, 6 SDs]
    out[k as SimKind] = Object.fromEntries(WINDOWS.map((T) => {
      const s = sums[k]![T]!;
      const means = [...s.acc].map((x) => x / s.n);
      return [T, [...means, s.n, ...[...s.sq].map((x, f) => Math.sqrt(Math.max(x / s.n - means[f]! ** 2, 0)))]];
    }));
  }
  return out;
}

function checkTable(profile: CalibrationProfile, sim: ReturnType<typeof simulateCheck>): string {
  const lines = ['| class | T | n paper / sim | ' + CALIBRATED_FEATURES.map((f) => `${f} paper → sim`).join(' | ') + ' |', `|${'---|'.repeat(3 + CALIBRATED_FEATURES.length)}`];
  for (const cls of ['correct', 'failure'] as const) {
    for (const T of WINDOWS) {
      const tgt = profile[cls].targets[String(T)];
      if (!tgt) continue;
      const s = sim[cls][T]!;
      lines.push(`| ${cls} | ${T} | ${tgt.n} / ${s[6]} | ` + CALIBRATED_FEATURES.map((f, i) => `${tgt[f].mean.toFixed(3)} → ${s[i]!.toFixed(3)}`).join(' | ') + ' |');
    }
  }
  lines.push('', 'Between-trace SD of the window means, paper → simulated:', '', '| class | T | ' + CALIBRATED_FEATURES.join(' | ') + ' |', `|${'---|'.repeat(2 + CALIBRATED_FEATURES.length)}`);
  for (const cls of ['correct', 'failure'] as const) {
    for (const T of WINDOWS) {
      const tgt = profile[cls].targets[String(T)];
      if (!tgt) continue;
      lines.push(`| ${cls} | ${T} | ` + CALIBRATED_FEATURES.map((f, i) => `${tgt[f].sd.toFixed(3)} → ${sim[cls][T]![7 + i]!.toFixed(3)}`).join(' | ') + ' |');
    }
  }
  lines.push('', 'Simulated failure kinds separately (window means):', '', '| kind | T | ' + CALIBRATED_FEATURES.join(' | ') + ' |', `|${'---|'.repeat(2 + CALIBRATED_FEATURES.length)}`);
  for (const kind of ['committed', 'persistent'] as const) {
    for (const T of WINDOWS) lines.push(`| ${kind} | ${T} | ` + CALIBRATED_FEATURES.map((_, i) => sim[kind][T]![i]!.toFixed(3)).join(' | ') + ' |');
  }
  return lines.join('\n');
}

const started = Date.now();
const fitted = {} as Record<'mc' | 'math', CalibrationProfile>;
for (const key of ['mc', 'math'] as const) {
  console.log(`# profile ${key} ← ${FILES[key]}`);
  const { profile, report } = await fitProfile(FILES[key]);
  console.log(report.join('\n'));
  fitted[key] = profile;
}
const cal: Calibration = { version: 1, windows: WINDOWS, commitAt: COMMIT_AT, persistentRamp: PERSISTENT_RAMP, profiles: fitted };
writeFileSync(OUT, `${JSON.stringify(cal, null, 1)}\n`);
console.log(`wrote ${OUT.pathname} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
if (CHECK_TRACES > 0) {
  for (const key of ['mc', 'math'] as const) {
    console.log(`\n### ${key}: ${fitted[key].source} — target vs simulated window means (${CHECK_TRACES} simulated traces per kind, top-${TOP_K})\n`);
    console.log(checkTable(fitted[key], simulateCheck(cal, fitted[key], CHECK_TRACES)));
  }
}
