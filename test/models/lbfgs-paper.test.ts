import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fitLogisticRegressionLbfgs } from '../../src/models/lbfgs-paper.ts';
import { fitLogisticRegression } from '../../src/models/logistic-regression.ts';

// test/fixtures/lbfgs-scipy-fits.json: scipy 1.10.1 `minimize(method='L-BFGS-B', jac=True, options={gtol: tol,
// ftol: 64·eps, maxls: 50, maxiter: 1000})` from 0 on Σsᵢ·log(1+e^{−ỹz})/Σs + ‖w‖²/(2·C·Σs) with balanced class
// weights (× sampleWeight where given): standardised random problems, p = 2…11, C 0.3…100, tol 1e-4…1e-7 (the last
// two run 22 and 29 iterations, so the 10-pair memory wraps and the line search backtracks).
interface Case {
  n: number; p: number; C: number; tol: number; X: number[]; y: number[]; sampleWeight: number[] | null;
  coef: number[]; intercept: number; nit: number;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/lbfgs-scipy-fits.json', import.meta.url), 'utf8')) as { cases: Case[] };

function run(c: Case, tol = c.tol) {
  return fitLogisticRegressionLbfgs(Float64Array.from(c.X), c.n, c.p, c.y, {
    C: c.C, tol, sampleWeight: c.sampleWeight ? Float64Array.from(c.sampleWeight) : undefined,
  });
}

test('the fixture covers several problems, including one that fills the memory', () => {
  assert.ok(fixture.cases.length >= 5);
  assert.ok(fixture.cases.some((c) => c.nit > 10));
  assert.ok(fixture.cases.some((c) => c.sampleWeight !== null));
});

for (const [k, c] of fixture.cases.entries()) {
  test(`case ${k} (n=${c.n}, p=${c.p}, C=${c.C}, tol=${c.tol}): scipy's iterate and iteration count`, () => {
    const fit = run(c);
    assert.equal(fit.iterations, c.nit);
    assert.ok(fit.converged);
    assert.ok(Math.abs(fit.intercept - c.intercept) <= 1e-9, `intercept ${fit.intercept} vs ${c.intercept}`);
    for (let j = 0; j < c.p; j++) assert.ok(Math.abs(fit.coef[j]! - c.coef[j]!) <= 1e-9, `coef[${j}] ${fit.coef[j]} vs ${c.coef[j]}`);
  });
}

test('stops short of the optimum at tol 1e-4; a tight tol gets close (the 64·eps f-reduction test stops it there)', () => {
  const c = fixture.cases.find((x) => x.C === 1 && x.sampleWeight === null && x.p >= 6)!;
  const exact = fitLogisticRegression(Float64Array.from(c.X), c.n, c.p, c.y, { C: c.C });
  const loose = run(c);
  const tight = run(c, 1e-12);
  const gap = (f: { coef: Float64Array; intercept: number }) =>
    Math.max(Math.abs(f.intercept - exact.intercept), ...Array.from(f.coef, (v, j) => Math.abs(v - exact.coef[j]!)));
  assert.ok(gap(loose) > 1e-5, `the tol-1e-4 fit is ${gap(loose)} from the optimum`);
  assert.ok(gap(tight) < 1e-6 && gap(tight) < gap(loose) / 1000, `the tight fit is ${gap(tight)} from the optimum`);
  assert.ok(tight.iterations > loose.iterations);
});

test('scratch reuse: a larger fit between two identical ones does not change the result', () => {
  const small = fixture.cases[0]!, big = fixture.cases.reduce((a, b) => (a.n * a.p > b.n * b.p ? a : b));
  const a = run(small);
  run(big);
  const b = run(small);
  assert.deepEqual(Array.from(b.coef), Array.from(a.coef));
  assert.equal(b.intercept, a.intercept);
});

test('bad input is rejected with the function named', () => {
  const X = new Float64Array([0, 1, 2, 3]);
  assert.throws(() => fitLogisticRegressionLbfgs(X, 4, 1, [0, 0, 0, 0]), /fitLogisticRegressionLbfgs: y needs samples of both classes/);
  assert.throws(() => fitLogisticRegressionLbfgs(X, 4, 1, [0, 1, 2, 0]), /fitLogisticRegressionLbfgs: y\[2\] = 2/);
  assert.throws(() => fitLogisticRegressionLbfgs(X, 4, 1, [0, 1, 1, 0], { C: 0 }), /C must be > 0/);
  assert.throws(() => fitLogisticRegressionLbfgs(X, 5, 1, [0, 1, 1, 0, 1]), /X has 4 values/);
});
