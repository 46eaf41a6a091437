import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  calibrateStopRule, evaluateStopRule, poolStopOutcomes, riskRowsFromColumns, stopWindowIndex, subsetRiskRows, type RiskRows,
} from '../../src/models/risk-control.ts';
import { clopperPearsonUpper } from '../../src/models/clopper-pearson.ts';

/** Deterministic PRNG (mulberry32): the tests never depend on Math.random. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The live rule written out directly from its statement: per sample, the first window whose risk ≥ its threshold. */
function liveRule(risks: number[][], thresholds: number[]): number[] {
  return risks.map((r) => {
    for (let w = 0; w < r.length; w++) if (!Number.isNaN(r[w]!) && r[w]! >= thresholds[w]!) return w;
    return -1;
  });
}

function rowsOf(risks: number[][], y: number[], windows: number[], fullLen?: number[]): RiskRows {
  return riskRowsFromColumns(windows, windows.map((_, w) => risks.map((r) => r[w]!)), y, fullLen);
}

/**
 * Reference calibration by brute force: every distinct finite risk of the table is a candidate λ (descending), the
 * live rule is simulated at each, its error bound computed from its counts, and the fixed-sequence scan run on them.
 * Returns the stopped-sample indicator of the chosen rule (λ itself may differ inside a plateau of equal rules).
 */
function bruteForce(risks: number[][], y: number[], opts: { alpha: number; delta: number; precision: boolean }) {
  const W = risks[0]!.length;
  const cands = [...new Set(risks.flat().filter((x) => !Number.isNaN(x)))].sort((a, b) => b - a);
  const correct = y.filter((v) => v === 0).length;
  let sMin = 1;
  if (opts.precision) while (clopperPearsonUpper(0, sMin, opts.delta) > opts.alpha) sMin++;
  let chosen: { stopped: boolean[]; k: number; m: number } | null = null;
  for (const lam of cands) {
    const at = liveRule(risks, new Array(W).fill(lam));
    const stops = at.filter((w) => w >= 0).length;
    const k = at.filter((w, i) => w >= 0 && y[i] === 0).length;
    if (opts.precision && stops < sMin) continue;
    const m = opts.precision ? stops : correct;
    if (m === 0 || clopperPearsonUpper(k, m, opts.delta) > opts.alpha) break;
    chosen = { stopped: at.map((w) => w >= 0), k, m };
  }
  return chosen;
}

test('the live rule: first window (ascending) whose risk ≥ its threshold; NaN = not running', () => {
  // the module's worked example
  const risks = [[0.9, NaN], [0.2, 0.8], [0.3, 0.4], [0.1, NaN]];
  const rows = rowsOf(risks, [1, 0, 1, 0], [128, 256], [1000, 2000, 300, 100]);
  assert.deepEqual(Array.from(stopWindowIndex(rows, [0.8, 0.8])), [0, 1, -1, -1]);
  assert.deepEqual(Array.from(stopWindowIndex(rows, [0.25, 0.5])), [0, 1, 0, -1]);
  assert.deepEqual(Array.from(stopWindowIndex(rows, null)), [-1, -1, -1, -1]);
  const o = evaluateStopRule(rows, [0.25, 0.5]);
  // a stops at 128 (saves 872), b at 256 (saves 1744), c at 128 (saves 172); total 3400 tokens
  assert.deepEqual(
    { stops: o.stops, falseKills: o.falseKills, stoppedFailures: o.stoppedFailures, tokensSaved: o.tokensSaved, totalTokens: o.totalTokens },
    { stops: 3, falseKills: 1, stoppedFailures: 2, tokensSaved: 872 + 1744 + 172, totalTokens: 3400 },
  );
  assert.equal(o.falseKillRate, 1 / 2);
  assert.equal(o.precision, 2 / 3);
  assert.equal(o.recall, 1);
  // random tables: the typed-array rule equals the direct statement
  const r = rng(7);
  for (let trial = 0; trial < 200; trial++) {
    const W = 1 + Math.floor(r() * 4);
    const n = 1 + Math.floor(r() * 12);
    const rs = Array.from({ length: n }, () => Array.from({ length: W }, () => (r() < 0.2 ? NaN : Math.round(r() * 10) / 10)));
    const th = Array.from({ length: W }, () => Math.round(r() * 10) / 10);
    const got = stopWindowIndex(rowsOf(rs, rs.map(() => 0), Array.from({ length: W }, (_, w) => 100 * (w + 1))), th);
    assert.deepEqual(Array.from(got), liveRule(rs, th));
  }
});

test('calibrateStopRule, false-kill control: hand-checked example', () => {
  // 2 failures at the top, then 50 correct samples: CP(0, 50, 0.1) = 1 − 0.1^(1/50) = 0.045007 ≤ 0.05 passes,
  // CP(1, 50, 0.1) = 0.0756 > 0.05 fails, so λ stops exactly the two failures.
  const risks = [[0.9, NaN], [0.5, 0.8], [0.7, 0.6], ...Array.from({ length: 49 }, (_, i) => [0.1 + i * 0.001, 0.2])];
  const y = [1, 1, 0, ...new Array(49).fill(0)];
  const cal = calibrateStopRule(rowsOf(risks, y, [128, 256]), { maxFalseKill: 0.05, delta: 0.1 });
  assert.equal(cal.lambda, 0.8);
  assert.deepEqual(Array.from(cal.thresholds!), [0.8, 0.8]);
  const g = cal.guarantee;
  assert.equal(g.calibrationN, 50);
  assert.equal(g.stops, 2);
  assert.equal(g.falseKills, 0);
  assert.ok(Math.abs(g.bound! - (1 - 0.1 ** (1 / 50))) < 1e-12, `bound ${g.bound}`);
  assert.ok(Math.abs(0.045007 - g.bound!) < 1e-6, `bound ${g.bound}`);
  assert.equal(g.precision, 1);
  assert.equal(g.recall, 1);
  assert.equal(g.falseKillRate, 0);
  assert.equal(g.tokensSaved, null);
  assert.equal(g.family, 'common-threshold');
  assert.equal(g.control, 'false-kill');
  // With α = 0.1, CP(1, 50, 0.1) = 0.0756 passes and CP(2, 50, 0.1) = 0.1030 fails: one false kill allowed.
  assert.ok(clopperPearsonUpper(1, 50, 0.1) <= 0.1 && clopperPearsonUpper(2, 50, 0.1) > 0.1, 'CP(1|2, 50, 0.1) around 0.1');
  const cal2 = calibrateStopRule(rowsOf(risks, y, [128, 256]), { maxFalseKill: 0.1 });
  assert.equal(cal2.guarantee.falseKills, 1);
  assert.equal(cal2.lambda, 0.7);
});

test('calibrateStopRule: never stops when even the most conservative λ fails (the worked example)', () => {
  const rows = rowsOf([[0.9, NaN], [0.2, 0.8], [0.3, 0.4], [0.1, NaN]], [1, 0, 1, 0], [128, 256]);
  const cal = calibrateStopRule(rows);
  assert.equal(cal.thresholds, null);
  assert.equal(cal.lambda, null);
  assert.equal(cal.guarantee.stops, 0);
  assert.equal(cal.guarantee.calibrationN, 2);
  assert.ok(Math.abs(cal.guarantee.bound! - (1 - Math.sqrt(0.1))) < 1e-12, `bound ${cal.guarantee.bound}`); // CP(0, 2, 0.1): why it was rejected
  // fewer than ln δ / ln(1 − α) ≈ 44.9 correct samples: no threshold can be certified, however well separated
  const sep = Array.from({ length: 100 }, (_, i) => (i < 56 ? [0.99 - i * 1e-4] : [0.1 + i * 1e-4]));
  const ySep = sep.map((_, i) => (i < 56 ? 1 : 0)); // 44 correct
  assert.equal(calibrateStopRule(rowsOf(sep, ySep, [128])).thresholds, null);
  const ySep45 = sep.map((_, i) => (i < 55 ? 1 : 0)); // 45 correct: now λ stops the 55 failures
  const ok = calibrateStopRule(rowsOf(sep, ySep45, [128]));
  assert.equal(ok.guarantee.stops, 55);
  assert.equal(ok.guarantee.falseKills, 0);
  // nothing scored at all: nothing to test
  const empty = calibrateStopRule(rowsOf([[NaN], [NaN]], [0, 1], [128]));
  assert.equal(empty.thresholds, null);
  assert.equal(empty.guarantee.bound, null);
});

test('calibrateStopRule, precision control: hand-checked example', () => {
  // target 0.8 → α = 0.2; s_min = ⌈ln 0.1 / ln 0.8⌉ = 11 (0.8^11 = 0.0859 ≤ 0.1 < 0.8^10 = 0.107)
  // 11 failures on top → CP(0, 11, 0.1) = 0.1889 ≤ 0.2 passes; the next is correct: CP(1, 12, 0.1) = 0.2831 fails.
  const risks = Array.from({ length: 30 }, (_, i) => [1 - i / 100]);
  const y = risks.map((_, i) => (i < 11 || i === 13 ? 1 : 0));
  const cal = calibrateStopRule(rowsOf(risks, y, [200]), { targetPrecision: 0.8 });
  assert.equal(cal.guarantee.control, 'precision');
  assert.ok(Math.abs(cal.guarantee.alpha - 0.2) < 1e-15, `alpha ${cal.guarantee.alpha}`);
  assert.equal(cal.guarantee.stops, 11);
  assert.equal(cal.lambda, risks[10]![0]);
  assert.ok(Math.abs(cal.guarantee.bound! - (1 - 0.1 ** (1 / 11))) < 1e-12, `bound ${cal.guarantee.bound}`);
  // without the start at s_min the scan would end at once: one stop can never pass (CP(0, 1, 0.1) = 0.9)
  assert.ok(clopperPearsonUpper(0, 1, 0.1) > 0.2, 'one stop cannot pass');
  // the first λ tested stops 11 with one correct among them: CP(1, 11, 0.1) = 0.310 > 0.2 → never stop
  const y2 = risks.map((_, i) => (i === 0 ? 0 : 1));
  const cal2 = calibrateStopRule(rowsOf(risks, y2, [200]), { targetPrecision: 0.8 });
  assert.equal(cal2.thresholds, null);
  assert.ok(Math.abs(cal2.guarantee.bound! - clopperPearsonUpper(1, 11, 0.1)) < 1e-12, `bound ${cal2.guarantee.bound}`);
});

test('calibrateStopRule equals a brute-force scan over every threshold on small random tables', () => {
  const r = rng(2026);
  let nonTrivial = 0;
  for (let trial = 0; trial < 300; trial++) {
    const W = 1 + Math.floor(r() * 3);
    const n = 20 + Math.floor(r() * 120);
    const y = Array.from({ length: n }, () => (r() < 0.35 ? 1 : 0));
    // coarse risks → many ties; failures score higher on average; some windows not running
    const risks = y.map((yi) => Array.from({ length: W }, () => (r() < 0.15 ? NaN : Math.round(Math.min(1, r() * 0.7 + yi * r() * 0.5) * 40) / 40)));
    const precision = trial % 2 === 1;
    const alpha = precision ? [0.2, 0.3, 0.4][trial % 3]! : [0.05, 0.1, 0.2][trial % 3]!;
    const delta = [0.1, 0.2, 0.05][(trial >> 1) % 3]!;
    const cal = calibrateStopRule(rowsOf(risks, y, Array.from({ length: W }, (_, w) => 128 << w)), precision ? { targetPrecision: 1 - alpha, delta } : { maxFalseKill: alpha, delta });
    const ref = bruteForce(risks, y, { alpha, delta, precision });
    if (ref === null) {
      assert.equal(cal.thresholds, null, `trial ${trial}`);
      continue;
    }
    nonTrivial++;
    assert.notEqual(cal.thresholds, null, `trial ${trial}`);
    assert.deepEqual(liveRule(risks, Array.from(cal.thresholds!)).map((w) => w >= 0), ref.stopped, `trial ${trial}`);
    assert.equal(cal.guarantee.falseKills, ref.k);
    assert.ok(Math.abs(cal.guarantee.bound! - clopperPearsonUpper(ref.k, ref.m, delta)) < 1e-12, `trial ${trial}: bound ${cal.guarantee.bound}`);
  }
  assert.ok(nonTrivial > 100, `only ${nonTrivial} tables had a non-trivial rule`);
});

test('subsetRiskRows and poolStopOutcomes: folds pooled equal the whole', () => {
  const r = rng(3);
  const n = 60;
  const risks = Array.from({ length: n }, () => [r(), r() < 0.3 ? NaN : r()]);
  const y = risks.map(() => (r() < 0.4 ? 1 : 0));
  const len = risks.map(() => 100 + Math.floor(r() * 3000));
  const rows = rowsOf(risks, y, [128, 512], len);
  const th = [0.7, 0.6];
  const folds = [0, 1, 2].map((f) => Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 === f));
  const pooled = poolStopOutcomes(folds.map((idx) => evaluateStopRule(subsetRiskRows(rows, idx), th)));
  assert.deepEqual(pooled, evaluateStopRule(rows, th));
});

// ---------------------------------------------------------------------------------------------------------------
// Validity on synthetic data whose true false-kill rate is known in closed form.
//
// Windows 1, 2, 3; a sample runs through j ∈ {1, 2, 3} of them (uniform). A correct sample's risk at each running
// window is U(0, 1), so M = max of j uniforms and P(stopped at λ | correct) = Σ_j ⅓ (1 − λ^j) exactly. Failures
// score sqrt(U) (higher). Over many seeded calibration sets the calibrated rule's TRUE false-kill rate must be ≤ α
// in ≥ 1 − δ of them (within Monte-Carlo error); a naive rule (empirical false-kill rate ≤ α) must not be.

function trueFalseKill(lambda: number | null): number {
  if (lambda === null) return 0;
  const l = Math.min(1, Math.max(0, lambda));
  return ((1 - l) + (1 - l * l) + (1 - l * l * l)) / 3;
}

function syntheticRows(r: () => number, n: number): RiskRows {
  const W = 3;
  const risk = new Float64Array(n * W).fill(NaN);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = r() < 0.4 ? 1 : 0;
    const j = 1 + Math.floor(r() * 3);
    for (let w = 0; w < j; w++) risk[i * W + w] = y[i] ? Math.sqrt(r()) : r();
  }
  return { windows: [1, 2, 3], risk, y };
}

test('validity: the true false-kill rate is ≤ α in ≥ 1 − δ of 2,000 simulated calibration sets', () => {
  const sims = 2000;
  const r = rng(12345);
  for (const [alpha, delta, n] of [[0.05, 0.1, 400], [0.1, 0.2, 150]] as const) {
    let violations = 0;
    let naiveViolations = 0;
    let stopped = 0;
    for (let s = 0; s < sims; s++) {
      const rows = syntheticRows(r, n);
      const cal = calibrateStopRule(rows, { maxFalseKill: alpha, delta });
      if (trueFalseKill(cal.lambda) > alpha) violations++;
      if (cal.lambda !== null) stopped++;
      // naive: lowest λ whose EMPIRICAL false-kill rate ≤ α (what a point estimate would pick)
      const correctM: number[] = [];
      for (let i = 0; i < n; i++) {
        if (rows.y[i]) continue;
        let m = -Infinity;
        for (let w = 0; w < 3; w++) if (rows.risk[i * 3 + w]! > m) m = rows.risk[i * 3 + w]!;
        correctM.push(m);
      }
      correctM.sort((a, b) => b - a);
      const allowed = Math.floor(alpha * correctM.length);
      const naiveLambda = correctM[allowed]! + 1e-12; // stops exactly the `allowed` highest correct samples
      if (trueFalseKill(naiveLambda) > alpha) naiveViolations++;
    }
    const mcError = 3 * Math.sqrt((delta * (1 - delta)) / sims);
    assert.ok(violations / sims <= delta + mcError, `α=${alpha} δ=${delta}: violated in ${violations} of ${sims}`);
    assert.ok(stopped > sims * 0.99, `the rule should stop something on these tables (${stopped} of ${sims})`);
    // the check can fail: a point estimate violates in about half of the sets
    assert.ok(naiveViolations / sims > 0.3, `naive rule violated in only ${naiveViolations} of ${sims}`);
  }
});
