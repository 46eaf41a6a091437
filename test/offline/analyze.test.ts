import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_FEATURES } from '../../src/features/columns.ts';
import { FailmodeError } from '../../src/errors.ts';
import { Frame } from '../../src/offline/frame.ts';
import { runAnalysis, type AnalyzeOptions } from '../../src/offline/analyze.ts';
import { renderReport } from '../../src/offline/report-text.ts';
import { crossValidatedScores } from '../../src/offline/cv-lr.ts';
import { bootstrapPrAuc } from '../../src/offline/bootstrap.ts';
import { averagePrecision } from '../../src/offline/metrics.ts';
import { categoricalCodes } from '../../src/offline/analysis/categorical-codes.ts';
import { deltaVerdict, featureShape, firstMaxIndex, signatureOf } from '../../src/offline/analysis/verdict.ts';
import { syntheticTable, type SyntheticOptions } from '../fixtures/analyze-synthetic.ts';

function frameOf(header: string[], rows: string[][]): Frame {
  return new Frame('synthetic.csv', header, rows.length, (name) => {
    const c = header.indexOf(name);
    return rows.map((r) => r[c] ?? '');
  });
}

function synthetic(opts: SyntheticOptions = {}): Frame {
  const { header, rows } = syntheticTable(opts);
  return frameOf(header, rows);
}

const fast = (o: Partial<AnalyzeOptions> = {}): AnalyzeOptions => ({ file: 'synthetic.csv', nBoot: 200, ...o });

test('Section 1: windows auto-detected; counts and means computed on the working frame', () => {
  const f = synthetic();
  const r = runAnalysis(f, fast());
  assert.deepEqual(r.windows, [128, 256]);
  const y = Array.from(f.numeric('correct')!, (c) => 1 - c);
  assert.equal(r.overview.n, 80);
  assert.equal(r.overview.failures, y.reduce((a, b) => a + b, 0));
  const gen = Array.from(f.numeric('generated_len')!);
  assert.equal(r.overview.meanGenLen, gen.reduce((a, b) => a + b, 0) / gen.length);
  assert.equal(r.overview.prefinalValid, 80);
  assert.equal(r.overview.fullColumns, 11);
  assert.deepEqual(r.overview.windows.map((w) => w.columns), [11, 11]);
  const wl = Array.from(f.numeric('window_len_w256')!);
  assert.equal(r.overview.windows[1]!.meanWindowLen, wl.reduce((a, b) => a + b, 0) / wl.length);
  assert.equal(r.mode, 'paper');
  assert.equal(r.prefinal, null);
  assert.equal(r.section3.kind, 'ablation');
});

test('Sections 2 and 5 agree; verdicts, best window and signature follow the rules', () => {
  const r = runAnalysis(synthetic(), fast());
  assert.equal(r.summary.fullPrauc, r.ablation.full.prauc);
  for (const [k, row] of r.summary.rows.entries()) {
    assert.equal(row.early, r.ablation.early[k]!.prauc);
    assert.equal(row.full, r.ablation.full.prauc);
    assert.deepEqual(row.delta, r.ablation.deltas[k]!.delta);
    const d = row.delta!;
    assert.equal(d.verdict, deltaVerdict(d.mean, d.lo, d.hi, d.pGreater));
  }
  const best = firstMaxIndex(r.ablation.early.map((e) => e.prauc));
  assert.equal(r.ablation.bestWindow!.T, r.windows[best]);
  assert.equal(r.ablation.signature, signatureOf(r.ablation.deltas.map((d) => d.delta)));
  // The Section 2 point estimate is AP of the pooled out-of-fold scores.
  const f = synthetic();
  const y = Uint8Array.from(f.numeric('correct')!, (c) => 1 - c);
  const oof = crossValidatedScores(BASE_FEATURES.map((c) => f.numeric(c)!), y)!;
  assert.equal(r.ablation.full.prauc, averagePrecision(oof.pooledY, oof.pooledScores));
  assert.equal(r.ablation.fullOofCount, oof.rowScores.length);
});

test('a window whose features equal the full trace gives Δ ≡ 0: +0.0000 [+0.0000, +0.0000] 0.000 ? Ambiguous', () => {
  const { header, rows } = syntheticTable();
  const hdr = [...header, ...BASE_FEATURES.map((f) => `${f}_w4096`)];
  const data = rows.map((row) => [...row, ...BASE_FEATURES.map((f) => row[header.indexOf(f)]!)]);
  const r = runAnalysis(frameOf(hdr, data), fast());
  assert.deepEqual(r.windows, [128, 256, 4096]);
  const d = r.ablation.deltas[2]!.delta!;
  assert.deepEqual([d.mean, d.lo, d.hi, d.pGreater, d.verdict], [0, 0, 0, 0, '? Ambiguous']);
  assert.match(renderReport(r), /\n {2}T=4096 {6}\+0\.0000 {7}\[\+0\.0000, \+0\.0000\] {12}0\.000 {8}\? Ambiguous\n/);
});

test('--prefinal equals a regular analysis of the prefinal-valid rows with the prefinal columns renamed', () => {
  const noPre = [3, 10, 11, 40];
  const f = synthetic({ noPrefinalRows: noPre });
  const pre = runAnalysis(f, fast({ prefinal: true }));
  assert.equal(pre.prefinal!.active, true);
  assert.equal(pre.prefinal!.lengthColumn, 'prefinal_len');
  assert.equal(pre.prefinal!.validRows, 76);
  assert.equal(pre.overview.n, 76);

  const { header, rows } = syntheticTable({ noPrefinalRows: noPre });
  const kept = rows.filter((_, i) => !noPre.includes(i));
  const meta = ['question_id', 'correct', 'generated_len', 'prefinal_len'];
  const renamed = header.map((h) => (meta.includes(h) ? h : h.includes('_prefinal') ? h.replace('_prefinal', '') : `${h}__raw`));
  const manual = runAnalysis(frameOf(renamed, kept), fast());
  assert.deepEqual(pre.ablation, manual.ablation);
  assert.deepEqual(pre.features, manual.features);
  // Section 3 switches to the raw-feature reference on ALL rows.
  assert.equal(pre.section3.kind, 'reference');
  const raw = runAnalysis(f, fast());
  assert.deepEqual(pre.section3.kind === 'reference' && pre.section3.rawFull, raw.ablation.full);
});

test('--prefinal falls back: no length column → regular features; fewer than 5 prefinal failures → whole frame', () => {
  const noLen = runAnalysis(synthetic({ drop: ['prefinal_len'] }), fast({ prefinal: true }));
  assert.deepEqual(noLen.prefinal, { active: false, fallback: 'no-length-column', lengthColumn: null, validRows: 0, validFailures: 0 });
  assert.equal(noLen.overview.n, 80);
  assert.match(renderReport(noLen), /⚠ {2}--prefinal requested but no prefinal_len column found\.\n {5}Falling back/);

  const f = synthetic();
  const y = Array.from(f.numeric('correct')!, (c) => 1 - c);
  const keepFails = y.flatMap((v, i) => (v === 1 ? [i] : [])).slice(0, 3);
  const noPre = y.map((_, i) => i).filter((i) => !(y[i] === 0 || keepFails.includes(i)));
  const few = runAnalysis(synthetic({ noPrefinalRows: noPre }), fast({ prefinal: true }));
  assert.equal(few.prefinal!.fallback, 'few-failures');
  assert.equal(few.prefinal!.validFailures, 3);
  assert.equal(few.overview.n, 80);
  assert.match(renderReport(few), /\n {2}⚠ {2}Only 3 failures in prefinal subset\. Falling back to regular features\.\n/);
  assert.match(renderReport(few), /Mode: PREFINAL \(recommended\)/); // the paper's header says so even after falling back
});

test('--n-boot really changes the number of resamples (CIs move, point estimates do not)', () => {
  const a = runAnalysis(synthetic(), fast({ nBoot: 50 }));
  const b = runAnalysis(synthetic(), fast({ nBoot: 400 }));
  assert.equal(a.nBoot, 50);
  assert.equal(a.ablation.full.prauc, b.ablation.full.prauc);
  assert.notEqual(a.ablation.full.lo, b.ablation.full.lo);
  assert.notDeepEqual(a.ablation.deltas, b.ablation.deltas);
});

test('--windows: a subset is analysed alone; a window with no columns is a FailmodeError (exit 2)', () => {
  const r = runAnalysis(synthetic(), fast({ windows: [256] }));
  assert.deepEqual(r.windows, [256]);
  assert.equal(r.ablation.early.length, 1);
  assert.equal(r.features.single[0]!.windows.length, 1);
  assert.throws(() => runAnalysis(synthetic(), fast({ windows: [128, 999] })),
    (e: unknown) => e instanceof FailmodeError && e.exitCode === 2 && /T=999/.test(e.message) && /128, 256/.test(e.message));
  const noWindows = synthetic({ windows: [] });
  assert.throws(() => runAnalysis(noWindows, fast()), /no window columns/);
});

test('rows without `correct` are excluded and counted; the report says so', () => {
  const r = runAnalysis(synthetic({ missingCorrectRows: [0, 5, 9] }), fast());
  assert.equal(r.excludedMissingCorrect, 3);
  assert.equal(r.overview.n, 77);
  assert.match(renderReport(r).split('\n')[1]!, /Excluded 3 rows with no `correct` value/);
});

test('corrected mode: training-fold medians change the estimates only when values are missing', () => {
  const complete = synthetic();
  // Same LR solver in both, so only the medians differ.
  assert.deepEqual(runAnalysis(complete, fast({ mode: 'corrected' })).ablation.early, runAnalysis(complete, fast({ solver: 'newton' })).ablation.early);
  const holes = synthetic({ missing: 0.15 });
  const paper = runAnalysis(holes, fast({ solver: 'newton' }));
  const corrected = runAnalysis(holes, fast({ mode: 'corrected' }));
  assert.equal(corrected.mode, 'corrected');
  assert.notEqual(paper.ablation.full.prauc, corrected.ablation.full.prauc);
  assert.match(renderReport(corrected), /Procedure: corrected/);
  assert.match(renderReport(paper), /Procedure: paper/);
});

test('clusters, paper mode: GroupKFold everywhere but Section 5; CI ids in row order against fold-ordered scores', () => {
  const f = synthetic();
  const r = runAnalysis(f, fast({ clusterCol: 'question_id', solver: 'newton' })); // crossValidatedScores' default solver
  assert.deepEqual(r.cluster, { column: 'question_id', nClusters: 40, nRows: 80 });
  assert.equal(r.ablation.fullClusterRobust, true);
  const y = Uint8Array.from(f.numeric('correct')!, (c) => 1 - c);
  const groups = categoricalCodes(f.text('question_id')!).codes;
  const cols = BASE_FEATURES.map((c) => f.numeric(c)!);
  const oof = crossValidatedScores(cols, y, { groups })!;
  assert.equal(oof.pooledY.length, 80, 'no fold skipped in this fixture');
  const misaligned = bootstrapPrAuc(oof.pooledY, oof.pooledScores, { nBoot: 200, clusters: groups });
  assert.equal(r.ablation.full.prauc, averagePrecision(oof.pooledY, oof.pooledScores));
  assert.deepEqual([r.ablation.full.lo, r.ablation.full.hi], [misaligned.lo, misaligned.hi]);
  // Section 5 recomputes the full PR-AUC without cluster ids (StratifiedKFold): the paper's number.
  const iid = runAnalysis(f, fast({ solver: 'newton' }));
  assert.equal(r.summary.fullPrauc, iid.ablation.full.prauc);
  assert.notEqual(r.summary.fullPrauc, r.ablation.full.prauc);

  const c = runAnalysis(f, fast({ clusterCol: 'question_id', mode: 'corrected' }));
  const aligned = bootstrapPrAuc(oof.pooledY, oof.pooledScores, { nBoot: 200, clusters: Int32Array.from(oof.pooledRows, (i) => groups[i]!) });
  assert.deepEqual([c.ablation.full.lo, c.ablation.full.hi], [aligned.lo, aligned.hi]);
  assert.equal(c.summary.fullPrauc, c.ablation.full.prauc);
  assert.match(renderReport(r), /Clustering on 'question_id': 40 unique clusters, 80 rows \(2\.0 rows\/cluster avg\)/);
  assert.throws(() => runAnalysis(f, fast({ clusterCol: 'nope' })), (e: unknown) => e instanceof FailmodeError && /`nope`/.test(e.message));
});

test('Section 3 without --prefinal: the prefinal ablation; without a length column the section is skipped', () => {
  const s3 = runAnalysis(synthetic({ noPrefinalRows: [1, 2] }), fast()).section3;
  assert.ok(s3.kind === 'ablation');
  assert.equal(s3.lengthColumn, 'prefinal_len');
  assert.equal(s3.validRows, 78);
  assert.equal(s3.fullFeatures, 11);
  assert.equal(s3.early.length, 2);
  assert.equal(s3.deltas.length, 2);
  assert.equal(s3.survives, s3.early.some((e) => e.estimate!.prauc! > s3.full!.prauc!));
  const none = runAnalysis(synthetic({ drop: ['prefinal_len'] }), fast());
  assert.ok(none.section3.kind === 'ablation' && none.section3.lengthColumn === null);
  assert.match(renderReport(none), /SECTION 3 — Prefinal Ablation {2}\[Length Confound Check\]\n=+\n {2}⚠ {2}No prefinal length column found\. Skipping\.\n/);
});

test('plot data: prefinal curve from Section 2; the commitment marker only below the median trace length', () => {
  const r = runAnalysis(synthetic(), fast({ prefinal: true }));
  const p = r.plot!;
  assert.equal(p.source, 'prefinal');
  assert.deepEqual(p.windows, [128, 256]);
  assert.deepEqual(p.early, r.ablation.early.map((e) => e.prauc));
  assert.equal(p.full, r.summary.fullPrauc);
  assert.equal(p.chance, r.ablation.baseline);
  const best = r.windows[firstMaxIndex(p.early)]!;
  assert.equal(p.marker === null, !(best < p.medianLength!));
  const regular = runAnalysis(synthetic({ drop: ['prefinal_len'] }), fast());
  assert.equal(regular.plot!.source, 'regular (prefinal not available)');
});

test('verdict rules (SPEC §3.5) and 4b shapes', () => {
  assert.equal(deltaVerdict(0.01, 0.001, 0.02, 0.99), '✓ Committed');
  assert.equal(deltaVerdict(-0.01, -0.02, -0.001, 0.01), '✗ Full better');
  assert.equal(deltaVerdict(0.01, -0.001, 0.02, 0.81), '~ Near-committed');
  assert.equal(deltaVerdict(0.01, -0.001, 0.02, 0.8), '? Ambiguous');
  assert.equal(deltaVerdict(-0.001, -0.01, 0.02, 0.9), '? Ambiguous');
  assert.equal(deltaVerdict(NaN, 0, 0, 0), 'N/A');
  assert.equal(signatureOf([null, { lo: -0.1, verdict: '~ Near-committed' }]), 'near-committed');
  assert.equal(signatureOf([{ lo: 0.001, verdict: '✓ Committed' }]), 'committed');
  assert.equal(signatureOf([null, { lo: -0.1, verdict: '? Ambiguous' }]), 'persistent');
  assert.equal(firstMaxIndex([null, 0.5, 0.7, 0.7, NaN]), 2);
  assert.equal(firstMaxIndex([null, NaN]), -1);
  const W = [128, 256, 512];
  assert.deepEqual(featureShape(W, [0.5, 0.6, 0.55], 0.58), { bestT: 256, bestPA: 0.6, shape: 'Early>Full ✓' });
  assert.equal(featureShape(W, [0.5, 0.55, 0.6], 0.7)!.shape, 'Monotone ↑');
  assert.equal(featureShape(W, [0.6, 0.55, 0.5], 0.7)!.shape, 'First peak');
  assert.equal(featureShape(W, [0.5, 0.6, 0.55], 0.7)!.shape, 'Inverted-U ✓');
  assert.equal(featureShape(W, [0.5, 0.6, 0.55], null)!.shape, 'Inverted-U ✓');
  assert.equal(featureShape(W, [null, null, null], 0.5), null);
});
