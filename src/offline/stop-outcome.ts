/**
 * What a whole live stop rule does to a set of samples, and the oracle limit (pure arithmetic).
 *
 * Rule: thresholds θ_w per early window T_w (+∞ or NaN: never stop there). A sample is stopped at the FIRST window
 * w where it is still running (stop length > T_w) and its risk r_w ≥ θ_w (a NaN risk never stops). Then
 *
 *   false-kill rate = #correct samples stopped / #correct samples      (the votes a self-consistency user loses)
 *   precision       = #failures stopped / #stopped                     (NaN when nothing is stopped)
 *   recall          = #failures stopped / #failures
 *   tokens saved    = Σ_{stopped} (fullLen − T_stop) / Σ_{all} fullLen
 *
 * Oracle: every failure stopped at the first window where it is still running, nothing else: the most any rule on
 * these windows can save without killing a correct sample.
 */
import { runningAt, type StopData, type WindowRisks } from '../models/stop-data.ts';

/** Counts of a stop rule on some samples (additive: counts of disjoint folds add up). */
export interface StopCounts {
  readonly n: number;
  readonly failures: number;
  readonly stopped: number;
  readonly stoppedFailures: number;
  /** Σ fullLen − T_stop over stopped samples. */
  readonly savedTokens: number;
  /** Σ fullLen over all samples. */
  readonly totalTokens: number;
}

/** The rates of a {@link StopCounts}. */
export interface StopRates {
  readonly saved: number;
  readonly falseKill: number;
  readonly precision: number;
  readonly recall: number;
  readonly stopShare: number;
}

export const ZERO_COUNTS: StopCounts = { n: 0, failures: 0, stopped: 0, stoppedFailures: 0, savedTokens: 0, totalTokens: 0 };

export function addCounts(a: StopCounts, b: StopCounts): StopCounts {
  return {
    n: a.n + b.n, failures: a.failures + b.failures, stopped: a.stopped + b.stopped, stoppedFailures: a.stoppedFailures + b.stoppedFailures,
    savedTokens: a.savedTokens + b.savedTokens, totalTokens: a.totalTokens + b.totalTokens,
  };
}

export function stopRates(c: StopCounts): StopRates {
  const correct = c.n - c.failures;
  return {
    saved: c.totalTokens > 0 ? c.savedTokens / c.totalTokens : NaN,
    falseKill: correct > 0 ? (c.stopped - c.stoppedFailures) / correct : NaN,
    precision: c.stopped > 0 ? c.stoppedFailures / c.stopped : NaN,
    recall: c.failures > 0 ? c.stoppedFailures / c.failures : NaN,
    stopShare: c.n > 0 ? c.stopped / c.n : NaN,
  };
}

/**
 * The rule's outcome on `rows` (risks[w][k] belongs to rows[k]). Returns the counts and, per row, the window index it
 * was stopped at (−1: not stopped).
 */
export function applyStopRule(data: StopData, rows: ArrayLike<number>, risks: WindowRisks, thresholds: ArrayLike<number>): { counts: StopCounts; stoppedAt: Int32Array } {
  const W = data.windows.length;
  if (risks.length !== W || thresholds.length !== W) throw new RangeError(`applyStopRule: ${W} windows, ${risks.length} risk arrays, ${thresholds.length} thresholds`);
  const stoppedAt = new Int32Array(rows.length).fill(-1);
  let failures = 0, stopped = 0, stoppedFailures = 0, saved = 0, total = 0;
  for (let k = 0; k < rows.length; k++) {
    const i = rows[k]!;
    const yi = data.y[i]!;
    failures += yi;
    const len = data.fullLen[i]!;
    if (Number.isFinite(len)) total += len;
    for (let w = 0; w < W; w++) {
      const T = data.windows[w]!;
      if (!runningAt(data, i, T)) break; // windows increase: not running at w → not at any later one
      const r = risks[w]![k]!;
      const th = thresholds[w]!;
      if (r === r && th === th && r >= th) {
        stoppedAt[k] = w;
        stopped++;
        stoppedFailures += yi;
        if (Number.isFinite(len)) saved += Math.max(0, len - T);
        break;
      }
    }
  }
  return { counts: { n: rows.length, failures, stopped, stoppedFailures, savedTokens: saved, totalTokens: total }, stoppedAt };
}

/** The oracle's counts on `rows`: every failure stopped at the first window it is still running at. */
export function oracleCounts(data: StopData, rows: ArrayLike<number>): StopCounts {
  let failures = 0, stopped = 0, saved = 0, total = 0;
  for (let k = 0; k < rows.length; k++) {
    const i = rows[k]!;
    const len = data.fullLen[i]!;
    if (Number.isFinite(len)) total += len;
    if (!data.y[i]) continue;
    failures++;
    const T = data.windows.find((t) => runningAt(data, i, t));
    if (T === undefined) continue;
    stopped++;
    if (Number.isFinite(len)) saved += Math.max(0, len - T);
  }
  return { n: rows.length, failures, stopped, stoppedFailures: stopped, savedTokens: saved, totalTokens: total };
}

/** 0, 1, …, n − 1. */
export function allRows(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}
