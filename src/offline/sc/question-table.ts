import type { Frame } from '../frame.ts';
import type { ScInputColumns } from './sc-input.ts';
import type { ScQuestions } from './sc-columns.ts';
import { answerOrNull } from './sc-columns.ts';

/**
 * Which completion stands for a question in the question-level table (SPEC-SC §1.5, [U]):
 * `idx0` = completion_idx 0 only, and the question is dropped if that completion was cleaned away (the paper's
 * counts are compatible with dropping); `first-kept` = the cleaned completion with the smallest index.
 */
export type Representative = 'idx0' | 'first-kept';
export const REPRESENTATIVES: readonly Representative[] = ['idx0', 'first-kept'];

export interface QuestionTableOptions {
  /** Drop completions with hit_max_tokens = 1, degenerate = 1 or no answer (SPEC-SC §1.4). */
  readonly clean: boolean;
  readonly representative: Representative;
  /** Questions with fewer completions are outside the SC analyses (one completion has no self-consistency). */
  readonly minCompletions: number;
}

export interface QuestionTable {
  /** Question codes of the analysis set, in first-appearance order. */
  readonly questions: Int32Array;
  /** Representative completion row per analysis question (parallel to `questions`). */
  readonly repRow: Int32Array;
  /** All cleaned completion rows of the analysis questions (file order): the completion-level table. */
  readonly keptRows: Int32Array;
  /** Row → kept (after cleaning). */
  readonly kept: Uint8Array;
  readonly counts: {
    readonly questionsInFile: number;
    readonly belowMinCompletions: number;
    readonly noRepresentative: number;
    /** Questions whose SC verdict is undecidable (no completion with a `correct` value). */
    readonly undecided: number;
    readonly removedHitMax: number;
    readonly removedDegenerate: number;
    readonly removedNoAnswer: number;
  };
}

/** Cleans completions and builds the question-level and completion-level tables. */
export function buildQuestionTable(frame: Frame, cols: ScInputColumns, sc: ScQuestions, opts: QuestionTableOptions): QuestionTable {
  const n = frame.nRows;
  const hit = frame.has('hit_max_tokens') ? frame.numeric('hit_max_tokens')! : null;
  const degen = frame.has('degenerate') ? frame.numeric('degenerate')! : null;
  const answers = cols.answer ? frame.text(cols.answer)! : null;
  const kept = new Uint8Array(n);
  let removedHitMax = 0;
  let removedDegenerate = 0;
  let removedNoAnswer = 0;
  for (let i = 0; i < n; i++) {
    if (sc.rowQuestion[i]! < 0) continue;
    if (opts.clean) {
      // Missing flags count as 0: only an explicit 1 removes a completion.
      if (hit && hit[i] === 1) { removedHitMax++; continue; }
      if (degen && degen[i] === 1) { removedDegenerate++; continue; }
      if (answers && answerOrNull(answers[i] ?? null) === null) { removedNoAnswer++; continue; }
    }
    kept[i] = 1;
  }

  const nq = sc.ids.length;
  const inSet = new Uint8Array(nq);
  const rep = new Int32Array(nq).fill(-1);
  let belowMinCompletions = 0;
  let undecided = 0;
  for (let q = 0; q < nq; q++) {
    if (sc.nCompletions[q]! < opts.minCompletions) belowMinCompletions++;
    else if (Number.isNaN(sc.majorityCorrect[q]!)) undecided++;
    else inSet[q] = 1;
  }
  for (let i = 0; i < n; i++) {
    const q = sc.rowQuestion[i]!;
    if (q < 0 || !inSet[q] || !kept[i]) continue;
    const c = sc.rowCompletion[i]!;
    if (opts.representative === 'idx0') {
      if (c === 0 && rep[q] === -1) rep[q] = i;
    } else if (rep[q] === -1 || orderKey(c) < orderKey(sc.rowCompletion[rep[q]!]!)) {
      rep[q] = i;
    }
  }
  const questions: number[] = [];
  const repRow: number[] = [];
  let noRepresentative = 0;
  for (let q = 0; q < nq; q++) {
    if (!inSet[q]) continue;
    if (rep[q] === -1) { noRepresentative++; continue; }
    questions.push(q);
    repRow.push(rep[q]!);
  }
  const inTable = new Uint8Array(nq);
  for (const q of questions) inTable[q] = 1;
  const keptRows: number[] = [];
  for (let i = 0; i < n; i++) if (kept[i] && inTable[sc.rowQuestion[i]!]) keptRows.push(i);
  return {
    questions: Int32Array.from(questions),
    repRow: Int32Array.from(repRow),
    keptRows: Int32Array.from(keptRows),
    kept,
    counts: { questionsInFile: nq, belowMinCompletions, noRepresentative, undecided, removedHitMax, removedDegenerate, removedNoAnswer },
  };
}

/** A missing completion index sorts after every real one. */
function orderKey(c: number): number {
  return Number.isNaN(c) ? Infinity : c;
}
