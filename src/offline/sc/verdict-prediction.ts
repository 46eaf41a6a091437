import { averagePrecision, rocAuc } from '../metrics.ts';
import { prEstimate, nanAsRiskiest, type PrEstimate } from './pr-estimate.ts';
import type { NanRisk } from './triage-curve.ts';

/**
 * Analysis 2 (SPEC-SC §3): how well the single completion's score predicts (A) SC's verdict and (B) its own true
 * failure, and how much of the oracle's lift (p_correct, which knows all k completions) it captures.
 */
export interface VerdictPrediction {
  /** Target A: y = SC failure. */
  readonly scVerdict: PrEstimate;
  /** Target B: y = the representative completion is wrong; null when not supported. */
  readonly trueFailure: PrEstimate | null;
  /** PR-AUC(A) − PR-AUC(B). */
  readonly gap: number;
  /** Score 1 − p_correct against target A. */
  readonly oracle: { readonly prauc: number; readonly auroc: number };
  /** (PR-AUC_A − base_A) / (PR-AUC_oracle − base_A) · 100. */
  readonly oracleSharePct: number;
  readonly interpretation: string;
  readonly droppedNan: number;
}

export interface VerdictPredictionInput {
  readonly score: Float64Array;
  readonly scFail: Uint8Array;
  readonly repCorrect: Float64Array;
  readonly pCorrect: Float64Array;
  readonly nanRisk: NanRisk;
  readonly nBoot: number;
  readonly seed: number;
  readonly trueFailureSupported: boolean;
}

export function predictScVerdict(x: VerdictPredictionInput): VerdictPrediction {
  const rows: number[] = [];
  let droppedNan = 0;
  for (let j = 0; j < x.score.length; j++) {
    if (x.nanRisk === 'drop' && Number.isNaN(x.score[j]!)) { droppedNan++; continue; }
    rows.push(j);
  }
  const s = nanAsRiskiest(rows.map((j) => x.score[j]!));
  const yA = Uint8Array.from(rows, (j) => x.scFail[j]!);
  // Question level: one row per question, so a row bootstrap already resamples whole questions.
  const scVerdict = prEstimate(yA, s, { nBoot: x.nBoot, seed: x.seed });

  let trueFailure: PrEstimate | null = null;
  if (x.trueFailureSupported) {
    const rb: number[] = [];
    for (let k = 0; k < rows.length; k++) if (!Number.isNaN(x.repCorrect[rows[k]!]!)) rb.push(k);
    trueFailure = prEstimate(Uint8Array.from(rb, (k) => (x.repCorrect[rows[k]!] === 0 ? 1 : 0)), Float64Array.from(rb, (k) => s[k]!), { nBoot: x.nBoot, seed: x.seed });
  }
  const oracleScore = Float64Array.from(rows, (j) => 1 - x.pCorrect[j]!);
  const oracle = { prauc: averagePrecision(yA, oracleScore), auroc: rocAuc(yA, oracleScore) };
  const oracleSharePct = ((scVerdict.prauc - scVerdict.baseline) / (oracle.prauc - scVerdict.baseline)) * 100;
  const gap = trueFailure ? scVerdict.prauc - trueFailure.prauc : NaN;
  const interpretation = trueFailure === null
    ? 'true-failure comparison not available'
    : gap >= 0
      ? `the score predicts SC's verdict at least as well as true single-completion failure (gap ${fmt(gap)})`
      : `the score predicts true single-completion failure better than SC's verdict (gap ${fmt(gap)}): it tracks this completion's correctness, not the vote`;
  return { scVerdict, trueFailure, gap, oracle, oracleSharePct, interpretation, droppedNan };
}

function fmt(v: number): string {
  return `${v >= 0 ? '+' : ''}${v.toFixed(4)}`;
}
