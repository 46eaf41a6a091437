import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitLogisticRegression } from '../../src/models/logistic-regression.ts';
import type { StopData } from '../../src/models/stop-data.ts';
import { fitStopModel, hazardDesign, stopModelRisks, windowFillMedians } from '../../src/models/stop-models.ts';
import { MT19937 } from '../../src/offline/rng/mt19937.ts';

const close = (a: number, b: number, eps: number, what = '') => assert.ok(Math.abs(a - b) <= eps, `${what} ${a} ≉ ${b}`);

// 3 samples, windows 100 / 200 / 300, p = 2 features (a, b). Sample 0 runs to 250 (windows 100, 200), sample 1 to 1000
// (all three), sample 2 to 50 (none). Sample 1's b at window 200 is missing.
const NaN_ = NaN;
const tinyData: StopData = {
  windows: [100, 200, 300],
  featureNames: ['a', 'b'],
  features: [
    Float64Array.from([1, 10, 2, 20, 9, 9]),
    Float64Array.from([3, 30, 5, NaN_, 9, 9]),
    Float64Array.from([0, 0, 8, 80, 9, 9]),
  ],
  y: Uint8Array.from([1, 0, 1]),
  stopLen: Float64Array.from([250, 1000, 50]),
  fullLen: Float64Array.from([250, 1000, 50]),
};

describe('hazard design matrix', () => {
  it('has one row per (running sample, window) with levels, changes and window indicators — by hand', () => {
    const fills = windowFillMedians(tinyData, [0, 1, 2]);
    // Medians over the rows running at each window: w100 rows 0, 1 → a (1+2)/2, b (10+20)/2; w200 rows 0, 1 → a 4,
    // b 30 (only sample 0 has it); w300 row 1 → a 8, b 80.
    assert.deepEqual(fills.map((f) => Array.from(f)), [[1.5, 15], [4, 30], [8, 80]]);
    const { X, y, n, d, sample, window } = hazardDesign(tinyData, [0, 1, 2], fills);
    assert.equal(d, 2 * 2 + 2);
    assert.equal(n, 5);
    assert.deepEqual(Array.from(sample), [0, 0, 1, 1, 1]);
    assert.deepEqual(Array.from(window), [0, 1, 0, 1, 2]);
    assert.deepEqual(Array.from(y), [1, 1, 0, 0, 0]);
    const rows = Array.from({ length: n }, (_, r) => Array.from(X.subarray(r * d, r * d + d)));
    assert.deepEqual(rows, [
      //  a   b   Δa   Δb  1{w=1} 1{w=2}
      [1, 10, 0, 0, 0, 0],           // sample 0, T = 100
      [3, 30, 2, 20, 1, 0],          // sample 0, T = 200
      [2, 20, 0, 0, 0, 0],           // sample 1, T = 100
      [5, 30, 3, 10, 1, 0],          // sample 1, T = 200: b missing → fill 30; Δb = 30 − 20
      [8, 80, 3, 50, 0, 1],          // sample 1, T = 300
    ]);
  });
});

/** A synthetic table where failures drift up over the windows. */
function drifting(n: number, seed: number): StopData {
  const rng = new MT19937(seed);
  const u = () => rng.nextUint32() / 2 ** 32;
  const windows = [128, 256, 512, 1024];
  const p = 3;
  const y = Uint8Array.from({ length: n }, () => (u() < 0.4 ? 1 : 0));
  const features = windows.map((_, w) => {
    const X = new Float64Array(n * p);
    for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) X[i * p + j] = u() + (j === 0 ? 0.3 * w * y[i]! : 0) + (u() < 0.05 ? NaN : 0);
    return X;
  });
  const len = Float64Array.from({ length: n }, () => 100 + Math.floor(u() * 1500));
  return { windows, featureNames: ['f0', 'f1', 'f2'], features, y, stopLen: len, fullLen: len };
}

describe('fitted stop models', () => {
  it('hazard: the per-window scorers equal σ(LR on the standardised design), the model refitted independently', () => {
    const data = drifting(200, 1);
    const rows = Array.from({ length: 200 }, (_, i) => i);
    const model = fitStopModel('hazard', data, rows)!;
    const risks = stopModelRisks(model, data, rows);
    // Independent route: design → textbook z-scores → LR → predicted probability per design row.
    const fills = windowFillMedians(data, rows);
    const { X, y, n, d, sample, window } = hazardDesign(data, rows, fills);
    const Z = new Float64Array(n * d);
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let r = 0; r < n; r++) m += X[r * d + j]!;
      m /= n;
      let v = 0;
      for (let r = 0; r < n; r++) v += (X[r * d + j]! - m) ** 2;
      const s = Math.sqrt(v / n) || 1;
      for (let r = 0; r < n; r++) Z[r * d + j] = (X[r * d + j]! - m) / s;
    }
    const fit = fitLogisticRegression(Z, n, d, y);
    for (let r = 0; r < n; r++) {
      let z = fit.intercept;
      for (let j = 0; j < d; j++) z += fit.coef[j]! * Z[r * d + j]!;
      close(risks[window[r]!]![sample[r]!]!, 1 / (1 + Math.exp(-z)), 1e-9, `row ${r}`);
    }
    // Rows not running at a window have no risk there.
    for (const [w, T] of data.windows.entries()) rows.forEach((i) => { if (!(data.stopLen[i]! > T)) assert.ok(Number.isNaN(risks[w]![i]!), `row ${i} T ${T}`); });
  });

  it('window: each window\'s classifier is an LR on the rows running at T only', () => {
    const data = drifting(200, 2);
    const rows = Array.from({ length: 200 }, (_, i) => i);
    const model = fitStopModel('window', data, rows)!;
    // Changing a row that is NOT running at T = 1024 must leave window 1024's scorer unchanged.
    const short = rows.find((i) => data.stopLen[i]! <= 1024 && data.stopLen[i]! > 512)!;
    const changed: StopData = { ...data, y: Uint8Array.from(data.y, (v, i) => (i === short ? 1 - v : v)) };
    const again = fitStopModel('window', changed, rows)!;
    assert.deepEqual(again.scorers[3], model.scorers[3]);
    assert.notDeepEqual(again.scorers[2], model.scorers[2]);
  });
});

describe('exportStopModel', () => {
  it('gives model-file classifiers whose scoreClassifier equals the model\'s risks (hazard: previous window\'s columns too)', async () => {
    const { exportStopModel } = await import('../../src/models/stop-models.ts');
    const { scoreClassifier } = await import('../../src/models/score-classifier.ts');
    const data = drifting(120, 5);
    const rows = Array.from({ length: 120 }, (_, i) => i);
    for (const kind of ['window', 'hazard'] as const) {
      const model = fitStopModel(kind, data, rows)!;
      const risks = stopModelRisks(model, data, rows);
      const cls = exportStopModel(model, data, (T, f) => `${f}_prefinal_w${T}`);
      assert.equal(cls.length, 4);
      assert.deepEqual(cls[1]!.featureNames.slice(0, 3), ['f0_prefinal_w256', 'f1_prefinal_w256', 'f2_prefinal_w256']);
      assert.equal(cls[1]!.featureNames.length, kind === 'hazard' ? 6 : 3);
      for (const i of rows) {
        const record: Record<string, number> = {};
        data.windows.forEach((T, w) => data.featureNames.forEach((f, j) => { record[`${f}_prefinal_w${T}`] = data.features[w]![i * 3 + j]!; }));
        cls.forEach((c, w) => {
          if (!(data.stopLen[i]! > c.window)) return;
          close(scoreClassifier({ ...c, oof: { prauc: null, auroc: null }, stop: { threshold: null, precision: null, recall: null } } as never, record), risks[w]![i]!, 1e-12, `${kind} row ${i} T ${c.window}`);
        });
      }
    }
  });
});
