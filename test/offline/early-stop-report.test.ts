import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AlphaOutcome, EarlyStopSummary, TableStopResult } from '../../src/offline/early-stop-eval.ts';
import { summaryJson, summaryMarkdown } from '../../src/offline/early-stop-report.ts';
import { stopRates, type StopCounts } from '../../src/offline/stop-outcome.ts';

const counts = (n: number, failures: number, stopped: number, stoppedFailures: number, saved: number, total: number): StopCounts => ({ n, failures, stopped, stoppedFailures, savedTokens: saved, totalTokens: total });
const outcome = (alpha: number, l: StopCounts, b: StopCounts): AlphaOutcome => ({
  alpha, learned: { counts: l, rates: stopRates(l), chosen: ['hazard'] }, baseline: { counts: b, rates: stopRates(b), chosen: ['nll_mean'] },
});
const table = (name: string, oracle: StopCounts, a: AlphaOutcome[]): TableStopResult => ({
  table: name, file: `${name}.csv`, prefinal: { requested: true, active: true, fallback: null }, n: oracle.n, failures: oracle.failures,
  windows: [128, 256], lengthColumn: 'generated_len', stopLengthColumn: 'prefinal_len', oracle, alphas: a,
});

// Table A: 100 samples, 40 failures, 10 000 tokens. At α = 0.05 the learned rule stops 10 (2 correct: 2/60 = 3.3 %),
// saving 1 000 tokens; the baseline stops 5 (0 correct), saving 500. Table B: 50 samples, 10 failures, 5 000 tokens;
// learned stops 4 (3 correct: 3/40 = 7.5 % > α), saving 1 000; baseline nothing.
const A = table('A', counts(100, 40, 40, 40, 4000, 10000), [outcome(0.05, counts(100, 40, 10, 8, 1000, 10000), counts(100, 40, 5, 5, 500, 10000))]);
const B = table('B', counts(50, 10, 10, 10, 2000, 5000), [outcome(0.05, counts(50, 10, 4, 1, 1000, 5000), counts(50, 10, 0, 0, 0, 5000))]);
const summary: EarlyStopSummary = { schema: 'failmode-early-stop-summary', version: 2, delta: 0.1, alphas: [0.05], tables: [A, B], transfer: [{ table: 'A', oracle: A.oracle, alphas: B.alphas }] };

test('summary.json: per table `table`, `oracle_saved`, `alphas` [{alpha, learned, baseline}], `transfer`, means and validity — by hand', () => {
  const j = summaryJson(summary) as any;
  assert.deepEqual(j.tables.map((t: any) => [t.table, t.oracle_saved]), [['A', 0.4], ['B', 0.4]]);
  const a = j.tables[0].alphas[0];
  assert.equal(a.alpha, 0.05);
  assert.equal(a.learned.saved, 0.1);
  assert.equal(a.learned.false_kill, 0.0333);
  assert.equal(a.learned.share_of_oracle, 0.25);
  assert.equal(a.baseline.saved, 0.05);
  assert.equal(a.baseline.false_kill, 0);
  assert.equal(j.tables[1].alphas[0].learned.false_kill, 0.075);
  // Means over the two tables: learned (0.1 + 0.2) / 2, baseline (0.05 + 0) / 2, oracle 0.4; within α: A yes, B no.
  assert.deepEqual(j.means[0], { alpha: 0.05, learned_saved: 0.15, baseline_saved: 0.025, oracle_saved: 0.4, learned_false_kill: 0.0542, baseline_false_kill: 0, learned_within_alpha: 1, baseline_within_alpha: 2, tables: 2 });
  assert.deepEqual(j.validity, { cells: 2, learned_within_alpha: 1, share: 0.5, baseline_within_alpha: 2 });
  assert.equal(j.transfer.tables[0].table, 'A');
  assert.equal(j.transfer.tables[0].alphas[0].learned.saved, 0.2);
});

test('summary.md ends with the means at α = 0.05, the transfer figures, validity and the goal check', () => {
  const md = summaryMarkdown(summary).trimEnd().split('\n');
  const tail = md.slice(-4);
  assert.match(tail[0]!, /^Mean cross-fitted tokens saved at α = 0\.05: learned 15\.00% vs baseline 2\.50% vs oracle 40\.00% \(learned = 6\.00 × baseline, 37\.5% of the oracle\)\.$/);
  assert.match(tail[1]!, /^Transfer \(pooled model, leave one table out\) at α = 0\.05: learned 20\.00% vs baseline 0\.00%/);
  assert.match(tail[2]!, /^Validity: the learned rule's realised false-kill rate is ≤ α in 1\/2 table × α cells \(50\.0%; target ≥ 90%\); baseline 2\/2\.$/);
  assert.equal(tail[3], 'Goal (learned ≥ 1.5 × baseline and ≥ 30 % of the oracle): reached.');
});

test('a table below the support rule has no figures: its row says insufficient data, the means and validity leave it out', () => {
  const thin: TableStopResult = {
    ...table('C', counts(8, 1, 1, 1, 100, 1000), []),
    insufficient: { reason: '8 rows (need ≥ 20); 1 failure (need ≥ 5)', n: 8, failures: 1, correct: 7, usableFeatures: 22, minRows: 20, minClass: 5 },
  };
  const withThin: EarlyStopSummary = { ...summary, tables: [A, B, thin] };
  const j = summaryJson(withThin) as any;
  assert.deepEqual(j.means, (summaryJson(summary) as any).means, 'the same means as over A and B alone');
  assert.deepEqual(j.validity, { cells: 2, learned_within_alpha: 1, share: 0.5, baseline_within_alpha: 2 });
  assert.equal(j.tables[2].insufficient.reason, '8 rows (need ≥ 20); 1 failure (need ≥ 5)');
  assert.deepEqual(j.tables[2].alphas, []);
  const md = summaryMarkdown(withThin);
  assert.match(md, /\n\| C \| prefinal \| 8 \| 12\.5% \| 10\.0% \| insufficient data: 8 rows \(need ≥ 20\); 1 failure \(need ≥ 5\) \|\n/);
  assert.match(md, /≤ α on 1\/2 tables \(learned\), 2\/2 \(baseline\)/);
});
