import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cvLrScores } from '../../src/offline/sc/cv-lr-scores.ts';
import { signalSources } from '../../src/offline/sc/sc-signals.ts';
import { crossValidatedScores } from '../../src/offline/cv-lr.ts';
import { runScTriage } from '../../src/offline/sc/run-sc-triage.ts';
import { synthFrame, type SynthCompletion } from '../fixtures/sc-synthetic.ts';

// 30 questions × 4 completions; question j fails on completions k < (j % 3); features track failure with noise.
const frame = synthFrame(Array.from({ length: 30 }, (_, j) => ({
  id: `q${j}`,
  completions: [0, 1, 2, 3].map((k): SynthCompletion => {
    const wrong = k < j % 3;
    const noise = (((j * 31 + k * 17) % 13) - 6) / 20;
    return { answer: wrong ? 'B' : 'A', correct: wrong ? 0 : 1, e: (wrong ? 1 : 0.5) + noise, m: 0.2 - noise / 2, eEarly: 0.7 + noise, mEarly: 0.1 };
  }),
})));

test('CV-LR scorer: OOF P(failure) over the given rows, folds grouped by question unless i.i.d.', () => {
  const src = signalSources(frame, 400).prefinal_full;
  const rows = Int32Array.from({ length: frame.nRows }, (_, i) => i);
  const correct = frame.numeric('correct')!;
  const question = Int32Array.from({ length: frame.nRows }, (_, i) => Math.floor(i / 4));
  const grouped = cvLrScores(frame, src, rows, correct, question);
  assert.equal(grouped.features, 2); // only entropy_mean / margin_mean exist in this table
  const cols = ['entropy_mean_prefinal', 'margin_mean_prefinal'].map((c) => frame.numeric(c)!);
  const y = Uint8Array.from(correct, (c) => (c === 0 ? 1 : 0));
  const ref = crossValidatedScores(cols, y, { groups: question, nSplits: 5, seed: 42 })!;
  for (let k = 0; k < ref.rows.length; k++) assert.equal(grouped.scores[ref.rows[k]!], ref.rowScores[k]);
  const iid = cvLrScores(frame, src, rows, correct, null);
  const refIid = crossValidatedScores(cols, y, { nSplits: 5, seed: 42 })!;
  for (let k = 0; k < refIid.rows.length; k++) assert.equal(iid.scores[refIid.rows[k]!], refIid.rowScores[k]);
  assert.notDeepEqual([...grouped.scores], [...iid.scores]);
  // rows left out get NaN
  const some = cvLrScores(frame, src, rows.subarray(0, 60), correct, question);
  assert.ok(some.scores.subarray(60).every(Number.isNaN));
});

test('CV-LR scorer runs the whole pipeline (--scorer cv-lr)', () => {
  const r = runScTriage(frame, { scorer: 'cv-lr', nBoot: 0 });
  assert.equal(r.data.analysisQuestions, 30);
  assert.ok(r.analysis3 && r.analysis3.prefinal_full);
  assert.match(r.data.notes.join(' '), /folds grouped by question/);
  assert.ok(r.analysis2!.scVerdict.prauc > r.analysis2!.scVerdict.baseline);
});
