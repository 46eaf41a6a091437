import type { Frame } from '../frame.ts';
import { crossValidatedScores } from '../cv-lr.ts';
import { BASE_FEATURES } from '../../features/columns.ts';
import type { SignalSource } from './sc-signals.ts';

/**
 * The alternative scorer of SPEC §5.4: an out-of-fold CV logistic-regression P(failure) per completion, trained
 * on the 11 base features of the signal's span over the cleaned completions (label 1 − correct). With `groups`
 * (the question of each row) a question's completions never straddle train and validation folds; without, the
 * paper's stratified i.i.d. folds. Rows outside `rows`, with empty correctness or in a skipped fold get NaN.
 */
export function cvLrScores(frame: Frame, source: SignalSource, rows: Int32Array, correct: Float64Array, rowQuestion: Int32Array | null, seed = 42): { scores: Float64Array; features: number } {
  const out = new Float64Array(frame.nRows).fill(NaN);
  if (source.missing !== null) return { scores: out, features: 0 };
  const use: number[] = [];
  for (const r of rows) if (!Number.isNaN(correct[r]!)) use.push(r);
  const names = BASE_FEATURES.map((f) => source.column(f)).filter((c) => frame.has(c));
  if (use.length === 0 || names.length === 0) return { scores: out, features: names.length };
  const columns = names.map((c) => {
    const full = frame.numeric(c)!;
    return Float64Array.from(use, (r) => full[r]!);
  });
  const y = Uint8Array.from(use, (r) => (correct[r] === 0 ? 1 : 0));
  const groups = rowQuestion ? Int32Array.from(use, (r) => rowQuestion[r]!) : null;
  const oof = crossValidatedScores(columns, y, { groups, nSplits: 5, seed });
  if (oof === null) return { scores: out, features: names.length };
  for (let k = 0; k < oof.rows.length; k++) out[use[oof.rows[k]!]!] = oof.rowScores[k]!;
  return { scores: out, features: names.length };
}
