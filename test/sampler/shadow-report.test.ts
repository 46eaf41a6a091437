import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { binomialCdf } from '../../src/models/clopper-pearson.ts';
import { completedRuns } from '../../src/sampler/results-log.ts';
import { shadowReport } from '../../src/sampler/shadow-report.ts';

interface S { answer: string | null; correct: 0 | 1 | null; tokens: number; stop?: { T: number | null; reason: string; at: number } }
/** A shadow log of one run: per question its samples, then its question line. */
function log(questions: Record<string, S[]>, reference: string | null = 'B'): string {
  const lines: string[] = [];
  for (const [qid, samples] of Object.entries(questions)) {
    samples.forEach((s, k) => lines.push(JSON.stringify({
      kind: 'sample', run_id: 'r', question_id: qid, completion_idx: k, sample_id: `r.${k}:0`, answer: s.answer, correct: s.correct,
      stopped: false, stop_reason: null, stop_T: null, stop_risk: null, risk: null, tokens: s.tokens, finish_reason: 'stop', latency_s: 1, error: null,
      record: { profile: 'final-answer' },
      shadow_stop: s.stop ? { T: s.stop.T, risk: s.stop.T === null ? null : 0.9, reason: s.stop.reason, tokens_at_stop: s.stop.at } : null,
    })));
    lines.push(JSON.stringify({ kind: 'question', run_id: 'r', question_id: qid, n: samples.length, vote: 'majority', reference }));
  }
  return lines.join('\n');
}

const ok = (tokens = 100, stop?: S['stop']): S => ({ answer: 'B', correct: 1, tokens, ...(stop ? { stop } : {}) });
const bad = (answer: string, tokens = 300, stop?: S['stop']): S => ({ answer, correct: 0, tokens, ...(stop ? { stop } : {}) });

describe('shadowReport on a hand-made log', () => {
  // q1: 3 correct (one would be stopped at T=128), 2 failures C (both stopped at 256); q2: 2 correct, 3 failures D
  // (two stopped at 128, one by the vote at 0 tokens) — without the stops q2's vote flips from D to B.
  const text = log({
    q1: [ok(100, { T: 128, reason: 'risk', at: 128 }), ok(200), ok(150), bad('C', 400, { T: 256, reason: 'risk', at: 256 }), bad('C', 500, { T: 256, reason: 'committed_failure', at: 256 })],
    q2: [ok(120), bad('D', 300, { T: 128, reason: 'risk', at: 128 }), ok(130), bad('D', 600, { T: 128, reason: 'risk', at: 128 }), bad('D', 350, { T: null, reason: 'vote', at: 0 })],
  });

  it('overall figures equal the hand count', () => {
    const r = shadowReport(completedRuns(text));
    assert.equal(r.questions, 2);
    assert.equal(r.samples, 10);
    assert.equal(r.correct_samples, 5);
    assert.equal(r.would_stop, 6);
    assert.equal(r.false_kills, 1);
    assert.equal(r.false_kill, 1 / 5);
    assert.equal(r.stop_precision, 5 / 6);
    assert.equal(r.failure_recall, 5 / 5);
    const tokens = 100 + 200 + 150 + 400 + 500 + 120 + 300 + 130 + 600 + 350;
    assert.equal(r.tokens, tokens);
    assert.equal(r.tokens_saved, 0 /* ended before its stop T */ + (400 - 256) + (500 - 256) + (300 - 128) + (600 - 128) + 350);
    assert.equal(r.tokens_saved_share, r.tokens_saved / tokens);
    // Full votes: q1 B (3 vs 2) correct, q2 D (3 vs 2) wrong → 1/2; with stops: q1 B, q2 B → 2/2.
    assert.equal(r.accuracy_full, 0.5);
    assert.equal(r.accuracy_with_stops, 1);
    // Clopper–Pearson 95 %: each bound leaves 2.5 % in its tail.
    const [lo, hi] = r.false_kill_ci;
    assert.ok(Math.abs((1 - binomialCdf(0, 5, lo)) - 0.025) < 1e-9);
    assert.ok(Math.abs(binomialCdf(1, 5, hi) - 0.025) < 1e-9);
  });

  it('per window: T of a risk stop, the rule otherwise; each row applies only its own stops', () => {
    const r = shadowReport(completedRuns(text));
    assert.deepEqual(r.windows.map((w) => [w.window, w.would_stop, w.false_kills]), [['128', 3, 1], ['256', 2, 0], ['vote', 1, 0]]);
    const w128 = r.windows[0]!;
    // Only the T=128 stops: q2 keeps one D (350 tokens, vote) → q2: B 2 vs D 1 → correct; q1 B 2 vs C 2, tie → first seen B.
    assert.equal(w128.accuracy_with_stops, 1);
    const vote = r.windows[2]!;
    assert.equal(vote.accuracy_with_stops, 1, 'q2: B 2 vs D 2 → tie to the first seen, B (index 0)');
    assert.equal(r.windows[1]!.accuracy_with_stops, 0.5, 'only the T=256 stops: q1 B, q2 still D');
  });

  it('the guarantee check: holds, inconclusive, violated', () => {
    const runs = completedRuns(text);
    const at = (alpha: number, control: 'false-kill' | 'precision' = 'false-kill') => shadowReport(runs, { guarantee: { control, alpha, delta: 0.1 } }).guarantee!;
    assert.equal(at(0.25).verdict, 'holds'); // 1/5 = 0.2 ≤ 0.25
    const inc = at(0.1); // 0.2 > 0.1, but the 95 % lower bound of 1/5 is ≈ 0.0102
    assert.equal(inc.verdict, 'inconclusive');
    assert.ok(Math.abs((1 - binomialCdf(0, 5, inc.lower95)) - 0.05) < 1e-9);
    assert.equal(at(0.005).verdict, 'violated'); // the lower bound ≈ 0.0102 > 0.005
    const prec = at(0.1, 'precision'); // 1 − precision = 1/6
    assert.equal(prec.realised, 1 / 6);
    assert.equal(prec.trials, 6);
    assert.equal(shadowReport(runs).guarantee, null);
    assert.match(shadowReport(runs).guarantee_note ?? '', /no model file/);
  });

  it('references decide correctness when `correct` is missing; without them: a FailmodeError naming what is missing', () => {
    const noCorrect = text.replace(/"correct":[01]/g, '"correct":null');
    const withRefs = shadowReport(completedRuns(noCorrect));
    assert.equal(withRefs.false_kill, 1 / 5, 'the question lines carry reference B, checked by the record\'s profile');
    const noRefs = noCorrect.replace(/"reference":"B"/g, '"reference":null');
    assert.throws(() => shadowReport(completedRuns(noRefs), { source: 'run.jsonl' }), (e: Error & { exitCode?: number }) => e.exitCode === 2 && /run\.jsonl: 10 sample\(s\) \(first: q1#0\) have no `correct` and their question no reference answer/.test(e.message));
    const given = shadowReport(completedRuns(noRefs), { references: new Map([['q1', 'B'], ['q2', 'B']]) });
    assert.deepEqual({ ...given, guarantee_note: null }, { ...withRefs, guarantee_note: null });
  });
});
