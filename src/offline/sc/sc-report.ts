import { formatFixed } from '../format/py-format.ts';
import type { ScTriageResult } from './run-sc-triage.ts';
import { SC_SIGNALS, signalLabel } from './sc-signals.ts';
import { PAPER_SKIP_POINTS } from './triage-curve.ts';
import type { PrEstimate } from './pr-estimate.ts';
import { histogramText } from './support.ts';

const f4 = (x: number) => formatFixed(x, 4);
const f3 = (x: number) => formatFixed(x, 3);
const f2 = (x: number) => formatFixed(x, 2);
const s4 = (x: number) => formatFixed(x, 4, { sign: true });
const pct1 = (x: number) => formatFixed(x, 1);

/** The console report of `failmode sc-triage` (also written to report.txt). */
export function renderScReport(r: ScTriageResult): string {
  const o = r.options;
  const w = o.earlyWindow;
  const L: string[] = [];
  const rule = '='.repeat(78);
  L.push(rule, 'failmode sc-triage — self-consistency analyses (SPEC-SC §1–§5)', rule);
  L.push(`File: ${r.file}`);
  L.push(`Rows: ${r.data.rows}   questions: ${r.data.questions}   completions per question (questions×completions): ${histogramText(new Map(Object.entries(r.data.completionHistogram).map(([k, v]) => [Number(k), v])))}`);
  L.push(`SC verdict rule: ${r.data.rule}`);
  const c = r.data.counts;
  L.push(o.clean
    ? `Cleaning (after the SC columns): removed ${c.removedHitMax} hit_max_tokens, ${c.removedDegenerate} degenerate, ${c.removedNoAnswer} without an answer`
    : 'Cleaning: off (--no-clean)');
  L.push(`Question level: one completion per question (${o.representative === 'idx0' ? 'completion_idx 0; questions whose completion 0 was cleaned away are dropped' : 'the first cleaned completion'}); questions need ≥ ${o.minCompletions} completions`);
  L.push(`Analysis set: ${r.data.analysisQuestions} questions — ${r.data.scFailures} SC failures, ${r.data.scCorrect} SC-correct` +
    ` (left out: ${c.belowMinCompletions} with < ${o.minCompletions} completions, ${c.undecided} undecidable, ${c.noRepresentative} without a representative)`);
  L.push(`Completion level: ${r.data.completionRows} cleaned completions, ${r.data.completionFailures} wrong`);
  L.push(`Risk score: ${o.scorer === 'raw' ? 'u = entropy_mean − margin_mean of the span (training-free, SPEC-SC §1.6)' : 'out-of-fold CV-LR P(failure) (SPEC §5.4)'}; headline signal ${r.headlineSignal}; NaN scores: ${o.nanRisk}`);
  L.push(`Statistics: ${o.iid ? 'i.i.d. rows (--iid, the paper)' : 'cluster-robust — bootstrap resamples whole questions, CV folds grouped by question'}; ${o.nBoot} bootstrap resamples`);
  L.push('Signals:');
  for (const s of r.signals) {
    L.push(`  ${s.signal.padEnd(15)} ${signalLabel(s.signal, w).padEnd(32)} ${s.available ? `available (${s.nanQuestions} NaN)` : `UNAVAILABLE: ${s.missing}`}${s.remark ? ` — ${s.remark}` : ''}`);
  }
  L.push('', 'WHAT THIS FILE CAN SUPPORT', `  ${r.supportStatement}`);
  for (const it of r.support) L.push(`  ${it.supported ? '✓ run    ' : '✗ skipped'} ${it.title}${it.reason ? ` — ${it.reason}` : ''}`);
  if (r.data.notes.length) {
    L.push('', 'Notes:');
    for (const n of r.data.notes) L.push(`  - ${n}`);
  }

  const a1 = r.analysis1;
  if (a1) {
    L.push('', rule, `ANALYSIS 1 — direct agreement with the SC verdict (score ≥ percentile threshold, ${r.headlineSignal})`, rule);
    L.push(`Questions: ${a1.n} (SC failures ${a1.failures}${a1.nanCount ? `, ${a1.nanCount} NaN scores flagged at every threshold` : ''})`);
    if (a1.best) {
      const b = a1.best;
      L.push(`Best threshold (max κ): ${f4(b.threshold)} (p${b.percentile})   % flagged ${pct1(b.pctFlagged)}`);
      L.push(`  accuracy vs SC ${f4(b.accuracy)}   κ ${f4(b.kappa)}   false alarm ${f4(b.falseAlarm)}   missed failures ${f4(b.missedFail)}`);
      L.push(`  baseline accuracy (always "SC correct") ${f4(a1.baselineAccuracy)}   lift ${s4(a1.lift)}`);
      L.push(`  confusion (rows SC fail / SC correct; cols flagged / not): [[${b.tp}, ${b.fn}], [${b.fp}, ${b.tn}]]`);
    } else {
      L.push('κ undefined at every threshold');
    }
    L.push('  Top 10 by κ:', `  ${'threshold'.padStart(10)} ${'%flag'.padStart(6)} ${'acc'.padStart(7)} ${'kappa'.padStart(7)} ${'f_alarm'.padStart(8)} ${'missed'.padStart(7)}`);
    for (const t of a1.top10) L.push(`  ${f4(t.threshold).padStart(10)} ${pct1(t.pctFlagged).padStart(6)} ${f4(t.accuracy).padStart(7)} ${f4(t.kappa).padStart(7)} ${f4(t.falseAlarm).padStart(8)} ${f4(t.missedFail).padStart(7)}`);
  }

  const a2 = r.analysis2;
  if (a2) {
    L.push('', rule, `ANALYSIS 2 — predicting the SC verdict vs the true label (${r.headlineSignal})`, rule);
    L.push(`  A  SC verdict:    ${est(a2.scVerdict)}`);
    L.push(`  B  true failure:  ${a2.trueFailure ? est(a2.trueFailure) : 'skipped (see support)'}`);
    if (a2.trueFailure) L.push(`  gap (A − B) ${s4(a2.gap)}: ${a2.interpretation}`);
    L.push(`  oracle (1 − p_correct → SC verdict): PR-AUC ${f4(a2.oracle.prauc)}  AUROC ${f4(a2.oracle.auroc)}`);
    L.push(`  the single-completion score captures ${pct1(a2.oracleSharePct)} % of the oracle's lift`);
    if (a2.droppedNan) L.push(`  (${a2.droppedNan} questions with a NaN score dropped)`);
  }

  const a3 = r.analysis3;
  if (a3) {
    L.push('', rule, 'ANALYSIS 3 — selective SC / triage (skip SC on the lowest-risk questions)', rule);
    for (const s of SC_SIGNALS) {
      const cv = a3[s];
      if (!cv) continue;
      L.push(`${signalLabel(s, w)} (${cv.nanCount} NaN): N = ${cv.n}, SC failures ${cv.failures}`);
      for (const k of PAPER_SKIP_POINTS) {
        const p = cv.points.find((x) => x.skipPct === k)!;
        L.push(`  skip ${String(k).padStart(2)} % (${p.nSkip} questions): recall on SC failures ${f3(p.recall)}  precision ${f3(p.precision)}  missed ${p.nMissed}`);
      }
      L.push(cv.skipFor90
        ? `  to catch ≥ 90 % of SC failures: skip ${cv.skipFor90.skipPct} % → save ${cv.skipFor90.skipPct} % of SC calls, missed=${cv.skipFor90.nMissed}`
        : '  no skip rate keeps recall ≥ 90 %');
    }
    L.push('  Recall at skip rate:', `  ${'signal'.padEnd(16)}${PAPER_SKIP_POINTS.map((k) => `${k}%`.padStart(8)).join('')}`);
    for (const s of SC_SIGNALS) {
      const cv = a3[s];
      if (cv) L.push(`  ${s.padEnd(16)}${PAPER_SKIP_POINTS.map((k) => f3(cv.points.find((p) => p.skipPct === k)!.recall).padStart(8)).join('')}`);
    }
    const head = a3[r.headlineSignal];
    if (head) {
      const at = (k: number) => head.points.find((p) => p.skipPct === k)!;
      L.push(`  Summary (${r.headlineSignal}): skipping 50 % → ${pct1(100 * at(50).precision)} % of skipped questions SC gets right anyway, ${pct1(100 * at(50).recall)} % of SC failures still caught; skipping 30 % → ${pct1(100 * at(30).precision)} % / ${pct1(100 * at(30).recall)} %`);
    }
    const early = a3.prefinal_early;
    if (early) {
      L.push(`  Paper triage-table row (prefinal_early, T*=${w}): ${PAPER_SKIP_POINTS.map((k) => `${k}% ${f2(early.points.find((p) => p.skipPct === k)!.recall)}`).join('  ')}`);
    }
  }

  const a4 = r.analysis4;
  if (a4) {
    L.push('', rule, 'ANALYSIS 4 — accuracy proxy without ground truth (PR-AUC of a ranking score)', rule);
    const rowsOf = (a: string) => a4.rows.filter((x) => x.analysis === a);
    const p4a = rowsOf('4a_problem');
    if (p4a.length) {
      L.push(`4a problem level (label p_correct < 0.5; baseline ${f4(p4a[0]!.estimate.baseline)}; uncertainty = mean over the question's completions, ${a4.fullSignal} / prefinal_early):`);
      for (const x of p4a) L.push(`  ${x.signal.padEnd(18)} ${est(x.estimate)}`);
      L.push(`4c equal compute (k = ${a4.medianK} completions each, median): the same numbers as 4a`);
    }
    const p4b = rowsOf('4b_completion');
    if (p4b.length) {
      L.push(`4b completion level (label 1 − correct; baseline ${f4(p4b[0]!.estimate.baseline)}; CI ${p4b[0]!.estimate.clustered ? 'resamples whole questions' : 'i.i.d. rows'}):`);
      for (const x of p4b) L.push(`  ${x.signal.padEnd(18)} ${est(x.estimate)}`);
      if (!Number.isNaN(a4.completionGap)) L.push(`  gap (uncertainty_full − agreement) ${s4(a4.completionGap)}: ${a4.completionGap > 0 ? "the completion's own uncertainty flags wrong completions better than its question's agreement" : 'agreement flags wrong completions at least as well'}`);
    }
    const p4d = rowsOf('4d_combined');
    if (p4d.length) {
      L.push(`4d combined (${a4.combine === 'cv-lr' ? 'CV-LR on [agreement, mean uncertainty]' : 'z(1 − agreement) + z(mean uncertainty)'}; label as 4a):`);
      for (const x of p4d) L.push(`  ${x.signal.padEnd(18)} ${est(x.estimate)}`);
      L.push(`  lift over agreement ${s4(a4.liftOverAgreement)}, over uncertainty ${s4(a4.liftOverUncertainty)} → ${a4.complementary === null ? 'n/a' : a4.complementary ? 'COMPLEMENTARY' : 'NOT complementary'}`);
      const agr = p4d.find((x) => x.signal === 'agreement_rate');
      const comb = p4d.find((x) => x.signal === 'combined_full');
      if (agr && comb) L.push(`  Paper combination-table row: agreement ${f2(agr.estimate.prauc)}  combined ${f2(comb.estimate.prauc)}  Δ ${formatFixed(comb.estimate.prauc - agr.estimate.prauc, 2, { sign: true })}`);
    }
    const agrB = p4b.find((x) => x.signal === 'agreement_rate');
    const uncB = p4b.find((x) => x.signal === 'uncertainty_full');
    if (agrB && uncB) L.push(`  Paper completion-table row: agreement ${f2(agrB.estimate.prauc)}  uncertainty ${f2(uncB.estimate.prauc)}  Δ ${formatFixed(uncB.estimate.prauc - agrB.estimate.prauc, 2, { sign: true })}`);
  }
  return `${L.join('\n')}\n`;
}

function est(e: PrEstimate): string {
  const ci = Number.isNaN(e.lo) ? '' : ` [${f4(e.lo)}, ${f4(e.hi)}]`;
  return `PR-AUC ${f4(e.prauc)}${ci}  AUROC ${f4(e.auroc)}  base ${f4(e.baseline)}  lift ${s4(e.lift)}  (n ${e.n}, positives ${e.positives})`;
}
