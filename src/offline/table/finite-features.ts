import { BASE_FEATURES, STAT_NAMES } from '../../features/columns.ts';
import { FailmodeError } from '../../errors.ts';
import type { Frame } from '../frame.ts';

const STATS = [...new Set<string>([...BASE_FEATURES, ...STAT_NAMES])];
/** `{stat}`, `{stat}_prefinal`, `{stat}_w{T}`, `{stat}_prefinal_w{T}`: the feature columns of a results table. */
const FEATURE_COLUMN = new RegExp(`^(?:${STATS.join('|')})(?:_prefinal)?(?:_w\\d+)?$`);

/** Whether a column name is one of the paper's feature columns (full trace or window, regular or prefinal). */
export function isFeatureColumn(name: string): boolean {
  return FEATURE_COLUMN.test(name);
}

/**
 * Largest magnitude a feature value may have: the standardiser sums squared deviations, which overflow to ∞ from
 * about 1.3e154 (and a sum of values from 1.8e308 / n); the paper's features are entropies, log-likelihoods, margins
 * and nucleus sizes, many orders of magnitude smaller.
 */
export const MAX_ABS_FEATURE = 1e150;

/**
 * Throws a FailmodeError naming the input column and data row of the first infinite feature value (`inf`, `-inf`,
 * `Infinity` in a cell) or one beyond ±{@link MAX_ABS_FEATURE}. A missing value is fine (empty or `nan`: the analysis
 * fills it), an infinite one is not: it would turn the standardiser's mean into ±∞ and every score into NaN (sklearn
 * raises "Input contains infinity or a value too large").
 */
export function assertFiniteFeatures(frame: Frame, file = frame.source): void {
  for (const name of frame.columnNames) {
    if (!isFeatureColumn(name)) continue;
    const col = frame.numeric(name)!;
    for (let i = 0; i < col.length; i++) {
      const v = col[i]!;
      if (v === Infinity || v === -Infinity) {
        throw new FailmodeError(`${file}: column \`${name}\` has an infinite value (\`${frame.text(name)![i]}\`) in data row ${i + 1}; expected finite numbers, or an empty cell for a missing value`);
      }
      if (v > MAX_ABS_FEATURE || v < -MAX_ABS_FEATURE) {
        throw new FailmodeError(`${file}: column \`${name}\` has a value too large to standardise (\`${frame.text(name)![i]}\`) in data row ${i + 1}; expected feature values within ±1e150`);
      }
    }
  }
}
