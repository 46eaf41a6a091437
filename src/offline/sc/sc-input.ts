import type { Frame } from '../frame.ts';
import { FailmodeError } from '../../errors.ts';

/** Columns the SC analyses read, resolved once against a loaded file (SPEC-SC §1.1). */
export interface ScInputColumns {
  readonly question: string;
  /** null → completion index = order of the row within its question in the file. */
  readonly completion: string | null;
  readonly correct: string;
  /** The completion's final answer (GPQA `predicted_answer`, MATH `boxed_answer`); null when the file has none (LCB). */
  readonly answer: string | null;
  /** The file's own per-question SC columns (GPQA pipeline writes them on every completion row). */
  readonly fileMajorityCorrect: string | null;
  readonly fileAgreement: string | null;
  readonly filePCorrect: string | null;
  readonly fileMajorityAnswer: string | null;
}

export const QUESTION_COLUMN_CANDIDATES = ['question_id', 'idx', 'qid', 'problem_id'] as const;
const ANSWER_COLUMN_CANDIDATES = ['predicted_answer', 'boxed_answer'] as const;

function firstPresent(frame: Frame, names: readonly string[]): string | null {
  for (const n of names) if (frame.has(n)) return n;
  return null;
}

/**
 * Finds the question id, completion index, correctness and answer columns. Missing question id or
 * correctness is bad input (exit 2) — without them there is no self-consistency to analyse.
 */
export function resolveScColumns(frame: Frame, questionCol?: string): ScInputColumns {
  const where = frame.source;
  if (frame.nRows === 0) throw new FailmodeError(`${where} has no data rows`);
  let question: string | null;
  if (questionCol !== undefined) {
    if (!frame.has(questionCol)) {
      throw new FailmodeError(`${where} has no column \`${questionCol}\` (given by --question-col); columns start: ${frame.columnNames.slice(0, 8).join(', ')}`);
    }
    question = questionCol;
  } else {
    question = firstPresent(frame, QUESTION_COLUMN_CANDIDATES);
    if (question === null) {
      throw new FailmodeError(`${where} has no question id column (expected one of ${QUESTION_COLUMN_CANDIDATES.join(', ')}, or name it with --question-col)`);
    }
  }
  const correct = frame.has('correct') ? 'correct' : null;
  if (correct === null) throw new FailmodeError(`${where} has no \`correct\` column (0/1 per completion): cannot tell SC failures`);
  const c = frame.numeric(correct)!;
  let scored = 0;
  for (let i = 0; i < c.length; i++) {
    const v = c[i]!;
    if (Number.isNaN(v)) continue;
    if (v !== 0 && v !== 1) throw new FailmodeError(`${where}: \`correct\` must be 0/1 (or empty), got ${v} on data row ${i + 1}`);
    scored++;
  }
  if (scored === 0) throw new FailmodeError(`${where}: every \`correct\` value is empty: cannot tell SC failures`);
  return {
    question,
    completion: frame.has('completion_idx') ? 'completion_idx' : null,
    correct,
    answer: firstPresent(frame, ANSWER_COLUMN_CANDIDATES),
    fileMajorityCorrect: frame.has('majority_correct') ? 'majority_correct' : null,
    fileAgreement: frame.has('agreement_rate') ? 'agreement_rate' : null,
    filePCorrect: frame.has('p_correct') ? 'p_correct' : null,
    fileMajorityAnswer: frame.has('majority_answer') ? 'majority_answer' : null,
  };
}
