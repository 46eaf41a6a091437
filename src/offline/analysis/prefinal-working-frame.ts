import { MIN_FAILURES } from '../cv-lr.ts';
import type { AnalysisResult } from '../analysis-result.ts';
import type { Frame } from '../frame.ts';
import { prefinalLengthColumn, prefinalRemapping } from './column-sets.ts';

export interface PrefinalWorkingFrame {
  readonly frame: Frame;
  readonly y: Uint8Array;
  /** What `--prefinal` did (null when not requested), as the report states it. */
  readonly prefinal: AnalysisResult['prefinal'];
  /** Working column → source column (`entropy_mean_w256` ← `entropy_mean_prefinal_w256`); empty without remapping. */
  readonly remapped: ReadonlyMap<string, string>;
}

/**
 * SPEC §3.4: with --prefinal, keep the rows whose prefinal length is > 0 and read each prefinal column under its
 * primary name; fall back to the whole frame when there is no length column or fewer than 5 failures remain.
 * The one statement of this step, for the analysis and for training.
 */
export function prefinalWorkingFrame(df: Frame, y: Uint8Array, requested: boolean): PrefinalWorkingFrame {
  if (!requested) return { frame: df, y, prefinal: null, remapped: new Map() };
  const lengthColumn = prefinalLengthColumn(df);
  if (lengthColumn === null) {
    return { frame: df, y, prefinal: { active: false, fallback: 'no-length-column', lengthColumn, validRows: 0, validFailures: 0 }, remapped: new Map() };
  }
  const len = df.numeric(lengthColumn)!;
  const valid: number[] = [];
  for (let i = 0; i < len.length; i++) if (len[i]! > 0) valid.push(i);
  const ySub = Uint8Array.from(valid, (i) => y[i]!);
  let failures = 0;
  for (let i = 0; i < ySub.length; i++) failures += ySub[i]!;
  const info = { lengthColumn, validRows: valid.length, validFailures: failures };
  if (failures < MIN_FAILURES) return { frame: df, y, prefinal: { active: false, fallback: 'few-failures', ...info }, remapped: new Map() };
  const sub = df.selectRows(valid);
  const assignments = prefinalRemapping(sub);
  return { frame: sub.withColumns(assignments), y: ySub, prefinal: { active: true, fallback: null, ...info }, remapped: new Map(assignments) };
}
