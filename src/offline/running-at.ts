import type { Frame } from './frame.ts';
import { prefinalLengthColumn } from './analysis/column-sets.ts';
import { isRunningAt } from '../models/stop-data.ts';

/**
 * "Still running at window T" — the one definition, for the early-stopping evaluation and for `train --fit-on running`.
 * The live stop rule scores window T only for a sample that has not ended by token T: its length > T. In prefinal mode
 * the length is the prefinal length (a sample whose final-answer line started by T has nothing left to save and is
 * not running); otherwise the whole generation's length.
 */

/** The column holding a generation's whole length (`generated_len`, else `full_len`), or null. */
export function fullLengthColumn(frame: Frame): string | null {
  return ['generated_len', 'full_len'].find((c) => frame.has(c)) ?? null;
}

/** The column whose value decides whether a row is running at T: the prefinal length in prefinal mode, else the whole length. */
export function runningLengthColumn(frame: Frame, prefinal: boolean): string | null {
  return prefinal ? prefinalLengthColumn(frame) : fullLengthColumn(frame);
}

/** Whether a sample of this (running) length is still running at window T (defined in src/models/stop-data.ts). */
export { isRunningAt } from '../models/stop-data.ts';

/** Indices of the rows still running at T, in row order. */
export function runningRows(lengths: ArrayLike<number>, T: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < lengths.length; i++) if (isRunningAt(lengths[i]!, T)) out.push(i);
  return out;
}
