import { BASE_FEATURES, MAX_FEATURES, MEAN_FEATURES } from '../features/columns.ts';
import { FailmodeError } from '../errors.ts';
import type { AnalysisMode, AnalysisResult, CvEstimate, DeltaEstimate, WindowDelta, WindowEstimate } from './analysis-result.ts';
import { categoricalCodes } from './analysis/categorical-codes.ts';
import { prefinalWorkingFrame } from './analysis/prefinal-working-frame.ts';
import { available, detectWindows, fullColumns, prefinalLengthColumn, windowColumns } from './analysis/column-sets.ts';
import { CvEngine, type CvNumbers } from './analysis/cv-engine.ts';
import { deltaVerdict, featureShape, firstMaxIndex, signatureOf } from './analysis/verdict.ts';
import type { LrSolver } from './cv-lr.ts';
import type { Frame } from './frame.ts';
import { failureLabels } from './table/failure-labels.ts';
import { assertFiniteFeatures } from './table/finite-features.ts';
import { INSUFFICIENT_DATA, supportShortfall, usableFeatureCount, type InsufficientData } from './support-rule.ts';

export interface AnalyzeOptions {
  /** The path as given on the command line (printed in `Loading:` / `File:`). */
  readonly file: string;
  readonly modelName?: string;
  readonly prefinal?: boolean;
  /** Windows to analyse; default: auto-detected from `_w{T}` column names. */
  readonly windows?: readonly number[];
  readonly clusterCol?: string;
  /** Bootstrap resamples (default 10 000); really used, unlike the paper's flag. */
  readonly nBoot?: number;
  readonly mode?: AnalysisMode;
  /** The CVs' logistic-regression solver; default: defaultSolver(mode). */
  readonly solver?: LrSolver;
  /** Called as the analysis moves through its sections (for a progress line). */
  readonly onProgress?: (stage: string) => void;
}

/**
 * The paper's failure-mode analysis (SPEC §3.2–§3.7) of one results table: window ablation with bootstrap CIs, the
 * prefinal / length-confound section, per-feature breakdown, verdicts and the plot data. `mode: 'paper'` reproduces the
 * published script with its quirks; `'corrected'` applies the SPEC §6.3 fixes (training-fold medians, cluster ids
 * aligned with the pooled predictions, Section 5 and the plot honouring clusters).
 */
export function runAnalysis(input: Frame, opts: AnalyzeOptions): AnalysisResult {
  const mode: AnalysisMode = opts.mode ?? 'paper';
  const corrected = mode === 'corrected';
  const solver = opts.solver ?? defaultSolver(mode);
  const nBoot = opts.nBoot ?? 10_000;
  if (!Number.isInteger(nBoot) || nBoot < 1) throw new FailmodeError(`Expected the number of bootstrap resamples to be a positive integer, got ${nBoot}`);
  const modelName = opts.modelName ?? 'Model';
  const progress = opts.onProgress ?? (() => {});

  assertFiniteFeatures(input, opts.file);
  const labels = failureLabels(input);
  const df = labels.frame;
  const y = labels.y;
  if (df.nRows === 0) throw new FailmodeError(`${opts.file}: no row has a \`correct\` value; nothing to analyse`);

  const windows = resolveWindows(df, opts.windows, opts.file);

  // Cluster ids on the whole frame (Section 3's reference uses them), re-derived on the working frame below.
  let cluster: AnalysisResult['cluster'] = null;
  let fullCids: Int32Array | null = null;
  if (opts.clusterCol !== undefined) {
    const col = opts.clusterCol;
    if (!df.has(col)) {
      const shown = df.columnNames.slice(0, 12).map((c) => `\`${c}\``).join(', ');
      throw new FailmodeError(`--cluster-col \`${col}\` is not a column of ${opts.file} (columns: ${shown}${df.columnNames.length > 12 ? ', …' : ''})`);
    }
    const cc = categoricalCodes(df.text(col)!);
    fullCids = cc.codes;
    cluster = { column: col, nClusters: cc.nUnique, nRows: df.nRows };
  }

  // --prefinal: restrict to rows with a prefinal length > 0 and remap the prefinal columns onto the primary names.
  const { frame: working, y: yW, prefinal } = prefinalWorkingFrame(df, y, opts.prefinal === true);
  const workingCids = opts.clusterCol === undefined ? null
    : working === df ? fullCids : categoricalCodes(working.text(opts.clusterCol)!).codes;

  // The support rule (src/offline/support-rule.ts): below it, no CV is run and the verdict is "insufficient data".
  const analysed = [...fullColumns(working), ...windows.flatMap((T) => windowColumns(working, T))];
  const insufficient = supportShortfall({ n: working.nRows, failures: sum(yW), usableFeatures: usableFeatureCount(analysed.map((c) => working.numeric(c)!)) });

  const engines = new EngineSet(nBoot, corrected, solver);
  const eWork = engines.get(working, yW, workingCids);
  // The paper's Section 5 and plot call cv_prauc without cluster ids; the corrected procedure keeps them.
  const eWorkSummary = corrected ? eWork : engines.get(working, yW, null);

  // Section 1
  progress('Section 1 — dataset overview');
  const n = working.nRows;
  const nf = sum(yW);
  const genCol = working.has('generated_len') ? 'generated_len' : working.has('full_len') ? 'full_len' : null;
  const plCol = prefinalLengthColumn(working);
  const overview: AnalysisResult['overview'] = {
    n,
    failures: nf,
    meanGenLen: genCol ? nanToNull(nanMean(working.numeric(genCol)!)) : null,
    prefinalValid: plCol ? positiveRows(working.numeric(plCol)!).length : null,
    fullColumns: fullColumns(working).length,
    windows: windows.map((T) => ({
      T,
      columns: windowColumns(working, T).length,
      meanWindowLen: working.has(`window_len_w${T}`) ? nanToNull(nanMean(working.numeric(`window_len_w${T}`)!)) : null,
    })),
  };

  if (insufficient !== null) {
    return {
      schema: 'failmode-analysis', version: 1, file: opts.file, modelName, mode, solver, nBoot, windows, insufficient,
      excludedMissingCorrect: labels.excluded, cluster, prefinal, overview, ...insufficientSections(windows, insufficient, opts.prefinal === true),
    };
  }

  // Section 2
  progress('Section 2 — window ablation');
  const fc = fullColumns(working);
  const fullEst = eWork.withCi(fc);
  const early: WindowEstimate[] = [];
  const deltas: WindowDelta[] = [];
  for (const T of windows) {
    progress(`Section 2 — window T=${T}`);
    const wc = windowColumns(working, T);
    early.push({ T, ...estimate(eWork.withCi(wc)) });
    deltas.push({ T, delta: deltaEstimate(eWork.delta(wc, fc)) });
  }
  const bestIdx = firstMaxIndex(early.map((e) => e.prauc));
  const ablation: AnalysisResult['ablation'] = {
    baseline: nf / n,
    full: estimate(fullEst),
    fullClusterRobust: workingCids !== null,
    early,
    fullOofCount: eWork.oofCount(fc),
    deltas,
    bestWindow: bestIdx >= 0 ? { T: early[bestIdx]!.T, prauc: early[bestIdx]!.prauc! } : null,
    signature: signatureOf(deltas.map((d) => d.delta)),
  };

  // Section 3
  progress('Section 3 — length confound');
  let section3: AnalysisResult['section3'];
  if (opts.prefinal) {
    const eFull = engines.get(df, y, fullCids);
    section3 = {
      kind: 'reference',
      rawFull: estimate(eFull.withCi(fullColumns(df))),
      generatedLen: df.has('generated_len') ? estimate(eFull.withCi(['generated_len'])) : null,
    };
  } else {
    section3 = prefinalAblation(working, windows, engines.prefinalSubset(working, yW, workingCids), engines);
  }

  // Section 4 (PR-AUCs only: no bootstrap is printed here)
  progress('Section 4 — per-feature breakdown');
  const single = [...BASE_FEATURES].sort().map((feat) => ({
    feature: feat,
    full: working.has(feat) ? nanToNull(eWork.point([feat]).prauc) : null,
    windows: windows.map((T) => (working.has(`${feat}_w${T}`) ? nanToNull(eWork.point([`${feat}_w${T}`]).prauc) : null)),
  }));
  const shapes = single.map((row) => {
    const s = featureShape(windows, row.windows, row.full);
    return s ? { feature: row.feature, ...s, fullPA: row.full } : { feature: row.feature, bestT: null, bestPA: null, fullPA: row.full, shape: 'N/A' };
  });
  const maxFull = available(working, MAX_FEATURES);
  const meanFull = available(working, MEAN_FEATURES);
  const aggregate = {
    maxFull: maxFull.length ? nanToNull(eWork.point(maxFull).prauc) : null,
    meanFull: meanFull.length ? nanToNull(eWork.point(meanFull).prauc) : null,
    windows: windows.map((T) => {
      const mx = available(working, MAX_FEATURES.map((f) => `${f}_w${T}`));
      const mn = available(working, MEAN_FEATURES.map((f) => `${f}_w${T}`));
      return { T, max: mx.length ? nanToNull(eWork.point(mx).prauc) : null, mean: mn.length ? nanToNull(eWork.point(mn).prauc) : null };
    }),
  };

  // Section 5
  progress('Section 5 — verdict');
  const summaryRows = windows.map((T, k) => ({ T, early: early[k]!.prauc, full: ablation.full.prauc, delta: deltas[k]!.delta }));
  const committed = summaryRows.filter((r) => r.delta !== null && r.delta.lo > 0);
  const near = summaryRows.some((r) => r.delta?.verdict === '~ Near-committed');
  let verdict: AnalysisResult['summary']['verdict'];
  if (committed.length > 0) {
    const best = committed[Math.max(0, firstMaxIndex(committed.map((r) => r.early)))]!;
    verdict = { type: 'committed', T: best.T, early: best.early, full: best.full };
  } else if (near) {
    // Python: max(rows, key=early if not NaN else −1) — the first maximum, NaN counting as −1.
    const best = summaryRows[Math.max(0, firstMaxIndex(summaryRows.map((r) => r.early ?? -1)))]!;
    verdict = { type: 'near-committed', T: best.T, early: best.early, full: null };
  } else {
    verdict = { type: 'persistent', T: null, early: null, full: null };
  }
  const summary: AnalysisResult['summary'] = {
    n,
    failures: nf,
    fullPrauc: nanToNull(eWorkSummary.point(fc).prauc),
    rows: summaryRows,
    verdict,
  };

  progress('plot data');
  const plot = plotData(prefinal?.active === true, working, yW, workingCids, windows, early, engines, corrected);

  return {
    schema: 'failmode-analysis',
    version: 1,
    file: opts.file,
    modelName,
    mode,
    solver,
    nBoot,
    windows,
    excludedMissingCorrect: labels.excluded,
    cluster,
    prefinal,
    overview,
    ablation,
    section3,
    features: { single, shapes, aggregate },
    summary,
    plot,
  };
}

/** Sections 2–5 of a table below the support rule: every estimate null, the verdict "insufficient data", no plot. */
function insufficientSections(windows: readonly number[], x: InsufficientData, prefinal: boolean):
  Pick<AnalysisResult, 'ablation' | 'section3' | 'features' | 'summary' | 'plot'> {
  const none: CvEstimate = { prauc: null, lo: null, hi: null, auroc: null };
  return {
    ablation: {
      baseline: x.failures / x.n, full: none, fullClusterRobust: false, early: windows.map((T) => ({ T, ...none })), fullOofCount: 0,
      deltas: windows.map((T) => ({ T, delta: null })), bestWindow: null, signature: INSUFFICIENT_DATA,
    },
    section3: prefinal
      ? { kind: 'reference', rawFull: none, generatedLen: null }
      : { kind: 'ablation', lengthColumn: null, validRows: 0, n: x.n, validFailures: 0, fullFeatures: 0, full: null, early: [], deltas: [], bestWindow: null, survives: false },
    features: { single: [], shapes: [], aggregate: { maxFull: null, meanFull: null, windows: [] } },
    summary: { n: x.n, failures: x.failures, fullPrauc: null, rows: [], verdict: { type: INSUFFICIENT_DATA, T: null, early: null, full: null } },
    plot: null,
  };
}

/** Section 3 without --prefinal: the prefinal columns on the rows with a prefinal length > 0. */
function prefinalAblation(df: Frame, windows: readonly number[], subset: PrefinalSubset | null, engines: EngineSet): AnalysisResult['section3'] {
  if (subset === null) {
    return { kind: 'ablation', lengthColumn: null, validRows: 0, n: df.nRows, validFailures: 0, fullFeatures: 0, full: null, early: [], deltas: [], bestWindow: null, survives: false };
  }
  const { frame: sub, y: ySub, cids: subCids } = subset;
  const base = { kind: 'ablation' as const, lengthColumn: subset.lengthColumn, validRows: sub.nRows, n: df.nRows, validFailures: sum(ySub) };
  let pfc = fullColumns(df, true);
  if (pfc.length === 0) pfc = df.columnNames.filter((c) => c.endsWith('_prefinal') && BASE_FEATURES.some((b) => c.startsWith(b)));
  if (pfc.length === 0) return { ...base, fullFeatures: 0, full: null, early: [], deltas: [], bestWindow: null, survives: false };

  const e = engines.get(sub, ySub, subCids);
  const full = estimate(e.withCi(pfc));
  const early: Array<{ T: number; estimate: CvEstimate | null }> = [];
  const deltas: WindowDelta[] = [];
  for (const T of windows) {
    let pwc = windowColumns(sub, T, true);
    const primary = pwc.length > 0;
    if (!primary) pwc = available(sub, BASE_FEATURES.map((f) => `${f}_w${T}_prefinal`));
    if (pwc.length === 0) {
      early.push({ T, estimate: null });
      continue;
    }
    early.push({ T, estimate: estimate(e.withCi(pwc)) });
    // 3b only looks for `{f}_prefinal_w{T}` (not the fallback names).
    deltas.push({ T, delta: primary ? deltaEstimate(e.delta(pwc, pfc)) : null });
  }
  const rows = early.filter((r): r is { T: number; estimate: CvEstimate } => r.estimate !== null && r.estimate.prauc !== null);
  const bi = firstMaxIndex(rows.map((r) => r.estimate.prauc));
  return {
    ...base,
    fullFeatures: pfc.length,
    full,
    early,
    deltas,
    bestWindow: bi >= 0 ? { T: rows[bi]!.T, prauc: rows[bi]!.estimate.prauc! } : null,
    survives: full.prauc !== null && rows.some((r) => r.estimate.prauc! > full.prauc!),
  };
}

/** SPEC §3.7: what the commitment plot shows. */
function plotData(prefinalActive: boolean, working: Frame, y: Uint8Array, cids: Int32Array | null, windows: readonly number[],
  early: readonly WindowEstimate[], engines: EngineSet, corrected: boolean): AnalysisResult['plot'] {
  // The paper's plot calls cv_prauc without cluster ids; the corrected procedure keeps them.
  const plotCids = corrected ? cids : null;
  let sub = working;
  let full: number;
  let rows: Array<{ T: number; pa: number | null; lo: number | null; hi: number | null }>;
  let source: NonNullable<AnalysisResult['plot']>['source'];
  let chanceY = y;
  const subset = engines.prefinalSubset(working, y, cids);
  const pfc = fullColumns(working, true);
  if (prefinalActive) {
    full = engines.get(working, y, plotCids).point(fullColumns(working)).prauc;
    rows = early.map((e) => ({ T: e.T, pa: e.prauc, lo: e.lo, hi: e.hi }));
    source = 'prefinal';
  } else if (subset !== null && pfc.length > 0 && subset.frame.nRows >= 10) {
    sub = subset.frame;
    chanceY = subset.y;
    const e = engines.get(sub, chanceY, corrected ? subset.cids : null);
    full = e.point(pfc).prauc;
    rows = [];
    for (const T of windows) {
      const pwc = windowColumns(sub, T, true);
      if (pwc.length === 0) continue;
      const est = estimate(e.withCi(pwc));
      rows.push({ T, pa: est.prauc, lo: est.lo, hi: est.hi });
    }
    source = 'prefinal';
  } else {
    full = engines.get(working, y, plotCids).point(fullColumns(working)).prauc;
    rows = early.map((e) => ({ T: e.T, pa: e.prauc, lo: e.lo, hi: e.hi }));
    source = 'regular (prefinal not available)';
  }
  const shown = rows.filter((r) => r.pa !== null);
  if (shown.length === 0) return null;
  const best = shown[firstMaxIndex(shown.map((r) => r.pa))]!;
  const lenCol = ['prefinal_len', 'preboxed_generated_len', 'generated_len', 'full_len'].find((c) => sub.has(c)) ?? null;
  const median = lenCol ? nanMedian(sub.numeric(lenCol)!) : Infinity;
  return {
    source,
    windows: shown.map((r) => r.T),
    early: shown.map((r) => r.pa),
    lo: shown.map((r) => r.lo),
    hi: shown.map((r) => r.hi),
    full: nanToNull(full),
    chance: sum(chanceY) / chanceY.length,
    marker: best.T < median ? { T: best.T, prauc: best.pa! } : null,
    medianLength: Number.isFinite(median) ? median : null,
  };
}

/** The rows of a frame with a prefinal length > 0 (Section 3's ablation and the plot's prefinal fallback). */
interface PrefinalSubset {
  readonly lengthColumn: string;
  readonly frame: Frame;
  readonly y: Uint8Array;
  /** The parent's cluster ids of these rows (not re-derived, as in the paper). */
  readonly cids: Int32Array | null;
}

/**
 * The solver a mode uses unless told otherwise. Paper mode stops the LR where sklearn ≥ 1.4's lbfgs stops it: that
 * reproduces every figure of the 7 published reports exactly (the exact optimum is off in the 4th decimal, and by
 * 0.13 in lcb_gemma4-31b's T=1024 p). Corrected mode keeps the exact optimum (SPEC §3.5).
 */
export function defaultSolver(mode: AnalysisMode): LrSolver {
  return mode === 'paper' ? 'lbfgs-sklearn' : 'newton';
}

/** One CvEngine per (frame, fold scheme), so identical CVs across sections are computed once. */
class EngineSet {
  private readonly engines: Array<{ frame: Frame; groups: Int32Array | null; engine: CvEngine }> = [];
  private readonly subsets = new Map<Frame, PrefinalSubset | null>();
  constructor(private readonly nBoot: number, private readonly corrected: boolean, private readonly solver: LrSolver) {}

  prefinalSubset(frame: Frame, y: Uint8Array, cids: Int32Array | null): PrefinalSubset | null {
    if (this.subsets.has(frame)) return this.subsets.get(frame)!;
    const lengthColumn = prefinalLengthColumn(frame);
    let subset: PrefinalSubset | null = null;
    if (lengthColumn !== null) {
      const valid = positiveRows(frame.numeric(lengthColumn)!);
      subset = { lengthColumn, frame: frame.selectRows(valid), y: pick(y, valid), cids: cids ? pickInt(cids, valid) : null };
    }
    this.subsets.set(frame, subset);
    return subset;
  }

  get(frame: Frame, y: Uint8Array, groups: Int32Array | null): CvEngine {
    const hit = this.engines.find((e) => e.frame === frame && e.groups === groups);
    if (hit) return hit.engine;
    const engine = new CvEngine(frame, y, { groups, corrected: this.corrected, nBoot: this.nBoot, solver: this.solver });
    this.engines.push({ frame, groups, engine });
    return engine;
  }
}

function resolveWindows(df: Frame, requested: readonly number[] | undefined, file: string): number[] {
  if (requested && requested.length > 0) {
    for (const T of requested) {
      if (!Number.isInteger(T) || T <= 0) throw new FailmodeError(`Expected --windows to be positive integers, got ${T}`);
      const has = BASE_FEATURES.some((f) => df.has(`${f}_w${T}`) || df.has(`${f}_prefinal_w${T}`));
      if (!has) {
        const found = detectWindows(df);
        throw new FailmodeError(`--windows ${T}: ${file} has no feature columns for window T=${T} (expected e.g. \`entropy_mean_w${T}\`; windows present: ${found.length ? found.join(', ') : 'none'})`);
      }
    }
    return [...requested];
  }
  const found = detectWindows(df);
  if (found.length === 0) throw new FailmodeError(`${file} has no window columns (names ending in \`_w{T}\`, e.g. \`entropy_mean_w128\`); pass --windows or use a results table with early-window features`);
  return found;
}

function estimate(c: CvNumbers): CvEstimate {
  return { prauc: nanToNull(c.prauc), lo: nanToNull(c.lo), hi: nanToNull(c.hi), auroc: nanToNull(c.auroc) };
}

function deltaEstimate(d: { mean: number; lo: number; hi: number; pGreater: number } | null): DeltaEstimate | null {
  if (!d) return null;
  return { mean: d.mean, lo: d.lo, hi: d.hi, pGreater: d.pGreater, verdict: deltaVerdict(d.mean, d.lo, d.hi, d.pGreater) };
}

function nanToNull(x: number): number | null {
  return Number.isNaN(x) ? null : x;
}

function sum(y: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i]!;
  return s;
}

/** Rows whose value is > 0 (NaN is not). */
function positiveRows(v: Float64Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < v.length; i++) if (v[i]! > 0) out.push(i);
  return out;
}

function pick(y: Uint8Array, rows: readonly number[]): Uint8Array {
  const out = new Uint8Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = y[rows[k]!]!;
  return out;
}

function pickInt(v: Int32Array, rows: readonly number[]): Int32Array {
  const out = new Int32Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = v[rows[k]!]!;
  return out;
}

/** pandas `Series.mean()` (NaN skipped; NaN when nothing is left). */
function nanMean(v: Float64Array): number {
  let s = 0;
  let k = 0;
  for (let i = 0; i < v.length; i++) if (!Number.isNaN(v[i]!)) { s += v[i]!; k++; }
  return k === 0 ? NaN : s / k;
}

/** pandas `Series.median()` (NaN skipped). */
function nanMedian(v: Float64Array): number {
  const xs = Array.from(v).filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (xs.length === 0) return NaN;
  const m = xs.length >> 1;
  return xs.length % 2 ? xs[m]! : (xs[m - 1]! + xs[m]!) / 2;
}
