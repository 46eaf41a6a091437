import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitLogisticRegression, predictProba } from '../../src/models/logistic-regression.ts';
import { applyStandardizer, fitStandardizer } from '../../src/models/standardizer.ts';
import { ref } from '../fixtures/h1-reference.ts';

/** ∇ of ½‖w‖² + C·Σ sᵢ·log(1+exp(−ỹᵢ zᵢ)) with balanced class weights, computed independently of the solver. */
function gradient(X: Float64Array, n: number, p: number, y: number[], coef: Float64Array, b: number, C = 1, sample?: number[]): number[] {
  const nPos = y.filter((v) => v === 1).length;
  const g = [...coef, 0];
  for (let i = 0; i < n; i++) {
    let z = b;
    for (let j = 0; j < p; j++) z += coef[j]! * X[i * p + j]!;
    const s = C * (y[i] === 1 ? n / (2 * nPos) : n / (2 * (n - nPos))) * (sample ? sample[i]! : 1);
    const r = s * (1 / (1 + Math.exp(-z)) - y[i]!);
    for (let j = 0; j < p; j++) g[j]! += r * X[i * p + j]!;
    g[p]! += r;
  }
  return g;
}

function standardized(X: number[], n: number, p: number): Float64Array {
  const raw = Float64Array.from(X);
  return applyStandardizer(fitStandardizer(raw, n, p), raw, n, p);
}

test('StandardScaler mean / population scale match sklearn (constant column → scale 1)', () => {
  for (const c of ref.logistic) {
    const st = fitStandardizer(Float64Array.from(c.X), c.n, c.p);
    for (let j = 0; j < c.p; j++) {
      assert.ok(Math.abs(st.mean[j]! - c.mean[j]!) <= 1e-12 * Math.max(1, Math.abs(c.mean[j]!)), `mean ${j}`);
      assert.ok(Math.abs(st.scale[j]! - c.scale[j]!) <= 1e-12 * c.scale[j]!, `scale ${j}: ${st.scale[j]} vs ${c.scale[j]}`);
    }
  }
  assert.ok(ref.logistic.some((c) => c.scale.includes(1)), 'fixture has a constant column');
});

test('Newton LR reaches the optimum: gradient ≈ 0, converged in few iterations', () => {
  for (const c of ref.logistic) {
    if (c.classWeight !== 'balanced') continue;
    const Z = standardized(c.X, c.n, c.p);
    const fit = fitLogisticRegression(Z, c.n, c.p, c.y);
    assert.ok(fit.converged, 'converged');
    assert.ok(fit.iterations <= 30, `iterations ${fit.iterations}`);
    const g = gradient(Z, c.n, c.p, c.y, fit.coef, fit.intercept);
    assert.ok(Math.max(...g.map(Math.abs)) < 1e-9, `gradient ${g}`);
  }
});

test('coefficients, intercept and probabilities agree with sklearn (newton-cg, tol 1e-8) to 1e-6', () => {
  assert.equal(ref.logistic.length, 3);
  for (const c of ref.logistic) {
    const Z = standardized(c.X, c.n, c.p);
    const fit = fitLogisticRegression(Z, c.n, c.p, c.y, {
      C: c.C, classWeight: c.classWeight, sampleWeight: c.sampleWeight ? Float64Array.from(c.sampleWeight) : undefined,
    });
    assert.ok(fit.converged);
    c.coef.forEach((w, j) => assert.ok(Math.abs(fit.coef[j]! - w) < 1e-6, `coef ${j}: ${fit.coef[j]} vs ${w}`));
    assert.ok(Math.abs(fit.intercept - c.intercept) < 1e-6, `intercept ${fit.intercept} vs ${c.intercept}`);
    const prob = predictProba(fit, Z, c.n, c.p);
    c.proba.forEach((q, i) => assert.ok(Math.abs(prob[i]! - q) < 1e-7, `proba ${i}`));
  }
});

test('a constant (zero after standardising) column gets coefficient 0', () => {
  const c = ref.logistic.find((k) => k.sampleWeight)!;
  const Z = standardized(c.X, c.n, c.p);
  const fit = fitLogisticRegression(Z, c.n, c.p, c.y, { C: c.C, classWeight: null, sampleWeight: Float64Array.from(c.sampleWeight!) });
  assert.ok(Math.abs(fit.coef[1]!) < 1e-12);
});

test('large C still converges (gradient tolerance scales with C·Σ weights)', () => {
  const c = ref.logistic[1]!;
  const Z = standardized(c.X, c.n, c.p);
  const fit = fitLogisticRegression(Z, c.n, c.p, c.y, { C: 1e6 });
  assert.ok(fit.converged && fit.iterations < 50, `iterations ${fit.iterations}`);
  const g = gradient(Z, c.n, c.p, c.y, fit.coef, fit.intercept, 1e6);
  assert.ok(Math.max(...g.map(Math.abs)) <= 1e-10 * 1e6, `gradient ${g}`);
});

test('separable data stays finite (L2 keeps the optimum bounded)', () => {
  const X = Float64Array.from([-3, -2, -1, 1, 2, 3]);
  const fit = fitLogisticRegression(X, 6, 1, [0, 0, 0, 1, 1, 1]);
  assert.ok(fit.converged && Number.isFinite(fit.coef[0]!) && fit.coef[0]! > 0);
  const g = gradient(X, 6, 1, [0, 0, 0, 1, 1, 1], fit.coef, fit.intercept);
  assert.ok(Math.max(...g.map(Math.abs)) < 1e-9);
});

test('bad input is rejected', () => {
  const X = Float64Array.from([1, 2, 3]);
  assert.throws(() => fitLogisticRegression(X, 3, 1, [1, 1, 1]), /both classes/);
  assert.throws(() => fitLogisticRegression(X, 3, 1, [0, 2, 1]), RangeError);
  assert.throws(() => fitLogisticRegression(X, 4, 1, [0, 1, 1, 0]), RangeError);
  const fit = fitLogisticRegression(X, 3, 1, [0, 1, 1]);
  assert.throws(() => predictProba(fit, Float64Array.from([1, 2]), 1, 2), RangeError);
});
