import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseStopThreshold } from '../../src/models/stop-threshold.ts';

test('stop threshold: the lowest score whose precision (flag P ≥ t) reaches the target', () => {
  // descending: .95 F, .9 F, .8 C, .7 F, .6 F, .5 C, .4 F, .3 C
  // precision at each cut: 1, 1, 2/3, 3/4, 4/5, 4/6, 5/7, 5/8
  const y = [1, 1, 0, 1, 1, 0, 1, 0];
  const s = [0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3];
  assert.deepEqual(chooseStopThreshold(y, s, 0.8), { threshold: 0.6, targetPrecision: 0.8, precision: 0.8, recall: 4 / 5 });
  // not monotone: 3/4 at 0.7 is below 0.8 but 0.6 reaches it again — the lower one wins
  assert.deepEqual(chooseStopThreshold(y, s, 0.75), { threshold: 0.6, targetPrecision: 0.75, precision: 0.8, recall: 0.8 });
  assert.deepEqual(chooseStopThreshold(y, s, 0.7), { threshold: 0.4, targetPrecision: 0.7, precision: 5 / 7, recall: 1 });
  assert.deepEqual(chooseStopThreshold(y, s, 1), { threshold: 0.9, targetPrecision: 1, precision: 1, recall: 2 / 5 });
});

test('stop threshold: tied scores enter together', () => {
  // 0.9 F; then three tied at 0.8: F, C, C → precision at 0.8 is 2/4 (not 2/2 as a row-by-row walk would give); 0.1: 2/5
  const y = [1, 1, 0, 0, 0];
  const s = [0.9, 0.8, 0.8, 0.8, 0.1];
  assert.deepEqual(chooseStopThreshold(y, s, 0.6), { threshold: 0.9, targetPrecision: 0.6, precision: 1, recall: 0.5 });
  assert.deepEqual(chooseStopThreshold(y, s, 0.5), { threshold: 0.8, targetPrecision: 0.5, precision: 0.5, recall: 1 });
});

test('stop threshold: null when the target is never reached or there is no failure; NaN scores ignored', () => {
  const none = { threshold: null, targetPrecision: 0.9, precision: null, recall: null };
  assert.deepEqual(chooseStopThreshold([0, 1, 0, 1], [0.9, 0.8, 0.7, 0.6], 0.9), none);
  assert.deepEqual(chooseStopThreshold([0, 0, 0], [0.9, 0.8, 0.7], 0.9), none);
  assert.deepEqual(chooseStopThreshold([1, 0, 1], [NaN, 0.8, 0.9], 0.9), { threshold: 0.9, targetPrecision: 0.9, precision: 1, recall: 1 });
});

test('stop threshold: bad arguments are refused', () => {
  assert.throws(() => chooseStopThreshold([1], [0.5], 0), /targetPrecision/);
  assert.throws(() => chooseStopThreshold([1], [0.5], 1.5), /targetPrecision/);
  assert.throws(() => chooseStopThreshold([1, 0], [0.5], 0.9), /one score per label/);
});
