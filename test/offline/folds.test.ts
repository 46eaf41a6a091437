import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupKFold, numpyArgsort, stratifiedKFold } from '../../src/offline/folds.ts';
import { listAfter, ref, testVectorLines } from '../fixtures/h1-reference.ts';
import { needsPaper } from '../fixtures/requires.ts';

const lines = testVectorLines();

test('StratifiedKFold(5, shuffle, 42) matches both vectors of test_vectors.txt', needsPaper('reference/test_vectors.txt'), () => {
  const y1 = listAfter(lines, 'y=', 0) as number[];
  assert.deepEqual(Array.from(stratifiedKFold(y1)), listAfter(lines, 'StratifiedKFold(5,shuffle,42) test_fold='));
  const idx = lines.findIndex((l) => l.startsWith('y= [1, 1, 1'));
  const y2 = listAfter([lines[idx]!], 'y=') as number[];
  assert.deepEqual(Array.from(stratifiedKFold(y2, 5, 42)), listAfter([lines[idx + 1]!], 'fold='));
});

test('StratifiedKFold matches sklearn on larger binary and 3-class label vectors', () => {
  assert.ok(ref.stratified.length >= 4);
  for (const { y, folds } of ref.stratified) assert.deepEqual(Array.from(stratifiedKFold(y)), folds, `n=${y.length}`);
});

test('StratifiedKFold keeps every class spread evenly over the folds', () => {
  const y = Array.from({ length: 97 }, (_, i) => (i % 4 === 0 ? 1 : 0));
  const f = stratifiedKFold(y);
  for (const cls of [0, 1]) {
    const per = [0, 0, 0, 0, 0];
    y.forEach((v, i) => v === cls && per[f[i]!]!++);
    assert.ok(Math.max(...per) - Math.min(...per) <= 1, `class ${cls}: ${per}`);
  }
});

test('StratifiedKFold rejects impossible splits', () => {
  assert.throws(() => stratifiedKFold([0, 1, 0]), RangeError); // more splits than samples
  assert.throws(() => stratifiedKFold([0, 0, 1, 1, 0, 1], 5), RangeError); // every class smaller than n_splits
});

test('GroupKFold(3) matches test_vectors.txt', needsPaper('reference/test_vectors.txt'), () => {
  const groups = listAfter(lines, 'groups=') as number[];
  assert.deepEqual(Array.from(groupKFold(groups, 3)), listAfter(lines, 'GroupKFold(3) fold='));
});

test('GroupKFold matches sklearn where many groups tie in size (numpy quicksort tie order)', () => {
  for (const { groups, nSplits, folds } of ref.groupKFold) {
    const got = groupKFold(groups, nSplits);
    assert.deepEqual(Array.from(got), folds, `${new Set(groups).size} groups`);
    // a group never spans two folds
    const seen = new Map<number, number>();
    groups.forEach((g, i) => {
      if (seen.has(g)) assert.equal(seen.get(g), got[i]);
      else seen.set(g, got[i]!);
    });
  }
  assert.throws(() => groupKFold([1, 1, 2, 2], 3), RangeError);
});

test('numpyArgsort reproduces np.argsort (default kind) tie order, insertion-sort and quicksort sizes', () => {
  for (const { v, order } of ref.argsort) assert.deepEqual(Array.from(numpyArgsort(v)), order, `n=${v.length}`);
  // and it sorts
  const v = Array.from({ length: 500 }, (_, i) => (i * 7919) % 37);
  const o = numpyArgsort(v);
  for (let i = 1; i < o.length; i++) assert.ok(v[o[i - 1]!]! <= v[o[i]!]!);
});
