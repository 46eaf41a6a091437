import { basename, extname } from 'node:path';
import { FailmodeError } from '../errors.ts';
import { columnMedian } from '../offline/impute.ts';
import { crossValidatedScores, MIN_FAILURES } from '../offline/cv-lr.ts';
import { averagePrecision, rocAuc } from '../offline/metrics.ts';
import { fullColumns, windowColumns } from '../offline/analysis/column-sets.ts';
import { runAnalysis } from '../offline/analyze.ts';
import { failureLabels } from '../offline/table/failure-labels.ts';
import { prefinalWorkingFrame } from '../offline/analysis/prefinal-working-frame.ts';
import { runningLengthColumn, runningRows } from '../offline/running-at.ts';
import type { AnalysisMode, AnalysisResult } from '../offline/analysis-result.ts';
import { Frame } from '../offline/frame.ts';
import { fitLogisticRegression } from '../models/logistic-regression.ts';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, type ModelFile, type WindowClassifier } from '../models/model-file.ts';
import { applyStandardizer, fitStandardizer } from '../models/standardizer.ts';
import { chooseStopThreshold } from '../models/stop-threshold.ts';

export interface TrainOptions {
  /** The input path as given (used for messages, the default name and the profile guess). */
  readonly file: string;
  /** Training data name recorded in the model (default: the file name without extension). */
  readonly name?: string;
  readonly prefinal?: boolean;
  /** Windows (default: every T found in `_w{T}` column names, as the analysis does). */
  readonly windows?: readonly number[];
  /** Precision the stop threshold must reach on out-of-fold scores (default 0.9). */
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
  readonly description?: string;
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
 * it records the out-of-fold PR-AUC/AUROC (5-fold stratified CV, seed 42) and a stop threshold chosen on the
 * out-of-fold scores; the regime and commitment point are the analysis's Section-5 verdict.
 */
export function trainModel(frame: Frame, opts: TrainOptions): TrainResult {
  const targetPrecision = opts.targetPrecision ?? 0.9;
  if (!(targetPrecision > 0 && targetPrecision <= 1)) throw new FailmodeError(`Expected the target precision to be in (0, 1], got ${targetPrecision}`);
  const mode = opts.mode ?? 'paper';
  const fitOn = opts.fitOn ?? 'all';
  if (fitOn !== 'all' && fitOn !== 'running') throw new FailmodeError(`Expected fitOn to be 'all' or 'running', got ${String(fitOn)}`);
  const nBoot = opts.nBoot ?? 10_000;
  const progress = opts.onProgress ?? (() => {});
  const notes: string[] = [];

  progress('analysis (regime and commitment point)');
  // The exact-optimum LR, as the classifiers below are fitted (so their OOF figures equal the analysis's Section 2).
  const analysis = runAnalysis(frame, { file: opts.file, prefinal: opts.prefinal, windows: opts.windows, nBoot, mode, solver: 'newton' });
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

  const classifiers: WindowClassifier[] = [];
  const windows: number[] = [];
  for (const T of [...analysis.windows, 'full' as const]) {
    progress(`classifier T=${T}`);
    const cols = T === 'full' ? fullColumns(wf) : windowColumns(wf, T);
    let fitFrame = wf;
    let fitY = y;
    if (runLen !== null && T !== 'full') {
      const rows = runningRows(runLen, T);
      fitY = Uint8Array.from(rows, (i) => y[i]!);
      let f = 0;
      for (let i = 0; i < fitY.length; i++) f += fitY[i]!;
      // Too few running failures for an out-of-fold estimate or a threshold (the analysis's MIN_FAIL): no classifier.
      if (f < MIN_FAILURES || f === fitY.length) {
        notes.push(`T=${T}: ${fitY.length} rows still running, ${f} of them failures (${f < MIN_FAILURES ? `< ${MIN_FAILURES}` : 'no correct row'}); no classifier for this window`);
        continue;
      }
      fitFrame = wf.selectRows(rows);
    }
    const c = fitWindowClassifier(fitFrame, fitY, cols, liveName, T, targetPrecision, mode, notes);
    if (c === null) {
      notes.push(`T=${T}: no usable feature columns; no classifier`);
      continue;
    }
    classifiers.push(c);
    if (T !== 'full') windows.push(T);
  }
  if (classifiers.length === 0) throw new FailmodeError(`${opts.file}: no feature columns to train on (expected e.g. \`entropy_mean\`, \`entropy_mean_w128\`)`);

  const verdict = analysis.summary.verdict;
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
    regime: verdict.type,
    commitmentPoint,
    training: { name, n, failures, failureRate: failures / n, mode, nBoot, fitOn },
    ...(opts.description !== undefined ? { description: opts.description } : {}),
  };
  return { model, analysis, notes };
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

/** One window's classifier on the given rows, with its out-of-fold quality and stop threshold; null when no column is usable. */
function fitWindowClassifier(
  frame: Frame, y: Uint8Array, cols: readonly string[], liveName: (c: string) => string, window: number | 'full',
  targetPrecision: number, mode: AnalysisMode, notes: string[],
): WindowClassifier | null {
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
  return {
    window,
    featureNames: usable.map(liveName),
    fill,
    mean: Array.from(st.mean),
    scale: Array.from(st.scale),
    coef: Array.from(fit.coef),
    intercept: fit.intercept,
    n,
    oof: { prauc: Number.isFinite(prauc) ? prauc : null, auroc: Number.isFinite(auroc) ? auroc : null },
    stop: oof ? chooseStopThreshold(oof.rowY, oof.rowScores, targetPrecision) : { threshold: null, targetPrecision, precision: null, recall: null },
  };
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
