import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeTopKSignals, type TopKSignals } from '../../src/features/token-signals.ts';
import { SignalAccumulator } from '../../src/features/signal-accumulator.ts';
import { STAT_NAMES } from '../../src/features/columns.ts';

/** SPEC §1.2 written the slow, obvious way: renormalise, sort, count. */
function slowSignals(l: number[], nucleusP: number, tieDelta: number) {
  const m = Math.max(...l);
  const lse = m + Math.log(l.reduce((a, x) => a + Math.exp(x - m), 0));
  const p = l.map((x) => Math.exp(x - lse));
  const entropy = -p.filter((x) => x > 0).reduce((a, x) => a + x * Math.log(x), 0);
  const order = l.map((x, i) => [x, i] as const).sort((a, b) => b[0] - a[0]);
  const p1 = p[order[0]![1]]!;
  const p2 = order.length > 1 ? p[order[1]![1]]! : 0;
  const sorted = [...p].sort((a, b) => b - a);
  let cum = 0;
  let nucleus = l.length;
  for (let i = 0; i < sorted.length; i++) { cum += sorted[i]!; if (cum >= nucleusP) { nucleus = i + 1; break; } }
  const nearTie = Math.max(0, l.filter((x) => x >= m - tieDelta).length - 1);
  return { entropy, margin: p1 - p2, nucleusSize: nucleus, nearTie, fork: nearTie > 0 ? 1 : 0 };
}

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

test('computeTopKSignals matches a direct statement of SPEC §1.2 on random lists', () => {
  const r = rng(7);
  const scratch = new Float64Array(256);
  const out: TopKSignals = { entropy: 0, margin: 0, nucleusSize: 0, nearTie: 0, fork: 0 };
  for (let trial = 0; trial < 2000; trial++) {
    const k = 1 + Math.floor(r() * 30);
    const l = Array.from({ length: k }, () => -r() * 8 * (r() < 0.3 ? 0.05 : 1));
    const params = { nucleusP: r() < 0.5 ? 0.7 : 0.9, tieDelta: r() < 0.5 ? 0.5 : 0.1 };
    computeTopKSignals(l, k, params, scratch, out);
    const want = slowSignals(l, params.nucleusP, params.tieDelta);
    assert.ok(Math.abs(out.entropy - want.entropy) < 1e-12, `entropy trial ${trial}`);
    assert.ok(Math.abs(out.margin - want.margin) < 1e-12, `margin trial ${trial}`);
    assert.equal(out.nucleusSize, want.nucleusSize, `nucleus trial ${trial}`);
    assert.equal(out.nearTie, want.nearTie);
    assert.equal(out.fork, want.fork);
  }
});

test('edge cases: one entry gives margin 1; two equal maxima give margin 0 and one near-tie', () => {
  const scratch = new Float64Array(4);
  const out: TopKSignals = { entropy: 0, margin: 0, nucleusSize: 0, nearTie: 0, fork: 0 };
  computeTopKSignals([-0.3], 1, { nucleusP: 0.7, tieDelta: 0.5 }, scratch, out);
  assert.deepEqual(out, { entropy: 0, margin: 1, nucleusSize: 1, nearTie: 0, fork: 0 });
  computeTopKSignals([-0.69, -0.69], 2, { nucleusP: 0.7, tieDelta: 0.5 }, scratch, out);
  assert.equal(out.margin, 0);
  assert.equal(out.nearTie, 1);
  assert.equal(out.fork, 1);
  assert.equal(out.nucleusSize, 2);
  assert.ok(Math.abs(out.entropy - Math.log(2)) < 1e-12);
});

test('SignalAccumulator gives mean/max/population std, NLL over all tokens and top-k stats over tokens with lists', () => {
  const acc = new SignalAccumulator();
  for (const name of STAT_NAMES) assert.ok(Number.isNaN(acc.stat(name)), `${name} of an empty list is NaN`);
  const sig = (entropy: number): TopKSignals => ({ entropy, margin: 1 - entropy, nucleusSize: entropy > 1 ? 3 : 1, nearTie: entropy > 1 ? 2 : 0, fork: entropy > 1 ? 1 : 0 });
  acc.push(0.5, sig(0.2));
  acc.push(1.5, null);
  acc.push(2.5, sig(1.4));
  assert.equal(acc.length, 3);
  assert.equal(acc.topKCount, 2);
  assert.ok(Math.abs(acc.stat('nll_mean') - 1.5) < 1e-15);
  assert.ok(Math.abs(acc.stat('nll_std') - Math.sqrt(2 / 3)) < 1e-15);
  assert.equal(acc.stat('nll_max'), 2.5);
  assert.ok(Math.abs(acc.stat('entropy_mean') - 0.8) < 1e-15);
  assert.ok(Math.abs(acc.stat('entropy_std') - 0.6) < 1e-15);
  assert.equal(acc.stat('fork_rate'), 0.5);
  assert.equal(acc.stat('nucleus_size_mean'), 2);
  assert.equal(acc.stat('near_tie_max'), 2);
  const copy = new SignalAccumulator();
  copy.copyFrom(acc);
  acc.push(9, sig(3));
  assert.equal(copy.stat('nll_max'), 2.5, 'a copy is independent of later pushes');
});
