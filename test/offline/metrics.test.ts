import { test } from 'node:test';
import assert from 'node:assert/strict';
import { averagePrecision, numpyMean, pairwiseSum, percentileLinear, rocAuc } from '../../src/offline/metrics.ts';
import { columnMedian } from '../../src/offline/impute.ts';
import { listAfter, ref, testVectorLines } from '../fixtures/h1-reference.ts';
import { needsPaper } from '../fixtures/requires.ts';

const lines = testVectorLines();

/** Mann–Whitney: share of (positive, negative) pairs ranked correctly, ties counted ½. */
function slowAuroc(y: number[], s: number[]): number {
  let num = 0, pairs = 0;
  for (let i = 0; i < y.length; i++) {
    for (let j = 0; j < y.length; j++) {
      if (y[i] !== 1 || y[j] !== 0) continue;
      pairs++;
      num += s[i]! > s[j]! ? 1 : s[i] === s[j] ? 0.5 : 0;
    }
  }
  return num / pairs;
}

/** AP by definition: Σ over distinct thresholds t (high → low) of ΔRecall(t) · Precision(t), counting by brute force. */
function slowAp(y: number[], s: number[]): number {
  const P = y.filter((v) => v === 1).length;
  const thresholds = [...new Set(s)].sort((a, b) => b - a);
  let ap = 0, prevRecall = 0;
  for (const t of thresholds) {
    let tp = 0, fp = 0;
    s.forEach((v, i) => {
      if (v >= t) (y[i] === 1 ? tp++ : fp++);
    });
    ap += (tp / P - prevRecall) * (tp / (tp + fp));
    prevRecall = tp / P;
  }
  return ap;
}

/** Small deterministic PRNG for test data (not the code under test). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

test('AP and AUROC of the tied example in test_vectors.txt, exactly', needsPaper('reference/test_vectors.txt'), () => {
  const line = lines.find((l) => l.startsWith('AP example'))!;
  const y = listAfter([line], 'y=') as number[];
  const s = listAfter([line], 's=') as number[];
  const ap = Number(/AP= ([0-9.e-]+)/.exec(line)![1]);
  const auc = Number(/AUROC= ([0-9.e-]+)/.exec(line)![1]);
  assert.equal(averagePrecision(y, s), ap);
  assert.equal(ap, 0.7470238095238095);
  assert.equal(rocAuc(y, s), auc);
  assert.equal(auc, 0.78125);
});

test('sklearn documentation examples: AP 0.83…, AUC 0.75', () => {
  assert.equal(averagePrecision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.8333333333333333);
  assert.equal(rocAuc([1, 1, 2, 2].map((v) => (v === 2 ? 1 : 0)), [0.1, 0.4, 0.35, 0.8]), 0.75);
});

test('AP / AUROC equal sklearn 1.2.1 bit for bit on random data with and without ties (incl. > 128 thresholds)', () => {
  assert.ok(ref.metrics.length >= 20);
  for (const { y, s, ap, auc } of ref.metrics) {
    assert.equal(averagePrecision(y, s), ap, `AP n=${y.length}`);
    assert.equal(rocAuc(y, s), auc, `AUC n=${y.length}`);
  }
});

test('AP / AUROC agree with slow definition-based references on random tied data', () => {
  const rnd = lcg(11);
  for (let trial = 0; trial < 200; trial++) {
    const n = 2 + Math.floor(rnd() * 60);
    const y = Array.from({ length: n }, () => (rnd() < 0.35 ? 1 : 0));
    y[0] = 1;
    y[n - 1] = 0;
    const levels = 1 + Math.floor(rnd() * 12);
    const s = Array.from({ length: n }, () => Math.floor(rnd() * levels) / levels);
    assert.ok(Math.abs(averagePrecision(y, s) - slowAp(y, s)) < 1e-12, `AP trial ${trial}`);
    assert.ok(Math.abs(rocAuc(y, s) - slowAuroc(y, s)) < 1e-12, `AUROC trial ${trial}`);
  }
});

test('AP is NaN without a positive, AUROC NaN with one class; length mismatch throws', () => {
  assert.ok(Number.isNaN(averagePrecision([0, 0, 0], [0.1, 0.2, 0.3])));
  assert.ok(Number.isNaN(rocAuc([1, 1], [0.1, 0.2])));
  assert.ok(Number.isNaN(rocAuc([0, 0], [0.1, 0.2])));
  assert.equal(averagePrecision([1, 1], [0.1, 0.2]), 1);
  assert.throws(() => averagePrecision([1, 0], [0.5]), RangeError);
});

test('numpy linear percentiles from test_vectors.txt: 1.1 and 9.399999999999999', needsPaper('reference/test_vectors.txt'), () => {
  const [lo, hi] = listAfter(lines, 'percentile linear of [1,2,3,4,10] 2.5/97.5:') as number[];
  assert.equal(percentileLinear([1, 2, 3, 4, 10], 2.5), lo);
  assert.equal(percentileLinear([1, 2, 3, 4, 10], 97.5), hi);
  assert.equal(hi, 9.399999999999999);
});

test('percentiles and means equal numpy bit for bit (pairwise summation)', () => {
  for (const { values, sorted, q, percentiles, mean } of ref.percentile) {
    q.forEach((qq, k) => assert.equal(percentileLinear(sorted, qq), percentiles[k], `n=${sorted.length} q=${qq}`));
    assert.equal(percentileLinear(Float64Array.from([...sorted, 1e9, 1e10]), 50, sorted.length), percentiles[1], 'count argument');
    assert.equal(numpyMean(values), mean, `mean n=${values.length}`);
  }
  assert.ok(Number.isNaN(percentileLinear([], 50)));
});

test('pairwiseSum follows numpy blocks: equals np.sum where naive summation differs', () => {
  // 1e16 + 1 + … : sequential summation loses the ones, numpy's 8-way pairwise blocks keep some of them
  const v = ref.pairwise.values;
  let naive = 0;
  for (const x of v) naive += x;
  assert.equal(pairwiseSum(v, 0, v.length), ref.pairwise.sum);
  assert.notEqual(naive, ref.pairwise.sum);
  assert.equal(numpyMean([1, 2, 3, 4]), 2.5);
});

test('columnMedian skips NaN, averages the middle pair, honours a row subset', () => {
  assert.equal(columnMedian(Float64Array.from([3, NaN, 1, 2])), 2);
  assert.equal(columnMedian(Float64Array.from([4, NaN, 1, 2, 3])), 2.5);
  assert.equal(columnMedian(Float64Array.from([10, 1, 5, 7]), [0, 2]), 7.5);
  assert.ok(Number.isNaN(columnMedian(Float64Array.from([NaN, NaN]))));
});
