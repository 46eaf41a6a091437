import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binomialCdf, clopperPearsonInterval, clopperPearsonLower, clopperPearsonUpper, logGamma } from '../../src/models/clopper-pearson.ts';

/** Binomial CDF by direct summation of the textbook terms C(n, i) p^i (1 − p)^(n − i) (small n only). */
function cdfBySum(k: number, n: number, p: number): number {
  let s = 0;
  let c = 1; // C(n, i), built multiplicatively
  for (let i = 0; i <= k; i++) {
    s += c * p ** i * (1 - p) ** (n - i);
    c = (c * (n - i)) / (i + 1);
  }
  return s;
}

test('logGamma matches factorials', () => {
  let f = 1;
  for (let n = 1; n < 30; n++) {
    assert.ok(Math.abs(logGamma(n + 1) - Math.log((f *= n))) < 1e-11 * Math.max(1, Math.log(f)), `Γ(${n + 1})`);
  }
  assert.ok(Math.abs(logGamma(0.5) - 0.5 * Math.log(Math.PI)) < 1e-14);
});

test('binomial CDF equals the direct sum', () => {
  for (const n of [1, 2, 5, 17, 40]) {
    for (let k = 0; k <= n; k++) {
      for (const p of [0.001, 0.05, 0.3, 0.5, 0.77, 0.999]) {
        assert.ok(Math.abs(binomialCdf(k, n, p) - cdfBySum(k, n, p)) < 1e-12, `n=${n} k=${k} p=${p}`);
      }
    }
  }
});

test('upper bound solves P(Bin(n, U) ≤ k) = δ, lower bound P(Bin(n, L) ≥ k) = δ', () => {
  for (const n of [1, 3, 10, 25, 60]) {
    for (let k = 0; k <= n; k++) {
      for (const delta of [0.01, 0.1, 0.3]) {
        const u = clopperPearsonUpper(k, n, delta);
        if (k === n) assert.equal(u, 1);
        else assert.ok(Math.abs(cdfBySum(k, n, u) - delta) < 1e-10, `upper n=${n} k=${k} δ=${delta}`);
        const l = clopperPearsonLower(k, n, delta);
        if (k === 0) assert.equal(l, 0);
        else assert.ok(Math.abs(1 - cdfBySum(k - 1, n, l) - delta) < 1e-10, `lower n=${n} k=${k} δ=${delta}`);
        assert.ok(l <= k / n && k / n <= u);
      }
    }
  }
});

test('textbook values', () => {
  // 0 events in n: the upper bound is 1 − δ^(1/n) (the "rule of three" for large n)
  assert.ok(Math.abs(clopperPearsonUpper(0, 10, 0.05) - (1 - 0.05 ** 0.1)) < 1e-12);
  // 2 of 10 at 95 %: (0.0252, 0.5561), the interval printed in every table of exact binomial limits
  const [lo, hi] = clopperPearsonInterval(2, 10, 0.95);
  assert.equal(lo.toFixed(4), '0.0252');
  assert.equal(hi.toFixed(4), '0.5561');
  assert.deepEqual(clopperPearsonInterval(0, 0), [0, 1]);
});

test('large n stays accurate and monotone', () => {
  const u1 = clopperPearsonUpper(500, 10_000, 0.1);
  const u2 = clopperPearsonUpper(501, 10_000, 0.1);
  assert.ok(u1 > 0.05 && u1 < 0.06 && u2 > u1);
  assert.ok(Math.abs(binomialCdf(500, 10_000, u1) - 0.1) < 1e-9);
});

test('bad counts are refused', () => {
  assert.throws(() => clopperPearsonUpper(3, 2, 0.1), RangeError);
  assert.throws(() => clopperPearsonUpper(1.5, 2, 0.1), RangeError);
  assert.throws(() => clopperPearsonUpper(1, 2, 0), RangeError);
});
