import type { Frame } from '../frame.ts';
import type { ScInputColumns } from './sc-input.ts';
import { vote } from '../../policy/vote.ts';

/**
 * How a question's SC verdict is decided (SPEC-SC §1.2, SPEC §2.2–§2.4):
 * - `file`: the file's own `majority_correct` / `agreement_rate` (the GPQA pipeline writes them; true plurality vote);
 * - `vote`: plurality vote over the answer strings, ties → the answer seen first in file row order
 *   (Python `Counter.most_common`); the verdict is the correctness of the majority answer;
 *   agreement = majority count / all completions of the question (GPQA convention);
 * - `pass`: majority of completions correct, `p_correct > 0.5` strictly (a 50/50 tie is an SC failure);
 *   agreement = max(p, 1 − p) (MATH adapter and LiveCodeBench `sc_correct`; not answer agreement).
 */
export type ScRule = 'file' | 'vote' | 'pass';
export type ScRuleChoice = ScRule | 'auto';

/** Per-question SC columns plus the row → question map. Questions are numbered in order of first appearance. */
export interface ScQuestions {
  readonly ids: readonly string[];
  /** Per data row: its question code, or −1 when the row has no question id (such rows are ignored). */
  readonly rowQuestion: Int32Array;
  /** Per data row: completion index (file column, else its order within the question). */
  readonly rowCompletion: Float64Array;
  readonly nCompletions: Int32Array;
  /** Completions with a non-empty `correct` (LiveCodeBench leaves it empty when a problem has no tests). */
  readonly nScored: Int32Array;
  /** Mean of `correct` over the scored completions. */
  readonly pCorrect: Float64Array;
  /** 1 = SC gets the question right, 0 = SC failure, NaN = undecidable (no scored completion). */
  readonly majorityCorrect: Float64Array;
  readonly agreement: Float64Array;
  readonly majorityAnswer: readonly (string | null)[];
  readonly rule: ScRule;
  /** Why `auto` picked the rule, and anything odd found while deriving. */
  readonly notes: readonly string[];
}

const NO_ANSWER = new Set(['', 'none', 'nan', 'null']);

/** An answer string, or null for the pipelines' "no answer" spellings. Answers are compared raw (SPEC §2.2). */
export function answerOrNull(text: string | null): string | null {
  if (text === null) return null;
  return NO_ANSWER.has(text.trim().toLowerCase()) ? null : text;
}

/**
 * Plurality vote over one question's answers (the sampler's `vote`, ties → first seen), plus where the winner
 * first appears so its correctness can be read. Null when nobody answered.
 */
export function pluralityVote(answers: readonly (string | null)[]): { answer: string; count: number; firstIndex: number } | null {
  const result = vote(answers.map((answer) => ({ answer })), 'majority');
  if (result.majority === null) return null;
  return { answer: result.majority, count: result.counts[result.majority]!, firstIndex: answers.indexOf(result.majority) };
}

/** Picks the rule for `auto` (documented in docs/sc-triage.md). */
export function chooseScRule(cols: ScInputColumns, requested: ScRuleChoice): { rule: ScRule; why: string } {
  if (requested !== 'auto') return { rule: requested, why: `--sc-rule ${requested}` };
  if (cols.fileMajorityCorrect && cols.fileAgreement) {
    return { rule: 'file', why: 'the file carries majority_correct/agreement_rate (GPQA pipeline: plurality vote)' };
  }
  if (cols.answer === 'boxed_answer') {
    return { rule: 'pass', why: 'MATH-style file (boxed_answer): SC correct = p_correct > 0.5, agreement = max(p, 1−p), as the paper\'s MATH adapter' };
  }
  if (cols.answer !== null) return { rule: 'vote', why: `plurality vote over \`${cols.answer}\`` };
  return { rule: 'pass', why: 'no answer column (LiveCodeBench-style): SC correct = more than half of the scored completions pass' };
}

/** Derives the SC columns from the RAW per-completion table (before any cleaning, SPEC-SC §1.2). */
export function deriveScColumns(frame: Frame, cols: ScInputColumns, requested: ScRuleChoice = 'auto'): ScQuestions {
  const { rule, why } = chooseScRule(cols, requested);
  const notes = [`SC rule: ${rule} (${why})`];
  const n = frame.nRows;
  const qText = frame.text(cols.question)!;
  const correct = frame.numeric(cols.correct)!;
  const answers = cols.answer ? frame.text(cols.answer)! : null;
  const compCol = cols.completion ? frame.numeric(cols.completion)! : null;

  const codeOf = new Map<string, number>();
  const ids: string[] = [];
  const rowQuestion = new Int32Array(n);
  const rowsOf: number[][] = [];
  let missingId = 0;
  for (let i = 0; i < n; i++) {
    const id = qText[i];
    if (id === null || id === undefined) {
      rowQuestion[i] = -1;
      missingId++;
      continue;
    }
    let code = codeOf.get(id);
    if (code === undefined) {
      code = ids.length;
      codeOf.set(id, code);
      ids.push(id);
      rowsOf.push([]);
    }
    rowQuestion[i] = code;
    rowsOf[code]!.push(i);
  }
  if (missingId > 0) notes.push(`${missingId} row(s) without a question id were ignored`);

  const nq = ids.length;
  const nCompletions = new Int32Array(nq);
  const nScored = new Int32Array(nq);
  const pCorrect = new Float64Array(nq);
  const majorityCorrect = new Float64Array(nq);
  const agreement = new Float64Array(nq);
  const majorityAnswer: (string | null)[] = new Array(nq).fill(null);
  const rowCompletion = new Float64Array(n).fill(NaN);
  const fileMaj = cols.fileMajorityCorrect ? frame.numeric(cols.fileMajorityCorrect)! : null;
  const fileAgr = cols.fileAgreement ? frame.numeric(cols.fileAgreement)! : null;
  const fileAns = cols.fileMajorityAnswer ? frame.text(cols.fileMajorityAnswer)! : null;
  let inconsistent = 0;

  for (let q = 0; q < nq; q++) {
    const rows = rowsOf[q]!;
    nCompletions[q] = rows.length;
    let sum = 0;
    let scored = 0;
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k]!;
      rowCompletion[r] = compCol ? compCol[r]! : k;
      const c = correct[r]!;
      if (!Number.isNaN(c)) {
        sum += c;
        scored++;
      }
    }
    nScored[q] = scored;
    const p = scored > 0 ? sum / scored : NaN;
    pCorrect[q] = p;
    const won = answers ? pluralityVote(rows.map((r) => answerOrNull(answers[r] ?? null))) : null;
    majorityAnswer[q] = won ? won.answer : null;

    if (rule === 'file') {
      const r0 = rows[0]!;
      majorityCorrect[q] = fileMaj![r0]!;
      agreement[q] = fileAgr![r0]!;
      if (fileAns) majorityAnswer[q] = answerOrNull(fileAns[r0] ?? null);
      for (const r of rows) {
        if (!sameNumber(fileMaj![r]!, fileMaj![r0]!) || !sameNumber(fileAgr![r]!, fileAgr![r0]!)) {
          inconsistent++;
          break;
        }
      }
    } else if (rule === 'vote') {
      if (won === null) {
        majorityCorrect[q] = 0; // nobody answered: SC has no answer, so it is not right (GPQA: None ≠ letter)
        agreement[q] = NaN;
      } else {
        majorityCorrect[q] = correct[rows[won.firstIndex]!]!;
        agreement[q] = won.count / rows.length;
      }
    } else {
      majorityCorrect[q] = Number.isNaN(p) ? NaN : p > 0.5 ? 1 : 0;
      agreement[q] = Number.isNaN(p) ? NaN : Math.max(p, 1 - p);
    }
  }
  if (inconsistent > 0) notes.push(`${inconsistent} question(s) have file SC columns that differ between their completions; the first row's values were used`);
  return { ids, rowQuestion, rowCompletion, nCompletions, nScored, pCorrect, majorityCorrect, agreement, majorityAnswer, rule, notes };
}

function sameNumber(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}
