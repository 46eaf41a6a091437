import { test } from 'node:test';
import assert from 'node:assert/strict';
import { triageCurve } from '../../src/offline/sc/triage-curve.ts';

// 10 questions; ascending risk order is q1 q3 q2 q4 q0 q9 q8 q7 q6 q5, SC failures q2 q5 q6 q8 (F = 4).
const risk = [5, 1, 3, 2, 4, 10, 9, 8, 7, 6];
const fail = [0, 0, 1, 0, 0, 1, 1, 0, 1, 0];

test('triage curve: n_skip = ⌊N·k/100⌋, missed/caught/recall/precision by hand', () => {
  const c = triageCurve(risk, fail);
  assert.equal(c.n, 10);
  assert.equal(c.failures, 4);
  const at = (k: number) => c.points.find((p) => p.skipPct === k)!;
  assert.equal(c.points.length, 20);
  assert.deepEqual(at(0), { skipPct: 0, nSkip: 0, nMissed: 0, nCaught: 4, recall: 1, precision: 1 });
  assert.deepEqual(at(5), { skipPct: 5, nSkip: 0, nMissed: 0, nCaught: 4, recall: 1, precision: 1 });
  assert.deepEqual(at(20), { skipPct: 20, nSkip: 2, nMissed: 0, nCaught: 4, recall: 1, precision: 1 });
  assert.deepEqual(at(30), { skipPct: 30, nSkip: 3, nMissed: 1, nCaught: 3, recall: 0.75, precision: 2 / 3 });
  assert.deepEqual(at(50), { skipPct: 50, nSkip: 5, nMissed: 1, nCaught: 3, recall: 0.75, precision: 4 / 5 });
  assert.deepEqual(at(70), { skipPct: 70, nSkip: 7, nMissed: 2, nCaught: 2, recall: 0.5, precision: 5 / 7 });
  assert.deepEqual(at(95), { skipPct: 95, nSkip: 9, nMissed: 3, nCaught: 1, recall: 0.25, precision: 6 / 9 });
  // recall ≥ 0.9 holds up to k = 25 (2 skipped, none missed)
  assert.deepEqual(c.skipFor90, { skipPct: 25, nMissed: 0 });
});

test('triage curve: ties keep question order; NaN risk ranks riskiest or is dropped', () => {
  // all tied: the skipped set is the first questions in order
  const tied = triageCurve([1, 1, 1, 1], [1, 0, 0, 0], 'riskiest', [50]);
  assert.deepEqual(tied.points[0], { skipPct: 50, nSkip: 2, nMissed: 1, nCaught: 0, recall: 0, precision: 0.5 });
  const withNan = triageCurve([NaN, 0.2, 0.1, 0.3], [1, 0, 0, 0], 'riskiest', [75]);
  assert.equal(withNan.nanCount, 1);
  assert.deepEqual(withNan.points[0], { skipPct: 75, nSkip: 3, nMissed: 0, nCaught: 1, recall: 1, precision: 1 });
  const dropped = triageCurve([NaN, 0.2, 0.1, 0.3], [1, 0, 1, 0], 'drop', [50]);
  assert.equal(dropped.n, 3);
  assert.equal(dropped.failures, 1);
  assert.deepEqual(dropped.points[0], { skipPct: 50, nSkip: 1, nMissed: 1, nCaught: 0, recall: 0, precision: 0 });
  assert.equal(dropped.skipFor90, null);
});

test('triage curve: no SC failures → recall NaN and no 90 % point', () => {
  const c = triageCurve([1, 2, 3], [0, 0, 0]);
  assert.ok(Number.isNaN(c.points[3]!.recall));
  assert.equal(c.skipFor90, null);
});
