import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { STAT_NAMES } from '../../src/features/columns.ts';
import { Frame } from '../../src/offline/frame.ts';
import { buildTrajectory, renderTrajectoryReport, runTrajectoryModels, trajectoryFeatures } from '../../src/offline/trajectory.ts';

const WINDOWS = [128, 256, 400, 512];
const BIN = new URL('../../bin/failmode', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'failmode-trajectory-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic uniform(0,1) stream (mulberry32) and a Box–Muller normal. */
function rng(seed: number) {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { u, normal: () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u()) };
}

/**
 * A table where only the SLOPE of the trajectory says failure: every signal at step s is base + slope·s + noise, the
 * per-trace base level is wide noise (same for both classes), and failures rise (slope +1) where correct traces
 * fall (slope −1) — so any single step is a weak predictor and the step differences a near-perfect one.
 */
function slopeTable(n = 400, seed = 7): { columns: string[]; rows: Array<Record<string, unknown>> } {
  const r = rng(seed);
  const columns = ['idx', 'correct', 'hit_max_tokens', 'degenerate', ...WINDOWS.flatMap((T) => STAT_NAMES.map((s) => `${s}_w${T}`))];
  const rows: Array<Record<string, unknown>> = [];
  for (let i = 0; i < n; i++) {
    const fail = r.u() < 0.3;
    const row: Record<string, unknown> = { idx: i, correct: fail ? 0 : 1, hit_max_tokens: 0, degenerate: 0 };
    const slopeScale = 0.6 + 0.8 * r.u();
    const bases = STAT_NAMES.map(() => 6 * r.normal());
    WINDOWS.forEach((T, s) => STAT_NAMES.forEach((stat, j) => {
      const slope = j === 0 ? (fail ? 1 : -1) * slopeScale : 0; // entropy_mean carries the slope, the other 13 are noise
      row[`${stat}_w${T}`] = bases[j]! + slope * s + 1.5 * r.normal();
    }));
    rows.push(row);
  }
  return { columns, rows };
}

function frameOf(t: { columns: string[]; rows: Array<Record<string, unknown>> }, source = 'synthetic.csv'): Frame {
  return new Frame(source, t.columns, t.rows.length, (name) => t.rows.map((r) => r[name]));
}

function csvOf(t: { columns: string[]; rows: Array<Record<string, unknown>> }): string {
  const cell = (v: unknown) => (v === undefined || v === null || (typeof v === 'number' && Number.isNaN(v)) ? '' : String(v));
  return [t.columns.join(','), ...t.rows.map((r) => t.columns.map((c) => cell(r[c])).join(','))].join('\n');
}

test('trajectory: when the slope carries the signal, differences beat any single step', () => {
  const res = runTrajectoryModels(frameOf(slopeTable()));
  const by = Object.fromEntries(res.models.map((m) => [m.kind, m]));
  assert.deepEqual(res.models.map((m) => m.features), [14, 56, 42, 98]);
  assert.equal(res.n, 400);
  assert.equal(res.seed, 0);
  assert.equal(res.nSplits, 5);
  assert.ok(by.delta!.auroc.mean > 0.97, `delta AUROC ${by.delta!.auroc.mean}`);
  assert.ok(by.delta!.prauc.mean > 0.9, `delta PR-AUC ${by.delta!.prauc.mean}`);
  assert.ok(by.single!.auroc.mean < 0.8, `single-step AUROC ${by.single!.auroc.mean}`);
  assert.ok(by.delta!.prauc.mean - by.single!.prauc.mean > 0.2);
  // the flattened steps contain the differences linearly, so they recover most of it too
  assert.ok(by.flat!.auroc.mean > 0.9, `flat AUROC ${by.flat!.auroc.mean}`);
  assert.ok(by.magDelta!.auroc.mean > 0.95);
  for (const m of res.models) {
    assert.equal(m.folds, 5);
    assert.ok(m.auroc.std >= 0 && m.prauc.std >= 0 && m.brier.std >= 0);
    assert.ok(m.brier.mean > 0 && m.brier.mean < 0.5);
  }
  assert.ok(Math.abs(res.baseline.prauc - res.positives / res.n) < 1e-15);
  assert.ok(Math.abs(res.baseline.brier - res.baseline.prauc * (1 - res.baseline.prauc)) < 1e-15);
  assert.ok(Math.abs(res.interpretation.deltaAlone - (by.delta!.prauc.mean - res.baseline.prauc)) < 1e-15);
  assert.ok(Math.abs(res.interpretation.multiWindowGain - (by.flat!.prauc.mean - by.single!.prauc.mean)) < 1e-15);

  const text = renderTrajectoryReport(res);
  assert.match(text, /LR — T=256 step only \(14\) +0\.\d{4}±0\.\d{4}/);
  assert.match(text, /LR — step differences only \(42\) +0\.9\d{3}±/);
  assert.match(text, /GRU .* not run/);
  assert.match(text, /INTERPRETATION/);
  assert.match(text, /Delta alone +\(differences − baseline\): +\+0\.\d{4}/);
});

test('trajectory: no signal → every model near the baseline', () => {
  const t = slopeTable(400, 11);
  for (const row of t.rows) row['correct'] = (row['idx'] as number) % 3 === 0 ? 0 : 1; // labels unrelated to the slope
  const res = runTrajectoryModels(frameOf(t));
  for (const m of res.models) assert.ok(Math.abs(m.auroc.mean - 0.5) < 0.1, `${m.kind} AUROC ${m.auroc.mean}`);
});

test('trajectory: cleaning, forward/back fill of incomplete steps, dropped rows', () => {
  const t = slopeTable(60, 3);
  t.rows[0]!['hit_max_tokens'] = 1;
  t.rows[1]!['degenerate'] = 1;
  t.rows[2]!['correct'] = null;
  // row 3: step 0 incomplete → back-filled from step 1; row 4: step 2 incomplete → forward-filled from step 1
  t.rows[3]![`entropy_std_w128`] = NaN;
  t.rows[4]![`margin_mean_w400`] = null;
  // row 5: no complete step
  for (const T of WINDOWS) t.rows[5]![`fork_rate_w${T}`] = NaN;
  const frame = frameOf(t);
  const tr = buildTrajectory(frame);
  assert.deepEqual(tr.cleaning, {
    rows: 60, missingCorrect: 1, hitMaxTokens: 1, degenerate: 1, noAnswer: null, clean: 57,
    cleanFailures: t.rows.slice(3).filter((r) => r['correct'] === 0).length,
  });
  assert.equal(tr.noValidStep, 1);
  assert.equal(tr.n, 56);
  assert.equal(tr.imputedSteps, 2);
  assert.deepEqual([...tr.rows.slice(0, 3)], [3, 4, 6]);
  const step = (ex: number, s: number) => [...tr.X.subarray((ex * 4 + s) * 14, (ex * 4 + s + 1) * 14)];
  assert.deepEqual(step(0, 0), step(0, 1), 'back fill');
  assert.deepEqual(step(1, 2), step(1, 1), 'forward fill');
  assert.equal(step(1, 3)[3], t.rows[4]![`margin_mean_w512`], 'later steps untouched');
  assert.equal(tr.y[0], t.rows[3]!['correct'] === 0 ? 1 : 0);
  // design matrices
  const d = trajectoryFeatures(tr, 'delta');
  assert.equal(d.p, 42);
  assert.equal(d.X[2 * 42 + 14 + 5], step(2, 2)[5]! - step(2, 1)[5]!);
  const md = trajectoryFeatures(tr, 'magDelta');
  assert.deepEqual([...md.X.subarray(2 * 98, 2 * 98 + 56)], [...step(2, 0), ...step(2, 1), ...step(2, 2), ...step(2, 3)]);
  assert.deepEqual([...trajectoryFeatures(tr, 'single').X.subarray(14, 28)], step(1, 1));
});

test('trajectory: prefinal columns and missing columns are clear errors; one-class data is insufficient data', () => {
  const t = slopeTable(50, 5);
  assert.throws(() => runTrajectoryModels(frameOf(t), { prefinal: true }), /has no columns `entropy_mean_prefinal_w128`, .* \(and 52 more\); the trajectory needs the 14 signals/);
  const noStd = { columns: t.columns.filter((c) => !c.startsWith('nll_std')), rows: t.rows };
  assert.throws(() => runTrajectoryModels(frameOf(noStd)), /has no columns `nll_std_w128`, `nll_std_w256`, `nll_std_w400`, `nll_std_w512`;/);
  for (const r of t.rows) r['correct'] = 1;
  assert.equal(runTrajectoryModels(frameOf(t)).insufficient!.reason, '0 failures (need ≥ 5)');
  assert.throws(() => runTrajectoryModels(frameOf(slopeTable(50, 5)), { windows: [256] }), /at least 2 windows/);
});

test('CLI: failmode trajectory prints the report and writes JSON; bad input exits 2 with one line', () => {
  const path = join(dir, 'slope.csv');
  writeFileSync(path, csvOf(slopeTable(200, 9)));
  const json = join(dir, 'out.json');
  const r = spawnSync(process.execPath, [BIN, 'trajectory', path, '--json', json], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /LR — magnitude \+ differences \(98\)/);
  assert.match(r.stdout, /StratifiedKFold\(5, shuffle=True, random_state=0\)/);
  const saved = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(saved.models.length, 4);
  assert.equal(saved.n, 200);
  // --json - : the same JSON on stdout alone, the report on stderr, no file named `-`.
  const piped = spawnSync(process.execPath, [BIN, 'trajectory', path, '--json', '-'], { encoding: 'utf8', cwd: dir });
  assert.equal(piped.status, 0, piped.stderr);
  assert.deepEqual(JSON.parse(piped.stdout), saved);
  assert.match(piped.stderr, /LR — magnitude \+ differences \(98\)/);
  assert.equal(existsSync(join(dir, '-')), false);
  const seeded = spawnSync(process.execPath, [BIN, 'trajectory', path, '--seed', '3', '--windows', '128', '256', '400'], { encoding: 'utf8' });
  assert.equal(seeded.status, 0, seeded.stderr);
  assert.match(seeded.stdout, /random_state=3/);
  assert.match(seeded.stdout, /LR — 3 steps flattened \(42\)/);
  const bad = spawnSync(process.execPath, [BIN, 'trajectory', path, '--prefinal'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trimEnd().split('\n').length, 1);
  assert.match(bad.stderr, /^failmode trajectory: .*slope\.csv has no columns `entropy_mean_prefinal_w128`/);
});
