import assert from 'node:assert/strict';
import { describe, it, before, after } from 'node:test';
import type { Question } from '../../src/sampler/load-questions.ts';
import { ResultsLog, type QuestionLine, type SampleLine } from '../../src/sampler/results-log.ts';
import { runSelfConsistency, type SamplerOptions } from '../../src/sampler/self-consistency.ts';
import { votePosterior } from '../../src/policy/vote-posterior.ts';
import { percentile } from '../../src/policy/deepconf-threshold.ts';
import { startSimulator, type Simulator } from '../../src/stream/simulator/index.ts';
import { constantRiskModel } from '../feed/feed-helpers.ts';

const questions: Question[] = Array.from({ length: 6 }, (_, i) => ({ id: `q${i}`, prompt: `Item ${i}: which option?\n(A) a\n(B) b\n(C) c\n(D) d`, answer: 'B' }));

/** Runs the sampler and returns its lines (sample lines by question, then index) and summary. */
async function run(o: SamplerOptions, qs: Question[] = questions) {
  const samples: SampleLine[] = [];
  const qlines: QuestionLine[] = [];
  const summary = await runSelfConsistency(qs, await ResultsLog.open(null), { ...o, onQuestion: (q, s) => { qlines.push(q); samples.push(...s); } });
  samples.sort((a, b) => a.question_id.localeCompare(b.question_id) || a.completion_idx - b.completion_idx);
  return { samples, qlines, summary };
}

describe('failmode sample --prune / --shadow on the simulator', () => {
  let sim: Simulator;
  before(async () => { sim = await startSimulator({ seed: 21 }); });
  after(async () => sim.close());

  // Concurrency 1: samples run one after another in index order, so every decision is reproducible exactly.
  const base = (over: Partial<SamplerOptions> = {}): SamplerOptions => ({
    baseURL: sim.url, model: 'sim', n: 8, earlyStop: false, monitorModel: null, profile: 'final-answer', vote: 'majority', concurrency: 1,
    seed: 3, extraBody: { failmode_sim: { reference: 'B', length: 300 } }, ...over,
  });

  it('vote: the question is decided at the first sample after which P(leader stays) ≥ 0.95; later samples are never started', async () => {
    const requests0 = sim.stats().requests;
    const { samples, qlines } = await run(base({ votePruning: { confidence: 0.95 } }));
    let started = 0;
    let decidedSomewhere = false;
    for (const q of questions) {
      const mine = samples.filter((s) => s.question_id === q.id);
      assert.equal(mine.length, 8);
      // Recount by hand: after each finished sample, the posterior over what is left.
      const tallies = new Map<string, number>();
      let decidedAt = -1;
      for (let k = 0; k < 8; k++) {
        const s = mine[k]!;
        if (decidedAt >= 0) {
          assert.equal(s.finish_reason, 'not_started', `${q.id}#${k}`);
          assert.equal(s.stopped, true);
          assert.equal(s.stop_reason, 'vote');
          assert.equal(s.correct, null);
          assert.equal(s.tokens, 0);
          continue;
        }
        started++;
        assert.equal(s.stopped, false);
        assert.equal(s.tokens, 300);
        if (s.answer !== null) tallies.set(s.answer, (tallies.get(s.answer) ?? 0) + 1);
        if (k < 7 && votePosterior({ tallies: [...tallies.values()], abstained: 0, remaining: 7 - k }).probability >= 0.95) decidedAt = k;
      }
      const ql = qlines.find((l) => l.question_id === q.id)!;
      assert.equal(ql.vote_decided, decidedAt >= 0);
      assert.equal(ql.vote_pruned, decidedAt >= 0 ? 7 - decidedAt : 0);
      assert.equal(ql.prune, 'vote');
      if (decidedAt >= 0) decidedSomewhere = true;
    }
    assert.ok(decidedSomewhere, 'at least one question was decided early');
    assert.equal(sim.stats().requests - requests0, started, 'pruned samples were never requested');
  });

  it('vote --shadow with the same seed: shadow_stop on exactly the samples the real run pruned, nothing stopped', async () => {
    const real = await run(base({ votePruning: { confidence: 0.95 } }));
    const aborted0 = sim.stats().aborted;
    const shadow = await run(base({ votePruning: { confidence: 0.95 }, shadow: true }));
    assert.equal(sim.stats().aborted, aborted0, 'no request aborted');
    assert.equal(shadow.samples.length, real.samples.length);
    for (let i = 0; i < real.samples.length; i++) {
      const r = real.samples[i]!;
      const s = shadow.samples[i]!;
      assert.equal(s.stopped, false);
      assert.equal(s.tokens, 300, 'the shadow sample ran in full');
      if (r.stopped) assert.deepEqual({ reason: s.shadow_stop?.reason, tokens: s.shadow_stop?.tokens_at_stop }, { reason: 'vote', tokens: 0 }, `${r.question_id}#${r.completion_idx}`);
      else {
        assert.equal(s.shadow_stop, null);
        assert.equal(s.answer, r.answer, 'same seed, same trace');
      }
    }
    assert.equal(shadow.summary.shadowStops, real.samples.filter((s) => s.stopped).length);
  });

  it('risk --shadow: the decisions a real run acts on, recorded with T, risk, reason and tokens_at_stop', async () => {
    const model = constantRiskModel({ T: 128, intercept: 5 });
    const o = base({ earlyStop: true, monitorModel: model, n: 4, extraBody: { failmode_sim: { reference: 'B', length: 600 } } });
    const real = await run(o, questions.slice(0, 3));
    const aborted0 = sim.stats().aborted;
    const shadow = await run({ ...o, shadow: true }, questions.slice(0, 3));
    assert.equal(sim.stats().aborted, aborted0);
    for (let i = 0; i < real.samples.length; i++) {
      const r = real.samples[i]!;
      const s = shadow.samples[i]!;
      assert.equal(s.stopped, false);
      assert.equal(s.tokens, 600);
      if (r.stopped) assert.deepEqual(s.shadow_stop, { T: 128, risk: r.stop_risk, reason: 'committed_failure', tokens_at_stop: 128 });
      else assert.equal(s.shadow_stop, null);
    }
    // min-keep 1: in each question the first three are flagged and (would be) stopped, the last one kept.
    assert.deepEqual(real.samples.map((s) => s.stopped), Array.from({ length: 12 }, (_, i) => i % 4 !== 3));
  });

  it('deepconf: warm-up samples run in full; afterwards a sample is stopped iff a full group fell below the warm-up percentile', async () => {
    const rule = { groupSize: 128, warmup: 6, keepPercent: 60 };
    // Shadow: every sample runs to its end, so its record's conf_lowest_group (same G) covers the whole trace.
    const { samples } = await run(base({ deepConf: rule, shadow: true, minKeep: 0, extraBody: { failmode_sim: { reference: 'B' } } }));
    const byStart = [...samples].sort((a, b) => Number(a.sample_id.split('.')[1]!.split(':')[0]) - Number(b.sample_id.split('.')[1]!.split(':')[0]));
    const warm = byStart.slice(0, 6);
    const threshold = percentile(warm.map((s) => s.record!.conf_lowest_group as number), 40);
    for (const s of warm) assert.equal(s.shadow_stop, null, 'warm-up samples are never stopped');
    let stops = 0;
    for (const s of byStart.slice(6)) {
      const lowest = s.record!.conf_lowest_group as number;
      const full = (s.record!.conf_tokens as number) >= 128;
      assert.equal(s.shadow_stop !== null, full && lowest < threshold, `${s.sample_id}: lowest ${lowest} vs threshold ${threshold}`);
      if (s.shadow_stop) {
        stops++;
        assert.equal(s.shadow_stop.reason, 'deepconf');
        assert.ok(s.shadow_stop.confidence! < threshold);
        assert.ok(s.shadow_stop.tokens_at_stop >= 128);
        assert.equal(s.shadow_stop.T, s.shadow_stop.tokens_at_stop);
      }
    }
    assert.ok(stops > 0, 'some samples fell below the threshold');
  });
});
