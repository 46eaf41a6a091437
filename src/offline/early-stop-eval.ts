/**
 * What early stopping would have saved on a results table, measured on out-of-fold scores (a row is never scored by a
 * classifier that saw it).
 *
 * Stop rule at window T and threshold θ: a sample is stopped at token T iff it is still running at T (its length > T —
 * a sample that ended by T cannot be stopped early) and its failure score ≥ θ. For each (T, θ):
 *
 *   stop share        = #stopped / n
 *   stop precision    = #stopped failures / #stopped            (NaN when nothing is stopped)
 *   failure recall    = #stopped failures / #failures           (NaN without failures)
 *   tokens saved      = Σ_{stopped} (full length − T) / Σ_{all} full length
 *
 * Scores: the paper's estimator on the 11 window features `{f}_w{T}` (cross-validated, out-of-fold), against a
 * one-feature DeepConf-style baseline — the raw mean NLL or mean entropy over the same window, higher = less confident —
 * thresholded at a percentile of its own distribution. Two summaries per curve: the best point with stop precision
 * ≥ the target over every threshold (chosen on the evaluated rows themselves: optimistic, equally for both methods),
 * and a cross-fitted point (threshold chosen on 4/5 of the rows, applied to the other 1/5, pooled) that is not.
 *
 * In prefinal mode (SPEC §3.4) the working frame is the rows with a final-answer line (prefinal length > 0), the
 * features are the prefinal window columns, a sample is stoppable at T iff its prefinal length > T (after the answer
 * line started there is nothing left to save), and tokens saved count the whole generation (`generated_len`).
 */
import { windowColumn } from '../features/columns.ts';
import { FailmodeError } from '../errors.ts';
import { detectWindows, windowColumns } from './analysis/column-sets.ts';
import { MIN_FAILURES } from './cv-lr.ts';
import type { LineChartSpec } from '../plots/line-chart.ts';
import type { Frame } from './frame.ts';
import { failureLabels } from './table/failure-labels.ts';
import { fullLengthColumn, isRunningAt, runningLengthColumn, runningRows } from './running-at.ts';

// ---------------------------------------------------------------------------------------------------------------
// Curve arithmetic (pure)

/** One operating point of a stop rule. */
export interface StopPoint {
  /** Stop iff stoppable and score ≥ threshold (+∞: nothing stopped). */
  readonly threshold: number;
  readonly stopped: number;
  readonly stoppedFailures: number;
  readonly stopShare: number;
  readonly precision: number;
  readonly recall: number;
  /** Σ (full length − T) over stopped samples, in tokens. */
  readonly tokensSaved: number;
  readonly tokensSavedShare: number;
}

/** The input of one window's stop curve: per row its score, label (1 = failure) and lengths. */
export interface StopRows {
  readonly scores: ArrayLike<number>;
  readonly y: ArrayLike<number>;
  /** Length that decides whether a row is still running at T (prefinal length in prefinal mode). */
  readonly stopLen: ArrayLike<number>;
  /** Tokens the full generation took (what stopping saves from). */
  readonly fullLen: ArrayLike<number>;
}

export interface StopCurve {
  readonly T: number;
  readonly n: number;
  readonly failures: number;
  /** Rows still running at T with a finite score. */
  readonly stoppable: number;
  readonly totalTokens: number;
  /** One point per distinct score among stoppable rows (ties form one threshold), decreasing threshold. */
  readonly points: readonly StopPoint[];
}

/**
 * Every operating point of the stop rule at window T. Scores are sorted descending with ties grouped (sklearn's rule),
 * counts come from running sums, so the curve costs one sort.
 *
 * ## Example
 * scores [0.9, 0.8, 0.8, 0.1], y [1, 0, 1, 0], stopLen = fullLen = [500, 300, 1000, 1000], T = 400:
 * row 1 (length 300) cannot be stopped; θ = 0.9 stops row 0 (saves 100 of 2800 tokens, precision 1, recall 1/2);
 * θ = 0.8 also row 2 (saves 700, precision 1, recall 1); θ = 0.1 also row 3 (saves 1300, precision 2/3).
 */
export function stopCurve(rows: StopRows, T: number): StopCurve {
  const { scores, y, stopLen, fullLen } = rows;
  const n = scores.length;
  if (y.length !== n || stopLen.length !== n || fullLen.length !== n) {
    throw new RangeError(`Expected scores, y, stopLen and fullLen of equal length, got ${n}, ${y.length}, ${stopLen.length}, ${fullLen.length}`);
  }
  let failures = 0;
  let totalTokens = 0;
  const idx: number[] = [];
  for (let i = 0; i < n; i++) {
    failures += y[i]! ? 1 : 0;
    const len = fullLen[i]!;
    if (Number.isFinite(len)) totalTokens += len;
    if (isStoppable(scores[i]!, stopLen[i]!, T)) idx.push(i);
  }
  idx.sort((a, b) => scores[b]! - scores[a]! || a - b);
  const points: StopPoint[] = [];
  let stopped = 0;
  let stoppedFailures = 0;
  let saved = 0;
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!;
    stopped++;
    stoppedFailures += y[i]! ? 1 : 0;
    saved += savedTokens(fullLen[i]!, T);
    const next = idx[k + 1];
    if (next !== undefined && scores[next] === scores[i]) continue; // a tie: one threshold for the whole group
    points.push(makePoint(scores[i]!, stopped, stoppedFailures, saved, n, failures, totalTokens));
  }
  return { T, n, failures, stoppable: idx.length, totalTokens, points };
}

/** The operating point of one threshold (stop iff stoppable and score ≥ threshold). */
export function stopAt(rows: StopRows, T: number, threshold: number): StopPoint {
  const { scores, y, stopLen, fullLen } = rows;
  let failures = 0;
  let totalTokens = 0;
  let stopped = 0;
  let stoppedFailures = 0;
  let saved = 0;
  for (let i = 0; i < scores.length; i++) {
    failures += y[i]! ? 1 : 0;
    if (Number.isFinite(fullLen[i]!)) totalTokens += fullLen[i]!;
    if (isStoppable(scores[i]!, stopLen[i]!, T) && scores[i]! >= threshold) {
      stopped++;
      stoppedFailures += y[i]! ? 1 : 0;
      saved += savedTokens(fullLen[i]!, T);
    }
  }
  return makePoint(threshold, stopped, stoppedFailures, saved, scores.length, failures, totalTokens);
}

/** The point with the most tokens saved among those with precision ≥ `minPrecision` (ties: the higher threshold); null if none. */
export function bestAtPrecision(points: readonly StopPoint[], minPrecision: number): StopPoint | null {
  let best: StopPoint | null = null;
  for (const p of points) {
    if (!(p.precision >= minPrecision)) continue;
    if (best === null || p.tokensSaved > best.tokensSaved) best = p;
  }
  return best;
}

/**
 * Cross-fitted operating point: rows are split into `k` folds (stratified by label, round-robin in row order — no
 * randomness); for each fold the threshold is the {@link bestAtPrecision} threshold of the other folds' rows (nothing
 * is stopped in the fold when they never reach the target), applied to the fold's rows; counts are pooled.
 * The realised precision can fall below the target — that is the point of measuring it.
 */
export function crossFittedAtPrecision(rows: StopRows, T: number, minPrecision: number, k = 5): StopPoint {
  const n = rows.scores.length;
  const fold = new Uint8Array(n);
  const seen = [0, 0];
  for (let i = 0; i < n; i++) {
    const c = rows.y[i]! ? 1 : 0;
    fold[i] = seen[c]! % k;
    seen[c]!++;
  }
  let stopped = 0;
  let stoppedFailures = 0;
  let saved = 0;
  for (let f = 0; f < k; f++) {
    const train = subset(rows, (i) => fold[i] !== f);
    const test = subset(rows, (i) => fold[i] === f);
    const best = bestAtPrecision(stopCurve(train, T).points, minPrecision);
    const p = stopAt(test, T, best === null ? Infinity : best.threshold);
    stopped += p.stopped;
    stoppedFailures += p.stoppedFailures;
    saved += p.tokensSaved;
  }
  return makePoint(NaN, stopped, stoppedFailures, saved, n, countFailures(rows.y), sumFinite(rows.fullLen));
}

/** numpy's default (linear) percentile of the finite values; NaN when there are none. */
export function percentile(values: ArrayLike<number>, q: number): number {
  const xs: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]!)) xs.push(values[i]!);
  if (xs.length === 0) return NaN;
  xs.sort((a, b) => a - b);
  const h = (xs.length - 1) * (q / 100);
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, xs.length - 1);
  return xs[lo]! + (h - lo) * (xs[hi]! - xs[lo]!);
}

function isStoppable(score: number, stopLen: number, T: number): boolean {
  return Number.isFinite(score) && isRunningAt(stopLen, T);
}

function savedTokens(fullLen: number, T: number): number {
  return Number.isFinite(fullLen) ? Math.max(0, fullLen - T) : 0;
}

function makePoint(threshold: number, stopped: number, stoppedFailures: number, saved: number, n: number, failures: number, totalTokens: number): StopPoint {
  return {
    threshold,
    stopped,
    stoppedFailures,
    stopShare: n > 0 ? stopped / n : NaN,
    precision: stopped > 0 ? stoppedFailures / stopped : NaN,
    recall: failures > 0 ? stoppedFailures / failures : NaN,
    tokensSaved: saved,
    tokensSavedShare: totalTokens > 0 ? saved / totalTokens : NaN,
  };
}

function subset(rows: StopRows, keep: (i: number) => boolean): StopRows {
  const scores: number[] = [];
  const y: number[] = [];
  const stopLen: number[] = [];
  const fullLen: number[] = [];
  for (let i = 0; i < rows.scores.length; i++) {
    if (!keep(i)) continue;
    scores.push(rows.scores[i]!);
    y.push(rows.y[i]!);
    stopLen.push(rows.stopLen[i]!);
    fullLen.push(rows.fullLen[i]!);
  }
  return { scores, y, stopLen, fullLen };
}

function countFailures(y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i]! ? 1 : 0;
  return s;
}

function sumFinite(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i]!)) s += xs[i]!;
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluation of a results table

/** The DeepConf-style one-feature baselines: the raw window mean, higher = less confident = stop. */
export const BASELINE_FEATURES = ['nll_mean', 'entropy_mean'] as const;
export type BaselineFeature = (typeof BASELINE_FEATURES)[number];

/** Out-of-fold scorer: the paper's CV logistic regression (injected so tests can pass a fake). */
export type OofScorer = (columns: Float64Array[], y: Uint8Array) => { readonly rowScores: ArrayLike<number>; readonly rows: ArrayLike<number> } | null;

export interface EarlyStopEvalOptions {
  /** The paper's `--prefinal` working frame (SPEC §3.4). Default false. */
  readonly prefinal?: boolean;
  /** Windows T; default every window the table has columns for. */
  readonly windows?: readonly number[];
  /** Target stop precision of the summary points. Default 0.9. */
  readonly minPrecision?: number;
  /** Percentiles of each method's own score at which the table lists a point. Default 50 70 80 90 95 99. */
  readonly percentiles?: readonly number[];
  /** Most curve points kept per method in the result (for the plot). Default 200. */
  readonly maxCurvePoints?: number;
  /**
   * Rows the window-T classifier is cross-validated on. `all` (default): every row, as the paper and `failmode train`
   * do (a row shorter than T contributes its whole-trace features). `running`: only rows still running at T — the
   * population the live stop rule scores — so the fit and its scores match the rule.
   */
  readonly fitOn?: 'all' | 'running';
}

export interface MethodResult {
  /** `classifier` or the baseline's feature name (`nll_mean`, `entropy_mean`). */
  readonly method: string;
  readonly best: StopPoint | null;
  readonly crossFitted: StopPoint;
  readonly percentiles: ReadonlyArray<{ readonly q: number; readonly point: StopPoint }>;
  /** Thinned curve, decreasing threshold. */
  readonly curve: readonly StopPoint[];
}

export interface WindowStopResult {
  readonly T: number;
  /** Rows with an out-of-fold score (every method is evaluated on these). */
  readonly n: number;
  readonly failures: number;
  readonly stoppable: number;
  readonly totalTokens: number;
  readonly methods: readonly MethodResult[];
}

export interface EarlyStopEvalResult {
  readonly schema: 'failmode-early-stop-eval';
  readonly version: 1;
  readonly file: string;
  readonly prefinal: { readonly requested: boolean; readonly active: boolean; readonly fallback: null | 'no-length-column' | 'few-failures' };
  /** Rows of the working frame and its failures. */
  readonly n: number;
  readonly failures: number;
  readonly excludedMissingCorrect: number;
  readonly lengthColumn: string;
  readonly stopLengthColumn: string;
  readonly minPrecision: number;
  readonly fitOn: 'all' | 'running';
  readonly windows: readonly WindowStopResult[];
}

const DEFAULT_PERCENTILES = [50, 70, 80, 90, 95, 99];

/**
 * Runs the early-stopping evaluation of one results table. Every method of a window is evaluated on the same rows:
 * those the classifier could score out of fold.
 */
export function earlyStopEval(input: Frame, scorer: OofScorer, opts: EarlyStopEvalOptions = {}): EarlyStopEvalResult {
  const minPrecision = opts.minPrecision ?? 0.9;
  if (!(minPrecision > 0 && minPrecision <= 1)) throw new RangeError(`Expected minPrecision in (0, 1], got ${minPrecision}`);
  const percentiles = opts.percentiles ?? DEFAULT_PERCENTILES;
  const maxCurvePoints = opts.maxCurvePoints ?? 200;
  const fitOn = opts.fitOn ?? 'all';
  const labelled = failureLabels(input);
  let frame = labelled.frame;
  let y = labelled.y;

  const lengthColumn = fullLengthColumn(frame);
  if (!lengthColumn) throw new FailmodeError(`${input.source} has neither \`generated_len\` nor \`full_len\`: the tokens a generation took are needed to count tokens saved`);

  let prefinal = false;
  let stopLengthColumn = lengthColumn;
  let fallback: EarlyStopEvalResult['prefinal']['fallback'] = null;
  if (opts.prefinal) {
    const plen = runningLengthColumn(frame, true);
    if (!plen) fallback = 'no-length-column';
    else {
      const len = frame.numeric(plen)!;
      const keep: number[] = [];
      let nf = 0;
      for (let i = 0; i < frame.nRows; i++) if (len[i]! > 0) { keep.push(i); nf += y[i]!; }
      if (nf < MIN_FAILURES) fallback = 'few-failures';
      else {
        frame = frame.selectRows(keep);
        y = Uint8Array.from(keep, (i) => y[i]!);
        prefinal = true;
        stopLengthColumn = plen;
      }
    }
  }
  const fullLen = frame.numeric(lengthColumn)!;
  const stopLen = frame.numeric(stopLengthColumn)!;

  const windows = opts.windows ?? detectWindows(frame);
  const results: WindowStopResult[] = [];
  for (const T of windows) {
    const names = windowColumns(frame, T, prefinal);
    if (names.length === 0) continue;
    const scored = scoreWindow(names.map((c) => frame.numeric(c)!), y, stopLen, T, fitOn, scorer);
    if (scored === null) continue;
    const { rowIdx, classifierScores } = scored;
    const rows = (scores: ArrayLike<number>): StopRows => ({
      scores,
      y: rowIdx.map((i) => y[i]!),
      stopLen: rowIdx.map((i) => stopLen[i]!),
      fullLen: rowIdx.map((i) => fullLen[i]!),
    });
    const oof = { rowScores: classifierScores };
    const methods: MethodResult[] = [evaluateMethod('classifier', rows(oof.rowScores), T, minPrecision, percentiles, maxCurvePoints)];
    for (const f of BASELINE_FEATURES) {
      const col = frame.numeric(windowColumn(f, T, prefinal ? '_prefinal' : ''));
      if (!col) continue;
      methods.push(evaluateMethod(f, rows(rowIdx.map((i) => col[i]!)), T, minPrecision, percentiles, maxCurvePoints));
    }
    const curve = stopCurve(rows(oof.rowScores), T);
    results.push({ T, n: curve.n, failures: curve.failures, stoppable: curve.stoppable, totalTokens: curve.totalTokens, methods });
  }
  let failures = 0;
  for (let i = 0; i < y.length; i++) failures += y[i]!;
  return {
    schema: 'failmode-early-stop-eval',
    version: 1,
    file: input.source,
    prefinal: { requested: !!opts.prefinal, active: prefinal, fallback },
    n: frame.nRows,
    failures,
    excludedMissingCorrect: labelled.excluded,
    lengthColumn,
    stopLengthColumn,
    minPrecision,
    fitOn,
    windows: results,
  };
}

/**
 * Out-of-fold classifier scores for one window and the rows every method is evaluated on: with `all`, the rows the CV
 * scored; with `running`, every row (rows done by T cannot be stopped anyway: NaN score) except running rows the CV
 * could not score.
 */
function scoreWindow(columns: Float64Array[], y: Uint8Array, stopLen: Float64Array, T: number, fitOn: 'all' | 'running', scorer: OofScorer): { rowIdx: number[]; classifierScores: number[] } | null {
  if (fitOn === 'all') {
    const oof = scorer(columns, y);
    if (oof === null || oof.rows.length === 0) return null;
    return { rowIdx: Array.from(oof.rows), classifierScores: Array.from(oof.rowScores) };
  }
  const running = runningRows(stopLen, T);
  const oof = scorer(columns.map((c) => Float64Array.from(running, (i) => c[i]!)), Uint8Array.from(running, (i) => y[i]!));
  if (oof === null || oof.rows.length === 0) return null;
  const score = new Map<number, number>();
  for (let k = 0; k < oof.rows.length; k++) score.set(running[oof.rows[k]!]!, oof.rowScores[k]!);
  const rowIdx: number[] = [];
  const classifierScores: number[] = [];
  for (let i = 0; i < y.length; i++) {
    const runningRow = isRunningAt(stopLen[i]!, T);
    if (runningRow && !score.has(i)) continue;
    rowIdx.push(i);
    classifierScores.push(runningRow ? score.get(i)! : NaN);
  }
  return { rowIdx, classifierScores };
}

function evaluateMethod(method: string, rows: StopRows, T: number, minPrecision: number, percentiles: readonly number[], maxCurvePoints: number): MethodResult {
  const curve = stopCurve(rows, T);
  return {
    method,
    best: bestAtPrecision(curve.points, minPrecision),
    crossFitted: crossFittedAtPrecision(rows, T, minPrecision),
    percentiles: percentiles.map((q) => ({ q, point: stopAt(rows, T, percentile(rows.scores, q)) })),
    curve: thin(curve.points, maxCurvePoints),
  };
}

/** Keeps at most `max` points, evenly spaced by index, always the first and last. */
function thin<T>(xs: readonly T[], max: number): T[] {
  if (xs.length <= max) return [...xs];
  const out: T[] = [];
  for (let k = 0; k < max; k++) out.push(xs[Math.round((k * (xs.length - 1)) / (max - 1))]!);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Reports

const pct = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(1)}%`);
const num = (x: number, d = 3): string => (Number.isFinite(x) ? x.toFixed(d) : '—');

/** The best method-independent summary of one window: the operating point (or null) of each method. */
export function methodPoint(w: WindowStopResult, method: string, which: 'best' | 'crossFitted'): StopPoint | null {
  const m = w.methods.find((x) => x.method === method);
  return m ? m[which] : null;
}

/** Markdown report of one table's evaluation. */
export function earlyStopMarkdown(r: EarlyStopEvalResult, title = r.file): string {
  const P = r.minPrecision.toFixed(2);
  const lines: string[] = [];
  lines.push(`# Early stopping — ${title}`, '');
  lines.push(`File \`${r.file}\`; ${r.prefinal.active ? 'prefinal working frame (rows with a final-answer line; prefinal window features)' : `regular features${r.prefinal.fallback ? ` (prefinal requested, fell back: ${r.prefinal.fallback})` : ''}`}; n = ${r.n}, failures = ${r.failures} (${pct(r.failures / r.n)})${r.excludedMissingCorrect ? `; ${r.excludedMissingCorrect} rows without a label left out` : ''}.`);
  lines.push(`A sample is stopped at token T when its out-of-fold failure score ≥ θ and it is still running (\`${r.stopLengthColumn}\` > T). Tokens saved = Σ over stopped samples of (\`${r.lengthColumn}\` − T) / Σ \`${r.lengthColumn}\` over all samples. Baselines (DeepConf-style): the raw window mean NLL / mean entropy as the score.`, '');
  lines.push(`## Most tokens saved at stop precision ≥ ${P}`, '');
  lines.push('Threshold chosen on the evaluated rows (optimistic, equally for every method) / cross-fitted (threshold from the other 4 folds, realised precision shown).', '');
  lines.push('| T | method | θ | stopped | precision | recall | tokens saved | cross-fitted: stopped | precision | tokens saved |');
  lines.push('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const w of r.windows) {
    for (const m of w.methods) {
      const b = m.best;
      const c = m.crossFitted;
      lines.push(`| ${w.T} | ${m.method} | ${b ? num(b.threshold) : '—'} | ${b ? pct(b.stopShare) : 'not reached'} | ${b ? pct(b.precision) : '—'} | ${b ? pct(b.recall) : '—'} | ${b ? pct(b.tokensSavedShare) : '0.0%'} | ${pct(c.stopShare)} | ${pct(c.precision)} | ${pct(c.tokensSavedShare)} |`);
    }
  }
  lines.push('', '## By percentile of each method\'s own score (stop the top 100 − q %)', '');
  lines.push('| T | method | q | θ | stopped | precision | recall | tokens saved |');
  lines.push('|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const w of r.windows) {
    for (const m of w.methods) {
      for (const { q, point } of m.percentiles) {
        lines.push(`| ${w.T} | ${m.method} | ${q} | ${num(point.threshold)} | ${pct(point.stopShare)} | ${pct(point.precision)} | ${pct(point.recall)} | ${pct(point.tokensSavedShare)} |`);
      }
    }
  }
  lines.push('', `Rows per window: ${r.windows.map((w) => `T=${w.T}: ${w.n} scored, ${w.stoppable} still running at T`).join('; ')}.`, '');
  return lines.join('\n');
}

/** The plot: tokens saved at stop precision ≥ target by window, per method (solid: best point; dashed: cross-fitted). */
export function earlyStopChartSpec(r: EarlyStopEvalResult, title?: string): LineChartSpec {
  const colors: Record<string, string> = { classifier: '#2166AC', nll_mean: '#D6604D', entropy_mean: '#4D9221' };
  const label: Record<string, string> = { classifier: 'Classifier (OOF)', nll_mean: 'Mean NLL', entropy_mean: 'Mean entropy' };
  const methods = [...new Set(r.windows.flatMap((w) => w.methods.map((m) => m.method)))];
  const series = methods.flatMap((m) => [
    { label: `${label[m] ?? m}`, color: colors[m] ?? '#333333', markers: 'hollow' as const, strokeWidth: 1.6,
      points: r.windows.map((w) => ({ x: w.T, y: w.methods.find((x) => x.method === m)?.best?.tokensSavedShare ?? 0 })) },
    { color: colors[m] ?? '#333333', dash: [4, 3], strokeWidth: 1,
      points: r.windows.map((w) => ({ x: w.T, y: w.methods.find((x) => x.method === m)?.crossFitted.tokensSavedShare ?? null })) },
  ]);
  const ys = series.flatMap((s) => s.points.map((p) => p.y)).filter((y): y is number => y !== null && Number.isFinite(y));
  const top = Math.max(0.05, ...ys);
  return {
    ...(title ? { title: `${title} (dashed: cross-fitted)` } : {}),
    x: { label: 'Early-window size T (tokens)', scale: 'log', ticks: r.windows.map((w) => w.T), format: 'd' },
    y: { label: `Tokens saved (precision ≥ ${r.minPrecision})`, domain: [0, Math.min(1, top * 1.15)], format: '.0%' },
    series,
    legend: 'upper-left',
  };
}

/** The window and point with the most tokens saved at precision ≥ target for one method (null when never reached). */
export function bestWindow(r: EarlyStopEvalResult, methods: readonly string[]): { T: number; method: string; point: StopPoint; crossFitted: StopPoint } | null {
  let best: { T: number; method: string; point: StopPoint; crossFitted: StopPoint } | null = null;
  for (const w of r.windows) {
    for (const m of w.methods) {
      if (!methods.includes(m.method) || m.best === null) continue;
      if (best === null || m.best.tokensSaved / w.totalTokens > best.point.tokensSavedShare) best = { T: w.T, method: m.method, point: m.best, crossFitted: m.crossFitted };
    }
  }
  return best;
}

/** summary.md of `--all`: per table, tokens saved at stop precision ≥ target — the classifier (fitted on all rows, and
 * on the rows still running at T) vs the best DeepConf-style baseline. */
export function summaryMarkdown(rows: ReadonlyArray<{ readonly table: string; readonly result: EarlyStopEvalResult; readonly running?: EarlyStopEvalResult }>, minPrecision: number): string {
  const P = minPrecision.toFixed(2);
  const lines = [
    `# Early stopping on the paper's tables — tokens saved at stop precision ≥ ${P}`,
    '',
    'Out-of-fold scores (5-fold CV of the paper\'s logistic regression on the window features, one window T per rule).',
    `Each cell: tokens saved by the best rule, "@T" its window, then the cross-fitted figure with its realised precision.`,
    `"best": the threshold with the most tokens saved among those reaching precision ≥ ${P} on the evaluated rows, and the`,
    'window T that maximises it (optimistic: both chosen on the same rows, equally for every method). "cross-fitted": at',
    'that T, the threshold chosen on the other 4 folds and applied to the held-out fold (its precision can fall below the',
    'target). Classifier (all rows): fitted on every row as the paper and `failmode train` do. Classifier (running):',
    'window T fitted only on the rows still running at T, the population the live rule scores. Baseline: the better of',
    'the DeepConf-style one-feature rules (window mean NLL, window mean entropy; no fitting).',
    '',
    '| table | mode | n | failures | classifier (all rows) | cross-fitted | classifier (running) | cross-fitted | baseline | cross-fitted |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const sums = { all: 0, running: 0, base: 0 };
  const wins = { all: 0, running: 0, base: 0 };
  for (const { table, result: r, running } of rows) {
    const ours = bestWindow(r, ['classifier']);
    const run = running ? bestWindow(running, ['classifier']) : null;
    const base = bestWindow(r, BASELINE_FEATURES);
    const vals = { all: ours?.point.tokensSavedShare ?? 0, running: run?.point.tokensSavedShare ?? 0, base: base?.point.tokensSavedShare ?? 0 };
    for (const k of ['all', 'running', 'base'] as const) sums[k] += vals[k];
    const top = Math.max(vals.all, vals.running, vals.base);
    if (top > 0) for (const k of ['all', 'running', 'base'] as const) if (vals[k] === top) wins[k]++;
    const cell = (x: { T: number; method: string; point: StopPoint } | null, withMethod = false) => (x ? `${pct(x.point.tokensSavedShare)} @${withMethod ? `${x.method}@` : ''}${x.T}` : 'not reached');
    const cf = (x: { crossFitted: StopPoint } | null) => (x ? `${pct(x.crossFitted.tokensSavedShare)} (${pct(x.crossFitted.precision)})` : '—');
    const mode = r.prefinal.active ? 'prefinal' : r.prefinal.requested ? `regular (prefinal fell back: ${r.prefinal.fallback})` : 'regular';
    lines.push(`| ${table} | ${mode} | ${r.n} | ${pct(r.failures / r.n)} | ${cell(ours)} | ${cf(ours)} | ${running ? cell(run) : '—'} | ${running ? cf(run) : '—'} | ${cell(base, true)} | ${cf(base)} |`);
  }
  const k = rows.length || 1;
  lines.push('', `Tables: ${rows.length}. Mean tokens saved (best points): classifier (all rows) ${pct(sums.all / k)}, classifier (running) ${pct(sums.running / k)}, baseline ${pct(sums.base / k)}. Most tokens saved (ties counted for each): classifier (all rows) on ${wins.all}, classifier (running) on ${wins.running}, baseline on ${wins.base} tables.`, '');
  return lines.join('\n');
}
