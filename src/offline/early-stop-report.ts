/**
 * The files of `failmode early-stop-eval`: markdown of one table, summary.md / summary.json of `--all`, and the summary
 * chart. Rendering only — every figure comes from src/offline/early-stop-eval.ts.
 */
import type { LineChartSpec } from '../plots/line-chart.ts';
import type { AlphaOutcome, EarlyStopSummary, MethodOutcome, TableStopResult, TransferTable } from './early-stop-eval.ts';
import { stopRates, type StopCounts } from './stop-outcome.ts';

const pct = (x: number | null | undefined, d = 1): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(d)}%`);
const round = (x: number, d = 4): number | null => (Number.isFinite(x) ? Number(x.toFixed(d)) : null);

const oracleSaved = (c: StopCounts): number => stopRates(c).saved;

function modeOf(r: TableStopResult): string {
  return r.prefinal.active ? 'prefinal' : r.prefinal.requested ? `regular (prefinal fell back: ${r.prefinal.fallback})` : 'regular';
}

/** How often each candidate was chosen over the outer folds, e.g. `hazard 3, window 2`. */
function choices(m: MethodOutcome): string {
  const counts = new Map<string, number>();
  for (const c of m.chosen) counts.set(c ?? 'none', (counts.get(c ?? 'none') ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
}

const cell = (m: MethodOutcome): string => `${pct(m.rates.saved)} (${pct(m.rates.falseKill)})`;

/** Markdown of one table's evaluation. */
export function tableMarkdown(r: TableStopResult, delta: number): string {
  const o = stopRates(r.oracle);
  if (r.insufficient) {
    const x = r.insufficient;
    return [
      `# Early stopping — ${r.table}`,
      '',
      `File \`${r.file}\`; ${modeOf(r)}; n = ${r.n}, failures = ${r.failures}; windows ${r.windows.join(', ')}.`,
      '',
      `**Insufficient data — ${x.reason}.** No rule was cross-fitted: an evaluation needs ≥ ${x.minRows} rows with ≥ ${x.minClass} failures,`,
      `≥ ${x.minClass} correct rows and a usable window feature column (this table: ${x.n} rows, ${x.failures} failures, ${x.correct} correct, ${x.usableFeatures} usable columns).`,
      '',
    ].join('\n');
  }
  const lines = [
    `# Early stopping — ${r.table}`,
    '',
    `File \`${r.file}\`; ${modeOf(r)}; n = ${r.n}, failures = ${r.failures} (${pct(r.failures / r.n)}); windows ${r.windows.join(', ')}.`,
    `A sample is stopped at the first window T where it is still running (\`${r.stopLengthColumn}\` > T) and its risk ≥ the`,
    `threshold; tokens saved = Σ over stopped samples of (\`${r.lengthColumn}\` − T) / Σ \`${r.lengthColumn}\`. False-kill rate = correct`,
    `samples stopped / correct samples. Thresholds are risk-controlled (false-kill ≤ α with probability ≥ ${1 - delta} over the`,
    'calibration data) and every figure is cross-fitted: model choice, fit and thresholds from the training folds only',
    '(nested 5-fold CV), counts pooled over the held-out folds.',
    '',
    `Oracle (every failure stopped at its first running window): ${pct(o.saved)} of tokens saved, recall ${pct(o.recall)}.`,
    '',
    '| α | method | tokens saved | share of oracle | false-kill rate | ≤ α | precision | recall | stopped | chosen per fold |',
    '|---:|---|---:|---:|---:|:---:|---:|---:|---:|---|',
  ];
  for (const a of r.alphas) {
    for (const [name, m] of [['learned', a.learned], ['baseline', a.baseline]] as const) {
      lines.push(`| ${a.alpha} | ${name} | ${pct(m.rates.saved)} | ${pct(m.rates.saved / o.saved, 0)} | ${pct(m.rates.falseKill)} | ${m.rates.falseKill <= a.alpha ? 'yes' : 'no'} | ${pct(m.rates.precision)} | ${pct(m.rates.recall)} | ${m.counts.stopped} | ${choices(m)} |`);
    }
  }
  lines.push('');
  return lines.join('\n');
}

/** JSON of one method at one α (shares 0–1). */
function methodJson(m: MethodOutcome, oracle: number): Record<string, unknown> {
  return {
    saved: round(m.rates.saved), false_kill: round(m.rates.falseKill), precision: round(m.rates.precision), recall: round(m.rates.recall),
    share_of_oracle: round(m.rates.saved / oracle), stopped: m.counts.stopped, false_kills: m.counts.stopped - m.counts.stoppedFailures,
    correct: m.counts.n - m.counts.failures, chosen: m.chosen,
  };
}

function alphasJson(alphas: readonly AlphaOutcome[], oracle: number): unknown[] {
  return alphas.map((a) => ({ alpha: a.alpha, learned: methodJson(a.learned, oracle), baseline: methodJson(a.baseline, oracle) }));
}

/** Means over tables at one α: tokens saved, realised false-kill rates, and tables whose false-kill ≤ α. */
export interface MeanFigures {
  readonly alpha: number;
  readonly learned: number;
  readonly baseline: number;
  readonly oracle: number;
  readonly learnedValid: number;
  readonly baselineValid: number;
  readonly learnedFalseKill: number;
  readonly baselineFalseKill: number;
}

/** Means over tables at each α, validity share, and the goal check. */
export interface SummaryFigures {
  readonly perAlpha: readonly MeanFigures[];
  readonly transferPerAlpha: readonly MeanFigures[];
  /** Cells (table × α) where the learned rule's realised false-kill ≤ α, and all cells. */
  readonly validity: { readonly within: number; readonly cells: number; readonly baselineWithin: number };
}

function means(rows: ReadonlyArray<{ oracle: StopCounts; alphas: readonly AlphaOutcome[] }>, alphas: readonly number[]): MeanFigures[] {
  return alphas.map((alpha, a) => {
    const k = rows.length || 1;
    let L = 0, B = 0, O = 0, lv = 0, bv = 0, lfk = 0, bfk = 0;
    for (const r of rows) {
      const x = r.alphas[a]!;
      L += x.learned.rates.saved || 0;
      B += x.baseline.rates.saved || 0;
      O += oracleSaved(r.oracle) || 0;
      lfk += x.learned.rates.falseKill || 0;
      bfk += x.baseline.rates.falseKill || 0;
      if (!(x.learned.rates.falseKill > alpha)) lv++;
      if (!(x.baseline.rates.falseKill > alpha)) bv++;
    }
    return { alpha, learned: L / k, baseline: B / k, oracle: O / k, learnedValid: lv, baselineValid: bv, learnedFalseKill: lfk / k, baselineFalseKill: bfk / k };
  });
}

/** Tables with figures (those below the support rule have none). */
const evaluatedCount = (s: EarlyStopSummary): number => s.tables.filter((t) => !t.insufficient).length;

export function summaryFigures(s: EarlyStopSummary): SummaryFigures {
  const evaluated = s.tables.filter((t) => !t.insufficient); // tables below the support rule have no figures
  const perAlpha = means(evaluated, s.alphas);
  return {
    perAlpha,
    transferPerAlpha: means(s.transfer, s.alphas),
    validity: { within: perAlpha.reduce((x, p) => x + p.learnedValid, 0), cells: evaluated.length * s.alphas.length, baselineWithin: perAlpha.reduce((x, p) => x + p.baselineValid, 0) },
  };
}

/** summary.json: per table `table`, `oracle_saved`, `alphas` [{alpha, learned, baseline}], plus `transfer` and the means. */
export function summaryJson(s: EarlyStopSummary): unknown {
  const f = summaryFigures(s);
  return {
    schema: s.schema, version: s.version, delta: s.delta, alphas: s.alphas,
    procedure: 'nested 5-fold cross-fitting (seed 42); model choice, fit and risk-controlled thresholds on the training folds only; counts pooled over held-out folds',
    tables: s.tables.map((r) => {
      const o = oracleSaved(r.oracle);
      return { table: r.table, mode: modeOf(r), n: r.n, failures: r.failures, windows: r.windows, oracle_saved: round(o), alphas: alphasJson(r.alphas, o), ...(r.insufficient ? { insufficient: r.insufficient } : {}) };
    }),
    transfer: {
      procedure: 'pooled model, leave one table out: model choice, fit and thresholds on the tables of the other groups (inner folds: groups of tables), applied to the held-out table',
      tables: s.transfer.map((r) => {
        const o = oracleSaved(r.oracle);
        return { table: r.table, oracle_saved: round(o), alphas: alphasJson(r.alphas, o) };
      }),
      means: f.transferPerAlpha.map((m) => ({ alpha: m.alpha, learned_saved: round(m.learned), baseline_saved: round(m.baseline), oracle_saved: round(m.oracle), learned_false_kill: round(m.learnedFalseKill), baseline_false_kill: round(m.baselineFalseKill), learned_within_alpha: m.learnedValid, baseline_within_alpha: m.baselineValid, tables: s.transfer.length })),
    },
    means: f.perAlpha.map((m) => ({ alpha: m.alpha, learned_saved: round(m.learned), baseline_saved: round(m.baseline), oracle_saved: round(m.oracle), learned_false_kill: round(m.learnedFalseKill), baseline_false_kill: round(m.baselineFalseKill), learned_within_alpha: m.learnedValid, baseline_within_alpha: m.baselineValid, tables: evaluatedCount(s) })),
    validity: { cells: f.validity.cells, learned_within_alpha: f.validity.within, share: round(f.validity.within / f.validity.cells), baseline_within_alpha: f.validity.baselineWithin },
  };
}

/** summary.md of `--all`. */
export function summaryMarkdown(s: EarlyStopSummary): string {
  const f = summaryFigures(s);
  const head = s.alphas.map((a) => `α=${a} learned | baseline`).join(' | ');
  const sep = s.alphas.map(() => '---:|---:').join('|');
  const at05 = s.alphas.indexOf(0.05);
  const lines = [
    '# Early stopping on the paper\'s tables — risk-controlled, cross-fitted',
    '',
    'Rule: stop a sample at the first early window T where it is still running and its risk ≥ λ (one threshold λ for',
    `every window, src/models/risk-control.ts), λ calibrated so that the false-kill rate (correct samples stopped /`,
    `correct samples) is ≤ α with probability ≥ ${1 - s.delta} (Clopper–Pearson bound, fixed-sequence scan). Every figure is`,
    'cross-fitted: outer 5-fold split (stratified, seed 42); on the 4 training folds only, each candidate gets inner 5-fold',
    'out-of-fold risks, λ is calibrated on them, and the candidate saving the most tokens there is chosen; the chosen',
    'model, refitted on the training folds, scores the held-out fold. Counts pooled over the 5 held-out folds.',
    '',
    '- **learned**: chosen per fold between the per-window classifiers (`window`: the 11 window features of T, fitted on',
    '  the rows running at T) and the hazard model (`hazard`: one logistic model of P(failure | running at T) on the',
    '  features of T, their change since the previous window and a window indicator, fitted on all running (sample,',
    '  window) pairs). Both contain the baseline\'s feature (window mean NLL and mean entropy are among the 11).',
    '- **baseline** (DeepConf-style): the raw window mean NLL or mean entropy (chosen per fold the same way), same',
    '  risk control. DeepConf\'s lowest-group and tail confidence need per-token data; the paper\'s tables only hold window',
    '  aggregates, so they cannot be computed here.',
    '- **oracle**: every failure stopped at the first window where it is still running: the most any rule on these',
    '  windows can save.',
    '',
    'Cells: tokens saved (share of all tokens) and, in brackets, the realised false-kill rate.',
    '',
    `| table | mode | n | failures | oracle | ${head} | share of oracle at α=0.05 (learned / baseline) |`,
    `|---|---|---:|---:|---:|${sep}|---:|`,
  ];
  for (const r of s.tables) {
    const o = oracleSaved(r.oracle);
    if (r.insufficient) {
      lines.push(`| ${r.table} | ${modeOf(r)} | ${r.n} | ${pct(r.failures / r.n)} | ${pct(o)} | insufficient data: ${r.insufficient.reason} |`);
      continue;
    }
    const a5 = at05 >= 0 ? r.alphas[at05]! : null;
    lines.push(`| ${r.table} | ${modeOf(r)} | ${r.n} | ${pct(r.failures / r.n)} | ${pct(o)} | ${r.alphas.map((a) => `${cell(a.learned)} | ${cell(a.baseline)}`).join(' | ')} | ${a5 ? `${pct(a5.learned.rates.saved / o, 0)} / ${pct(a5.baseline.rates.saved / o, 0)}` : '—'} |`);
  }
  lines.push(
    '',
    '## Transfer: one pooled model, leave one table out',
    '',
    'For each table, the model kind, the pooled model and λ come from the OTHER tables only (tables sharing samples —',
    '`easy`/`hard`/`lcb_gpt-oss-20b.final`, the two Gemini GPQA files — are left out together; inner folds are groups of',
    'tables), and are applied to the held-out table: what a user with a model outside the paper\'s tables can expect.',
    'Features are pooled raw (the model\'s standardiser is fitted on the pooled rows); no per-model standardisation, since a',
    'live stream of an unknown model has no labelled statistics to standardise with.',
    '',
    `| table | oracle | ${head} |`,
    `|---|---:|${sep}|`,
  );
  for (const r of s.transfer) lines.push(`| ${r.table} | ${pct(oracleSaved(r.oracle))} | ${r.alphas.map((a) => `${cell(a.learned)} | ${cell(a.baseline)}`).join(' | ')} |`);
  lines.push('', '## Summary', '');
  for (const m of f.perAlpha) {
    lines.push(`- α = ${m.alpha}: mean tokens saved, cross-fitted: learned ${pct(m.learned, 2)}, baseline ${pct(m.baseline, 2)}, oracle ${pct(m.oracle, 2)}; mean realised false-kill learned ${pct(m.learnedFalseKill, 2)}, baseline ${pct(m.baselineFalseKill, 2)}; ≤ α on ${m.learnedValid}/${evaluatedCount(s)} tables (learned), ${m.baselineValid}/${evaluatedCount(s)} (baseline).`);
  }
  for (const m of f.transferPerAlpha) {
    lines.push(`- transfer, α = ${m.alpha}: mean tokens saved on the held-out table: learned ${pct(m.learned, 2)}, baseline ${pct(m.baseline, 2)}, oracle ${pct(m.oracle, 2)}; mean realised false-kill learned ${pct(m.learnedFalseKill, 2)}, baseline ${pct(m.baselineFalseKill, 2)}; ≤ α on ${m.learnedValid}/${s.transfer.length} tables (learned), ${m.baselineValid}/${s.transfer.length} (baseline).`);
  }
  const m5 = at05 >= 0 ? f.perAlpha[at05]! : null;
  const t5 = at05 >= 0 ? f.transferPerAlpha[at05] : undefined;
  lines.push('');
  if (m5) {
    const ratio = m5.baseline > 0 ? m5.learned / m5.baseline : Infinity;
    const ofOracle = m5.oracle > 0 ? m5.learned / m5.oracle : NaN;
    lines.push(`Mean cross-fitted tokens saved at α = 0.05: learned ${pct(m5.learned, 2)} vs baseline ${pct(m5.baseline, 2)} vs oracle ${pct(m5.oracle, 2)} (learned = ${Number.isFinite(ratio) ? ratio.toFixed(2) : '∞'} × baseline, ${pct(ofOracle)} of the oracle).`);
    if (t5) lines.push(`Transfer (pooled model, leave one table out) at α = 0.05: learned ${pct(t5.learned, 2)} vs baseline ${pct(t5.baseline, 2)} vs oracle ${pct(t5.oracle, 2)}; mean realised false-kill learned ${pct(t5.learnedFalseKill, 2)}, baseline ${pct(t5.baselineFalseKill, 2)}; false-kill ≤ α on ${t5.learnedValid}/${s.transfer.length} held-out tables (learned), ${t5.baselineValid}/${s.transfer.length} (baseline) — across models the guarantee does not carry over, and a saving bought with false kills above α is not comparable.`);
    lines.push(`Validity: the learned rule's realised false-kill rate is ≤ α in ${f.validity.within}/${f.validity.cells} table × α cells (${pct(f.validity.within / f.validity.cells)}; target ≥ ${pct(1 - s.delta, 0)}); baseline ${f.validity.baselineWithin}/${f.validity.cells}.`);
    const goal = ratio >= 1.5 && ofOracle >= 0.3;
    lines.push(goal
      ? 'Goal (learned ≥ 1.5 × baseline and ≥ 30 % of the oracle): reached.'
      : `Goal (learned ≥ 1.5 × baseline and ≥ 30 % of the oracle): NOT reached on these data — learned/baseline = ${Number.isFinite(ratio) ? ratio.toFixed(2) : '∞'}, learned/oracle = ${pct(ofOracle)}.`);
  }
  lines.push('');
  return lines.join('\n');
}

/** The summary chart: mean cross-fitted tokens saved by α — learned, baseline, transfer, and the oracle as a line. */
export function summaryChartSpec(s: EarlyStopSummary): LineChartSpec {
  const f = summaryFigures(s);
  const pts = (xs: SummaryFigures['perAlpha'], key: 'learned' | 'baseline') => xs.map((m) => ({ x: m.alpha, y: m[key] }));
  const oracle = f.perAlpha[0]?.oracle ?? 0;
  const top = Math.max(0.05, ...f.perAlpha.map((m) => m.learned), ...f.perAlpha.map((m) => m.baseline));
  return {
    title: `Early stopping on ${s.tables.length} tables: mean tokens saved (cross-fitted)`,
    x: { label: 'Max false-kill rate α', ticks: s.alphas, format: '.2f' },
    // Room for the highest line (the oracle, usually) and no more: the figure has no large empty band.
    y: { label: 'Tokens saved (mean over tables)', domain: [0, Math.min(1, Math.max(top, oracle) * 1.1)], format: '.0%' },
    series: [
      { label: 'Learned (cross-fitted)', color: '#2166AC', markers: 'filled', strokeWidth: 1.8, points: pts(f.perAlpha, 'learned') },
      { label: 'Baseline (DeepConf-style)', color: '#D6604D', markers: 'hollow', strokeWidth: 1.6, points: pts(f.perAlpha, 'baseline') },
      { label: 'Learned, transfer (leave one table out)', color: '#4D9221', markers: 'hollow', dash: [4, 3], strokeWidth: 1.4, points: pts(f.transferPerAlpha, 'learned') },
    ],
    hlines: [{ at: oracle, label: `oracle ${pct(oracle)}`, color: '#777777' }],
    legend: 'auto',
  };
}

/** One table's JSON (FILE mode). */
export function tableJson(r: TableStopResult, delta: number): unknown {
  const o = oracleSaved(r.oracle);
  return { schema: 'failmode-early-stop-eval', version: 2, delta, table: r.table, file: r.file, mode: modeOf(r), n: r.n, failures: r.failures, windows: r.windows, oracle_saved: round(o), alphas: alphasJson(r.alphas, o), ...(r.insufficient ? { insufficient: r.insufficient } : {}) };
}

export type { TransferTable };
