import type { TableOutcome } from './reproduce-table.ts';

const f4 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(4));
const tStar = (verdict: string | null | undefined, T: number | null | undefined) =>
  !verdict ? '—' : verdict.startsWith('TYPE 2') ? '—' : T === null || T === undefined ? '—' : `T=${T}`;
const shortVerdict = (v: string | null | undefined) =>
  !v ? '—' : v.startsWith('TYPE 1') ? 'committed' : v.startsWith('NEAR') ? 'near-committed' : v.startsWith('TYPE 2') ? 'persistent' : v;

/**
 * `summary.md`: one row per table — ours vs published, largest differences, match or differs — then the differences.
 * Nothing in it depends on the machine or the run (no elapsed time, no thread count), so regenerating the committed
 * results/paper/ leaves the checkout unchanged; the command prints the time on stderr.
 */
export function renderSummary(outcomes: readonly TableOutcome[], meta: { resultsDir: string; publishedDir?: string }): string {
  const lines: string[] = [];
  const ok = outcomes.filter((o) => o.status === 'ok');
  const compared = ok.filter((o) => o.published);
  const matching = compared.filter((o) => o.published!.matches);
  lines.push('# Reproduction of the paper\'s failure-mode tables', '');
  lines.push(`Made by \`failmode reproduce --results ${meta.resultsDir}${meta.publishedDir ? ` --published ${meta.publishedDir}` : ''}\` `
    + `(${outcomes.length} tables). Procedure: paper mode (the published script's procedure, quirks included); `
    + 'each table with the mode and number of bootstrap resamples the published table used.', '');
  lines.push(`${ok.length}/${outcomes.length} tables analysed; ${compared.length} have a published report, ${matching.length} of them match within the tolerances `
    + '(points ±0.005, CI bounds ±0.006, Δ ±0.005, p ±0.05 or ±0.1 where the Δ CI lies inside ±0.02; verdicts identical except at decision boundaries).', '');
  lines.push('Regime: committed = some window\'s ΔPR-AUC CI lies above 0 (T* = its commitment point); near-committed = positive Δ with p > 0.8 but CI spanning 0 (T = best window); persistent = full trace best.', '');
  lines.push('| table | input | mode | n_boot | n | failures | our verdict | T* | published verdict | published T* | max Δ point | max Δ CI | max Δ Δ̄ | max Δ p | status |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const o of outcomes) {
    if (o.status !== 'ok') {
      lines.push(`| ${o.table} | ${o.input} | ${o.mode} | ${o.nBoot} | — | — | — | — | — | — | — | — | — | — | ${o.status === 'missing-input' ? 'input missing' : 'error'}: ${o.error?.replace(/\|/g, '\\|') ?? ''} |`);
      continue;
    }
    const p = o.published;
    lines.push(`| ${o.table} | ${o.input} | ${o.mode} | ${o.nBoot} | ${o.n} | ${o.failures} | ${shortVerdict(o.verdict)} | ${tStar(o.verdict, o.commitmentPoint)} | `
      + `${p ? shortVerdict(p.verdict) : 'not published'} | ${p ? tStar(p.verdict, p.commitmentPoint) : '—'} | ${f4(p?.maxPointDiff)} | ${f4(p?.maxCiDiff)} | ${f4(p?.maxDeltaDiff)} | ${p ? p.maxPDiff.toFixed(3) : '—'} | `
      + `${p ? status(p) : 'ok'} |`);
  }
  const withDiffs = compared.filter((o) => o.published!.differences.length > 0);
  if (withDiffs.length > 0) {
    lines.push('', '## Figures outside tolerance', '', 'Excused = the published figure sits on a decision boundary (p within 0.02 of 0.8, a CI bound within 0.003 of 0, or tied best windows), where solver-level differences may flip a label.', '');
    for (const o of withDiffs) {
      lines.push(`### ${o.table}`, '');
      for (const d of o.published!.differences) {
        lines.push(`- ${d.what}: ours ${fmt(d.ours)}, published ${fmt(d.reference)} (|Δ| ${Number.isFinite(d.diff) ? d.diff.toFixed(4) : '—'}, tolerance ${d.tolerance})${d.excused ? ' — excused' : ''}`);
      }
      lines.push('');
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `match` only when every figure is inside tolerance; excused boundary cases are counted, never hidden. */
function status(p: NonNullable<TableOutcome['published']>): string {
  if (!p.matches) return 'differs';
  const excused = p.differences.filter((d) => d.excused).length;
  return excused === 0 ? 'match' : `match (${excused} excused)`;
}

function fmt(v: unknown): string {
  return typeof v === 'number' ? String(Number(v.toFixed(4))) : v === null || v === undefined ? 'N/A' : String(v);
}
