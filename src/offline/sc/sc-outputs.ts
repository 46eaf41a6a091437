import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatFixed } from '../format/py-format.ts';
import { renderLineChart } from '../../plots/line-chart.ts';
import type { ScTriageResult } from './run-sc-triage.ts';
import { SC_SIGNALS, signalLabel, type ScSignal } from './sc-signals.ts';
import { TARGET_RECALL } from './triage-curve.ts';

/** pandas-style CSV cell: NaN/null empty, numbers rounded to `digits` decimals (Python rounding) when given. */
function num(x: number | null | undefined, digits?: number): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '';
  if (digits === undefined) return String(x);
  return String(Number(formatFixed(x, digits)));
}

function text(s: string | null): string {
  if (s === null) return '';
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csv(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [header.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n';
}

/** sc_agreement_sweep_w{T}.csv — the paper's columns (4 dp, pct 1 dp), then the confusion counts. */
export function agreementSweepCsv(r: ScTriageResult): string | null {
  const a1 = r.analysis1;
  if (!a1) return null;
  return csv(['threshold', 'pct_flagged', 'accuracy', 'kappa', 'false_alarm', 'missed_fail', 'percentile', 'n_flagged', 'tp', 'fp', 'fn', 'tn'],
    a1.rows.map((x) => [num(x.threshold, 4), num(x.pctFlagged, 1), num(x.accuracy, 4), num(x.kappa, 4), num(x.falseAlarm, 4), num(x.missedFail, 4),
      String(x.percentile), String(x.nFlagged), String(x.tp), String(x.fp), String(x.fn), String(x.tn)]));
}

/** sc_selective_curve_all_signals_w{T}.csv — 20 rows per available signal, in the paper's signal order. */
export function selectiveCurveCsv(r: ScTriageResult): string | null {
  const a3 = r.analysis3;
  if (!a3) return null;
  const rows: string[][] = [];
  for (const s of SC_SIGNALS) {
    const c = a3[s];
    if (!c) continue;
    for (const p of c.points) rows.push([String(p.skipPct), num(p.precision, 4), num(p.recall, 4), String(p.nMissed), String(p.nCaught), s, String(p.nSkip)]);
  }
  return csv(['skip_pct', 'skip_precision', 'recall_sc_fail', 'n_missed', 'n_caught', 'signal', 'n_skip'], rows);
}

/** sc_accuracy_proxy_w{T}.csv — the paper's columns at full precision, then AUROC, CI, n and the CI kind. */
export function accuracyProxyCsv(r: ScTriageResult): string | null {
  const a4 = r.analysis4;
  if (!a4) return null;
  return csv(['analysis', 'signal', 'prauc', 'baseline', 'auroc', 'ci_lo', 'ci_hi', 'n', 'positives', 'ci_resamples'],
    a4.rows.map((x) => [x.analysis, x.signal, num(x.estimate.prauc), num(x.estimate.baseline), num(x.estimate.auroc), num(x.estimate.lo), num(x.estimate.hi),
      String(x.estimate.n), String(x.estimate.positives), x.estimate.clustered ? 'questions' : 'rows']));
}

/** sc_questions_w{T}.csv — every question of the file with its SC columns, status and representative scores. */
export function questionsCsv(r: ScTriageResult): string {
  return csv(['question_id', 'n_completions', 'n_scored', 'p_correct', 'majority_answer', 'majority_correct', 'agreement_rate', 'status', 'rep_completion_idx', 'rep_correct', ...SC_SIGNALS.map((s) => `score_${s}`)],
    r.questions.map((q) => [text(q.questionId), String(q.nCompletions), String(q.nScored), num(q.pCorrect), text(q.majorityAnswer), num(q.majorityCorrect), num(q.agreement), q.status,
      num(q.repCompletion), num(q.repCorrect), ...SC_SIGNALS.map((s) => num(q.repScore[s]))]));
}

const SIGNAL_COLORS: Record<ScSignal, string> = { full_trace: '#7f7f7f', prefinal_full: '#d62728', prefinal_early: '#1f77b4' };

/** Writes report.txt, sc_triage.json, the CSVs and the figures (SVG + PNG) that the result supports. Returns the file names. */
export async function writeScOutputs(r: ScTriageResult, report: string, dir: string, opts: { plots?: boolean } = {}): Promise<string[]> {
  const plots = opts.plots ?? true;
  await mkdir(dir, { recursive: true });
  const w = r.options.earlyWindow;
  const written: string[] = [];
  const put = async (name: string, body: string | Buffer | null) => {
    if (body === null) return;
    await writeFile(join(dir, name), body);
    written.push(name);
  };
  await put('report.txt', report);
  await put('sc_triage.json', `${JSON.stringify(r, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
  await put(`sc_questions_w${w}.csv`, questionsCsv(r));
  await put(`sc_agreement_sweep_w${w}.csv`, agreementSweepCsv(r));
  await put(`sc_selective_curve_all_signals_w${w}.csv`, selectiveCurveCsv(r));
  await put(`sc_accuracy_proxy_w${w}.csv`, accuracyProxyCsv(r));

  if (plots && r.analysis3) {
    const a3 = r.analysis3;
    const fig = await renderLineChart({
      title: 'Selective SC: recall on SC failures',
      x: { label: 'Skip rate (% of lowest-risk questions)', domain: [0, 95], ticks: [0, 10, 20, 30, 40, 50, 60, 70, 80, 90] },
      y: { label: 'Recall on SC failures', domain: [0, 1.02] },
      hlines: [{ at: TARGET_RECALL, color: '#999999', dash: [2, 2], label: '90 % recall' }],
      series: SC_SIGNALS.filter((s) => a3[s]).map((s) => ({
        label: signalLabel(s, w),
        color: SIGNAL_COLORS[s],
        markers: 'hollow' as const,
        points: a3[s]!.points.map((p) => ({ x: p.skipPct, y: Number.isNaN(p.recall) ? null : p.recall })),
      })),
      legend: 'lower-left',
    });
    await put(`sc_triage_curve_w${w}.svg`, fig.svg);
    await put(`sc_triage_curve_w${w}.png`, fig.png);
  }
  if (plots && r.analysis1) {
    const a1 = r.analysis1;
    const fig = await renderLineChart({
      title: `Agreement with the SC verdict (${r.headlineSignal})`,
      x: { label: 'Threshold percentile of the score', domain: [0, 100] },
      // headroom above 1 keeps the legend clear of the curves (all values lie in [−1, 1])
      y: { label: 'Value', domain: [Math.min(0, ...a1.rows.map((x) => (Number.isNaN(x.kappa) ? 0 : x.kappa))), 1.45], ticks: [0, 0.2, 0.4, 0.6, 0.8, 1] },
      series: [
        { label: "Cohen's κ", color: '#d62728', markers: 'filled', points: a1.rows.map((x) => ({ x: x.percentile, y: Number.isNaN(x.kappa) ? null : x.kappa })) },
        { label: 'Accuracy vs SC', color: '#1f77b4', points: a1.rows.map((x) => ({ x: x.percentile, y: x.accuracy })) },
        { label: 'Missed SC failures', color: '#2ca02c', dash: [4, 2], points: a1.rows.map((x) => ({ x: x.percentile, y: Number.isNaN(x.missedFail) ? null : x.missedFail })) },
      ],
      hlines: [{ at: a1.baselineAccuracy, color: '#999999', dash: [2, 2], label: 'Baseline accuracy' }],
      legend: 'upper-left',
    });
    await put(`sc_agreement_sweep_w${w}.svg`, fig.svg);
    await put(`sc_agreement_sweep_w${w}.png`, fig.png);
  }
  return written;
}
