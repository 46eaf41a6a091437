import { bootstrapPrAuc, deltaCi } from '../bootstrap.ts';
import { crossValidatedScores, MIN_FAILURES, type LrSolver, type OofResult } from '../cv-lr.ts';
import type { Frame } from '../frame.ts';
import { averagePrecision, rocAuc } from '../metrics.ts';

export interface CvEngineOptions {
  /** Cluster ids of the frame's rows (GroupKFold + cluster bootstrap), or null for StratifiedKFold + i.i.d. */
  readonly groups: Int32Array | null;
  /**
   * false = the paper's procedure: whole-frame medians, and cv_prauc's CI gets the cluster ids in row order while the
   * pooled predictions are in fold order (and falls back to i.i.d. when a fold was skipped). true = SPEC §6.3 fixed:
   * training-fold medians, cluster ids permuted into the pooled order.
   */
  readonly corrected: boolean;
  readonly nBoot: number;
  /** The CV's logistic-regression solver (cv-lr.ts CvOptions.solver); default 'newton'. */
  readonly solver?: LrSolver;
}

/** A cv_prauc result with NaN for undefined values. */
export interface CvNumbers {
  readonly prauc: number;
  readonly lo: number;
  readonly hi: number;
  readonly auroc: number;
}

export interface DeltaNumbers {
  readonly mean: number;
  readonly lo: number;
  readonly hi: number;
  readonly pGreater: number;
}

const NAN4: CvNumbers = { prauc: NaN, lo: NaN, hi: NaN, auroc: NaN };

/**
 * The paper's cv_prauc / cv_oof_scores / delta_ci over one frame and one fold scheme, memoised per column set: the
 * sections ask for the same CVs again and again (Section 5 = Section 2, 2b = 2a, Section 4's full columns…), and
 * a bootstrap is only run when a printed CI asks for it.
 */
export class CvEngine {
  readonly frame: Frame;
  readonly y: Uint8Array;
  readonly failures: number;
  private readonly opts: CvEngineOptions;
  private readonly oofCache = new Map<string, OofResult | null>();
  private readonly ciCache = new Map<string, CvNumbers>();

  constructor(frame: Frame, y: Uint8Array, opts: CvEngineOptions) {
    if (y.length !== frame.nRows) throw new RangeError(`Expected ${frame.nRows} labels, got ${y.length}`);
    if (opts.groups && opts.groups.length !== frame.nRows) throw new RangeError(`Expected ${frame.nRows} cluster ids, got ${opts.groups.length}`);
    this.frame = frame;
    this.y = y;
    this.opts = opts;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i]!;
    this.failures = s;
  }

  get clustered(): boolean {
    return this.opts.groups !== null;
  }

  /** Out-of-fold scores of a CV-LR on these columns; null when no column exists or there are fewer than 5 failures. */
  oof(cols: readonly string[]): OofResult | null {
    const key = cols.join('\u0000');
    if (this.oofCache.has(key)) return this.oofCache.get(key)!;
    let result: OofResult | null = null;
    const present = cols.filter((c) => this.frame.has(c));
    if (present.length > 0 && this.failures >= MIN_FAILURES) {
      const columns = present.map((c) => this.frame.numeric(c)!);
      result = crossValidatedScores(columns, this.y, {
        groups: this.opts.groups, correctedImpute: this.opts.corrected, nSplits: 5, seed: 42, solver: this.opts.solver,
      });
    }
    this.oofCache.set(key, result);
    return result;
  }

  /** cv_prauc's PR-AUC and AUROC of the pooled (fold-ordered) predictions, no CI. */
  point(cols: readonly string[]): CvNumbers {
    const oof = this.oof(cols);
    if (!oof || !hasPositive(oof.pooledY)) return NAN4;
    return { prauc: averagePrecision(oof.pooledY, oof.pooledScores), lo: NaN, hi: NaN, auroc: rocAuc(oof.pooledY, oof.pooledScores) };
  }

  /** cv_prauc with its bootstrap CI (the bootstrap's mean is discarded, as in the paper). */
  withCi(cols: readonly string[]): CvNumbers {
    const key = cols.join('\u0000');
    const cached = this.ciCache.get(key);
    if (cached) return cached;
    const p = this.point(cols);
    let result = p;
    const oof = this.oof(cols);
    if (oof && !Number.isNaN(p.prauc)) {
      const ci = bootstrapPrAuc(oof.pooledY, oof.pooledScores, { nBoot: this.opts.nBoot, seed: 42, clusters: this.ciClusters(oof) });
      result = { ...p, lo: ci.lo, hi: ci.hi };
    }
    this.ciCache.set(key, result);
    return result;
  }

  /** Number of row-ordered OOF scores (cv_oof_scores' length), 0 when none. */
  oofCount(cols: readonly string[]): number {
    return this.oof(cols)?.rowScores.length ?? 0;
  }

  /**
   * delta_ci(early, full) on the row-ordered OOF scores with the kept rows' cluster ids (aligned in both modes: the
   * paper passes cv_oof_scores' ids here). null when either side has no scores or their lengths differ.
   */
  delta(earlyCols: readonly string[], fullCols: readonly string[]): DeltaNumbers | null {
    const e = this.oof(earlyCols);
    const f = this.oof(fullCols);
    if (!e || !f || e.rowScores.length !== f.rowScores.length) return null;
    const clusters = this.opts.groups ? gather(this.opts.groups, f.rows) : null;
    const d = deltaCi(f.rowY, e.rowScores, f.rowScores, { nBoot: this.opts.nBoot, seed: 42, clusters });
    if (Number.isNaN(d.mean)) return null;
    return { mean: d.mean, lo: d.lo, hi: d.hi, pGreater: d.pGreater };
  }

  /** The cluster ids cv_prauc hands to its bootstrap. */
  private ciClusters(oof: OofResult): Int32Array | null {
    const groups = this.opts.groups;
    if (!groups) return null;
    if (this.opts.corrected) return gather(groups, oof.pooledRows);
    // Paper: ids of every row in row order (the validation mask covers all rows), silently ignored when a skipped
    // fold makes the lengths differ; when they match they are misaligned with the fold-ordered predictions.
    return groups.length === oof.pooledY.length ? groups : null;
  }
}

function hasPositive(y: Uint8Array): boolean {
  for (let i = 0; i < y.length; i++) if (y[i] === 1) return true;
  return false;
}

function gather(values: Int32Array, rows: Int32Array): Int32Array {
  const out = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = values[rows[i]!]!;
  return out;
}
