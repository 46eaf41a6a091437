import { percentileLinear } from '../metrics.ts';

/**
 * Analysis 1 — direct agreement with the SC verdict (SPEC-SC §2): flag a question as "predicted SC failure" when
 * its score is ≥ the p-th percentile of the scores, for p = 5 … 95, and compare the flags with SC's verdict.
 */

export const SWEEP_PERCENTILES: readonly number[] = Array.from({ length: 19 }, (_, i) => 5 * (i + 1));

export interface SweepRow {
  readonly percentile: number;
  readonly threshold: number;
  readonly nFlagged: number;
  /** 100 · flagged / N. */
  readonly pctFlagged: number;
  /** Confusion vs SC: positive = SC failure. */
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly tn: number;
  readonly accuracy: number;
  readonly kappa: number;
  /** FP / #SC-correct ("SC correct but flagged"). */
  readonly falseAlarm: number;
  /** FN / #SC-failures. */
  readonly missedFail: number;
}

export interface AgreementSweep {
  readonly n: number;
  readonly failures: number;
  /** Questions whose score was NaN (they count as flagged at every threshold; see NanRisk). */
  readonly nanCount: number;
  readonly rows: readonly SweepRow[];
  /** The κ-maximising row (first in percentile order on ties); null when no κ is defined. */
  readonly best: SweepRow | null;
  /** Accuracy of "always predict SC correct" = C / N. */
  readonly baselineAccuracy: number;
  /** best.accuracy − baseline. */
  readonly lift: number;
  /** The 10 rows with the largest κ, descending (stable: percentile order among equal κ). */
  readonly top10: readonly SweepRow[];
}

/**
 * Cohen's κ of a 2×2 table: (p_o − p_e) / (1 − p_e), p_e from the marginals. NaN when p_e = 1 (both raters
 * constant and equal), as sklearn's 0/0.
 */
export function cohenKappa(tp: number, fp: number, fn: number, tn: number): number {
  const n = tp + fp + fn + tn;
  if (n === 0) return NaN;
  const po = (tp + tn) / n;
  const pe = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / (n * n);
  if (pe === 1) return NaN;
  return (po - pe) / (1 - pe);
}

/**
 * Runs the sweep. `score[i]` higher = more likely an SC failure; NaN scores are flagged at every threshold (a
 * question we cannot score is treated as risky) and thresholds are percentiles of the finite scores (numpy
 * linear interpolation). Callers that drop NaN questions do so before calling.
 */
export function agreementSweep(score: ArrayLike<number>, scFail: ArrayLike<number>, percentiles: readonly number[] = SWEEP_PERCENTILES): AgreementSweep {
  const n = score.length;
  if (scFail.length !== n) throw new RangeError(`score and scFail lengths differ (${n} vs ${scFail.length})`);
  const finite: number[] = [];
  let failures = 0;
  let nanCount = 0;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(score[i]!)) nanCount++;
    else finite.push(score[i]!);
    if (scFail[i]) failures++;
  }
  const sorted = Float64Array.from(finite).sort();
  const correct = n - failures;
  const rows: SweepRow[] = percentiles.map((p) => {
    const threshold = sorted.length > 0 ? percentileLinear(sorted, p) : NaN;
    let tp = 0, fp = 0, fn = 0, tn = 0;
    for (let i = 0; i < n; i++) {
      const s = score[i]!;
      const flagged = Number.isNaN(s) || s >= threshold;
      if (scFail[i]) flagged ? tp++ : fn++;
      else flagged ? fp++ : tn++;
    }
    return {
      percentile: p,
      threshold,
      nFlagged: tp + fp,
      pctFlagged: n > 0 ? (100 * (tp + fp)) / n : NaN,
      tp, fp, fn, tn,
      accuracy: n > 0 ? (tp + tn) / n : NaN,
      kappa: cohenKappa(tp, fp, fn, tn),
      falseAlarm: correct > 0 ? fp / correct : NaN,
      missedFail: failures > 0 ? fn / failures : NaN,
    };
  });
  let best: SweepRow | null = null;
  for (const r of rows) if (!Number.isNaN(r.kappa) && (best === null || r.kappa > best.kappa)) best = r;
  const baselineAccuracy = n > 0 ? correct / n : NaN;
  const top10 = rows
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => !Number.isNaN(r.kappa))
    .sort((a, b) => b.r.kappa - a.r.kappa || a.i - b.i)
    .slice(0, 10)
    .map(({ r }) => r);
  return { n, failures, nanCount, rows, best, baselineAccuracy, lift: best ? best.accuracy - baselineAccuracy : NaN, top10 };
}
