import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { computeTopKSignals, DEFAULT_SIGNAL_PARAMS, type TopKSignals } from '../../src/features/token-signals.ts';
import { startSimulator, type Simulator } from '../../src/stream/simulator/start-simulator.ts';

/** Mean renormalised top-k entropy over token ranges [0,early) and [late,end) of every choice of one request. */
async function entropies(sim: Simulator, kind: string, profile: string): Promise<{ early: number; late: number }> {
  const res = await fetch(`${sim.url}/chat/completions`, {
    method: 'POST',
    body: JSON.stringify({ messages: [{ role: 'user', content: `kinds test ${profile}` }], n: 12, logprobs: true, top_logprobs: 20, seed: 1, failmode_sim: { kind, profile, length: 1200 } }),
  });
  const body = await res.json() as { choices: { logprobs: { content: { top_logprobs: { logprob: number }[] }[] } }[] };
  const lp = new Float64Array(20);
  const scratch = new Float64Array(20);
  const sig: TopKSignals = { entropy: 0, margin: 0, nucleusSize: 0, nearTie: 0, fork: 0 };
  const sum = { early: 0, late: 0, ne: 0, nl: 0 };
  for (const ch of body.choices) {
    ch.logprobs.content.forEach((e, t) => {
      e.top_logprobs.forEach((a, j) => { lp[j] = a.logprob; });
      computeTopKSignals(lp, e.top_logprobs.length, DEFAULT_SIGNAL_PARAMS, scratch, sig);
      if (t < 400) { sum.early += sig.entropy; sum.ne++; } else if (t >= 800) { sum.late += sig.entropy; sum.nl++; }
    });
  }
  return { early: sum.early / sum.ne, late: sum.late / sum.nl };
}

describe('simulator trace kinds', () => {
  let sim: Simulator;
  before(async () => { sim = await startSimulator({ port: 0, seed: 2 }); });
  after(async () => { await sim.close(); });

  for (const profile of ['final-answer', 'boxed']) {
    it(`${profile}: committed failures are uncertain early then confident; persistent ones grow more uncertain`, async () => {
      const correct = await entropies(sim, 'correct', profile);
      const committed = await entropies(sim, 'committed', profile);
      const persistent = await entropies(sim, 'persistent', profile);
      assert.ok(committed.early > correct.early * 1.15, `committed early ${committed.early} vs correct ${correct.early}`);
      assert.ok(committed.late < committed.early * 0.95, `committed late ${committed.late} vs early ${committed.early}`);
      assert.ok(persistent.late > persistent.early * 1.1, `persistent late ${persistent.late} vs early ${persistent.early}`);
      assert.ok(persistent.late > correct.late * 1.2, `persistent late ${persistent.late} vs correct ${correct.late}`);
    });
  }
});
