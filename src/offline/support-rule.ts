import type { InsufficientData } from '../models/model-file.ts';
import { MIN_FAILURES } from './cv-lr.ts';

/**
 * The one rule for how much data an estimate needs — `analyze`, `train`, `early-stop-eval`, `trajectory` and the
 * self-consistency analyses of `sc-triage` all apply it. Below it a command reports "insufficient data" with the
 * reason instead of a verdict computed from NaN PR-AUCs.
 *
 * - **≥ 5 of each class** (failures and correct rows): the paper's MIN_FAIL is 5 failures (fewer → no estimate), and
 *   the 5-fold stratified CV every estimate rests on needs one row of each class in every validation fold — and a
 *   PR-AUC or AUROC of a fold without both classes is undefined.
 * - **≥ 20 rows**: 5 folds of ≥ 4 validation rows each, and the 5 % grids of the SC analyses (20 questions = one
 *   question per 5 % step).
 * - **≥ 1 usable feature**: a feature column with at least two distinct finite values (an all-missing or constant
 *   column adds nothing to any score: the CV treats it as a constant).
 *
 * ## Example
 * `supportShortfall({n: 8, failures: 1, usableFeatures: 33})` → reason `8 rows (need ≥ 20); 1 failure (need ≥ 5)`.
 */

/** Smallest count of each class (failures and correct): the paper's MIN_FAIL, = the CV's 5 folds. */
export const MIN_CLASS = MIN_FAILURES;
/** Smallest number of rows (5 folds × 4 rows; one per 5 % step of the SC grids). */
export const MIN_ROWS = 20;
/** The verdict every command reports below the rule. */
export const INSUFFICIENT_DATA = 'insufficient data' as const;

/** What a result records when its data falls below the rule (the JSON field `insufficient`); declared with the model
 * file, which records it too (models sit below offline). */
export type { InsufficientData };

export interface SupportCounts {
  readonly n: number;
  readonly failures: number;
  /** Feature columns with at least two distinct finite values (see {@link usableFeatureCount}). */
  readonly usableFeatures: number;
}

/** Shortfalls of the two classes of a label, as reason phrases (empty when both reach `minClass`). */
export function classShortfalls(pos: number, neg: number, posName: string, negName: string, minClass = MIN_CLASS): string[] {
  const r: string[] = [];
  if (pos < minClass) r.push(`${pos} ${posName} (need ≥ ${minClass})`);
  if (neg < minClass) r.push(`${neg} ${negName} (need ≥ ${minClass})`);
  return r;
}

/** Shortfall of the row count, as a reason phrase (null when there are enough). */
export function rowShortfall(n: number, what: string, minRows = MIN_ROWS): string | null {
  return n < minRows ? `${n} ${what} (need ≥ ${minRows})` : null;
}

/** null when the counts meet the rule; otherwise what is missing. */
export function supportShortfall(c: SupportCounts): InsufficientData | null {
  const correct = c.n - c.failures;
  const reasons = [
    rowShortfall(c.n, c.n === 1 ? 'row' : 'rows'),
    ...classShortfalls(c.failures, correct, c.failures === 1 ? 'failure' : 'failures', `correct row${correct === 1 ? '' : 's'}`),
    c.usableFeatures < 1 ? 'no usable feature column (every one is missing or constant)' : null,
  ].filter((r): r is string => r !== null);
  if (reasons.length === 0) return null;
  return { reason: reasons.join('; '), n: c.n, failures: c.failures, correct, usableFeatures: c.usableFeatures, minRows: MIN_ROWS, minClass: MIN_CLASS };
}

/** Columns with at least two distinct finite values (NaN = missing). */
export function usableFeatureCount(columns: readonly ArrayLike<number>[]): number {
  let k = 0;
  for (const col of columns) {
    let first = NaN;
    for (let i = 0; i < col.length; i++) {
      const v = col[i]!;
      if (!Number.isFinite(v)) continue;
      if (first !== first) first = v;
      else if (v !== first) { k++; break; }
    }
  }
  return k;
}

/** The text block of a report below the rule (two lines, indented as the reports are). */
export function insufficientLines(x: InsufficientData, indent = '  '): string[] {
  return [
    `${indent}VERDICT: INSUFFICIENT DATA — ${x.reason}.`,
    `${indent}A verdict needs ≥ ${x.minRows} rows with ≥ ${x.minClass} failures, ≥ ${x.minClass} correct rows and a usable feature column; this table has ${x.n} rows, ${x.failures} failure${x.failures === 1 ? '' : 's'}, ${x.correct} correct, ${x.usableFeatures} usable feature column${x.usableFeatures === 1 ? '' : 's'}.`,
  ];
}
