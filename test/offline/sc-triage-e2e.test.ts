import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runScTriage } from '../../src/offline/sc/run-sc-triage.ts';
import { synthFrame, type SynthQuestion, type SynthCompletion } from '../fixtures/sc-synthetic.ts';

const close = (a: number, b: number, eps = 1e-9, what = '') => assert.ok(Math.abs(a - b) <= eps, `${what} ${a} vs ${b}`);

/**
 * 20 questions × 3 completions, question j has u = entropy − margin = j on every completion (risk rises with j).
 * Patterns (answers in completion order, ✓ = correct):
 *   S1 A✓ A✓ B✗  SC correct, completion 0 correct      (q0–q2, q4, q6–q8, q10–q13)
 *   S2 B✗ A✓ A✓  SC correct, completion 0 wrong        (q5, q9)
 *   F1 B✗ B✗ A✓  SC failure, completion 0 wrong        (q15–q19)
 *   F2 B✗ A✓ C✗  three-way tie → first seen (B) wins: SC failure, agreement 1/3   (q3)
 *   F3 A✓ B✗ B✗  SC failure, completion 0 correct      (q14)
 */
function pattern(j: number): Array<[string, number]> {
  if (j === 3) return [['B', 0], ['A', 1], ['C', 0]];
  if (j === 14) return [['A', 1], ['B', 0], ['B', 0]];
  if (j >= 15) return [['B', 0], ['B', 0], ['A', 1]];
  if (j === 5 || j === 9) return [['B', 0], ['A', 1], ['A', 1]];
  return [['A', 1], ['A', 1], ['B', 0]];
}
const questions: SynthQuestion[] = Array.from({ length: 20 }, (_, j) => ({
  id: `q${j}`,
  completions: pattern(j).map(([answer, correct]): SynthCompletion => ({ answer, correct, e: j, m: 0, eEarly: j, mEarly: 0, eRaw: 20 - j, mRaw: 0 })),
}));
const frame = synthFrame(questions);
const FAIL = new Set([3, 14, 15, 16, 17, 18, 19]);

test('e2e: SC columns, majority with the first-seen tie rule, agreement', () => {
  const r = runScTriage(frame, { nBoot: 0, combine: 'zsum' });
  assert.equal(r.data.rule, 'vote');
  assert.equal(r.data.analysisQuestions, 20);
  assert.equal(r.data.scFailures, 7);
  const q3 = r.questions[3]!;
  assert.equal(q3.majorityAnswer, 'B');
  assert.equal(q3.majorityCorrect, 0);
  close(q3.agreement, 1 / 3);
  for (const q of r.questions) {
    const j = Number(q.questionId.slice(1));
    assert.equal(q.majorityCorrect, FAIL.has(j) ? 0 : 1, q.questionId);
    close(q.pCorrect, FAIL.has(j) ? 1 / 3 : 2 / 3);
    if (j !== 3) close(q.agreement, 2 / 3);
    assert.equal(q.repCompletion, 0);
  }
  assert.ok(r.support.every((s) => s.supported), JSON.stringify(r.support));
});

test('e2e Analysis 1: thresholds, κ optimum and confusion by hand', () => {
  const a1 = runScTriage(frame, { nBoot: 0, combine: 'zsum' }).analysis1!;
  const at = (p: number) => a1.rows.find((x) => x.percentile === p)!;
  // p50: threshold 9.5 → q10–q19 flagged: TP 6, FP 4, FN 1 (q3), TN 9; p_o .75, p_e .5 → κ .5
  close(at(50).threshold, 9.5);
  assert.deepEqual([at(50).tp, at(50).fp, at(50).fn, at(50).tn], [6, 4, 1, 9]);
  close(at(50).kappa, 0.5);
  // p65: 12.35 → 7 flagged; κ = (0.9 − 0.545)/0.455
  close(at(65).kappa, 0.355 / 0.455);
  // p70: 13.3 → q14–q19: TP 6 FP 0 FN 1 TN 13; κ = (0.95 − 0.56)/0.44 — the optimum
  close(at(70).threshold, 13.3);
  close(at(70).kappa, 0.39 / 0.44);
  assert.equal(a1.best!.percentile, 70);
  close(a1.best!.falseAlarm, 0);
  close(a1.best!.missedFail, 1 / 7);
  close(a1.baselineAccuracy, 13 / 20);
  close(a1.lift, 0.95 - 0.65);
});

test('e2e Analysis 2: PR-AUC / AUROC of the SC verdict, the true failure and the oracle', () => {
  const a2 = runScTriage(frame, { nBoot: 0, combine: 'zsum' }).analysis2!;
  // SC failures ranked 19…14 first, q3 at rank 17: AP = (6 + 7/17)/7; AUROC = (6·13 + 3)/(7·13)
  close(a2.scVerdict.prauc, (6 + 7 / 17) / 7);
  close(a2.scVerdict.auroc, 81 / 91);
  close(a2.scVerdict.baseline, 0.35);
  // completion 0 wrong: q3, q5, q9, q15–q19 → AP = (5 + 6/11 + 7/15 + 8/17)/8
  close(a2.trueFailure!.prauc, (5 + 6 / 11 + 7 / 15 + 8 / 17) / 8);
  close(a2.trueFailure!.baseline, 8 / 20);
  close(a2.gap, (6 + 7 / 17) / 7 - (5 + 6 / 11 + 7 / 15 + 8 / 17) / 8);
  // p_correct separates perfectly
  close(a2.oracle.prauc, 1);
  close(a2.oracle.auroc, 1);
  close(a2.oracleSharePct, (((6 + 7 / 17) / 7 - 0.35) / 0.65) * 100);
});

test('e2e Analysis 3: skip counts, recall, precision, skip-to-catch-90 % for every signal', () => {
  const a3 = runScTriage(frame, { nBoot: 0, combine: 'zsum' }).analysis3!;
  const pf = a3.prefinal_full!;
  const at = (k: number) => pf.points.find((p) => p.skipPct === k)!;
  // skip 20 % = q0–q3: misses q3
  assert.deepEqual(at(20), { skipPct: 20, nSkip: 4, nMissed: 1, nCaught: 6, recall: 6 / 7, precision: 3 / 4 });
  assert.deepEqual(at(30), { skipPct: 30, nSkip: 6, nMissed: 1, nCaught: 6, recall: 6 / 7, precision: 5 / 6 });
  assert.deepEqual(at(45), { skipPct: 45, nSkip: 9, nMissed: 1, nCaught: 6, recall: 6 / 7, precision: 8 / 9 });
  assert.deepEqual(at(50), { skipPct: 50, nSkip: 10, nMissed: 1, nCaught: 6, recall: 6 / 7, precision: 9 / 10 });
  assert.deepEqual(at(75), { skipPct: 75, nSkip: 15, nMissed: 2, nCaught: 5, recall: 5 / 7, precision: 13 / 15 });
  assert.deepEqual(pf.skipFor90, { skipPct: 15, nMissed: 0 });
  // early window = same values here; the raw trace is reversed (20 − j): the failures are skipped first
  assert.deepEqual(a3.prefinal_early!.points, pf.points);
  const raw = a3.full_trace!.points.find((p) => p.skipPct === 30)!;
  assert.deepEqual(raw, { skipPct: 30, nSkip: 6, nMissed: 6, nCaught: 1, recall: 1 / 7, precision: 0 });
});

test('e2e Analysis 4: problem level, completion level and the z-sum combination by hand', () => {
  const a4 = runScTriage(frame, { nBoot: 0, combine: 'zsum' }).analysis4!;
  const row = (a: string, s: string) => a4.rows.find((x) => x.analysis === a && x.signal === s)!.estimate;
  // 4a: label p_correct < 0.5 = the SC failures; 1 − agreement is 2/3 for q3 only, 1/3 for everyone else
  close(row('4a_problem', 'agreement_rate').prauc, 1 / 7 + (6 / 7) * 0.35);
  close(row('4a_problem', 'uncertainty_full').prauc, (6 + 7 / 17) / 7);
  close(row('4a_problem', 'uncertainty_early').prauc, (6 + 7 / 17) / 7);
  // 4b: 60 completions, 27 wrong; u is constant within a question (groups of 3 tied rows, j descending).
  const wrong = (j: number) => (FAIL.has(j) ? 2 : 1);
  let tp = 0, n = 0, ap = 0;
  for (let j = 19; j >= 0; j--) {
    tp += wrong(j);
    n += 3;
    ap += (wrong(j) / 27) * (tp / n);
  }
  const b = row('4b_completion', 'uncertainty_full');
  assert.equal(b.n, 60);
  assert.equal(b.positives, 27);
  close(b.prauc, ap);
  // agreement at completion level: q3's three completions (2 wrong) first, then 57 tied rows with 25 wrong
  close(row('4b_completion', 'agreement_rate').prauc, (2 / 27) * (2 / 3) + (25 / 27) * (27 / 60));
  close(a4.completionGap, ap - ((2 / 27) * (2 / 3) + (25 / 27) * (27 / 60)));
  // 4d z-sum: q3 (z-agreement 4.36) tops the list, then q19…q14 → all 7 failures first → AP 1
  close(row('4d_combined', 'combined_full').prauc, 1);
  close(a4.liftOverAgreement, 1 - (1 / 7 + (6 / 7) * 0.35));
  close(a4.liftOverUncertainty, 1 - (6 + 7 / 17) / 7);
  assert.equal(a4.complementary, true);
  assert.equal(a4.medianK, 3);
});

test('e2e: 4d by CV-LR runs on the question table; cluster CIs resample questions, --iid rows', () => {
  const clustered = runScTriage(frame, { nBoot: 300 });
  const iid = runScTriage(frame, { nBoot: 300, iid: true });
  const comb = clustered.analysis4!.rows.find((x) => x.signal === 'combined_full');
  assert.ok(comb && comb.estimate.prauc > 0 && comb.estimate.prauc <= 1);
  const cb = clustered.analysis4!.rows.find((x) => x.analysis === '4b_completion' && x.signal === 'uncertainty_full')!.estimate;
  const ib = iid.analysis4!.rows.find((x) => x.analysis === '4b_completion' && x.signal === 'uncertainty_full')!.estimate;
  assert.equal(cb.clustered, true);
  assert.equal(ib.clustered, false);
  close(cb.prauc, ib.prauc);
  assert.ok(cb.lo <= cb.prauc && cb.prauc <= cb.hi && ib.lo <= ib.prauc && ib.prauc <= ib.hi);
  assert.ok(cb.lo !== ib.lo || cb.hi !== ib.hi);
  // When a question's completions share their label, they carry one question's worth of evidence, not three:
  // resampling whole questions must give a wider interval than resampling rows.
  const same = synthFrame(Array.from({ length: 24 }, (_, j) => ({
    id: `c${j}`,
    completions: [0, 1, 2].map((k): SynthCompletion => ({ answer: j % 3 === 0 || j % 5 === 0 ? 'B' : 'A', correct: j % 3 === 0 || j % 5 === 0 ? 0 : 1, e: ((j * 7) % 24) + k / 10, m: 0, eEarly: j, mEarly: 0 })),
  })));
  const wc = runScTriage(same, { nBoot: 400, minClass: 1 }).analysis4!.rows.find((x) => x.analysis === '4b_completion' && x.signal === 'uncertainty_full')!.estimate;
  const wi = runScTriage(same, { nBoot: 400, minClass: 1, iid: true }).analysis4!.rows.find((x) => x.analysis === '4b_completion' && x.signal === 'uncertainty_full')!.estimate;
  close(wc.prauc, wi.prauc);
  assert.ok(wc.hi - wc.lo > wi.hi - wi.lo, `cluster CI ${wc.hi - wc.lo} vs iid ${wi.hi - wi.lo}`);
});

test('e2e: too few multi-completion questions → analyses skipped with reasons, not computed', () => {
  const small = synthFrame([...questions.slice(0, 4), ...Array.from({ length: 30 }, (_, j) => ({ id: `s${j}`, completions: [{ answer: 'A', correct: j % 2, e: j, m: 0 }] }))]);
  const r = runScTriage(small, { nBoot: 0 });
  assert.equal(r.data.multiCompletionQuestions, 4);
  assert.equal(r.analysis1, null);
  assert.equal(r.analysis3, null);
  assert.equal(r.analysis4, null);
  assert.ok(r.support.every((s) => !s.supported && s.reason));
  assert.match(r.supportStatement, /CANNOT SUPPORT/);
  // the shared "insufficient data" shape (as analyze / early-stop-eval / trajectory JSON carry it)
  assert.equal(r.insufficient!.n, r.data.analysisQuestions);
  assert.equal(r.insufficient!.failures, r.data.scFailures);
  assert.equal(r.insufficient!.minRows, 20);
  assert.match(r.insufficient!.reason, /^only \d+ question\(s\) have ≥ 2 completions.*\(need ≥ 20 for the 5 % grids\)/);
  assert.match(r.supportStatement, /30 single-completion question/);
  // --min-completions 1 lets single-completion questions in (their SC verdict is their own correctness)
  const withSingles = runScTriage(small, { nBoot: 0, minCompletions: 1 });
  assert.equal(withSingles.data.analysisQuestions, 34);
  assert.equal(withSingles.insufficient, undefined);
  assert.ok(withSingles.analysis3);
  assert.match(withSingles.supportStatement, /WARNING: 30 of the 34 analysed questions have a single completion .* NOT self-consistency/);
});
