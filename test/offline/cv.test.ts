import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { readSheet } from 'read-excel-file/node';
import { BASE_FEATURES, MAX_FEATURES, MEAN_FEATURES } from '../../src/features/columns.ts';
import { crossValidatedScores, cvPrAuc } from '../../src/offline/cv-lr.ts';
import { bootstrapPrAuc, deltaCi } from '../../src/offline/bootstrap.ts';
import { averagePrecision } from '../../src/offline/metrics.ts';
import { stratifiedKFold } from '../../src/offline/folds.ts';
import { paperUrl } from '../fixtures/h1-reference.ts';
import { needsPaper } from '../fixtures/requires.ts';

type Row = Record<string, unknown>;
const num = (v: unknown): number => (v === '' || v === null || v === undefined ? NaN : Number(v));
const column = (rows: Row[], name: string): Float64Array => Float64Array.from(rows, (r) => num(r[name]));
const failures = (rows: Row[]): Uint8Array => Uint8Array.from(rows, (r) => 1 - num(r.correct));
const prefinalRows = (rows: Row[]): Row[] => rows.filter((r) => num(r.prefinal_len) > 0);
const WINDOWS = [128, 256, 400, 512, 1024, 2048];

function near(actual: number, printed: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - printed) <= tol, `${what}: got ${actual}, expected ${printed} ± ${tol}`);
}
/** Equal to a value printed with 4 decimals. */
const same4 = (actual: number, printed: number, what: string): void => near(actual, printed, 0.00005 + 1e-12, what);

test('gpqa_gpt4o prefinal full trace reproduces the published PR-AUC 0.6349 [0.5354, 0.7505], AUROC 0.7009', needsPaper('results/gpqa_gpt4o.final.csv'), () => {
  const rows = prefinalRows(parse(readFileSync(paperUrl('results/gpqa_gpt4o.final.csv')), { columns: true }) as Row[]);
  const y = failures(rows);
  assert.equal(rows.length, 198);
  const r = cvPrAuc(BASE_FEATURES.map((f) => column(rows, `${f}_prefinal`)), y);
  near(r.prauc, 0.6349, 0.005, 'PR-AUC');
  near(r.lo, 0.5354, 0.005, 'CI lo');
  near(r.hi, 0.7505, 0.005, 'CI hi');
  near(r.auroc, 0.7009, 0.005, 'AUROC');
});

test('gpqa_gemma4-31b --prefinal reproduces every estimator figure of the sklearn 1.2.1 reference run', needsPaper('reference/gpqa_gemma4-31b.prefinal.sklearn121.txt', 'results/gpqa_gemma4-31b.final.xlsx'), async () => {
  const ref = readFileSync(paperUrl('reference/gpqa_gemma4-31b.prefinal.sklearn121.txt'), 'utf8');
  const sheet = (await readSheet(fileURLToPath(paperUrl('results/gpqa_gemma4-31b.final.xlsx')))) as unknown[][];
  const header = sheet[0] as string[];
  const all: Row[] = sheet.slice(1).map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
  const rows = prefinalRows(all);
  const y = failures(rows);
  assert.equal(rows.length, 197);

  const fullLine = /Full-trace PR-AUC: ([\d.]+)\s+95% CI \[([\d.]+), ([\d.]+)\]\s+AUROC=([\d.]+)/.exec(ref)!;
  const full = cvPrAuc(BASE_FEATURES.map((f) => column(rows, `${f}_prefinal`)), y);
  assert.deepEqual([full.prauc, full.lo, full.hi, full.auroc].map((v) => v.toFixed(4)), fullLine.slice(1, 5));
  assert.equal(fullLine.slice(1, 5).join(' '), '0.3974 0.2807 0.5550 0.7217');

  for (const T of WINDOWS) {
    // 2a: "T=128            0.3776       [0.2533, 0.5295]        0.6155        0.3974"
    const a = new RegExp(`T=${T}\\s+([\\d.]+)\\s+\\[([\\d.]+), ([\\d.]+)\\]\\s+([\\d.]+)\\s+[\\d.]+\\n`).exec(ref)!;
    const early = cvPrAuc(BASE_FEATURES.map((f) => column(rows, `${f}_prefinal_w${T}`)), y);
    [early.prauc, early.lo, early.hi, early.auroc].forEach((v, k) => same4(v, Number(a[k + 1]), `T=${T} 2a[${k}]`));
    // 2b: "T=128       -0.0241       [-0.1837, +0.1352]            0.380        ? Ambiguous"
    const b = new RegExp(`T=${T}\\s+([-+][\\d.]+)\\s+\\[([-+][\\d.]+), ([-+][\\d.]+)\\]\\s+([\\d.]+)\\s+[?~✓✗]`).exec(ref)!;
    const d = deltaCi(full.oof!.rowY, early.oof!.rowScores, full.oof!.rowScores, { nBoot: 10000 });
    [d.mean, d.lo, d.hi].forEach((v, k) => same4(v, Number(b[k + 1]), `T=${T} 2b[${k}]`));
    near(d.pGreater, Number(b[4]), 0.0005 + 1e-12, `T=${T} p(early>full)`);
  }

  // Section 3 on the whole frame: raw full-trace features and the generated_len proxy
  const yAll = failures(all);
  const raw = cvPrAuc(BASE_FEATURES.map((f) => column(all, f)), yAll);
  const rawLine = /all rows\): ([\d.]+)\s+\[([\d.]+), ([\d.]+)\]/.exec(ref)!;
  [raw.prauc, raw.lo, raw.hi].forEach((v, k) => same4(v, Number(rawLine[k + 1]), `raw[${k}]`));
  const len = cvPrAuc([column(all, 'generated_len')], yAll);
  const lenLine = /length confound proxy\): ([\d.]+)\s+\[([\d.]+), ([\d.]+)\]/.exec(ref)!;
  [len.prauc, len.lo, len.hi].forEach((v, k) => same4(v, Number(lenLine[k + 1]), `generated_len[${k}]`));

  // Section 4: 77 single-feature fits and the max/mean aggregates (point estimates only)
  for (const f of BASE_FEATURES) {
    const cells = new RegExp(`\\n  ${f} +([\\d. ]+)\\n`).exec(ref)![1]!.trim().split(/\s+/).map(Number);
    const cols = [`${f}_prefinal`, ...WINDOWS.map((T) => `${f}_prefinal_w${T}`)];
    cols.forEach((c, k) => same4(cvPrAuc([column(rows, c)], y, { ci: false }).prauc, cells[k]!, `${f} ${c}`));
  }
  const agg = /\n {15}([\d.]+) +([\d.]+) +[\d.]+\/[\d.]+/.exec(ref)!;
  same4(cvPrAuc(MAX_FEATURES.map((f) => column(rows, `${f}_prefinal`)), y, { ci: false }).prauc, Number(agg[1]), 'max features');
  same4(cvPrAuc(MEAN_FEATURES.map((f) => column(rows, `${f}_prefinal`)), y, { ci: false }).prauc, Number(agg[2]), 'mean features');
});

/** Synthetic frame: two informative features with missing values, failures ~30%. */
function synthetic(n: number, seed: number): { cols: Float64Array[]; y: Uint8Array } {
  let x = seed;
  const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const y = Uint8Array.from({ length: n }, () => (rnd() < 0.3 ? 1 : 0));
  const a = Float64Array.from(y, (v) => (rnd() < 0.1 ? NaN : v + rnd() * 2));
  const b = Float64Array.from(y, (v) => (rnd() < 0.2 ? NaN : Math.round(rnd() * 4 - v)));
  return { cols: [a, b], y };
}

test('crossValidatedScores: pooled predictions in fold order, the same predictions in row order', () => {
  const { cols, y } = synthetic(90, 3);
  const oof = crossValidatedScores(cols, y)!;
  const folds = stratifiedKFold(y);
  assert.equal(oof.pooledScores.length, 90);
  for (let k = 1; k < 90; k++) {
    const [prev, cur] = [oof.pooledRows[k - 1]!, oof.pooledRows[k]!];
    assert.ok(folds[prev]! < folds[cur]! || (folds[prev] === folds[cur] && prev < cur), 'fold order, rows ascending within a fold');
  }
  assert.deepEqual(Array.from(oof.rows), Array.from({ length: 90 }, (_, i) => i));
  oof.pooledRows.forEach((row, k) => {
    assert.equal(oof.rowScores[row], oof.pooledScores[k]);
    assert.equal(oof.rowY[row], y[row]);
    assert.equal(oof.pooledY[k], y[row]);
  });
  assert.ok(oof.pooledScores.every((p) => p > 0 && p < 1));
  // cvPrAuc scores the fold-ordered pool
  const r = cvPrAuc(cols, y, { ci: false });
  assert.equal(r.prauc, averagePrecision(oof.pooledY, oof.pooledScores));
  assert.ok(Number.isNaN(r.lo) && Number.isNaN(r.hi));
});

test('crossValidatedScores returns null without columns or with fewer than 5 failures', () => {
  const { cols, y } = synthetic(60, 9);
  assert.equal(crossValidatedScores([], y), null);
  let kept = 0;
  const few = Uint8Array.from(y, (v) => (v === 1 && kept++ < 4 ? 1 : 0));
  assert.ok(few.reduce((s, v) => s + v, 0) < 5);
  assert.equal(crossValidatedScores(cols, few), null);
  const r = cvPrAuc(cols, few);
  assert.ok([r.prauc, r.lo, r.hi, r.auroc].every(Number.isNaN) && r.oof === null);
  assert.throws(() => crossValidatedScores([new Float64Array(3)], y), RangeError);
  assert.throws(() => crossValidatedScores(cols, y, { groups: new Int32Array(3) }), RangeError);
});

test('corrected imputation (training-fold medians) differs from the paper only when values are missing', () => {
  const { cols, y } = synthetic(120, 21);
  const paper = crossValidatedScores(cols, y)!;
  const corrected = crossValidatedScores(cols, y, { correctedImpute: true })!;
  assert.notDeepEqual(Array.from(paper.pooledScores), Array.from(corrected.pooledScores));
  const complete = cols.map((c) => c.map((v) => (Number.isNaN(v) ? 1 : v)));
  assert.deepEqual(
    Array.from(crossValidatedScores(complete, y)!.pooledScores),
    Array.from(crossValidatedScores(complete, y, { correctedImpute: true })!.pooledScores),
  );
  // an all-missing column has no effect
  const withEmpty = crossValidatedScores([...complete, new Float64Array(120).fill(NaN)], y)!;
  const without = crossValidatedScores(complete, y)!;
  withEmpty.pooledScores.forEach((p, k) => assert.ok(Math.abs(p - without.pooledScores[k]!) < 1e-9));
});

test('GroupKFold mode: skipped folds drop their rows; paper cluster CI falls back to i.i.d., corrected aligns ids', () => {
  const n = 60;
  // 10 equal clusters of 6 rows → folds {9,4} {8,3} {7,2} {6,1} {5,0}; failures only in clusters 0–3, so fold 0 is skipped
  const groups = Int32Array.from({ length: n }, (_, i) => Math.floor(i / 6));
  const y = Uint8Array.from({ length: n }, (_, i) => (groups[i]! < 4 && i % 2 === 0 ? 1 : 0));
  const feat = Float64Array.from({ length: n }, (_, i) => y[i]! + ((i * 37) % 11) / 5);
  const r = cvPrAuc([feat], y, { groups, clusters: groups, nBoot: 300 });
  const oof = r.oof!;
  assert.ok(oof.rows.length < n, 'a fold was skipped');
  for (const row of oof.rows) assert.ok(groups[row] !== 9 && groups[row] !== 4);
  assert.equal(oof.rows.length, 48);
  // paper: the id vector (length n) no longer matches the pooled length → i.i.d. bootstrap
  assert.equal(r.lo, bootstrapPrAuc(oof.pooledY, oof.pooledScores, { nBoot: 300 }).lo);
  const fixed = cvPrAuc([feat], y, { groups, clusters: groups, nBoot: 300, correctedClusters: true });
  const aligned = Int32Array.from(oof.pooledRows, (i) => groups[i]!);
  assert.equal(fixed.hi, bootstrapPrAuc(oof.pooledY, oof.pooledScores, { nBoot: 300, clusters: aligned }).hi);
});

test('paper cluster CI with no skipped fold uses the row-ordered ids against fold-ordered predictions', () => {
  const { cols, y } = synthetic(100, 5);
  const groups = Int32Array.from({ length: 100 }, (_, i) => i % 20);
  const r = cvPrAuc(cols, y, { groups, clusters: groups, nBoot: 200 });
  assert.equal(r.oof!.pooledScores.length, 100);
  const misaligned = bootstrapPrAuc(r.oof!.pooledY, r.oof!.pooledScores, { nBoot: 200, clusters: groups });
  assert.deepEqual([r.lo, r.hi], [misaligned.lo, misaligned.hi]);
});
