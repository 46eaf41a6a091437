import { fitLogisticRegressionLbfgs } from '../models/lbfgs-paper.ts';
import { fitLogisticRegression, predictProba } from '../models/logistic-regression.ts';
import { applyStandardizer, fitStandardizer } from '../models/standardizer.ts';
import { bootstrapPrAuc } from './bootstrap.ts';
import { groupKFold, stratifiedKFold } from './folds.ts';
import { columnMedian } from './impute.ts';
import { averagePrecision, rocAuc } from './metrics.ts';

/**
 * The paper's cross-validated logistic-regression scores (SPEC §3.5 `cv_oof_scores` / `cv_prauc`): median fill →
 * per-fold standardise → balanced L2 logistic regression → out-of-fold P(failure).
 */

/** The paper's MIN_FAIL: fewer failures than this → no estimate. */
export const MIN_FAILURES = 5;

export interface CvOptions {
  /** Cluster id per row → GroupKFold(nSplits) instead of StratifiedKFold(nSplits, shuffle, seed). */
  groups?: Int32Array | null;
  /** false (paper): medians over ALL rows passed in; true: medians from each training fold (SPEC §6.3 item 11). */
  correctedImpute?: boolean;
  nSplits?: number;
  /** StratifiedKFold random_state (default 42). */
  seed?: number;
  /**
   * 'newton' (default): the exact optimum (= sklearn 1.2.1, SPEC §3.5). 'lbfgs-sklearn': stopped where sklearn ≥ 1.4's
   * lbfgs stops (tol 1e-4 on the Σs-scaled objective), which is what the published reports' digits come from.
   */
  solver?: LrSolver;
}

export type LrSolver = 'newton' | 'lbfgs-sklearn';
export const LR_SOLVERS: readonly LrSolver[] = ['newton', 'lbfgs-sklearn'];

export interface OofResult {
  /** Concatenated in fold order (what cv_prauc scores and bootstraps). */
  pooledScores: Float64Array;
  pooledY: Uint8Array;
  pooledRows: Int32Array;
  /** The same predictions in original row order, rows of skipped folds removed (cv_oof_scores). */
  rowScores: Float64Array;
  rowY: Uint8Array;
  rows: Int32Array;
}

/**
 * Out-of-fold scores of a logistic regression on `columns` (one Float64Array per feature, NaN = missing).
 * null when there are no columns, fewer than 5 failures (y = 1), or no fold could be scored. A fold is skipped when its
 * training part is single-class or its validation part has no failure. A column whose fill value is NaN (all
 * missing) is treated as a constant, i.e. it has no effect (the paper's sklearn would raise instead).
 */
export function crossValidatedScores(columns: readonly Float64Array[], y: Uint8Array, opts: CvOptions = {}): OofResult | null {
  const p = columns.length;
  if (p === 0) return null;
  const n = y.length;
  for (const [j, col] of columns.entries()) {
    if (col.length !== n) throw new RangeError(`crossValidatedScores: column ${j} has ${col.length} values for ${n} labels`);
  }
  if (opts.groups && opts.groups.length !== n) throw new RangeError(`crossValidatedScores: ${opts.groups.length} group ids for ${n} labels`);
  let nPos = 0;
  for (let i = 0; i < n; i++) nPos += y[i]!;
  if (nPos < MIN_FAILURES) return null;
  const k = opts.nSplits ?? 5;
  const folds = opts.groups ? groupKFold(opts.groups, k) : stratifiedKFold(y, k, opts.seed ?? 42);

  const globalFill = opts.correctedImpute ? null : columns.map((c) => columnMedian(c));
  const pooledScores = new Float64Array(n), pooledY = new Uint8Array(n), pooledRows = new Int32Array(n);
  const rowScore = new Float64Array(n).fill(NaN);
  let pooled = 0;
  const { train, val, Xtr, Xva, ytr, prob } = scratch(n, p);
  const fitLr = opts.solver === 'lbfgs-sklearn' ? fitLogisticRegressionLbfgs : fitLogisticRegression;

  for (let f = 0; f < k; f++) {
    let nTr = 0, nVa = 0, posTr = 0, posVa = 0;
    for (let i = 0; i < n; i++) {
      if (folds[i] === f) {
        val[nVa++] = i;
        posVa += y[i]!;
      } else {
        ytr[nTr] = y[i]!;
        train[nTr++] = i;
        posTr += y[i]!;
      }
    }
    if (posTr === 0 || posTr === nTr || posVa === 0) continue;
    const trRows = train.subarray(0, nTr), vaRows = val.subarray(0, nVa);
    const fill = globalFill ?? columns.map((c) => columnMedian(c, trRows));
    fillMatrix(columns, fill, trRows, Xtr);
    fillMatrix(columns, fill, vaRows, Xva);
    const st = fitStandardizer(Xtr, nTr, p);
    applyStandardizer(st, Xtr, nTr, p, Xtr);
    applyStandardizer(st, Xva, nVa, p, Xva);
    const fit = fitLr(Xtr, nTr, p, ytr.subarray(0, nTr));
    predictProba(fit, Xva, nVa, p, prob);
    for (let v = 0; v < nVa; v++) {
      const i = vaRows[v]!;
      pooledScores[pooled] = prob[v]!;
      pooledY[pooled] = y[i]!;
      pooledRows[pooled++] = i;
      rowScore[i] = prob[v]!;
    }
  }
  if (pooled === 0) return null;
  const rows = Int32Array.from(pooledRows.subarray(0, pooled)).sort();
  const rowScores = new Float64Array(pooled), rowY = new Uint8Array(pooled);
  for (let r = 0; r < pooled; r++) {
    rowScores[r] = rowScore[rows[r]!]!;
    rowY[r] = y[rows[r]!]!;
  }
  return {
    pooledScores: pooledScores.slice(0, pooled), pooledY: pooledY.slice(0, pooled), pooledRows: pooledRows.slice(0, pooled),
    rowScores, rowY, rows,
  };
}

// Per-fold work buffers, reused across calls (a report runs hundreds of CVs).
let buffers = { n: 0, np: 0, train: new Int32Array(0), val: new Int32Array(0), ytr: new Uint8Array(0), prob: new Float64Array(0), Xtr: new Float64Array(0), Xva: new Float64Array(0) };
function scratch(n: number, p: number): typeof buffers {
  if (buffers.n < n || buffers.np < n * p) {
    const N = Math.max(n, buffers.n), NP = Math.max(n * p, buffers.np);
    buffers = {
      n: N, np: NP, train: new Int32Array(N), val: new Int32Array(N), ytr: new Uint8Array(N), prob: new Float64Array(N),
      Xtr: new Float64Array(NP), Xva: new Float64Array(NP),
    };
  }
  return buffers;
}

/** Row-major matrix of the given rows, NaN replaced by the column's fill value (0 if that is NaN too). */
function fillMatrix(columns: readonly Float64Array[], fill: readonly number[], rows: Int32Array, out: Float64Array): void {
  const p = columns.length;
  for (let j = 0; j < p; j++) {
    const col = columns[j]!;
    const fj = fill[j]!;
    const allMissing = fj !== fj;
    for (let r = 0; r < rows.length; r++) {
      const v = col[rows[r]!]!;
      out[r * p + j] = allMissing ? 0 : v === v ? v : fj;
    }
  }
}

export interface CvPrAucOptions extends CvOptions {
  /** Bootstrap resamples (default 10 000). */
  nBoot?: number;
  /** false: skip the bootstrap (lo/hi NaN). */
  ci?: boolean;
  /** Bootstrap seed (default 42). */
  bootSeed?: number;
  /** Cluster id per row of the input, for a cluster bootstrap of the CI. */
  clusters?: Int32Array | null;
  /**
   * false (paper, SPEC §6.3 item 16): the ids are used in ROW order against the FOLD-ordered pooled predictions, and only
   * when no fold was skipped (otherwise the lengths differ and the paper silently falls back to the i.i.d. bootstrap).
   * true: ids aligned to the pooled predictions.
   */
  correctedClusters?: boolean;
}

/** The paper's `cv_prauc`: pooled OOF PR-AUC, its bootstrap 95% CI, and AUROC; NaN where the paper gives NaN. */
export function cvPrAuc(
  columns: readonly Float64Array[], y: Uint8Array, opts: CvPrAucOptions = {},
): { prauc: number; lo: number; hi: number; auroc: number; oof: OofResult | null } {
  const oof = crossValidatedScores(columns, y, opts);
  if (oof === null) return { prauc: NaN, lo: NaN, hi: NaN, auroc: NaN, oof: null };
  const prauc = averagePrecision(oof.pooledY, oof.pooledScores);
  if (prauc !== prauc) return { prauc: NaN, lo: NaN, hi: NaN, auroc: NaN, oof };
  const auroc = rocAuc(oof.pooledY, oof.pooledScores);
  if (opts.ci === false) return { prauc, lo: NaN, hi: NaN, auroc, oof };
  let clusters: Int32Array | null = null;
  if (opts.clusters) {
    if (opts.clusters.length !== y.length) throw new RangeError(`cvPrAuc: ${opts.clusters.length} cluster ids for ${y.length} rows`);
    if (opts.correctedClusters) clusters = Int32Array.from(oof.pooledRows, (i) => opts.clusters![i]!);
    else if (opts.clusters.length === oof.pooledScores.length) clusters = opts.clusters;
  }
  const b = bootstrapPrAuc(oof.pooledY, oof.pooledScores, { nBoot: opts.nBoot ?? 10000, seed: opts.bootSeed ?? 42, clusters });
  return { prauc, lo: b.lo, hi: b.hi, auroc, oof };
}
