import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadTable } from '../../src/offline/load-table.ts';
import { runAnalysis } from '../../src/offline/analyze.ts';
import { renderReport } from '../../src/offline/report-text.ts';
import { parseReport } from '../../src/offline/parse-report.ts';
import { compareReports } from '../../src/offline/analysis/compare-reports.ts';
import { needsPaper, paperHas } from '../fixtures/requires.ts';

// Reproduces each published report of the paper from its input, with the mode and n_boot listed in the paper
// README's table, and compares every figure (tolerances: compare-reports.ts DEFAULT_TOLERANCES).
const paper = fileURLToPath(new URL('../../../shared/paper/', import.meta.url));

interface TableRow { table: string; input: string; mode: string; nBoot: number; published: boolean }

function readmeTable(): TableRow[] {
  if (!paperHas('README.md')) return [];
  const text = readFileSync(`${paper}README.md`, 'utf8');
  const rows: TableRow[] = [];
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 7 || cells[1] === 'table' || /^-+$/.test(cells[1]!) || cells[1] === '') continue;
    rows.push({ table: cells[1]!, input: cells[2]!, mode: cells[3]!, nBoot: Number(cells[4]), published: cells[5] === 'yes' });
  }
  return rows;
}

const published = readmeTable().filter((r) => r.published);

test('the README lists the 7 published reports', needsPaper(), () => {
  assert.equal(published.length, 7);
});

/** Masks every number so only the layout is left; drops the lines that legitimately differ. */
function layout(text: string): string[] {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const ln = lines[i]!;
    if (/^Loading: /.test(ln) || /^ {2}File: /.test(ln) || /^ {2}Procedure: /.test(ln)) continue;
    if (/^ {2}Plot saved /.test(ln)) {
      if (out[out.length - 1] === '') out.pop();
      continue;
    }
    if (/^ {4}(PDF|SVG|PNG) → /.test(ln)) continue;
    // 4b's shape label follows near-ties of two PR-AUCs; compareReports checks it (with its near-tie excuse).
    const shape = /^ {2}[a-z_]+ +(?:\d+|N\/A) +\S+ +\S+( +\S.*)$/.exec(ln);
    out.push((shape ? `${ln.slice(0, ln.length - shape[1]!.length)} <shape>` : ln).replace(/[+-]?\d+(?:\.\d+)?/g, '#'));
  }
  return out;
}

for (const row of published) {
  test(`reproduces published/${row.table}.txt from ${row.input} (${row.mode}, n_boot=${row.nBoot})`, async (t) => {
    const reference = readFileSync(`${paper}published/${row.table}.txt`, 'utf8');
    const frame = await loadTable(`${paper}results/${row.input}`);
    const result = runAnalysis(frame, { file: row.input, prefinal: row.mode === 'prefinal', nBoot: row.nBoot });
    const ours = renderReport(result, { plot: { kind: 'saved', svg: 'x.svg', png: 'x.png' } });

    const cmp = compareReports(parseReport(ours), parseReport(reference));
    const fmt = (x: number) => x.toFixed(4);
    t.diagnostic(`${cmp.checks.length} checks; max |diff|: point ${fmt(cmp.maxDiff.point)}, CI ${fmt(cmp.maxDiff.ci)}, Δ ${fmt(cmp.maxDiff.delta)}, p ${fmt(cmp.maxDiff.p)}; excused: ${cmp.checks.filter((c) => c.excused).map((c) => `${c.what} (${c.ours} vs ${c.reference})`).join(', ') || 'none'}`);
    assert.ok(cmp.checks.length >= 240, `only ${cmp.checks.length} figures compared — the parser missed part of a report`);
    assert.deepEqual(cmp.failures, [], 'figures outside tolerance');
    // Paper mode's LR stops where sklearn ≥ 1.4's lbfgs does, as the published script's did: every figure is identical.
    assert.deepEqual(cmp.checks.filter((c) => c.diff !== 0).map((c) => `${c.what}: ${c.ours} vs ${c.reference}`), [], 'figures not identical');

    // Verdict lines could differ in an excused boundary case; none do in these 7 reports, so compare them exactly.
    assert.deepEqual(layout(ours), layout(reference));
  });
}

test('reproduces reference/gpqa_gemma4-31b.prefinal.sklearn121.txt (the unmodified script, converged LR) character for character with --solver newton', needsPaper(), async () => {
  const reference = readFileSync(`${paper}reference/gpqa_gemma4-31b.prefinal.sklearn121.txt`, 'utf8');
  const file = '/tmp/seed/results/gpqa_gemma4-31b.final.xlsx'; // the path the reference run printed
  const frame = await loadTable(`${paper}results/gpqa_gemma4-31b.final.xlsx`);
  // sklearn 1.2.1's lbfgs reached the optimum (unscaled objective), so this reference is the exact-optimum solver's.
  const ours = renderReport(runAnalysis(frame, { file, prefinal: true, nBoot: 10_000, solver: 'newton' }));
  const withoutProcedure = ours.split('\n').filter((l) => !l.startsWith('  Procedure: ')).join('\n');
  assert.equal(withoutProcedure, reference);
});
