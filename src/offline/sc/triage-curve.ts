/**
 * Analysis 3 — selective SC / triage operating curve (SPEC-SC §4): rank questions by the risk of their single
 * completion, skip SC on the k % lowest-risk ones, and count the SC failures that skipping would miss.
 */

/** The paper's skip grid 0, 5, …, 95 %. */
export const SKIP_GRID: readonly number[] = Array.from({ length: 20 }, (_, i) => i * 5);
/** Skip rates the paper's triage table and rebuttal table report. */
export const PAPER_SKIP_POINTS: readonly number[] = [20, 30, 45, 50];
/** "Skip to catch ≥ 90 %" target recall. */
export const TARGET_RECALL = 0.9;

/**
 * What to do with a question whose risk is NaN (its feature columns are empty) [SPEC-SC U: NaN ordering]:
 * `riskiest` ranks it above every scored question (never skipped before them; the safe choice for triage),
 * `drop` leaves it out of the analysis.
 */
export type NanRisk = 'riskiest' | 'drop';
export const NAN_RISKS: readonly NanRisk[] = ['riskiest', 'drop'];

export interface TriagePoint {
  readonly skipPct: number;
  readonly nSkip: number;
  /** SC failures among the skipped questions. */
  readonly nMissed: number;
  readonly nCaught: number;
  /** n_caught / F (NaN when F = 0). */
  readonly recall: number;
  /** Share of skipped questions SC gets right anyway; 1 when nothing is skipped. */
  readonly precision: number;
}

export interface TriageCurve {
  readonly n: number;
  readonly failures: number;
  readonly nanCount: number;
  readonly points: readonly TriagePoint[];
  /** Largest grid skip rate with recall ≥ 0.90, and the failures it misses; null when no point reaches it. */
  readonly skipFor90: { readonly skipPct: number; readonly nMissed: number } | null;
}

/**
 * Builds the curve. `risk[i]` is question i's risk (higher = riskier), `scFail[i]` 1 for an SC failure.
 * Ties keep question order (stable sort) [SPEC-SC U: tie ordering]. n_skip = ⌊N·k/100⌋.
 */
export function triageCurve(risk: ArrayLike<number>, scFail: ArrayLike<number>, nanRisk: NanRisk = 'riskiest', grid: readonly number[] = SKIP_GRID): TriageCurve {
  if (risk.length !== scFail.length) throw new RangeError(`risk and scFail lengths differ (${risk.length} vs ${scFail.length})`);
  let nanCount = 0;
  const order: number[] = [];
  for (let i = 0; i < risk.length; i++) {
    if (Number.isNaN(risk[i]!)) {
      nanCount++;
      if (nanRisk === 'drop') continue;
    }
    order.push(i);
  }
  const key = (i: number) => (Number.isNaN(risk[i]!) ? Infinity : risk[i]!);
  // NaN-as-Infinity sorts after every scored question but ties with a real +Infinity keep question order.
  order.sort((a, b) => key(a) - key(b) || (Number.isNaN(risk[a]!) ? 1 : 0) - (Number.isNaN(risk[b]!) ? 1 : 0) || a - b);
  const n = order.length;
  let failures = 0;
  for (const i of order) failures += scFail[i]! ? 1 : 0;
  // missedBefore[m] = SC failures among the m lowest-risk questions.
  const missedBefore = new Int32Array(n + 1);
  for (let m = 0; m < n; m++) missedBefore[m + 1] = missedBefore[m]! + (scFail[order[m]!]! ? 1 : 0);
  const points: TriagePoint[] = grid.map((skipPct) => {
    const nSkip = Math.floor((n * skipPct) / 100);
    const nMissed = missedBefore[nSkip]!;
    const nCaught = failures - nMissed;
    return {
      skipPct,
      nSkip,
      nMissed,
      nCaught,
      recall: failures > 0 ? nCaught / failures : NaN,
      precision: nSkip === 0 ? 1 : (nSkip - nMissed) / nSkip,
    };
  });
  let skipFor90: TriageCurve['skipFor90'] = null;
  for (const p of points) if (p.recall >= TARGET_RECALL && (skipFor90 === null || p.skipPct > skipFor90.skipPct)) skipFor90 = { skipPct: p.skipPct, nMissed: p.nMissed };
  return { n, failures, nanCount, points, skipFor90 };
}
