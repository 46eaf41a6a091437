import { FailmodeError } from '../../errors.ts';
import type { Frame } from '../frame.ts';
import { isMissingCell } from './na-values.ts';

export interface FailureLabels {
  /** The frame without the rows whose `correct` is missing (same frame when none are). */
  readonly frame: Frame;
  /** y = 1 − int(correct): 1 = failure, the positive class (SPEC §3.2). */
  readonly y: Uint8Array;
  /** Rows dropped because `correct` was missing (the paper's int cast crashed on them). */
  readonly excluded: number;
}

/** Derives the failure label from `correct` (0/1, True/False, 0.0/1.0); other values are an error naming the row. */
export function failureLabels(frame: Frame): FailureLabels {
  const correct = frame.numeric('correct');
  if (!correct) throw new FailmodeError(`${frame.source} has no \`correct\` column; expected the results table of an inference run`);
  const keep: number[] = [];
  for (let i = 0; i < frame.nRows; i++) {
    const v = correct[i]!;
    if (Number.isNaN(v)) {
      const raw = frame.text('correct')![i];
      if (!isMissingCell(raw === null ? null : raw!.trim())) {
        throw new FailmodeError(`${frame.source}: data row ${i + 1} has \`correct\` = \`${raw}\`; expected 0/1 or True/False`);
      }
      continue;
    }
    const c = Math.trunc(v);
    if (c !== 0 && c !== 1) throw new FailmodeError(`${frame.source}: data row ${i + 1} has \`correct\` = ${v}; expected 0/1 or True/False`);
    keep.push(i);
  }
  const kept = keep.length === frame.nRows ? frame : frame.selectRows(keep);
  const y = new Uint8Array(keep.length);
  for (let k = 0; k < keep.length; k++) y[k] = 1 - Math.trunc(correct[keep[k]!]!);
  return { frame: kept, y, excluded: frame.nRows - keep.length };
}
