import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agreementSweep, cohenKappa } from '../../src/offline/sc/agreement-sweep.ts';
import { needsPaper } from '../fixtures/requires.ts';

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} vs ${b}`);

test("Cohen's κ reproduces the paper's logged confusions (SPEC-SC §8.1)", () => {
  // TP, FN, FP, TN at the κ-optimal thresholds of the three GPQA runs
  close(cohenKappa(9, 21, 11, 155), 0.2707, 5e-5);
  // Qwen3.5-9B: SPEC-SC transcribes FP 76 / TN 93, but the logged accuracy 0.5803 = 112/193 and false alarm
  // 0.4556 = 77/169 both need FP 77 / TN 92 — with those κ is the logged 0.1639.
  close(cohenKappa(20, 77, 4, 92), 0.1639, 5e-5);
  close(cohenKappa(16, 34, 9, 139), 0.3106, 5e-5);
  // by hand: p_o = 0.7, p_e = (5·4 + 5·6)/100 = 0.5 → κ = 0.4
  close(cohenKappa(3, 2, 1, 4), 0.4);
  // everything predicted a failure: p_o = p_e → κ = 0 (the paper's degenerate rows)
  assert.equal(cohenKappa(4, 6, 0, 0), 0);
  // one class only and predicted the same way: p_e = 1 → undefined
  assert.ok(Number.isNaN(cohenKappa(0, 0, 0, 5)));
});

// scores 1…10; SC failures at scores 3, 8, 9, 10
const score = Float64Array.from({ length: 10 }, (_, i) => i + 1);
const fail = Uint8Array.from([0, 0, 1, 0, 0, 0, 0, 1, 1, 1]);

test('agreement sweep: numpy-linear percentile thresholds, flag s ≥ threshold, metrics by hand', () => {
  const r = agreementSweep(score, fail);
  assert.equal(r.rows.length, 19);
  const at = (p: number) => r.rows.find((x) => x.percentile === p)!;
  // p = 5: threshold 1 + 0.45 = 1.45 → 9 flagged; TP 4, FP 5, FN 0, TN 1
  close(at(5).threshold, 1.45);
  assert.deepEqual([at(5).tp, at(5).fp, at(5).fn, at(5).tn, at(5).nFlagged], [4, 5, 0, 1, 9]);
  close(at(5).accuracy, 0.5);
  close(at(5).kappa, 0.08 / 0.58);
  close(at(5).pctFlagged, 90);
  close(at(5).falseAlarm, 5 / 6);
  close(at(5).missedFail, 0);
  // p = 50: threshold 5.5 → 6…10 flagged; TP 3, FP 2, FN 1, TN 4
  close(at(50).threshold, 5.5);
  assert.deepEqual([at(50).tp, at(50).fp, at(50).fn, at(50).tn], [3, 2, 1, 4]);
  close(at(50).kappa, 0.4);
  close(at(50).falseAlarm, 2 / 6);
  close(at(50).missedFail, 1 / 4);
  // p = 70 and 75 both flag 8, 9, 10: κ = 0.36/0.46; the optimum is the first of them
  close(at(70).threshold, 7.3);
  close(at(70).kappa, 0.36 / 0.46);
  close(at(75).kappa, 0.36 / 0.46);
  assert.equal(r.best!.percentile, 70);
  close(r.best!.accuracy, 0.9);
  close(r.baselineAccuracy, 0.6);
  close(r.lift, 0.3);
  // p = 80: threshold 8.2 → 9, 10 flagged: κ = 0.24/0.44
  close(at(80).kappa, 0.24 / 0.44);
  assert.equal(r.top10.length, 10);
  for (let i = 1; i < r.top10.length; i++) assert.ok(r.top10[i - 1]!.kappa >= r.top10[i]!.kappa);
  assert.deepEqual(r.top10.slice(0, 2).map((x) => x.percentile), [70, 75]);
});

test('agreement sweep: a NaN score is flagged at every threshold; thresholds come from the finite scores', () => {
  const s = Float64Array.from([NaN, 1, 2, 3, 4]);
  const y = Uint8Array.from([1, 0, 0, 1, 0]);
  const r = agreementSweep(s, y, [50, 95]);
  assert.equal(r.nanCount, 1);
  close(r.rows[0]!.threshold, 2.5);
  // flagged: NaN, 3, 4 → TP 2 (NaN, 3), FP 1 (4), FN 0, TN 2
  assert.deepEqual([r.rows[0]!.tp, r.rows[0]!.fp, r.rows[0]!.fn, r.rows[0]!.tn], [2, 1, 0, 2]);
  // p = 95: threshold 3.85 → flagged NaN, 4 → TP 1, FP 1, FN 1, TN 2
  assert.deepEqual([r.rows[1]!.tp, r.rows[1]!.fp, r.rows[1]!.fn, r.rows[1]!.tn], [1, 1, 1, 2]);
});

test('score u = entropy_mean − margin_mean: percentiles of the independent MATH Gemma run match the stored sweep thresholds (SPEC-SC §1.6)', needsPaper('results/math500_gemma4-31b.final.xlsx'), async (t) => {
  const { existsSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  const path = fileURLToPath(new URL('../../../shared/paper/results/math500_gemma4-31b.final.xlsx', import.meta.url));
  const { loadTable } = await import('../../src/offline/load-table.ts');
  const { signalSources, rawUncertainty } = await import('../../src/offline/sc/sc-signals.ts');
  const frame = await loadTable(path);
  const u = rawUncertainty(frame, signalSources(frame, 400).prefinal_full);
  const pl = frame.numeric('prefinal_len')!;
  const kept = [...u].filter((v, i) => pl[i]! > 0 && !Number.isNaN(v));
  const sweep = agreementSweep(Float64Array.from(kept), new Uint8Array(kept.length));
  // math500_gemma4_sc_agreement_sweep_w400.csv thresholds (the SC run itself is not available; SPEC-SC reports
  // mean |diff| 0.003, max 0.011 against this independent single-completion run of the same model)
  const stored = [-0.9073, -0.8978, -0.8867, -0.8791, -0.8717, -0.8648, -0.8575, -0.851, -0.8447, -0.8393, -0.8326, -0.8278, -0.8201, -0.8125, -0.8016, -0.7895, -0.7732, -0.7478, -0.7044];
  const diffs = sweep.rows.map((r, i) => Math.abs(r.threshold - stored[i]!));
  assert.ok(diffs.reduce((a, b) => a + b) / diffs.length < 0.004);
  assert.ok(Math.max(...diffs) < 0.012);
});
