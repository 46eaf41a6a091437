import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BASE_FEATURES } from '../../src/features/columns.ts';
import { fitLogisticRegression, predictProba } from '../../src/models/logistic-regression.ts';
import { loadModelFile, saveModelFile } from '../../src/models/model-io.ts';
import { scoreClassifier } from '../../src/models/score-classifier.ts';
import { applyStandardizer, fitStandardizer } from '../../src/models/standardizer.ts';
import { concatFrames, guessProfile, trainModel, type TrainResult } from '../../src/training/train.ts';
import { clopperPearsonUpper } from '../../src/models/clopper-pearson.ts';
import { crossValidatedScores } from '../../src/offline/cv-lr.ts';
import { Frame as FrameClass } from '../../src/offline/frame.ts';
import type { Frame } from '../../src/offline/frame.ts';
import { loadTable } from '../../src/offline/load-table.ts';
import { needsPaper, paperHas } from '../fixtures/requires.ts';

const PAPER = new URL('../../../shared/paper/results/', import.meta.url).pathname;
const GPT4O = join(PAPER, 'gpqa_gpt4o.final.csv');
const BIN = new URL('../../bin/failmode', import.meta.url).pathname;
const NOW = new Date('2026-03-04T05:06:07.000Z');
const dir = mkdtempSync(join(tmpdir(), 'failmode-train-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let frame: Frame;
let pre: TrainResult;
before(async () => {
  if (!paperHas('results/gpqa_gpt4o.final.csv')) return;
  frame = await loadTable(GPT4O);
  pre = trainModel(frame, { file: GPT4O, prefinal: true, nBoot: 200, now: NOW });
});

/** One live-style record per row: every column of the original table under its own name. */
function records(rows: readonly number[]): Array<Record<string, unknown>> {
  return rows.map((i) => Object.fromEntries(frame.columnNames.map((c) => [c, frame.numeric(c)![i]])));
}

function median(xs: number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

test('train (prefinal): every field of the model file', needsPaper('results/gpqa_gpt4o.final.csv'), () => {
  const { model, analysis } = pre;
  assert.equal(model.format, 'failmode-model');
  assert.equal(model.version, 1);
  assert.equal(model.createdAt, '2026-03-04T05:06:07.000Z');
  assert.deepEqual(model.signal, { topK: 20, nucleusP: 0.7, tieDelta: 0.5 }, 'top-k from the top_logprobs_k column; SPEC §1.2 defaults for GPQA');
  assert.equal(model.prefinal, true);
  assert.equal(model.profile, 'final-answer');
  assert.deepEqual(model.windows, [128, 256, 400, 512, 1024, 2048]);
  assert.deepEqual(model.classifiers.map((c) => c.window), [128, 256, 400, 512, 1024, 2048, 'full']);
  // the published verdict for this table: near-committed, best window T=1024
  assert.equal(model.regime, 'near-committed');
  assert.equal(model.commitmentPoint, 1024);
  assert.equal(model.regime, analysis.summary.verdict.type);
  assert.deepEqual(model.training, { name: 'gpqa_gpt4o.final', n: 198, failures: 90, failureRate: 90 / 198, mode: 'paper', nBoot: 200, fitOn: 'all' });

  const validRows = [...frame.numeric('prefinal_len')!.keys()].filter((i) => frame.numeric('prefinal_len')![i]! > 0);
  assert.equal(validRows.length, 198);
  for (const c of model.classifiers) {
    const suffix = c.window === 'full' ? '_prefinal' : `_prefinal_w${c.window}`;
    assert.deepEqual(c.featureNames, BASE_FEATURES.map((f) => `${f}${suffix}`), 'live record names');
    const p = c.featureNames.length;
    for (const key of ['fill', 'mean', 'scale', 'coef'] as const) assert.equal(c[key].length, p, key);
    c.featureNames.forEach((name, j) => {
      const col = validRows.map((i) => frame.numeric(name)![i]!);
      assert.equal(c.fill[j], median(col), `${name} fill = median`);
      const filled = col.map((x) => (Number.isNaN(x) ? c.fill[j]! : x));
      const mean = filled.reduce((a, b) => a + b, 0) / filled.length;
      assert.ok(Math.abs(c.mean[j]! - mean) < 1e-9 * Math.max(1, Math.abs(mean)), `${name} mean`);
      assert.ok(c.scale[j]! > 0);
    });
    assert.ok(Number.isFinite(c.intercept));
    assert.equal(c.stop.targetPrecision, undefined, 'no per-window target under the false-kill guarantee');
    assert.equal(c.stop.threshold, c.window === 'full' ? null : model.guarantee!.threshold, 'one common threshold; the full trace never stops');
  }
  const g = model.guarantee!;
  assert.deepEqual([g.method, g.family, g.control, g.alpha, g.delta], ['fixed-sequence-clopper-pearson', 'common-threshold', 'false-kill', 0.05, 0.1]);
  assert.deepEqual([g.n, g.calibrationN, g.failures], [198, 108, 90]);
  // OOF quality equals the analysis's Section 2 (same CV: 5 folds, seed 42, paper medians)
  model.classifiers.forEach((c, k) => {
    const expected = c.window === 'full' ? analysis.ablation.full : analysis.ablation.early[k]!;
    assert.equal(c.oof.prauc, expected.prauc, `T=${c.window} PR-AUC`);
    assert.equal(c.oof.auroc, expected.auroc, `T=${c.window} AUROC`);
  });
  assert.ok(Math.abs(model.classifiers[4]!.oof.prauc! - 0.6402) < 0.005, 'published T=1024 early PR-AUC 0.6402');
});

test('train: live records score exactly as the fitted in-memory model, before and after a save/load', needsPaper('results/gpqa_gpt4o.final.csv'), async () => {
  const { model } = pre;
  const validRows = [...frame.numeric('prefinal_len')!.keys()].filter((i) => frame.numeric('prefinal_len')![i]! > 0);
  const recs = records(validRows);
  const path = join(dir, 'gpt4o.json');
  await saveModelFile(path, model);
  const loaded = await loadModelFile(path);
  assert.deepEqual(loaded, model);
  for (const [k, c] of model.classifiers.entries()) {
    // in-sample probabilities of an independent fit on the same filled matrix
    const n = validRows.length;
    const p = c.featureNames.length;
    const X = new Float64Array(n * p);
    validRows.forEach((i, r) => c.featureNames.forEach((name, j) => {
      const v = frame.numeric(name)![i]!;
      X[r * p + j] = Number.isNaN(v) ? c.fill[j]! : v;
    }));
    const y = Uint8Array.from(validRows, (i) => 1 - frame.numeric('correct')![i]!);
    const st = fitStandardizer(X, n, p);
    applyStandardizer(st, X, n, p, X);
    const expected = predictProba(fitLogisticRegression(X, n, p, y), X, n, p);
    recs.forEach((rec, r) => {
      const live = scoreClassifier(c, rec);
      assert.ok(Math.abs(live - expected[r]!) < 1e-12, `T=${c.window} row ${r}: ${live} vs ${expected[r]}`);
      assert.equal(scoreClassifier(loaded.classifiers[k]!, rec), live, 'identical after save/load');
    });
  }
  // a missing feature is filled with the training median
  const c = model.classifiers[0]!;
  const rec = { ...recs[0]! };
  delete rec[c.featureNames[3]!];
  const withMedian = { ...recs[0]!, [c.featureNames[3]!]: c.fill[3] };
  assert.equal(scoreClassifier(c, rec), scoreClassifier(c, withMedian));
});

/**
 * The whole live rule recomputed from scratch: out-of-fold risks of each window (the analysis's CV, seed 42), masked to
 * the rows still running at T (prefinal length > T), the rule simulated at every candidate threshold, the Clopper–Pearson
 * bound from its counts, and the fixed-sequence scan.
 */
function referenceRule(model: TrainResult['model'], rows: number[], alpha: number, delta: number) {
  const y = Uint8Array.from(rows, (i) => 1 - frame.numeric('correct')![i]!);
  const plen = frame.numeric('prefinal_len')!;
  const glen = frame.numeric('generated_len')!;
  const early = model.classifiers.filter((c) => c.window !== 'full');
  const risk = early.map((c) => {
    const oof = crossValidatedScores(c.featureNames.map((f) => Float64Array.from(rows, (i) => frame.numeric(f)![i]!)), y, { nSplits: 5, seed: 42 })!;
    const col = new Array<number>(rows.length).fill(NaN);
    oof.rows.forEach((r, k) => { if (plen[rows[r]!]! > (c.window as number)) col[r] = oof.rowScores[k]!; });
    return col;
  });
  const stopAt = (lam: number) => rows.map((_, r) => early.findIndex((_, w) => risk[w]![r]! >= lam));
  const correct = y.filter((v) => v === 0).length;
  const cands = [...new Set(risk.flat().filter((x) => !Number.isNaN(x)))].sort((a, b) => b - a);
  let chosen: { lam: number; at: number[]; k: number } | null = null;
  let rejected: number | null = null;
  for (const lam of cands) {
    const at = stopAt(lam);
    const k = at.filter((w, r) => w >= 0 && y[r] === 0).length;
    if (clopperPearsonUpper(k, correct, delta) > alpha) { rejected = lam; break; }
    chosen = { lam, at, k };
  }
  return { chosen, rejected, y, correct, glen, stopAt };
}

test('train: the guarantee is the whole rule\'s risk control on out-of-fold risks (recomputed from scratch)', needsPaper('results/gpqa_gpt4o.final.csv'), () => {
  const { model } = pre;
  const g = model.guarantee!;
  const rows = [...frame.numeric('prefinal_len')!.keys()].filter((i) => frame.numeric('prefinal_len')![i]! > 0);
  const ref = referenceRule(model, rows, 0.05, 0.1);
  assert.ok(ref.chosen !== null && g.threshold !== null, 'this table has a non-trivial rule');
  const at = ref.stopAt(g.threshold!);
  // the same samples stopped at the same windows as the reference's choice
  assert.deepEqual(at, ref.chosen!.at);
  assert.equal(g.stops, at.filter((w) => w >= 0).length);
  assert.equal(g.falseKills, ref.chosen!.k);
  assert.ok(Math.abs(g.bound! - clopperPearsonUpper(ref.chosen!.k, ref.correct, 0.1)) < 1e-12, `bound ${g.bound}`);
  assert.ok(g.bound! <= 0.05, `bound ${g.bound} ≤ α`);
  // the next, less conservative threshold is the first rejected one
  assert.ok(ref.rejected !== null && ref.rejected < g.threshold!, `rejected ${ref.rejected}`);
  g.perWindow.forEach((p, w) => {
    assert.equal(p.stops, at.filter((x) => x === w).length, `T=${p.window} stops`);
    assert.equal(p.falseKills, at.filter((x, r) => x === w && ref.y[r] === 0).length, `T=${p.window} false kills`);
  });
  // tokens saved: Σ (generated_len − T) over stopped / Σ generated_len
  let saved = 0, total = 0;
  rows.forEach((i, r) => { total += ref.glen[i]!; if (at[r]! >= 0) saved += Math.max(0, ref.glen[i]! - model.windows[at[r]!]!); });
  assert.ok(Math.abs(g.tokensSaved! - saved / total) < 1e-12, `tokens saved ${g.tokensSaved} vs ${saved / total}`);
  // a looser α stops at least as many samples
  const loose = trainModel(frame, { file: GPT4O, prefinal: true, nBoot: 50, maxFalseKill: 0.2, confidence: 0.8 });
  assert.ok(loose.model.guarantee!.threshold! <= g.threshold!, 'lower threshold');
  assert.ok(loose.model.guarantee!.stops >= g.stops);
  assert.equal(loose.model.guarantee!.delta, 0.2);
});

test('train --target-precision: the same machinery on 1 − precision', needsPaper('results/gpqa_gpt4o.final.csv'), () => {
  const { model } = trainModel(frame, { file: GPT4O, prefinal: true, nBoot: 50, targetPrecision: 0.6, windows: [256, 512] });
  const g = model.guarantee!;
  assert.equal(g.control, 'precision');
  assert.ok(Math.abs(g.alpha - 0.4) < 1e-12);
  for (const c of model.classifiers) assert.equal(c.stop.targetPrecision, 0.6);
  if (g.threshold !== null) {
    assert.ok(Math.abs(g.bound! - clopperPearsonUpper(g.falseKills, g.stops, 0.1)) < 1e-12, 'bound on stopped-correct of stopped');
    assert.ok(g.bound! <= 0.4);
  }
  assert.throws(() => trainModel(frame, { file: GPT4O, nBoot: 50, targetPrecision: 0.6, maxFalseKill: 0.1 }), /either/);
});

test('train: a table where no threshold can be certified gives a model that never stops', needsPaper('results/gpqa_gpt4o.final.csv'), async () => {
  // 40 rows, 30 correct: even a rule that stops only failures has CP(0, 30, 0.1) = 0.074 > 0.05
  const rows = Array.from({ length: 40 }, (_, i) => i);
  const small = frame.selectRows(rows);
  const r = trainModel(small, { file: 'small.csv', nBoot: 20, windows: [128, 256] });
  assert.equal(r.model.guarantee!.threshold, null);
  assert.equal(r.model.guarantee!.stops, 0);
  for (const c of r.model.classifiers) assert.equal(c.stop.threshold, null);
  assert.match(r.neverStops!, /no stop threshold meets false-kill rate ≤ 0\.05 at 90 % confidence .*: the model never stops/);
  const path = join(dir, 'never.json');
  await saveModelFile(path, r.model);
  assert.deepEqual(await loadModelFile(path), r.model);
});

test('train (regular): raw feature names, all rows; options override the defaults', needsPaper('results/gpqa_gpt4o.final.csv'), () => {
  const { model, notes } = trainModel(frame, {
    file: GPT4O, nBoot: 50, windows: [128, 512], topK: 5, nucleusP: 0.9, tieDelta: 0.1, profile: null, name: 'custom', description: 'd', targetPrecision: 0.8,
  });
  assert.equal(model.prefinal, false);
  assert.deepEqual(model.windows, [128, 512]);
  assert.deepEqual(model.classifiers[0]!.featureNames, BASE_FEATURES.map((f) => `${f}_w128`));
  assert.deepEqual(model.classifiers[2]!.featureNames, [...BASE_FEATURES]);
  assert.deepEqual(model.signal, { topK: 5, nucleusP: 0.9, tieDelta: 0.1 });
  assert.equal(model.profile, null);
  assert.equal(model.training.name, 'custom');
  assert.equal(model.training.n, 198);
  assert.equal(model.description, 'd');
  assert.equal(model.classifiers[0]!.stop.targetPrecision, 0.8);
  assert.deepEqual(notes, []);
});

test('train: prefinal falls back to regular features when the prefinal subset has < 5 failures, and says so', needsPaper('results/gpqa_gpt4o.final.csv'), () => {
  // prefinal_len := hit_max_tokens (all 0 here) → no prefinal-valid row
  const noPrefinal = frame.withColumns([['prefinal_len', 'hit_max_tokens']]);
  const { model, notes } = trainModel(noPrefinal, { file: GPT4O, prefinal: true, nBoot: 50, windows: [256] });
  assert.equal(model.prefinal, false);
  assert.equal(model.training.n, 198);
  assert.deepEqual(model.classifiers[0]!.featureNames, BASE_FEATURES.map((f) => `${f}_w256`));
  assert.match(notes.join('\n'), /only 0 failures have a prefinal trace: trained on regular features/);
});

test('concatFrames: common columns in the first table\'s order, rows appended', () => {
  const a = new FrameClass('a.csv', ['x', 'correct', 'only_a'], 2, (n) => ({ x: [1, 2], correct: [1, 0], only_a: ['p', 'q'] })[n]!);
  const b = new FrameClass('b.csv', ['correct', 'x'], 1, (n) => ({ x: ['3.5'], correct: [1] })[n]!);
  const c = concatFrames([a, b]);
  assert.deepEqual(c.columnNames, ['x', 'correct']);
  assert.equal(c.nRows, 3);
  assert.deepEqual([...c.numeric('x')!], [1, 2, 3.5]);
  assert.deepEqual([...c.numeric('correct')!], [1, 0, 1]);
  assert.equal(c.source, 'a.csv + b.csv');
  assert.equal(concatFrames([a]), a);
});

test('profile guess from the paper file names', () => {
  assert.equal(guessProfile('x/gpqa_gpt4o.final.csv'), 'final-answer');
  assert.equal(guessProfile('arlsat_gemma4-31b.final.xlsx'), 'final-answer');
  assert.equal(guessProfile('gpt-oss-20b_math500_updated.final.xlsx'), 'boxed');
  assert.equal(guessProfile('gsm8k_gpt-oss-20b.final.csv'), 'final-boxed');
  assert.equal(guessProfile('lcb_qwen3_5-122b_fixed.xlsx'), 'code');
  assert.equal(guessProfile('my_run.csv'), null);
});

test('CLI: failmode train writes a valid model and prints its table; usage errors exit 2', needsPaper('results/gpqa_gpt4o.final.csv'), async () => {
  const out = join(dir, 'cli.json');
  const r = spawnSync(process.execPath, [BIN, 'train', GPT4O, '--prefinal', '--windows', '128', '256', '--n-boot', '50', '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /on gpqa_gpt4o\.final \(prefinal features\): n=198 {2}failures=90 \(45\.5%\)/);
  assert.match(r.stdout, /T=256 +198 +11 +0\.58\d\d/);
  const m = await loadModelFile(out);
  assert.deepEqual(m.windows, [128, 256]);
  assert.match(r.stdout, /Guarantee: false-kill rate \(correct samples stopped \/ correct samples\) ≤ 0\.05 with confidence 0\.9 \(δ = 0\.1\)/);
  const show = spawnSync(process.execPath, [BIN, 'train', '--show', out], { encoding: 'utf8' });
  assert.equal(show.status, 0, show.stderr);
  const g = m.guarantee!;
  assert.match(show.stdout, new RegExp(`on out-of-fold risks of ${g.n} samples \\(${g.calibrationN} correct, ${g.failures} failures\\)`));
  assert.match(show.stdout, new RegExp(`Stop rule: stop at the first early window whose P\\(failure\\) ≥ ${g.threshold!.toFixed(4)}`));
  assert.match(show.stdout, new RegExp(`Calibration: bound reached ${g.bound!.toFixed(4)}; ${g.stops} stopped, ${g.falseKills} of them correct`));

  // a table too small for the guarantee: a model that never stops, and one line on stderr saying so
  const small = join(dir, 'small.csv');
  const cols = frame.columnNames.filter((c) => c === 'correct' || /^(entropy|nll|margin)_mean_w(128|256)$|^generated_len$/.test(c));
  writeFileSync(small, [cols.join(','), ...Array.from({ length: 40 }, (_, i) => cols.map((c) => frame.numeric(c)![i]).join(','))].join('\n') + '\n');
  const never = spawnSync(process.execPath, [BIN, 'train', small, '--n-boot', '20', '--top-k', '20', '--out', join(dir, 'never.json')], { encoding: 'utf8' });
  assert.equal(never.status, 0, never.stderr);
  const neverLines = never.stderr.trimEnd().split('\n').filter((l) => !l.includes(': note: '));
  assert.equal(neverLines.length, 1, never.stderr);
  assert.match(neverLines[0]!, /^failmode train: no stop threshold meets false-kill rate ≤ 0\.05 at 90 % confidence \(.*\): the model never stops$/);
  assert.match(never.stdout, /Stop rule: NEVER STOPS/);
  assert.equal((await loadModelFile(join(dir, 'never.json'))).guarantee!.threshold, null);
  const usage = (args: string[], expected: RegExp) => {
    const u = spawnSync(process.execPath, [BIN, 'train', ...args], { encoding: 'utf8' });
    assert.equal(u.status, 2, `${args.join(' ')}: ${u.stderr}`);
    assert.match(u.stderr, expected);
    assert.equal(u.stderr.trimEnd().split('\n').length, 1);
  };
  usage([GPT4O], /Expected --out MODEL\.json/);
  usage([GPT4O, '--out', out, '--target-precision', '2'], /Expected --target-precision to be a number from 0 to 1, got `2`/);
  usage([GPT4O, '--out', out, '--max-false-kill', '0'], /Expected --max-false-kill to be a number strictly between 0 and 1, got `0`/);
  usage([GPT4O, '--out', out, '--confidence', '1.5'], /Expected --confidence to be a number from 0 to 1, got `1\.5`/);
  usage([GPT4O, '--out', out, '--max-false-kill', '0.1', '--target-precision', '0.9'], /Give either --max-false-kill or --target-precision, not both/);
  usage([GPT4O, '--out', out, '--profile', 'essay'], /Unknown value for --profile: `essay`/);
  usage([join(dir, 'nope.csv'), '--out', out], /cannot read .*nope\.csv: no such file/);
});
