import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StopData, WindowRisks } from '../../src/models/stop-data.ts';
import { evaluateStopRule, riskRowsFromColumns } from '../../src/models/risk-control.ts';
import {
  concatStopData, crossFitTable, leaveOneTableOut, transferEval, type PooledTable, type StopCalibrator,
} from '../../src/offline/early-stop-eval.ts';
import { allRows, applyStopRule, oracleCounts, stopRates } from '../../src/offline/stop-outcome.ts';
import { MT19937 } from '../../src/offline/rng/mt19937.ts';

const u = (r: MT19937) => r.nextUint32() / 2 ** 32;
const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

/** Tiny stop data with one feature per window. */
function tiny(y: number[], stopLen: number[], fullLen: number[], windows: number[], f: number[][]): StopData {
  return {
    windows, featureNames: ['nll_mean'], features: windows.map((_, w) => Float64Array.from(f.map((r) => r[w]!))),
    y: Uint8Array.from(y), stopLen: Float64Array.from(stopLen), fullLen: Float64Array.from(fullLen),
  };
}

describe('oracleCounts', () => {
  it('stops every failure at its first running window — by hand', () => {
    // windows 100, 200. Failure a (len 1000): stopped at 100 → saves 900. Failure b (len 150): at 100 → 50.
    // Failure c (len 90): never running → 0. Correct d (len 2000): never stopped.
    const d = tiny([1, 1, 1, 0], [1000, 150, 90, 2000], [1000, 150, 90, 2000], [100, 200], [[0, 0], [0, 0], [0, 0], [0, 0]]);
    const o = oracleCounts(d, allRows(4));
    assert.equal(o.stopped, 2);
    assert.equal(o.savedTokens, 950);
    assert.equal(o.totalTokens, 3240);
    close(stopRates(o).saved, 950 / 3240);
    close(stopRates(o).falseKill, 0);
  });

  it('uses the stop length for "running" and the full length for the saving (prefinal mode)', () => {
    // prefinal length 120 > 100 but ≤ 200: running at 100 only; the generation had 700 tokens → 600 saved.
    const d = tiny([1], [120], [700], [100, 200], [[0, 0]]);
    assert.equal(oracleCounts(d, allRows(1)).savedTokens, 600);
    const late = tiny([1], [100], [700], [100, 200], [[0, 0]]);
    assert.equal(oracleCounts(late, allRows(1)).savedTokens, 0, 'length 100 is not running at T = 100');
  });

  it('equals a brute force over all stop-window choices on random data (max saving with no false kill)', () => {
    const rng = new MT19937(3);
    const windows = [64, 128, 256, 512];
    for (let rep = 0; rep < 50; rep++) {
      const n = 12;
      const y = Array.from({ length: n }, () => (u(rng) < 0.5 ? 1 : 0));
      const len = Array.from({ length: n }, () => Math.floor(u(rng) * 800));
      const d = tiny(y, len, len, windows, len.map(() => windows.map(() => 0)));
      // Brute force: for each failure, the best saving over every window it is running at (earliest is best).
      let best = 0;
      for (let i = 0; i < n; i++) {
        if (!y[i]) continue;
        let b = 0;
        for (const T of windows) if (len[i]! > T) b = Math.max(b, len[i]! - T);
        best += b;
      }
      assert.equal(oracleCounts(d, allRows(n)).savedTokens, best);
    }
  });
});

describe('applyStopRule', () => {
  it('agrees with risk-control.ts evaluateStopRule (an independent implementation) on random rules', () => {
    const rng = new MT19937(7);
    const windows = [128, 256, 512];
    for (let rep = 0; rep < 100; rep++) {
      const n = 15;
      const y = Array.from({ length: n }, () => (u(rng) < 0.4 ? 1 : 0));
      const len = Array.from({ length: n }, () => Math.floor(u(rng) * 1000));
      const d = tiny(y, len, len, windows, len.map(() => windows.map(() => 0)));
      const risks: WindowRisks = windows.map((T) => Float64Array.from(len, (L) => (L > T ? Math.round(u(rng) * 10) / 10 : NaN)));
      const th = windows.map(() => Math.round(u(rng) * 10) / 10);
      const mine = applyStopRule(d, allRows(n), risks, th).counts;
      const theirs = evaluateStopRule(riskRowsFromColumns(windows, risks, y, len), th);
      assert.equal(mine.stopped, theirs.stops);
      assert.equal(mine.stopped - mine.stoppedFailures, theirs.falseKills);
      assert.equal(mine.savedTokens, theirs.tokensSaved);
    }
  });
});

/** Synthetic table: failures have a higher nll at every window; lengths long enough to run through all windows. */
function synthetic(n: number, seed: number, shift = 1.5): StopData {
  const rng = new MT19937(seed);
  const windows = [128, 256, 512];
  const p = 2;
  const y = Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const gauss = () => Math.sqrt(-2 * Math.log(1 - u(rng))) * Math.cos(2 * Math.PI * u(rng));
  const features = windows.map(() => {
    const X = new Float64Array(n * p);
    for (let i = 0; i < n; i++) { X[i * p] = gauss() + shift * y[i]!; X[i * p + 1] = gauss(); }
    return X;
  });
  const fullLen = Float64Array.from({ length: n }, () => 600 + Math.floor(u(rng) * 1400));
  return { windows, featureNames: ['nll_mean', 'entropy_mean'], features, y, stopLen: fullLen, fullLen };
}

/** Risk control stand-in: the smallest common λ with at most ⌊α·#correct⌋ false kills (no confidence margin). */
const plugIn: StopCalibrator = (risks, y, alpha) => {
  const M = Array.from(y, (_, i) => Math.max(...risks.map((r) => (r[i]! === r[i]! ? r[i]! : -Infinity))));
  const correct = Array.from(y).filter((v) => !v).length;
  const cand = [...new Set(M.filter((m) => m > -Infinity))].sort((a, b) => b - a);
  let lambda = Infinity;
  for (const l of cand) {
    const fk = M.filter((m, i) => !y[i] && m >= l).length;
    if (fk > Math.floor(alpha * correct)) break;
    lambda = l;
  }
  return risks.map(() => lambda);
};

describe('crossFitTable', () => {
  it('never lets a held-out row influence its own thresholds: flipping fold 0\'s labels leaves fold 0\'s calibration untouched', () => {
    const data = synthetic(150, 1);
    const folds = Int32Array.from({ length: 150 }, (_, i) => i % 5);
    const record = (log: string[][], fold: { f: number }): StopCalibrator => (risks, y, alpha, delta) => {
      const th = plugIn(risks, y, alpha, delta);
      log[fold.f]!.push(JSON.stringify([Array.from(y), risks.map((r) => Array.from(r)), Array.from(th)]));
      return th;
    };
    const run = (d: StopData) => {
      const log: string[][] = [[], [], [], [], []];
      const fold = { f: 0 };
      const r = crossFitTable(d, { calibrate: record(log, fold), folds, alphas: [0.05, 0.1] }, () => fold.f++);
      return { log, r };
    };
    const a = run(data);
    const flipped = { ...data, y: Uint8Array.from(data.y, (v, i) => (folds[i] === 0 ? 1 - v : v)) };
    const b = run(flipped);
    assert.ok(a.log[0]!.length > 0, 'fold 0 was calibrated');
    assert.deepEqual(b.log[0], a.log[0], 'fold 0 is calibrated (and its model chosen) from the other folds only');
    for (let f = 1; f < 5; f++) assert.notDeepEqual(b.log[f], a.log[f], `fold ${f}'s calibration sees fold 0's labels`);
  });

  it('pools the held-out folds: counts add up to the table and the learned rule catches separable failures', () => {
    const data = synthetic(300, 2, 4);
    const r = crossFitTable(data, { calibrate: plugIn, alphas: [0.05] });
    const a = r.alphas[0]!;
    assert.equal(a.learned.counts.n, 300);
    assert.equal(a.learned.counts.failures, 100);
    assert.equal(a.learned.chosen.length, 5);
    assert.equal(r.oracle.savedTokens, oracleCounts(data, allRows(300)).savedTokens);
    assert.ok(a.learned.rates.recall > 0.8, `recall ${a.learned.rates.recall}`);
    assert.ok(a.learned.rates.falseKill <= 0.1, `false-kill ${a.learned.rates.falseKill}`);
    assert.ok(a.baseline.rates.recall > 0.8, 'the baseline (nll_mean) separates too');
  });
});

describe('leave one table out', () => {
  const tables = [
    { table: 'a', group: 'a' }, { table: 'b', group: 'b' }, { table: 'b-split', group: 'b', pooled: false }, { table: 'c', group: 'c' },
  ];

  it('trains on the other groups\' pooled tables only — by hand', () => {
    assert.deepEqual(leaveOneTableOut(tables, 0), [1, 3]);
    assert.deepEqual(leaveOneTableOut(tables, 1), [0, 3], 'b-split shares b\'s samples');
    assert.deepEqual(leaveOneTableOut(tables, 2), [0, 3], 'a duplicate is held out but never trained on');
    assert.deepEqual(leaveOneTableOut(tables, 3), [0, 1]);
  });

  it('the held-out table\'s labels never reach its own calibration', () => {
    const mk = (seed: number) => synthetic(60, seed, 2);
    const pooled: PooledTable[] = ['a', 'b', 'c', 'd'].map((t, s) => ({ table: t, group: t, data: mk(10 + s) }));
    const run = (ts: PooledTable[]) => {
      const log: string[] = [];
      const cal: StopCalibrator = (risks, y, alpha, delta) => { const th = plugIn(risks, y, alpha, delta); log.push(JSON.stringify([Array.from(y), Array.from(th)])); return th; };
      transferEval(ts.slice(0, 1).concat(ts.slice(1)), { calibrate: cal, alphas: [0.1], learned: ['window'] });
      return log;
    };
    const a = run(pooled);
    const flippedFirst = pooled.map((t, s) => (s === 0 ? { ...t, data: { ...t.data, y: Uint8Array.from(t.data.y, (v) => 1 - v) } } : t));
    const b = run(flippedFirst);
    const perTable = a.length / 4;
    assert.deepEqual(b.slice(0, perTable), a.slice(0, perTable), 'table a held out: its calibration is unchanged');
    assert.notDeepEqual(b.slice(perTable), a.slice(perTable));
  });

  it('concatStopData keeps the shared windows and appends rows in order', () => {
    const d1 = tiny([1, 0], [500, 500], [500, 500], [100, 200], [[1, 2], [3, 4]]);
    const d2 = tiny([0], [900], [900], [200, 300], [[5, 6]]);
    const { data, offsets } = concatStopData([d1, d2]);
    assert.deepEqual(data.windows, [200]);
    assert.deepEqual(offsets, [0, 2]);
    assert.deepEqual(Array.from(data.features[0]!), [2, 4, 5]);
    assert.deepEqual(Array.from(data.y), [1, 0, 0]);
  });
});
