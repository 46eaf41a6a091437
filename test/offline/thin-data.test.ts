/**
 * Honest results on thin data (issue 14 §2): one support rule (src/offline/support-rule.ts) — ≥ 20 rows, ≥ 5
 * failures, ≥ 5 correct rows, ≥ 1 usable feature — across analyze, train, early-stop-eval and trajectory; below it
 * "insufficient data" with the reason, never a verdict computed from NaN PR-AUCs. And an infinite feature value is
 * blamed on its input column and row, not on the output file.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { STAT_NAMES } from '../../src/features/columns.ts';
import { Frame } from '../../src/offline/frame.ts';
import { runAnalysis } from '../../src/offline/analyze.ts';
import { renderReport } from '../../src/offline/report-text.ts';
import { MIN_CLASS, MIN_ROWS, supportShortfall, usableFeatureCount } from '../../src/offline/support-rule.ts';
import { runTrajectoryModels } from '../../src/offline/trajectory.ts';
import { parseModelFile, serializeModelFile } from '../../src/models/model-io.ts';
import { readModelFile } from '../../src/cli/endpoint-options.ts';
import { syntheticTable } from '../fixtures/analyze-synthetic.ts';

const BIN = new URL('../../bin/failmode', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'failmode-thin-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Table = { header: string[]; rows: string[][] };
const csv = (t: Table) => `${[t.header.join(','), ...t.rows.map((r) => r.join(','))].join('\n')}\n`;
const frameOf = (t: Table) => new Frame('t.csv', t.header, t.rows.length, (name) => t.rows.map((r) => r[t.header.indexOf(name)]));
const NOT_FEATURES = new Set(['question_id', 'correct', 'generated_len', 'prefinal_len']);

/** The three thin tables of the issue: 8 rows with 1 failure; a one-class label; every feature cell empty. */
function thinTables(): Record<'eight' | 'oneClass' | 'allMissing', Table> {
  const eight = syntheticTable({ n: 8, seed: 3 });
  const c = eight.header.indexOf('correct');
  eight.rows.forEach((r, i) => { r[c] = i === 0 ? '0' : '1'; });
  const oneClass = syntheticTable({ n: 60 });
  oneClass.rows.forEach((r) => { r[c] = '1'; });
  const allMissing = syntheticTable({ n: 60 });
  allMissing.rows.forEach((r) => r.forEach((_, j) => {
    const h = allMissing.header[j]!;
    if (!NOT_FEATURES.has(h) && !h.startsWith('window_len')) r[j] = '';
  }));
  return { eight, oneClass, allMissing };
}
const thin = thinTables();
const paths = Object.fromEntries(Object.entries(thin).map(([k, t]) => {
  const p = join(dir, `${k}.csv`);
  writeFileSync(p, csv(t));
  return [k, p];
})) as Record<keyof typeof thin, string>;

test('the rule: 20 rows, 5 of each class, a usable feature — the boundaries on both sides', () => {
  assert.equal(MIN_ROWS, 20);
  assert.equal(MIN_CLASS, 5);
  assert.equal(supportShortfall({ n: 20, failures: 5, usableFeatures: 1 }), null);
  assert.equal(supportShortfall({ n: 20, failures: 15, usableFeatures: 1 }), null);
  assert.equal(supportShortfall({ n: 19, failures: 5, usableFeatures: 1 })!.reason, '19 rows (need ≥ 20)');
  assert.equal(supportShortfall({ n: 20, failures: 4, usableFeatures: 1 })!.reason, '4 failures (need ≥ 5)');
  assert.equal(supportShortfall({ n: 20, failures: 16, usableFeatures: 1 })!.reason, '4 correct rows (need ≥ 5)');
  assert.equal(supportShortfall({ n: 20, failures: 5, usableFeatures: 0 })!.reason, 'no usable feature column (every one is missing or constant)');
  assert.deepEqual(supportShortfall({ n: 8, failures: 1, usableFeatures: 33 }), {
    reason: '8 rows (need ≥ 20); 1 failure (need ≥ 5)', n: 8, failures: 1, correct: 7, usableFeatures: 33, minRows: 20, minClass: 5,
  });
});

test('usable features: two distinct finite values; empty, constant and ±∞-only columns are not', () => {
  const N = NaN;
  assert.equal(usableFeatureCount([[N, N, N], [2, 2, N], [Infinity, 1, 1], [N, 1, 2], [0, -0, 0]]), 1);
});

test('analyze on 8 rows / 1 failure, a one-class label, all-missing features → insufficient data, no TYPE verdict', () => {
  const expected = {
    eight: { reason: '8 rows (need ≥ 20); 1 failure (need ≥ 5)', n: 8, failures: 1, usableFeatures: 33 },
    oneClass: { reason: '0 failures (need ≥ 5)', n: 60, failures: 0, usableFeatures: 33 },
    allMissing: { reason: 'no usable feature column (every one is missing or constant)', n: 60, usableFeatures: 0 },
  };
  for (const [name, t] of Object.entries(thin)) {
    const r = runAnalysis(frameOf(t), { file: `${name}.csv`, nBoot: 50 });
    const want = expected[name as keyof typeof expected];
    assert.ok(r.insufficient, name);
    for (const [k, v] of Object.entries(want)) assert.equal((r.insufficient as unknown as Record<string, unknown>)[k], v, `${name}.${k}`);
    assert.equal(r.summary.verdict.type, 'insufficient data', name);
    assert.equal(r.ablation.signature, 'insufficient data', name);
    assert.equal(r.plot, null);
    const text = renderReport(r);
    assert.match(text, /VERDICT: INSUFFICIENT DATA — /, name);
    assert.doesNotMatch(text, /TYPE [12]|NEAR-COMMITTED|nan|N\/A/, name);
  }
});

test('analyze CLI: exit 0, the text and --json say "insufficient data" with the reason', () => {
  const json = join(dir, 'eight.json');
  const r = spawnSync(process.execPath, [BIN, 'analyze', paths.eight, '--no-plot', '--n-boot', '50', '--json', json], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /VERDICT: INSUFFICIENT DATA — 8 rows \(need ≥ 20\); 1 failure \(need ≥ 5\)\./);
  assert.match(r.stdout, /this table has 8 rows, 1 failure, 7 correct, 33 usable feature columns/);
  const j = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(j.summary.verdict.type, 'insufficient data');
  assert.deepEqual(j.insufficient, { reason: '8 rows (need ≥ 20); 1 failure (need ≥ 5)', n: 8, failures: 1, correct: 7, usableFeatures: 33, minRows: 20, minClass: 5 });
});

test('a table that meets the rule has no `insufficient` field and keeps its verdict', () => {
  const r = runAnalysis(frameOf(syntheticTable({ n: 80 })), { file: 'ok.csv', nBoot: 50 });
  assert.equal(r.insufficient, undefined);
  assert.notEqual(r.summary.verdict.type, 'insufficient data');
  assert.ok(!('insufficient' in JSON.parse(JSON.stringify(r))));
});

test('train refuses thin data with exit 2 and one line; --force trains and the model file says so', async () => {
  for (const [name, p] of Object.entries(paths)) {
    const out = join(dir, `m-${name}.json`);
    const r = spawnSync(process.execPath, [BIN, 'train', p, '--n-boot', '50', '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 2, name);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^failmode train: .*: insufficient data for a model — .*; pass --force to train on it anyway$/m, name);
    assert.ok(!existsSync(out), name);
  }
  const out = join(dir, 'forced.json');
  const f = spawnSync(process.execPath, [BIN, 'train', paths.eight, '--n-boot', '50', '--out', out, '--force'], { encoding: 'utf8' });
  assert.equal(f.status, 0, f.stderr);
  assert.match(f.stdout, /⚠ forced on insufficient data: 8 rows \(need ≥ 20\); 1 failure \(need ≥ 5\)/);
  const model = JSON.parse(readFileSync(out, 'utf8'));
  assert.deepEqual(model.training.insufficient, { forced: true, reason: '8 rows (need ≥ 20); 1 failure (need ≥ 5)', n: 8, failures: 1, correct: 7, usableFeatures: 33, minRows: 20, minClass: 5 });
  assert.equal(model.regime, 'persistent');
  assert.equal(model.commitmentPoint, null);
  // the field survives a round trip through the validator, and a malformed one is named
  assert.deepEqual(parseModelFile(serializeModelFile(parseModelFile(JSON.stringify(model)))).training.insufficient, model.training.insufficient);
  model.training.insufficient.forced = false;
  assert.throws(() => parseModelFile(JSON.stringify(model), 'm.json'), /m\.json: training\.insufficient\.forced is false, expected true/);
  const show = spawnSync(process.execPath, [BIN, 'train', '--show', out], { encoding: 'utf8' });
  assert.match(show.stdout, /⚠ forced on insufficient data/);
  // the live commands (watch, sample, serve, feed) load it with one warning line
  const warnings: string[] = [];
  await readModelFile({ 'model-file': out }, (l) => warnings.push(l));
  assert.deepEqual(warnings, [`warning: ${out} was trained with --force on insufficient data (8 rows (need ≥ 20); 1 failure (need ≥ 5)); its risks and stop rule rest on thin data`]);
});

test('early-stop-eval reports insufficient data per table (markdown and JSON), exit 0', () => {
  for (const [name, p] of Object.entries(paths)) {
    const out = join(dir, `es-${name}`);
    const r = spawnSync(process.execPath, [BIN, 'early-stop-eval', p, '--out', out, '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.ok(j.insufficient, name);
    assert.deepEqual(j.alphas, [], name);
    assert.match(readFileSync(join(out, `${name}.md`), 'utf8'), /\*\*Insufficient data — .+\.\*\* No rule was cross-fitted/, name);
  }
});

test('trajectory reports insufficient data instead of fitting (8 traces / 1 failure; one class)', () => {
  const W = [128, 256, 400, 512];
  const table = (n: number, fail: (i: number) => boolean): Table => ({
    header: ['correct', ...W.flatMap((T) => STAT_NAMES.map((s) => `${s}_w${T}`))],
    rows: Array.from({ length: n }, (_, i) => [fail(i) ? '0' : '1', ...W.flatMap((_T, k) => STAT_NAMES.map((_s, j) => String(((i * 7 + j * 3 + k) % 11) / 10)))]),
  });
  const a = runTrajectoryModels(frameOf(table(8, (i) => i === 0)));
  assert.equal(a.insufficient!.reason, '8 rows (need ≥ 20); 1 failure (need ≥ 5)');
  assert.deepEqual(a.models, []);
  const b = runTrajectoryModels(frameOf(table(60, () => false)));
  assert.equal(b.insufficient!.reason, '0 failures (need ≥ 5)');
  // more folds than one class has rows: also insufficient, with that reason
  const c = runTrajectoryModels(frameOf(table(60, (i) => i % 10 === 0)), { nSplits: 8 });
  assert.equal(c.insufficient!.reason, '6 failures, fewer than the 8 CV folds');
  const p = join(dir, 'traj.csv');
  writeFileSync(p, csv(table(8, (i) => i === 0)));
  const r = spawnSync(process.execPath, [BIN, 'trajectory', p], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /INSUFFICIENT DATA — 8 rows \(need ≥ 20\); 1 failure \(need ≥ 5\)\.\n.*\n {2}No classifier was fitted\./);
  assert.doesNotMatch(r.stdout, /N\/A/);
});

test('train on an infinite feature value names the input column and row, not the output file', () => {
  const t = syntheticTable({ n: 60 });
  t.rows[7]![t.header.indexOf('entropy_mean_w128')] = 'inf';
  const p = join(dir, 'inf.csv');
  writeFileSync(p, csv(t));
  const out = join(dir, 'inf-model.json');
  for (const cmd of [['train', p, '--n-boot', '50', '--out', out], ['analyze', p, '--no-plot', '--n-boot', '50'], ['early-stop-eval', p, '--out', join(dir, 'es-inf')]]) {
    const r = spawnSync(process.execPath, [BIN, ...cmd], { encoding: 'utf8' });
    assert.equal(r.status, 2, cmd[0]);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /inf\.csv: column `entropy_mean_w128` has an infinite value \(`inf`\) in data row 8; expected finite numbers/, cmd[0]);
    assert.doesNotMatch(r.stderr, /inf-model\.json/);
  }
  // a finite value whose square overflows the standardiser is named the same way
  t.rows[7]![t.header.indexOf('entropy_mean_w128')] = '0.5';
  t.rows[3]![t.header.indexOf('nll_max')] = '-1.5e308';
  writeFileSync(p, csv(t));
  const r = spawnSync(process.execPath, [BIN, 'train', p, '--n-boot', '50', '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^failmode train: .*inf\.csv: column `nll_max` has a value too large to standardise \(`-1\.5e308`\) in data row 4; expected feature values within ±1e150\n$/);
});
