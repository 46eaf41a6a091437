import { averagePrecision, rocAuc } from '../metrics.ts';
import { bootstrapPrAuc } from '../bootstrap.ts';

/** PR-AUC of a ranking score against a 0/1 label, with AUROC, prevalence baseline and a bootstrap CI. */
export interface PrEstimate {
  readonly n: number;
  readonly positives: number;
  readonly prauc: number;
  readonly auroc: number;
  /** Prevalence of the label (PR-AUC of a random ranking). */
  readonly baseline: number;
  readonly lift: number;
  /** 95 % percentile bootstrap CI (NaN when nBoot = 0). */
  readonly lo: number;
  readonly hi: number;
  /** Whether the CI resampled whole clusters (questions) rather than rows. */
  readonly clustered: boolean;
}

export interface PrEstimateOptions {
  readonly nBoot: number;
  readonly seed?: number;
  /** Cluster id per row: all rows of a cluster are resampled together. null = i.i.d. rows. */
  readonly clusters?: Int32Array | null;
}

/**
 * Scores each row by `score` (higher = more likely label 1) — no classifier, the signal itself is the ranking
 * (SPEC-SC §3, §5). NaN scores must be resolved by the caller.
 */
export function prEstimate(y: Uint8Array, score: Float64Array, opts: PrEstimateOptions): PrEstimate {
  let positives = 0;
  for (let i = 0; i < y.length; i++) positives += y[i]!;
  const prauc = averagePrecision(y, score);
  const baseline = y.length > 0 ? positives / y.length : NaN;
  let lo = NaN;
  let hi = NaN;
  if (opts.nBoot > 0 && positives > 0 && positives < y.length) {
    const ci = bootstrapPrAuc(y, score, { nBoot: opts.nBoot, seed: opts.seed ?? 42, clusters: opts.clusters ?? null });
    lo = ci.lo;
    hi = ci.hi;
  }
  return { n: y.length, positives, prauc, auroc: rocAuc(y, score), baseline, lift: prauc - baseline, lo, hi, clustered: !!opts.clusters };
}

/**
 * Replaces NaN scores by a value above every finite score (the "riskiest" rule: an unscorable item is ranked as
 * most likely to fail). Returns a copy.
 */
export function nanAsRiskiest(score: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(score);
  let max = -Infinity;
  for (const v of out) if (Number.isFinite(v) && v > max) max = v;
  const top = Number.isFinite(max) ? max + 1 : 0;
  for (let i = 0; i < out.length; i++) if (Number.isNaN(out[i]!)) out[i] = top;
  return out;
}
