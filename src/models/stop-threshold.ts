import type { WindowClassifier } from './model-file.ts';

export type StopRule = WindowClassifier['stop'];

/**
 * The stop threshold of a classifier, chosen on out-of-fold scores: the LOWEST threshold t among the distinct scores
 * such that flagging every trace with P(failure) ≥ t has precision ≥ `targetPrecision`, together with that precision
 * and the recall of failures it reaches. Lowest = the most failures caught at the required precision (precision is
 * not monotone in t, so every distinct score is checked). All null when no threshold reaches the target (or there is
 * no failure). y: 1 = failure; NaN scores are ignored.
 */
export function chooseStopThreshold(y: ArrayLike<number>, scores: ArrayLike<number>, targetPrecision: number): StopRule {
  if (!(targetPrecision > 0 && targetPrecision <= 1)) throw new RangeError(`Expected targetPrecision in (0, 1], got ${targetPrecision}`);
  if (y.length !== scores.length) throw new RangeError(`Expected one score per label, got ${scores.length} scores for ${y.length} labels`);
  const none: StopRule = { threshold: null, targetPrecision, precision: null, recall: null };
  const idx: number[] = [];
  let positives = 0;
  for (let i = 0; i < y.length; i++) {
    if (Number.isNaN(scores[i]!)) continue;
    idx.push(i);
    if (y[i] === 1) positives++;
  }
  if (positives === 0) return none;
  idx.sort((a, b) => scores[b]! - scores[a]!);

  let best: StopRule = none;
  let tp = 0;
  let flagged = 0;
  for (let k = 0; k < idx.length; ) {
    // a threshold admits every tied score at once
    const t = scores[idx[k]!]!;
    while (k < idx.length && scores[idx[k]!] === t) {
      if (y[idx[k]!] === 1) tp++;
      flagged++;
      k++;
    }
    const precision = tp / flagged;
    if (precision >= targetPrecision) best = { threshold: t, targetPrecision, precision, recall: tp / positives };
  }
  return best;
}
