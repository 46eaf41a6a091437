import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveScColumns, pluralityVote, chooseScRule } from '../../src/offline/sc/sc-columns.ts';
import { resolveScColumns } from '../../src/offline/sc/sc-input.ts';
import { buildQuestionTable } from '../../src/offline/sc/question-table.ts';
import { synthFrame } from '../fixtures/sc-synthetic.ts';

test('plurality vote: most frequent answer, ties to the answer seen first, nulls do not vote', () => {
  assert.deepEqual(pluralityVote(['B', 'A', 'A', 'B', 'C']), { answer: 'B', count: 2, firstIndex: 0 });
  assert.deepEqual(pluralityVote([null, 'A', 'B', 'B']), { answer: 'B', count: 2, firstIndex: 2 });
  assert.deepEqual(pluralityVote([null, 'D', 'C']), { answer: 'D', count: 1, firstIndex: 1 });
  assert.equal(pluralityVote([null, null]), null);
});

test('vote rule (GPQA-style): majority answer, its correctness, agreement = majority count / all completions', () => {
  const frame = synthFrame([
    // tie B/A 2–2: B seen first → majority B, which is wrong
    { id: 'q1', completions: [{ answer: 'B', correct: 0 }, { answer: 'A', correct: 1 }, { answer: 'A', correct: 1 }, { answer: 'B', correct: 0 }, { answer: 'C', correct: 0 }] },
    // majority A (3 of 4 voters), one completion without an answer still counts in the denominator
    { id: 'q2', completions: [{ answer: 'A', correct: 1 }, { answer: 'None', correct: 0 }, { answer: 'A', correct: 1 }, { answer: 'A', correct: 1 }] },
    // nobody answered: no majority, SC not right, agreement NaN
    { id: 'q3', completions: [{ answer: null, correct: 0 }, { answer: 'nan', correct: 0 }] },
  ]);
  const cols = resolveScColumns(frame);
  const sc = deriveScColumns(frame, cols, 'auto');
  assert.equal(sc.rule, 'vote');
  assert.deepEqual(sc.ids, ['q1', 'q2', 'q3']);
  assert.deepEqual([...sc.nCompletions], [5, 4, 2]);
  assert.deepEqual(sc.majorityAnswer, ['B', 'A', null]);
  assert.deepEqual([...sc.majorityCorrect], [0, 1, 0]);
  assert.deepEqual([...sc.agreement].map((v) => (Number.isNaN(v) ? 'NaN' : v)), [2 / 5, 3 / 4, 'NaN']);
  assert.deepEqual([...sc.pCorrect], [2 / 5, 3 / 4, 0]);
});

test('pass rule (MATH adapter): p_correct > 0.5 strictly, a 50/50 tie is an SC failure, agreement = max(p, 1 − p)', () => {
  const frame = synthFrame([
    { id: '0', completions: [{ answer: '4', correct: 1 }, { answer: '5', correct: 0 }, { answer: '4', correct: 1 }, { answer: '6', correct: 0 }] },
    { id: '1', completions: [{ answer: '7', correct: 0 }, { answer: '8', correct: 0 }, { answer: '9', correct: 0 }] },
    { id: '2', completions: [{ answer: 'x', correct: 1 }, { answer: 'x', correct: 1 }, { answer: 'y', correct: 0 }] },
  ], { answerColumn: 'boxed_answer' });
  const cols = resolveScColumns(frame);
  const sc = deriveScColumns(frame, cols, 'auto');
  assert.equal(sc.rule, 'pass');
  assert.deepEqual([...sc.pCorrect], [0.5, 0, 2 / 3]);
  assert.deepEqual([...sc.majorityCorrect], [0, 0, 1]);
  // all-wrong with three different answers still has "agreement" 1.0 under the MATH definition (SPEC-SC §1.2)
  assert.deepEqual([...sc.agreement], [0.5, 1, 2 / 3]);
  // the plurality answer is still reported for information (tie 4 vs … → '4' first seen with 2 votes)
  assert.deepEqual(sc.majorityAnswer, ['4', '7', 'x']);
});

test('LCB-style (no answer column): pass majority over the scored completions; empty correctness is ignored', () => {
  const frame = synthFrame([
    { id: 'a', completions: [{ correct: 1 }, { correct: null }, { correct: 1 }, { correct: 0 }] },
    { id: 'b', completions: [{ correct: null }, { correct: null }] },
    { id: 'c', completions: [{ correct: 0 }, { correct: 1 }] },
  ], { answerColumn: null });
  const cols = resolveScColumns(frame);
  assert.equal(chooseScRule(cols, 'auto').rule, 'pass');
  const sc = deriveScColumns(frame, cols);
  assert.deepEqual([...sc.nScored], [3, 0, 2]);
  assert.equal(sc.pCorrect[0], 2 / 3);
  assert.equal(sc.majorityCorrect[0], 1);
  assert.equal(sc.agreement[0], 2 / 3);
  assert.ok(Number.isNaN(sc.majorityCorrect[1]!));
  assert.equal(sc.majorityCorrect[2], 0);
  assert.equal(sc.agreement[2], 0.5);
});

test('file rule: the file\'s own majority_correct / agreement_rate are used as they are', () => {
  const frame = synthFrame([
    { id: 'g1', completions: [{ answer: 'A', correct: 1 }, { answer: 'B', correct: 0 }, { answer: 'A', correct: 1 }] },
    { id: 'g2', completions: [{ answer: 'C', correct: 0 }, { answer: 'C', correct: 0 }] },
  ], {
    extra: {
      majority_correct: (q) => (q.id === 'g1' ? 1 : 0),
      agreement_rate: (q) => (q.id === 'g1' ? 2 / 3 : 1),
      majority_answer: (q) => (q.id === 'g1' ? 'A' : 'C'),
    },
  });
  const sc = deriveScColumns(frame, resolveScColumns(frame), 'auto');
  assert.equal(sc.rule, 'file');
  assert.deepEqual([...sc.majorityCorrect], [1, 0]);
  assert.deepEqual([...sc.agreement], [2 / 3, 1]);
  assert.deepEqual(sc.majorityAnswer, ['A', 'C']);
});

test('question table: SC columns come from the raw table, cleaning happens after, idx0 vs first-kept representative', () => {
  const frame = synthFrame([
    // completion 0 hit the token limit: dropped by idx0, represented by completion 1 under first-kept
    { id: 'q1', completions: [{ answer: 'A', correct: 0, hit: 1 }, { answer: 'A', correct: 1 }, { answer: 'A', correct: 1 }] },
    { id: 'q2', completions: [{ answer: 'B', correct: 1 }, { answer: null, correct: 0 }, { answer: 'C', correct: 0, degenerate: 1 }] },
    { id: 'q3', completions: [{ answer: 'D', correct: 1 }] },
  ]);
  const cols = resolveScColumns(frame);
  const sc = deriveScColumns(frame, cols, 'pass');
  // the truncated completion still counts inside p_correct (computed before cleaning)
  assert.equal(sc.pCorrect[0], 2 / 3);
  const t0 = buildQuestionTable(frame, cols, sc, { clean: true, representative: 'idx0', minCompletions: 2 });
  assert.deepEqual([...t0.questions], [1]);
  assert.deepEqual([...t0.repRow], [3]);
  assert.deepEqual([...t0.keptRows], [3]);
  assert.deepEqual(t0.counts, { questionsInFile: 3, belowMinCompletions: 1, noRepresentative: 1, undecided: 0, removedHitMax: 1, removedDegenerate: 1, removedNoAnswer: 1 });
  const t1 = buildQuestionTable(frame, cols, sc, { clean: true, representative: 'first-kept', minCompletions: 2 });
  assert.deepEqual([...t1.questions], [0, 1]);
  assert.deepEqual([...t1.repRow], [1, 3]);
  assert.deepEqual([...t1.keptRows], [1, 2, 3]);
  const t2 = buildQuestionTable(frame, cols, sc, { clean: false, representative: 'idx0', minCompletions: 1 });
  assert.deepEqual([...t2.questions], [0, 1, 2]);
  assert.deepEqual([...t2.repRow], [0, 3, 6]);
  assert.equal(t2.keptRows.length, 7);
});
