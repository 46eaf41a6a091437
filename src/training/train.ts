import { basename, extname } from 'node:path';
import { FailmodeError } from '../errors.ts';
import { columnMedian } from '../offline/impute.ts';
import { crossValidatedScores } from '../offline/cv-lr.ts';
import { classShortfalls } from '../offline/support-rule.ts';
import { averagePrecision, rocAuc } from '../offline/metrics.ts';
import { fullColumns, windowColumns } from '../offline/analysis/column-sets.ts';
import { runAnalysis } from '../offline/analyze.ts';
import { failureLabels } from '../offline/table/failure-labels.ts';
import { prefinalWorkingFrame } from '../offline/analysis/prefinal-working-frame.ts';
import { fullLengthColumn, isRunningAt, runningLengthColumn, runningRows } from '../offline/running-at.ts';
import type { AnalysisMode, AnalysisResult } from '../offline/analysis-result.ts';
import { Frame } from '../offline/frame.ts';
import { fitLogisticRegression } from '../models/logistic-regression.ts';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, type ModelFile, type StopRuleGuarantee, type WindowClassifier } from '../models/model-file.ts';
import { applyStandardizer, fitStandardizer } from '../models/standardizer.ts';
import { calibrateStopRule, riskRowsFromColumns, stopWindowIndex } from '../models/risk-control.ts';
import { stopDataOfWorkingFrame } from '../offline/early-stop-eval.ts';
import { trainStopModel, type StopModelChoice } from './train-stop-model.ts';

export interface TrainOptions {
  /** The input path as given (used for messages, the default name and the profile guess). */
  readonly file: string;
  /** Training data name recorded in the model (default: the file name without extension). */
  readonly name?: string;
  readonly prefinal?: boolean;
  /** Windows (default: every T found in `_w{T}` column names, as the analysis does). */
  readonly windows?: readonly number[];
  /**
   * Largest false-kill rate α of the whole stop rule (default 0.05), guaranteed with confidence 1 − δ over the
   * calibration data (src/models/risk-control.ts). Exclusive with `targetPrecision`.
   */
  readonly maxFalseKill?: number;
  /** Confidence 1 − δ of the guarantee (default 0.9). */
  readonly confidence?: number;
  /** Instead of the false-kill rate: the whole rule's precision ≥ p with confidence 1 − δ (the same procedure on 1 − precision). */
  readonly targetPrecision?: number;
  /** Top-k of the live stream (default: the table's `top_logprobs_k`, else 200 = the paper's vLLM runs). */
  readonly topK?: number;
  readonly nucleusP?: number;
  readonly tieDelta?: number;
  /** Task profile (default guessed from the file name; null = unknown). */
  readonly profile?: string | null;
  /** Bootstrap resamples of the analysis whose verdict gives the regime (default 10 000). */
  readonly nBoot?: number;
  /** 'paper' (default) or 'corrected' (training-fold medians in the out-of-fold estimates; SPEC §6.3). */
  readonly mode?: AnalysisMode;
  /**
   * Rows each early window T's classifier is fitted and evaluated on: 'all' (default; the paper's estimator) or only the
   * rows still running at T (src/offline/running-at.ts), the population the live stop rule scores. 'full' uses all rows.
   */
  readonly fitOn?: 'all' | 'running';
  /**
   * The stop model behind the early windows (src/training/train-stop-model.ts): 'window' (default; the classifiers
   * above), 'hazard' (one model over windows, fitted on the running (sample, window) pairs), or 'auto' (per-window
   * classifiers fitted on running rows or the hazard model, whichever saves more tokens under the risk control on
   * 5-fold out-of-fold risks — `failmode early-stop-eval`'s choice). 'hazard' and 'auto' fit on running rows.
   */
  readonly stopModel?: StopModelChoice;
  readonly description?: string;
  /**
   * Train even when the working frame is below the support rule (src/offline/support-rule.ts); the model file then
   * records `training.insufficient` (forced) and the regime 'persistent'. Default false: such data is refused.
   */
  readonly force?: boolean;
  /** Creation time written to the model (default now). */
  readonly now?: Date;
  readonly onProgress?: (stage: string) => void;
}

export interface TrainResult {
  readonly model: ModelFile;
  /** The analysis the regime and commitment point come from. */
  readonly analysis: AnalysisResult;
  /** Things the user should know (fallbacks, skipped windows, defaults taken). */
  readonly notes: readonly string[];
  /** One line when the guarantee cannot be met at any threshold (the model then never stops); null otherwise. */
  readonly neverStops: string | null;
}

/** Paper defaults of the signal parameters (SPEC §1.2): GSM8K 0.9 / 0.1, every other benchmark 0.7 / 0.5. */
export function defaultSignalParams(profile: string | null, name: string): { nucleusP: number; tieDelta: number } {
  return profile === 'final-boxed' || /gsm8k/i.test(name) ? { nucleusP: 0.9, tieDelta: 0.1 } : { nucleusP: 0.7, tieDelta: 0.5 };
}

/** The task profile of a paper results file, from its name: gpqa/arlsat → final-answer, math500 → boxed, gsm8k → final-boxed, lcb → code. */
export function guessProfile(file: string): string | null {
  const name = basename(file).toLowerCase();
  if (/gpqa|arlsat/.test(name)) return 'final-answer';
  if (/math500|math-500|math_500/.test(name)) return 'boxed';
  if (/gsm8k/.test(name)) return 'final-boxed';
  if (/(^|[^a-z])lcb|livecodebench/.test(name)) return 'code';
  return null;
}

/**
 * Trains a model file from one results table: one classifier per early window T and one for the full trace, each the
 * analysis's estimator (median fill → standardiser → balanced L2 logistic regression) fitted on ALL rows of the
 * analysis's working frame (the prefinal-valid rows with prefinal features remapped, under --prefinal) — or, with
 * `fitOn: 'running'`, each early window's on the rows of that frame still running at T. Per classifier
 * it records the out-of-fold PR-AUC/AUROC (5-fold stratified CV, seed 42); the early windows' out-of-fold risks
 * calibrate the whole live stop rule (one common threshold, risk-controlled: false-kill rate ≤ α, or precision ≥ p,
 * with confidence 1 − δ; src/models/risk-control.ts) recorded in `guarantee`; the regime and commitment point are the
 * analysis's Section-5 verdict.
 */
export function trainModel(frame: Frame, opts: TrainOptions): TrainResult {
  if (opts.targetPrecision !== undefined && opts.maxFalseKill !== undefined) throw new FailmodeError('Expected either a maximum false-kill rate or a target precision, got both');
  if (opts.targetPrecision !== undefined && !(opts.targetPrecision > 0 && opts.targetPrecision < 1)) throw new FailmodeError(`Expected the target precision to be in (0, 1), got ${opts.targetPrecision}`);
  const maxFalseKill = opts.targetPrecision === undefined ? opts.maxFalseKill ?? 0.05 : undefined;
  if (maxFalseKill !== undefined && !(maxFalseKill > 0 && maxFalseKill < 1)) throw new FailmodeError(`Expected the maximum false-kill rate to be in (0, 1), got ${maxFalseKill}`);
  const confidence = opts.confidence ?? 0.9;
  if (!(confidence > 0 && confidence < 1)) throw new FailmodeError(`Expected the confidence to be in (0, 1), got ${confidence}`);
  const mode = opts.mode ?? 'paper';
  const fitOn = opts.fitOn ?? 'all';
  if (fitOn !== 'all' && fitOn !== 'running') throw new FailmodeError(`Expected fitOn to be 'all' or 'running', got ${String(fitOn)}`);
  const nBoot = opts.nBoot ?? 10_000;
  const progress = opts.onProgress ?? (() => {});
  const notes: string[] = [];

  progress('analysis (regime and commitment point)');
  // The exact-optimum LR, as the classifiers below are fitted (so their OOF figures equal the analysis's Section 2).
  const analysis = runAnalysis(frame, { file: opts.file, prefinal: opts.prefinal, windows: opts.windows, nBoot, mode, solver: 'newton' });
  const thin = analysis.insufficient;
  if (thin && opts.force !== true) {
    throw new FailmodeError(`${opts.file}: insufficient data for a model — ${thin.reason}; pass --force to train on it anyway`);
  }
  if (thin) notes.push(`forced on insufficient data (${thin.reason}): no verdict, regime recorded as persistent; the model file says so (training.insufficient)`);
  const work = workingFrame(frame, analysis);
  if (opts.prefinal && !work.prefinal) {
    notes.push(analysis.prefinal?.fallback === 'no-length-column'
      ? 'prefinal requested but the table has no prefinal_len column: trained on regular (full-list) features'
      : `prefinal requested but only ${analysis.prefinal?.validFailures ?? 0} failures have a prefinal trace: trained on regular features of all rows`);
  }
  const { frame: wf, y, liveName } = work;
  const n = y.length;
  let failures = 0;
  for (let i = 0; i < n; i++) failures += y[i]!;
  if (failures === 0 || failures === n) {
    throw new FailmodeError(`${opts.file}: every training row is ${failures === 0 ? 'correct' : 'a failure'}; a classifier needs both classes`);
  }

  let runLen: Float64Array | null = null;
  if (fitOn === 'running') {
    const col = runningLengthColumn(wf, work.prefinal);
    if (col === null) throw new FailmodeError(`${opts.file}: --fit-on running needs the samples' lengths (a \`generated_len\` or \`full_len\` column${work.prefinal ? ', or the prefinal length' : ''}) to tell which were still running at T`);
    runLen = wf.numeric(col)!;
  }

  // Calibration of the live rule: each early window's out-of-fold risk of every row still running at T.
  const stopLenCol = runningLengthColumn(wf, work.prefinal);
  const stopLen = stopLenCol === null ? null : wf.numeric(stopLenCol)!;
  if (stopLen === null) notes.push('no length column: the stop rule is calibrated as if every sample ran through every window (conservative for false kills)');
  const fullLenCol = fullLengthColumn(wf);
  const oofRisk: Float64Array[] = [];
  const ruleWindows: number[] = []; // early windows with out-of-fold scores: the ones the calibrated rule stops at

  const classifiers: WindowClassifier[] = [];
  const windows: number[] = [];
  const stopChoice = opts.stopModel ?? 'window';
  let stopModel: 'window' | 'hazard' | undefined;
  if (stopChoice !== 'window') {
    if (stopLen === null || fullLenCol === null) throw new FailmodeError(`${opts.file}: --stop-model ${stopChoice} needs the samples' lengths (a \`generated_len\` or \`full_len\` column${work.prefinal ? ', and the prefinal length' : ''}) to tell which were still running at T`);
    progress(`stop model (${stopChoice})`);
    const data = stopDataOfWorkingFrame(wf, y, stopLen, wf.numeric(fullLenCol)!, analysis.windows);
    const delta = Math.round((1 - confidence) * 1e12) / 1e12;
    const trained = trainStopModel(data, stopChoice, (T, f) => liveName(`${f}_w${T}`), maxFalseKill ?? 0.05, delta);
    if (trained === null) throw new FailmodeError(`${opts.file}: too few rows of each class for the ${stopChoice} stop model's 5-fold out-of-fold risks`);
    stopModel = trained.kind;
    if (stopChoice === 'auto') notes.push(`stop model: ${trained.kind} (tokens saved on out-of-fold risks at false-kill ≤ ${maxFalseKill ?? 0.05}: ${trained.selection.map((x) => `${x.kind} ${(100 * x.saved).toFixed(1)}%`).join(', ')})`);
    trained.classifiers.forEach((c, k) => {
      classifiers.push(c);
      windows.push(c.window as number);
      ruleWindows.push(c.window as number);
      oofRisk.push(trained.oofRisk[k]!);
    });
    const full = fitWindowClassifier(wf, y, fullColumns(wf), liveName, 'full', mode, notes);
    if (full !== null) classifiers.push(full.classifier);
  }
  for (const T of stopChoice === 'window' ? [...analysis.windows, 'full' as const] : []) {
    progress(`classifier T=${T}`);
    const cols = T === 'full' ? fullColumns(wf) : windowColumns(wf, T);
    let fitFrame = wf;
    let fitY = y;
    let rowOf: ArrayLike<number> | null = null; // fit row → working-frame row (null: the same)
    if (runLen !== null && T !== 'full') {
      const rows = runningRows(runLen, T);
      rowOf = rows;
      fitY = Uint8Array.from(rows, (i) => y[i]!);
      let f = 0;
      for (let i = 0; i < fitY.length; i++) f += fitY[i]!;
      // The support rule on the running rows: each class ≥ MIN_CLASS (the analysis's MIN_FAIL; the 5-fold CV needs as
      // many correct rows), else no classifier for this window.
      const short = classShortfalls(f, fitY.length - f, 'failures', 'correct');
      if (short.length > 0) {
        notes.push(`T=${T}: ${fitY.length} rows still running: ${short.join(', ')}; no classifier for this window`);
        continue;
      }
      fitFrame = wf.selectRows(rows);
    }
    const fitted = fitWindowClassifier(fitFrame, fitY, cols, liveName, T, mode, notes);
    if (fitted === null) {
      notes.push(`T=${T}: no usable feature columns; no classifier`);
      continue;
    }
    classifiers.push(fitted.classifier);
    if (T === 'full') continue;
    windows.push(T);
    if (fitted.oof === null) {
      notes.push(`T=${T}: no out-of-fold scores to calibrate on; this window never stops`);
      continue;
    }
    const risk = new Float64Array(n).fill(NaN);
    for (let r = 0; r < fitted.oof.rows.length; r++) {
      const i = rowOf === null ? fitted.oof.rows[r]! : rowOf[fitted.oof.rows[r]!]!;
      if (stopLen === null || isRunningAt(stopLen[i]!, T)) risk[i] = fitted.oof.rowScores[r]!;
    }
    ruleWindows.push(T);
    oofRisk.push(risk);
  }
  if (classifiers.length === 0) throw new FailmodeError(`${opts.file}: no feature columns to train on (expected e.g. \`entropy_mean\`, \`entropy_mean_w128\`)`);

  progress('stop rule (risk control)');
  const { guarantee, neverStops } = calibrateWholeRule({
    windows: ruleWindows, oofRisk, y, stopLen, fullLen: fullLenCol === null ? null : wf.numeric(fullLenCol)!, maxFalseKill, targetPrecision: opts.targetPrecision,
    delta: Math.round((1 - confidence) * 1e12) / 1e12, // 1 − 0.9 is 0.09999999999999998 in floating point
    notes,
  });
  for (let k = 0; k < classifiers.length; k++) {
    const c = classifiers[k]!;
    classifiers[k] = {
      ...c,
      stop: {
        threshold: c.window !== 'full' && ruleWindows.includes(c.window) ? guarantee.threshold : null,
        ...(opts.targetPrecision !== undefined ? { targetPrecision: opts.targetPrecision } : {}),
        precision: null,
        recall: null,
      },
    };
  }

  const verdict = analysis.summary.verdict;
  const regime = verdict.type === 'insufficient data' ? 'persistent' : verdict.type;
  const commitmentPoint = verdict.T !== null && windows.includes(verdict.T) ? verdict.T : null;
  if (verdict.T !== null && commitmentPoint === null) notes.push(`the verdict's commitment point T=${verdict.T} has no classifier: commitmentPoint recorded as null`);

  const name = opts.name ?? basename(opts.file, extname(opts.file));
  const profile = opts.profile !== undefined ? opts.profile : guessProfile(opts.file);
  const defaults = defaultSignalParams(profile, opts.file);
  const model: ModelFile = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    createdAt: (opts.now ?? new Date()).toISOString(),
    signal: { topK: opts.topK ?? tableTopK(frame, notes), nucleusP: opts.nucleusP ?? defaults.nucleusP, tieDelta: opts.tieDelta ?? defaults.tieDelta },
    prefinal: work.prefinal,
    profile,
    windows,
    classifiers,
    regime,
    commitmentPoint,
    training: {
      name, n, failures, failureRate: failures / n, mode, nBoot, fitOn: stopModel ? 'running' : fitOn, ...(stopModel ? { stopModel } : {}),
      ...(thin ? { insufficient: { forced: true as const, ...thin } } : {}),
    },
    guarantee,
    ...(opts.description !== undefined ? { description: opts.description } : {}),
  };
  return { model, analysis, notes, neverStops };
}

/**
 * Calibrates the whole live rule (one common threshold for every early window) on the window classifiers' out-of-fold
 * risks. A row running at a window where it has no out-of-fold score (its CV fold was skipped) is left out of the
 * calibration: counting it as "never stopped" there would flatter the false-kill rate.
 */
function calibrateWholeRule(a: {
  windows: readonly number[]; oofRisk: readonly Float64Array[]; y: Uint8Array; stopLen: Float64Array | null; fullLen: Float64Array | null;
  maxFalseKill: number | undefined; targetPrecision: number | undefined; delta: number; notes: string[];
}): { guarantee: StopRuleGuarantee; neverStops: string | null } {
  const { windows, oofRisk, y, stopLen, fullLen } = a;
  const keep: number[] = [];
  for (let i = 0; i < y.length; i++) {
    let ok = true;
    for (let w = 0; w < windows.length && ok; w++) {
      if ((stopLen === null || isRunningAt(stopLen[i]!, windows[w]!)) && Number.isNaN(oofRisk[w]![i]!)) ok = false;
    }
    if (ok) keep.push(i);
  }
  if (keep.length < y.length) a.notes.push(`${y.length - keep.length} rows have no out-of-fold risk at a window they run through (skipped CV folds): left out of the stop rule's calibration`);
  const pick = (col: ArrayLike<number>) => Float64Array.from(keep, (i) => col[i]!);
  const rows = riskRowsFromColumns(windows, oofRisk.map(pick), Uint8Array.from(keep, (i) => y[i]!), fullLen === null ? null : pick(fullLen));
  const cal = calibrateStopRule(rows, a.targetPrecision !== undefined ? { targetPrecision: a.targetPrecision, delta: a.delta } : { maxFalseKill: a.maxFalseKill, delta: a.delta });
  const at = stopWindowIndex(rows, cal.thresholds);
  const perWindow = windows.map((window) => ({ window, stops: 0, falseKills: 0 }));
  for (let i = 0; i < at.length; i++) {
    if (at[i]! < 0) continue;
    perWindow[at[i]!]!.stops++;
    if (rows.y[i] !== 1) perWindow[at[i]!]!.falseKills++;
  }
  const g = cal.guarantee;
  const guarantee: StopRuleGuarantee = {
    method: 'fixed-sequence-clopper-pearson', family: g.family, control: g.control, alpha: g.alpha, delta: g.delta, threshold: cal.lambda,
    calibrationN: g.calibrationN, n: g.n, failures: g.failures, stops: g.stops, falseKills: g.falseKills, stoppedFailures: g.stoppedFailures,
    bound: g.bound, falseKillRate: g.falseKillRate, precision: g.precision, recall: g.recall, tokensSaved: g.tokensSaved, perWindow,
  };
  let neverStops: string | null = null;
  if (cal.lambda === null) {
    const what = g.control === 'false-kill' ? `false-kill rate ≤ ${g.alpha}` : `precision ≥ ${1 - g.alpha}`;
    const why = g.bound === null
      ? 'no sample has an out-of-fold risk to calibrate on'
      : `the most conservative threshold's upper bound is ${g.bound.toFixed(4)} on ${g.control === 'false-kill' ? `${g.calibrationN} correct samples` : 'the samples it stops'}`;
    neverStops = `no stop threshold meets ${what} at ${Math.round((1 - g.delta) * 1000) / 10} % confidence (${why}): the model never stops`;
  }
  return { guarantee, neverStops };
}

/**
 * The analysis's working frame (SPEC §3.4): rows with a `correct` value; under an active --prefinal, the rows with a
 * prefinal length > 0 with `{f}` / `{f}_w{T}` holding the prefinal values. Whether prefinal is active comes from the
 * analysis itself, and the row and failure counts are checked against its Section 1 so the two can never drift apart.
 * `liveName` maps a working column to the live record's name (`entropy_mean_w256` → `entropy_mean_prefinal_w256`).
 */
export function workingFrame(input: Frame, analysis: AnalysisResult): { frame: Frame; y: Uint8Array; prefinal: boolean; liveName: (col: string) => string } {
  const labels = failureLabels(input);
  const { frame, y, prefinal, remapped } = prefinalWorkingFrame(labels.frame, labels.y, analysis.prefinal !== null);
  let failures = 0;
  for (let i = 0; i < y.length; i++) failures += y[i]!;
  if (frame.nRows !== analysis.overview.n || failures !== analysis.overview.failures) {
    throw new FailmodeError(`internal error: training frame has ${frame.nRows} rows / ${failures} failures, the analysis ${analysis.overview.n} / ${analysis.overview.failures}`, 'FAILMODE_ERR_INTERNAL', 1);
  }
  return { frame, y, prefinal: prefinal?.active === true, liveName: (col) => remapped.get(col) ?? col };
}

/**
 * One window's classifier on the given rows, with its out-of-fold quality and out-of-fold scores (for the stop rule's
 * calibration; its `stop` is set by the caller); null when no column is usable.
 */
function fitWindowClassifier(
  frame: Frame, y: Uint8Array, cols: readonly string[], liveName: (c: string) => string, window: number | 'full',
  mode: AnalysisMode, notes: string[],
): { classifier: WindowClassifier; oof: { rows: Int32Array; rowScores: Float64Array } | null } | null {
  // An all-missing column is a constant under the analysis's CV (no effect on any score); it has no median to record.
  const usable = cols.filter((c) => !Number.isNaN(columnMedian(frame.numeric(c)!)));
  if (usable.length === 0) return null;
  const columns = usable.map((c) => frame.numeric(c)!);
  const n = y.length;
  const p = columns.length;
  const fill = columns.map((c) => columnMedian(c));
  const X = new Float64Array(n * p);
  for (let j = 0; j < p; j++) {
    const col = columns[j]!;
    for (let i = 0; i < n; i++) X[i * p + j] = Number.isNaN(col[i]!) ? fill[j]! : col[i]!;
  }
  const st = fitStandardizer(X, n, p);
  applyStandardizer(st, X, n, p, X);
  const fit = fitLogisticRegression(X, n, p, y);
  if (!fit.converged) notes.push(`T=${window}: the logistic regression stopped after ${fit.iterations} iterations before full convergence`);

  const oof = crossValidatedScores(columns, y, { correctedImpute: mode === 'corrected', nSplits: 5, seed: 42 });
  const prauc = oof ? averagePrecision(oof.pooledY, oof.pooledScores) : NaN;
  const auroc = oof ? rocAuc(oof.pooledY, oof.pooledScores) : NaN;
  const classifier: WindowClassifier = {
    window,
    featureNames: usable.map(liveName),
    fill,
    mean: Array.from(st.mean),
    scale: Array.from(st.scale),
    coef: Array.from(fit.coef),
    intercept: fit.intercept,
    n,
    oof: { prauc: Number.isFinite(prauc) ? prauc : null, auroc: Number.isFinite(auroc) ? auroc : null },
    stop: { threshold: null, precision: null, recall: null },
  };
  return { classifier, oof: oof ? { rows: oof.rows, rowScores: oof.rowScores } : null };
}

/**
 * Several results tables as one training table: the columns all of them have (in the first table's order), rows
 * appended in order. For a model trained on more than one run (e.g. two benchmarks of one API model).
 */
export function concatFrames(frames: readonly Frame[], source = frames.map((f) => f.source).join(' + ')): Frame {
  if (frames.length === 0) throw new RangeError('concatFrames: no frames');
  if (frames.length === 1) return frames[0]!;
  const common = frames[0]!.columnNames.filter((c) => frames.every((f) => f.has(c)));
  const n = frames.reduce((k, f) => k + f.nRows, 0);
  return new Frame(source, common, n, (name) => frames.flatMap((f) => f.text(name)!));
}

/** The table's `top_logprobs_k` (its most common value), else 200 — the paper's vLLM runs. */
function tableTopK(frame: Frame, notes: string[]): number {
  const col = frame.numeric('top_logprobs_k');
  if (col) {
    const counts = new Map<number, number>();
    for (const v of col) if (Number.isInteger(v) && v > 0) counts.set(v, (counts.get(v) ?? 0) + 1);
    if (counts.size > 0) {
      const [k] = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]!;
      if (counts.size > 1) notes.push(`top_logprobs_k takes ${counts.size} values; recorded the most common, ${k}`);
      return k;
    }
  }
  notes.push('no top_logprobs_k column: recorded top-k 200 (the paper\'s vLLM runs); pass --top-k if the stream differs');
  return 200;
}
