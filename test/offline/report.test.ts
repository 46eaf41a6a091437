import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFixed, padEnd, padStart, pyIntList } from '../../src/offline/format/py-format.ts';
import { renderReport } from '../../src/offline/report-text.ts';
import { parseReport } from '../../src/offline/parse-report.ts';
import { compareReports } from '../../src/offline/analysis/compare-reports.ts';
import type { AnalysisResult } from '../../src/offline/analysis-result.ts';
import { seeded } from '../fixtures/analyze-synthetic.ts';

test('formatFixed matches Python format() — including exact binary ties rounded to even (values printed by python3)', () => {
  const cases: Array<[number, number, boolean, string]> = [
    [0.03125, 4, false, '0.0312'], [602.5, 0, false, '602'], [12.25, 1, false, '12.2'], [0.5, 0, false, '0'],
    [1.5, 0, false, '2'], [2.5, 0, false, '2'], [-2.5, 0, false, '-2'], [-0.00001, 4, false, '-0.0000'],
    [0, 4, true, '+0.0000'], [-0, 4, true, '-0.0000'], [0.00005, 4, false, '0.0001'], [1e22, 4, false, '10000000000000000000000.0000'],
    [123456789.98765, 3, false, '123456789.988'], [5e-324, 4, false, '0.0000'], [0.8125, 3, true, '+0.812'],
    [NaN, 4, false, 'nan'], [NaN, 4, true, '+nan'], [Infinity, 4, true, '+inf'], [-Infinity, 4, false, '-inf'],
  ];
  for (const [x, d, sign, want] of cases) assert.equal(formatFixed(x, d, { sign }), want, `format(${x}, '${sign ? '+' : ''}.${d}f')`);
});

test('formatFixed agrees with toFixed wherever the value is not an exact tie', () => {
  const rand = seeded(3);
  for (let i = 0; i < 20_000; i++) {
    const x = (rand() - 0.5) * 10 ** Math.floor(rand() * 8 - 3);
    const d = Math.floor(rand() * 5);
    const scaled = Math.abs(x) * 10 ** d;
    if (Math.abs(scaled - Math.floor(scaled) - 0.5) < 1e-6) continue; // near-ties: toFixed and Python may differ
    assert.equal(formatFixed(x, d), x.toFixed(d), `x=${x} d=${d}`);
  }
});

test('padding counts code points like Python (astral characters are one)', () => {
  assert.equal(padStart('Δ', 5), '    Δ');
  assert.equal(padEnd('✓ x', 6), '✓ x   ');
  assert.equal(padStart('𝛥', 3), '  𝛥');
  assert.equal(padStart('toolong', 3), 'toolong');
  assert.equal(pyIntList([128, 256]), '[128, 256]');
});

/** A result exercising the N/A paths: a window without estimate, a missing delta, NaN aggregates. */
function naResult(): AnalysisResult {
  const committed = { mean: 0.1, lo: 0.01, hi: 0.2, pGreater: 0.99, verdict: '✓ Committed' as const };
  return {
    schema: 'failmode-analysis', version: 1, file: 'data/x.csv', modelName: 'Test Model', mode: 'corrected', nBoot: 500,
    windows: [128, 256], excludedMissingCorrect: 3,
    cluster: { column: 'question_id', nClusters: 40, nRows: 90 },
    prefinal: null,
    overview: { n: 90, failures: 30, meanGenLen: null, prefinalValid: null, fullColumns: 11, windows: [{ T: 128, columns: 0, meanWindowLen: null }, { T: 256, columns: 11, meanWindowLen: 200.5 }] },
    ablation: {
      baseline: 1 / 3, full: { prauc: 0.5, lo: 0.4, hi: 0.6, auroc: 0.55 }, fullClusterRobust: true,
      early: [{ T: 128, prauc: null, lo: null, hi: null, auroc: null }, { T: 256, prauc: 0.6, lo: 0.45, hi: 0.7, auroc: 0.65 }],
      fullOofCount: 90, deltas: [{ T: 128, delta: null }, { T: 256, delta: committed }],
      bestWindow: { T: 256, prauc: 0.6 }, signature: 'committed',
    },
    section3: { kind: 'ablation', lengthColumn: null, validRows: 0, n: 90, validFailures: 0, fullFeatures: 0, full: null, early: [], deltas: [], bestWindow: null, survives: false },
    features: {
      single: [{ feature: 'nll_max', full: null, windows: [null, 0.25] }],
      shapes: [{ feature: 'nll_max', bestT: null, bestPA: null, fullPA: null, shape: 'N/A' }],
      aggregate: { maxFull: null, meanFull: 0.5, windows: [{ T: 128, max: null, mean: 0.3 }, { T: 256, max: 0.25, mean: 0.75 }] },
    },
    summary: {
      n: 90, failures: 30, fullPrauc: 0.5,
      rows: [{ T: 128, early: null, full: 0.5, delta: null }, { T: 256, early: 0.6, full: 0.5, delta: committed }],
      verdict: { type: 'committed', T: 256, early: 0.6, full: 0.5 },
    },
    plot: null,
  };
}

test('renderReport prints the N/A and nan cells exactly as the paper does (expected lines from python3 f-strings)', () => {
  const text = renderReport(naResult(), { plot: { kind: 'no-data' } });
  const lines = text.split('\n');
  const has = (l: string) => assert.ok(lines.includes(l), `missing line ${JSON.stringify(l)}\n${text}`);
  has('Loading: data/x.csv');
  has("  Clustering on 'question_id': 40 unique clusters, 90 rows (2.2 rows/cluster avg)");
  has("  CIs: cluster-robust (resampling by 'question_id')");
  has('  Procedure: corrected (SPEC §6.3 fixes: training-fold medians, aligned clusters)');
  has('  Mode: regular (use --prefinal for primary analysis)');
  has('  mean_gen_len=nan  (no prefinal column found)');
  has('  T=128                     0                N/A');
  has('  T=256                    11                200'); // 200.5 → 200 (half-even on an exact tie)
  has('  Full-trace PR-AUC: 0.5000  95% CI [0.4000, 0.6000] (cluster-robust)  AUROC=0.5500');
  has('  Full-trace OOF scores computed from 90 samples (cluster-robust)');
  has('  T=128             N/A                [  N/A  ]         N/A          0.5000');
  has('  T=128     N/A');
  has('  T=256       +0.1000       [+0.0100, +0.2000]            0.990        ✓ Committed');
  has('  → Inverted-U committed failure signature PRESENT ✓');
  has('  ⚠  No prefinal length column found. Skipping.');
  has('  nll_max                       N/A       N/A    0.2500');
  has('  nll_max                         N/A        N/A        N/A              N/A');
  has('                  nan        0.5000                   N/A         0.2500/0.7500');
  has('  T=128           N/A  (delta N/A)');
  has('  T=256        0.6000     0.5000  +0.1000     [+0.0100, +0.2000]    0.990        ✓ Committed');
  has('  │  Commitment point: T=256  (Early=0.6000 > Full=0.5000)');
  has('  ⚠  No data to plot.');
  assert.match(lines[1]!, /^ {2}Excluded 3 rows with no `correct` value/);
  assert.ok(text.endsWith('============================================================================\n\n'));
});

test('renderReport: the plot lines name the SVG and PNG files; without a plot option there are none', () => {
  const r = { ...naResult(), plot: { source: 'prefinal' as const, windows: [256], early: [0.6], lo: [0.45], hi: [0.7], full: 0.5, chance: 1 / 3, marker: null, medianLength: 300 } };
  const saved = renderReport(r, { plot: { kind: 'saved', svg: 'p_prefinal_ablation.svg', png: 'p_prefinal_ablation.png' } });
  assert.match(saved, /\n\n {2}Plot saved \(prefinal\):\n {4}SVG → p_prefinal_ablation\.svg\n {4}PNG → p_prefinal_ablation\.png\n\n=+\n {2}Analysis complete\./);
  assert.doesNotMatch(renderReport(r), /Plot saved|No data to plot/);
});

test('parseReport reads back what renderReport printed, and compareReports flags a changed figure', () => {
  const result = naResult();
  const parsed = parseReport(renderReport(result));
  assert.equal(parsed.file, 'data/x.csv');
  assert.equal(parsed.procedure, 'corrected');
  assert.deepEqual(parsed.windows, [128, 256]);
  assert.equal(parsed.nBoot, 500);
  assert.deepEqual(parsed.ablation.full, { prauc: 0.5, lo: 0.4, hi: 0.6, auroc: 0.55 });
  assert.deepEqual(parsed.ablation.early[0], { T: 128, prauc: null, lo: null, hi: null, auroc: null });
  assert.deepEqual(parsed.ablation.deltas[0]?.mean, null);
  assert.deepEqual(parsed.ablation.deltas[1], { T: 256, mean: 0.1, lo: 0.01, hi: 0.2, pGreater: 0.99, verdict: '✓ Committed' });
  assert.equal(parsed.ablation.signature, 'committed');
  assert.deepEqual(parsed.features.single[0], { feature: 'nll_max', full: null, windows: [null, 0.25] });
  assert.deepEqual(parsed.features.aggregate, { maxFull: null, meanFull: 0.5, windows: [{ T: 128, max: null, mean: null }, { T: 256, max: 0.25, mean: 0.75 }] });
  assert.deepEqual(parsed.summary.verdict, { type: 'committed', T: 256, early: 0.6, full: 0.5 });
  assert.equal(parsed.complete, true);

  assert.ok(compareReports(parsed, parsed).ok);
  const changed = { ...result, ablation: { ...result.ablation, full: { ...result.ablation.full, prauc: 0.51 } } };
  const cmp = compareReports(parseReport(renderReport(changed)), parsed);
  assert.deepEqual(cmp.failures.map((c) => c.what), ['2 full-trace PR-AUC']);
});
