/**
 * What a risk-controlled early-stop rule saves on a results table, measured cross-fitted (a held-out row never
 * influences the model, the model choice or the thresholds it is stopped by).
 *
 * The rule (src/offline/stop-outcome.ts): stop a sample at the first early window T where it is still running and its
 * risk ≥ θ_T. Its cost is the false-kill rate (correct samples stopped / correct samples); its value the share of all
 * tokens saved, also stated as a share of the oracle's (every failure stopped at its first running window).
 *
 * Cross-fitting (nested CV), per α:
 *   outer 5-fold stratified split (seed 42); for each outer fold, on the OTHER folds only:
 *     1. every candidate model (learned: the per-window classifiers and the hazard model, src/models/stop-models.ts;
 *        baseline: the raw window mean NLL and mean entropy, DeepConf-style, no fitting) gets inner 5-fold
 *        out-of-fold risks;
 *     2. the thresholds of all windows are calibrated together on those risks (`calibrate`: false-kill ≤ α with
 *        probability ≥ 1 − δ, src/models/risk-control.ts);
 *     3. the learned candidate and the baseline feature that save the most tokens on the training folds are chosen;
 *   the chosen model, refitted on the training folds, scores the held-out fold and its thresholds stop it.
 *   Counts are pooled over the held-out folds.
 *
 * Transfer (leave one table out): the same with tables in place of folds — the model, its choice and its thresholds
 * come from the other tables (inner folds = groups of tables), then stop the held-out table.
 */
import { BASE_FEATURES } from '../features/columns.ts';
import { FailmodeError } from '../errors.ts';
import type { StopData, WindowRisks } from '../models/stop-data.ts';
import { runningAt, stopDataRows } from '../models/stop-data.ts';
import { fitStopModel, stopModelRisks, STOP_MODEL_KINDS, type FittedStopModel, type StopModelKind } from '../models/stop-models.ts';
import { detectWindows, windowColumns } from './analysis/column-sets.ts';
import { prefinalWorkingFrame } from './analysis/prefinal-working-frame.ts';
import { groupKFold, stratifiedKFold } from './folds.ts';
import type { Frame } from './frame.ts';
import { fullLengthColumn, runningLengthColumn } from './running-at.ts';
import { addCounts, allRows, applyStopRule, oracleCounts, stopRates, ZERO_COUNTS, type StopCounts, type StopRates } from './stop-outcome.ts';
import { failureLabels } from './table/failure-labels.ts';
import { assertFiniteFeatures } from './table/finite-features.ts';
import { supportShortfall, usableFeatureCount, type InsufficientData } from './support-rule.ts';
import { calibrateStopRule, riskRowsFromColumns } from '../models/risk-control.ts';

/**
 * Thresholds for every window at once from calibration risks (risks[w][k], NaN = not running) and labels (1 = failure)
 * so that the whole rule's false-kill rate is ≤ alpha with probability ≥ 1 − delta. +∞ = never stop at that window.
 * Injected so the arithmetic can be tested against a stand-in.
 */
export type StopCalibrator = (risks: WindowRisks, y: ArrayLike<number>, alpha: number, delta: number) => ArrayLike<number>;

/** The DeepConf-style one-feature baselines: the raw window mean, higher = less confident = stop. */
export const BASELINE_FEATURES = ['nll_mean', 'entropy_mean'] as const;
export type BaselineFeature = (typeof BASELINE_FEATURES)[number];
export type Candidate = StopModelKind | BaselineFeature;

export const DEFAULT_ALPHAS = [0.02, 0.05, 0.1] as const;

export interface CrossFitOptions {
  readonly alphas?: readonly number[];
  /** 1 − confidence of the risk control (default 0.1). */
  readonly delta?: number;
  readonly calibrate: StopCalibrator;
  /** Learned candidates the nested CV chooses among (default both kinds). */
  readonly learned?: readonly StopModelKind[];
  readonly outerFolds?: number;
  readonly innerFolds?: number;
  readonly seed?: number;
  /** Outer fold id per row (0…outerFolds−1) instead of the stratified split — for tests that hold the split fixed. */
  readonly folds?: Int32Array;
}

/** One method's pooled held-out outcome at one α. */
export interface MethodOutcome {
  readonly counts: StopCounts;
  readonly rates: StopRates;
  /** Candidate chosen in each outer fold (null: the fold's training part could not be fitted). */
  readonly chosen: ReadonlyArray<Candidate | null>;
}

export interface AlphaOutcome {
  readonly alpha: number;
  readonly learned: MethodOutcome;
  readonly baseline: MethodOutcome;
}

/** The table-level facts of one evaluated table. */
export interface TableStopData {
  readonly data: StopData;
  readonly prefinal: { readonly requested: boolean; readonly active: boolean; readonly fallback: string | null };
  readonly lengthColumn: string;
  readonly stopLengthColumn: string;
  readonly excludedMissingCorrect: number;
}

/**
 * The stop data of a results table in the analysis's working frame (SPEC §3.4: with prefinal, the prefinal-valid rows
 * and prefinal window features; the stop length is then the prefinal length), the paper's 11 base features per window.
 */
export function tableStopData(input: Frame, opts: { prefinal?: boolean; windows?: readonly number[] } = {}): TableStopData {
  assertFiniteFeatures(input);
  const labelled = failureLabels(input);
  const work = prefinalWorkingFrame(labelled.frame, labelled.y, opts.prefinal === true);
  const frame = work.frame;
  const active = work.prefinal?.active === true;
  const lengthColumn = fullLengthColumn(frame);
  if (!lengthColumn) throw new FailmodeError(`${input.source} has neither \`generated_len\` nor \`full_len\`: the tokens a generation took are needed to count tokens saved`);
  const stopLengthColumn = runningLengthColumn(frame, active)!;
  const data = stopDataOfWorkingFrame(frame, work.y, frame.numeric(stopLengthColumn)!, frame.numeric(lengthColumn)!, opts.windows);
  return {
    data,
    prefinal: { requested: opts.prefinal === true, active, fallback: work.prefinal?.fallback ?? null },
    lengthColumn, stopLengthColumn, excludedMissingCorrect: labelled.excluded,
  };
}

/**
 * Stop data of an analysis working frame (prefinal columns already under their primary names): the 11 base features
 * `{f}_w{T}` of each window that has any (a missing column is all NaN). Throws when no window has feature columns.
 */
export function stopDataOfWorkingFrame(frame: Frame, y: Uint8Array, stopLen: ArrayLike<number>, fullLen: ArrayLike<number>, windowsWanted?: readonly number[]): StopData {
  const windows = (windowsWanted ?? detectWindows(frame)).filter((T) => windowColumns(frame, T).length > 0);
  if (windows.length === 0) throw new FailmodeError(`${frame.source}: no window feature columns (expected e.g. \`entropy_mean_w128\`)`);
  const n = frame.nRows;
  const p = BASE_FEATURES.length;
  const features = windows.map((T) => {
    const X = new Float64Array(n * p).fill(NaN);
    BASE_FEATURES.forEach((f, j) => {
      const col = frame.numeric(`${f}_w${T}`);
      if (col) for (let i = 0; i < n; i++) X[i * p + j] = col[i]!;
    });
    return X;
  });
  const data: StopData = { windows, featureNames: BASE_FEATURES, features, y, stopLen: Float64Array.from(stopLen), fullLen: Float64Array.from(fullLen) };
  stopDataRows(data);
  return data;
}

/** Risks of the baseline: the raw window feature for running rows, NaN otherwise. */
export function baselineRisks(data: StopData, rows: ArrayLike<number>, feature: BaselineFeature): WindowRisks {
  const j = data.featureNames.indexOf(feature);
  if (j < 0) throw new RangeError(`baselineRisks: no feature ${feature}`);
  const p = data.featureNames.length;
  return data.windows.map((T, w) => {
    const out = new Float64Array(rows.length).fill(NaN);
    for (let k = 0; k < rows.length; k++) {
      const i = rows[k]!;
      if (runningAt(data, i, T)) out[k] = data.features[w]![i * p + j]!;
    }
    return out;
  });
}

/**
 * Out-of-fold risks of `rows` under `kind`, folds given per row of `rows` (fold ids 0…k−1): each fold scored by the
 * model fitted on the other folds (NaN where that fit was impossible).
 */
export function outOfFoldRisks(kind: StopModelKind, data: StopData, rows: ArrayLike<number>, fold: ArrayLike<number>, k: number): WindowRisks {
  const out = data.windows.map(() => new Float64Array(rows.length).fill(NaN));
  for (let f = 0; f < k; f++) {
    const tr: number[] = [];
    const vaPos: number[] = [];
    for (let r = 0; r < rows.length; r++) (fold[r] === f ? vaPos : tr).push(r);
    if (vaPos.length === 0) continue;
    const model = fitStopModel(kind, data, tr.map((r) => rows[r]!));
    if (!model) continue;
    const risks = stopModelRisks(model, data, vaPos.map((r) => rows[r]!));
    risks.forEach((col, w) => vaPos.forEach((r, v) => { out[w]![r] = col[v]!; }));
  }
  return out;
}

interface Calibrated {
  readonly thresholds: ArrayLike<number>;
  /** Tokens the thresholds save on the calibration rows (the selection criterion). */
  readonly savedOnCalibration: number;
}

function calibrateOn(data: StopData, rows: ArrayLike<number>, risks: WindowRisks, calibrate: StopCalibrator, alpha: number, delta: number): Calibrated {
  const y = Array.from(rows, (i) => data.y[i]!);
  const thresholds = calibrate(risks, y, alpha, delta);
  return { thresholds, savedOnCalibration: applyStopRule(data, rows, risks, thresholds).counts.savedTokens };
}

/** What the training part of one split yields for one candidate: calibration risks and the held-out risks. */
interface CandidateRisks {
  readonly candidate: Candidate;
  readonly calibration: WindowRisks;
  readonly heldOut: WindowRisks;
}

/**
 * The choice and the held-out counts for one split: among the candidates, per α, the one whose calibrated thresholds
 * save the most tokens on the training rows (ties: the earlier candidate); its thresholds stop the held-out rows.
 */
function chooseAndApply(
  data: StopData, train: ArrayLike<number>, held: ArrayLike<number>, cands: readonly CandidateRisks[],
  alphas: readonly number[], delta: number, calibrate: StopCalibrator,
): Array<{ counts: StopCounts; chosen: Candidate | null }> {
  return alphas.map((alpha) => {
    let best: { c: CandidateRisks; cal: Calibrated } | null = null;
    for (const c of cands) {
      const cal = calibrateOn(data, train, c.calibration, calibrate, alpha, delta);
      if (best === null || cal.savedOnCalibration > best.cal.savedOnCalibration) best = { c, cal };
    }
    if (best === null) return { counts: applyStopRule(data, held, data.windows.map(() => new Float64Array(held.length).fill(NaN)), data.windows.map(() => Infinity)).counts, chosen: null };
    return { counts: applyStopRule(data, held, best.c.heldOut, best.cal.thresholds).counts, chosen: best.c.candidate };
  });
}

/** Learned candidates' risks for one split: inner-fold OOF risks on `train` (folds `innerFold`), refit on `train` for `held`. */
function learnedCandidates(data: StopData, kinds: readonly StopModelKind[], train: ArrayLike<number>, held: ArrayLike<number>, innerFold: ArrayLike<number>, innerK: number): CandidateRisks[] {
  const out: CandidateRisks[] = [];
  for (const kind of kinds) {
    const model: FittedStopModel | null = fitStopModel(kind, data, train);
    if (!model) continue;
    out.push({ candidate: kind, calibration: outOfFoldRisks(kind, data, train, innerFold, innerK), heldOut: stopModelRisks(model, data, held) });
  }
  return out;
}

function baselineCandidates(data: StopData, train: ArrayLike<number>, held: ArrayLike<number>): CandidateRisks[] {
  return BASELINE_FEATURES.filter((f) => data.featureNames.includes(f)).map((f) => ({ candidate: f, calibration: baselineRisks(data, train, f), heldOut: baselineRisks(data, held, f) }));
}

/** The outer folds of {@link crossFitTable}: stratified 5-fold, seed 42 (as the paper's CV); exported for the tests. */
export function outerFolds(y: ArrayLike<number>, k: number, seed: number): Int32Array {
  return stratifiedKFold(y, k, seed);
}

export interface CrossFitResult {
  readonly oracle: StopCounts;
  readonly alphas: readonly AlphaOutcome[];
}

/**
 * Nested cross-fitting of the learned rule and the baseline on one table (see the module comment). `onFold` is
 * called after each outer fold (for a progress bar).
 */
export function crossFitTable(data: StopData, opts: CrossFitOptions, onFold?: () => void): CrossFitResult {
  const n = stopDataRows(data);
  const alphas = opts.alphas ?? DEFAULT_ALPHAS;
  const delta = opts.delta ?? 0.1;
  const K = opts.outerFolds ?? 5;
  const innerK = opts.innerFolds ?? 5;
  const seed = opts.seed ?? 42;
  const kinds = opts.learned ?? STOP_MODEL_KINDS;
  checkRates(alphas, delta);
  const fold = opts.folds ?? outerFolds(data.y, K, seed);
  if (fold.length !== n) throw new RangeError(`crossFitTable: ${fold.length} fold ids for ${n} rows`);
  const learned = alphas.map(() => ({ counts: ZERO_COUNTS, chosen: [] as Array<Candidate | null> }));
  const baseline = alphas.map(() => ({ counts: ZERO_COUNTS, chosen: [] as Array<Candidate | null> }));
  for (let f = 0; f < K; f++) {
    const train: number[] = [];
    const held: number[] = [];
    for (let i = 0; i < n; i++) (fold[i] === f ? held : train).push(i);
    const innerFold = innerFolds(Uint8Array.from(train, (i) => data.y[i]!), innerK, seed);
    const lc = learnedCandidates(data, kinds, train, held, innerFold, innerK);
    chooseAndApply(data, train, held, lc, alphas, delta, opts.calibrate).forEach((r, a) => { learned[a]!.counts = addCounts(learned[a]!.counts, r.counts); learned[a]!.chosen.push(r.chosen); });
    const bc = baselineCandidates(data, train, held);
    chooseAndApply(data, train, held, bc, alphas, delta, opts.calibrate).forEach((r, a) => { baseline[a]!.counts = addCounts(baseline[a]!.counts, r.counts); baseline[a]!.chosen.push(r.chosen); });
    onFold?.();
  }
  return {
    oracle: oracleCounts(data, allRows(n)),
    alphas: alphas.map((alpha, a) => ({
      alpha,
      learned: { counts: learned[a]!.counts, rates: stopRates(learned[a]!.counts), chosen: learned[a]!.chosen },
      baseline: { counts: baseline[a]!.counts, rates: stopRates(baseline[a]!.counts), chosen: baseline[a]!.chosen },
    })),
  };
}

/** Inner stratified folds; a single fold id 0 for all when a class has too few rows to split (no calibration then). */
function innerFolds(y: Uint8Array, k: number, seed: number): Int32Array {
  try {
    return stratifiedKFold(y, k, seed);
  } catch {
    return new Int32Array(y.length);
  }
}

function checkRates(alphas: readonly number[], delta: number): void {
  for (const a of alphas) if (!(a > 0 && a < 1)) throw new RangeError(`Expected every alpha in (0, 1), got ${a}`);
  if (!(delta > 0 && delta < 1)) throw new RangeError(`Expected delta in (0, 1), got ${delta}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Pooling across tables and leave-one-table-out transfer

/** A table in a pooled evaluation: its data and its group (tables sharing samples share a group). */
export interface PooledTable {
  readonly table: string;
  readonly group: string;
  readonly data: StopData;
  /** false: held out and evaluated, but never used for training (a duplicate or split of a pooled table). Default true. */
  readonly pooled?: boolean;
}

/**
 * Several tables' stop data as one, on the windows they all have (rows appended in order). Returns the offset of each
 * table's first row. Throws when the tables share no window or their feature names differ.
 */
export function concatStopData(parts: readonly StopData[]): { data: StopData; offsets: number[] } {
  if (parts.length === 0) throw new RangeError('concatStopData: no tables');
  const names = parts[0]!.featureNames;
  for (const d of parts) if (d.featureNames.join() !== names.join()) throw new RangeError('concatStopData: tables have different feature names');
  const windows = parts[0]!.windows.filter((T) => parts.every((d) => d.windows.includes(T)));
  if (windows.length === 0) throw new RangeError('concatStopData: the tables share no window');
  const p = names.length;
  const sizes = parts.map((d) => d.y.length);
  const N = sizes.reduce((a, b) => a + b, 0);
  const offsets: number[] = [];
  let o = 0;
  for (const s of sizes) { offsets.push(o); o += s; }
  const features = windows.map((T) => {
    const X = new Float64Array(N * p);
    parts.forEach((d, t) => X.set(d.features[d.windows.indexOf(T)]!, offsets[t]! * p));
    return X;
  });
  const cat = <A extends Float64Array | Uint8Array>(make: (n: number) => A, get: (d: StopData) => A): A => {
    const out = make(N);
    parts.forEach((d, t) => out.set(get(d), offsets[t]!));
    return out;
  };
  return {
    data: {
      windows, featureNames: names, features,
      y: cat((m) => new Uint8Array(m), (d) => d.y), stopLen: cat((m) => new Float64Array(m), (d) => d.stopLen), fullLen: cat((m) => new Float64Array(m), (d) => d.fullLen),
    },
    offsets,
  };
}

/**
 * The leave-one-table-out split: for held-out table t, the training tables are those of OTHER groups (a table that
 * shares samples with t — same group — is left out of its training set too). Exported for the tests.
 */
export function leaveOneTableOut(tables: readonly { readonly group: string; readonly pooled?: boolean }[], t: number): number[] {
  const g = tables[t]!.group;
  return tables.flatMap((x, s) => (x.group === g || x.pooled === false ? [] : [s]));
}

export interface TransferTable {
  readonly table: string;
  readonly oracle: StopCounts;
  readonly alphas: readonly AlphaOutcome[];
}

/**
 * Transfer figures: for each table, the learned rule (model kind chosen, model fitted and thresholds calibrated on the
 * other groups' tables; inner folds = GroupKFold over their groups) and the baseline under the same procedure, applied
 * to the held-out table. `only` restricts which tables are held out (default all).
 */
export function transferEval(tables: readonly PooledTable[], opts: CrossFitOptions, onTable?: (table: string) => void): TransferTable[] {
  const alphas = opts.alphas ?? DEFAULT_ALPHAS;
  const delta = opts.delta ?? 0.1;
  const kinds = opts.learned ?? STOP_MODEL_KINDS;
  const innerK = opts.innerFolds ?? 5;
  checkRates(alphas, delta);
  const out: TransferTable[] = [];
  for (let t = 0; t < tables.length; t++) {
    const trainIdx = leaveOneTableOut(tables, t);
    const { data, offsets } = concatStopData([...trainIdx.map((s) => tables[s]!.data), tables[t]!.data]);
    const nTrain = offsets[offsets.length - 1]!;
    const train = allRows(nTrain);
    const held = Int32Array.from({ length: tables[t]!.data.y.length }, (_, k) => nTrain + k);
    const groupIds = new Map<string, number>();
    const rowGroup = new Int32Array(nTrain);
    trainIdx.forEach((s, q) => {
      const g = groupIds.get(tables[s]!.group) ?? groupIds.size;
      groupIds.set(tables[s]!.group, g);
      rowGroup.fill(g, offsets[q]!, q + 1 < trainIdx.length ? offsets[q + 1]! : nTrain);
    });
    const k = Math.min(innerK, groupIds.size);
    const innerFold = groupKFold(rowGroup, k);
    const lc = learnedCandidates(data, kinds, train, held, innerFold, k);
    const learned = chooseAndApply(data, train, held, lc, alphas, delta, opts.calibrate);
    const baseline = chooseAndApply(data, train, held, baselineCandidates(data, train, held), alphas, delta, opts.calibrate);
    out.push({
      table: tables[t]!.table,
      oracle: oracleCounts(data, held),
      alphas: alphas.map((alpha, a) => ({
        alpha,
        learned: { counts: learned[a]!.counts, rates: stopRates(learned[a]!.counts), chosen: [learned[a]!.chosen] },
        baseline: { counts: baseline[a]!.counts, rates: stopRates(baseline[a]!.counts), chosen: [baseline[a]!.chosen] },
      })),
    });
    onTable?.(tables[t]!.table);
  }
  return out;
}

/**
 * The pooled stop model to ship: kind chosen by grouped inner CV over all tables at `alpha` (most tokens saved on
 * the out-of-group risks), fitted on every row, thresholds calibrated on the out-of-group risks.
 */
export function fitPooledStopRule(tables: readonly PooledTable[], opts: CrossFitOptions & { readonly alpha: number }): { kind: StopModelKind; model: FittedStopModel; thresholds: number[]; windows: readonly number[]; calibration: StopCounts } {
  const delta = opts.delta ?? 0.1;
  const kinds = opts.learned ?? STOP_MODEL_KINDS;
  tables = tables.filter((t) => t.pooled !== false);
  const { data, offsets } = concatStopData(tables.map((t) => t.data));
  const n = data.y.length;
  const rows = allRows(n);
  const groupIds = new Map<string, number>();
  const rowGroup = new Int32Array(n);
  tables.forEach((t, q) => {
    const g = groupIds.get(t.group) ?? groupIds.size;
    groupIds.set(t.group, g);
    rowGroup.fill(g, offsets[q]!, q + 1 < tables.length ? offsets[q + 1]! : n);
  });
  const k = Math.min(opts.innerFolds ?? 5, groupIds.size);
  const fold = groupKFold(rowGroup, k);
  let best: { kind: StopModelKind; cal: Calibrated; risks: WindowRisks } | null = null;
  for (const kind of kinds) {
    const risks = outOfFoldRisks(kind, data, rows, fold, k);
    const cal = calibrateOn(data, rows, risks, opts.calibrate, opts.alpha, delta);
    if (best === null || cal.savedOnCalibration > best.cal.savedOnCalibration) best = { kind, cal, risks };
  }
  const model = fitStopModel(best!.kind, data, rows);
  if (!model) throw new FailmodeError('the pooled tables do not hold both classes');
  return { kind: best!.kind, model, thresholds: Array.from(best!.cal.thresholds), windows: data.windows, calibration: applyStopRule(data, rows, best!.risks, best!.cal.thresholds).counts };
}

// ---------------------------------------------------------------------------------------------------------------
// One table, and the summary of many

/** The evaluation of one table: the oracle and, per α, the cross-fitted learned rule and baseline. */
export interface TableStopResult {
  readonly table: string;
  readonly file: string;
  readonly prefinal: TableStopData['prefinal'];
  readonly n: number;
  readonly failures: number;
  readonly windows: readonly number[];
  readonly lengthColumn: string;
  readonly stopLengthColumn: string;
  readonly oracle: StopCounts;
  /** Empty when the table is below the support rule. */
  readonly alphas: readonly AlphaOutcome[];
  /** Present only when the table is below the support rule (src/offline/support-rule.ts): nothing was cross-fitted. */
  readonly insufficient?: InsufficientData;
}

/** The support rule on stop data: rows, failures, and window feature columns with two distinct finite values. */
export function stopDataShortfall(data: StopData): InsufficientData | null {
  const n = data.y.length;
  const p = data.featureNames.length;
  let failures = 0;
  for (let i = 0; i < n; i++) failures += data.y[i]!;
  const columns = data.features.flatMap((X) => Array.from({ length: p }, (_, j) => Float64Array.from({ length: n }, (_, i) => X[i * p + j]!)));
  return supportShortfall({ n, failures, usableFeatures: usableFeatureCount(columns) });
}

export function evaluateTable(table: string, file: string, td: TableStopData, opts: CrossFitOptions, onFold?: () => void): TableStopResult {
  let failures = 0;
  for (let i = 0; i < td.data.y.length; i++) failures += td.data.y[i]!;
  const base = { table, file, prefinal: td.prefinal, n: td.data.y.length, failures, windows: td.data.windows, lengthColumn: td.lengthColumn, stopLengthColumn: td.stopLengthColumn };
  const insufficient = stopDataShortfall(td.data);
  if (insufficient !== null) {
    for (let f = 0; f < (opts.outerFolds ?? 5); f++) onFold?.();
    return { ...base, oracle: oracleCounts(td.data, allRows(td.data.y.length)), alphas: [], insufficient };
  }
  const r = crossFitTable(td.data, opts, onFold);
  return { ...base, oracle: r.oracle, alphas: r.alphas };
}

/** `--all`: every table's result, the transfer figures, and the settings. */
export interface EarlyStopSummary {
  readonly schema: 'failmode-early-stop-summary';
  readonly version: 2;
  readonly delta: number;
  readonly alphas: readonly number[];
  readonly tables: readonly TableStopResult[];
  readonly transfer: readonly TransferTable[];
}

/**
 * The project's risk control (src/models/risk-control.ts `calibrateStopRule`, one common threshold λ for every window,
 * false-kill ≤ α with probability ≥ 1 − δ) as a {@link StopCalibrator}; a rule that cannot be certified never stops.
 */
export const riskControlledCalibrator: StopCalibrator = (risks, y, alpha, delta) => {
  const windows = risks.map((_, w) => w + 1); // the calibration only needs the window order
  const cal = calibrateStopRule(riskRowsFromColumns(windows, risks, y), { maxFalseKill: alpha, delta });
  return cal.thresholds ?? risks.map(() => Infinity);
};
