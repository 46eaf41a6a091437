import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { betaBinomial, votePosterior } from '../../src/policy/vote-posterior.ts';

/** Γ(a + x) / Γ(a) as a plain product. */
const rising = (a: number, x: number): number => { let p = 1; for (let j = 0; j < x; j++) p *= a + j; return p; };
const factorial = (n: number): number => rising(1, n);

/**
 * Independent brute force: enumerate every split of the R remaining votes over the categories (seen answers, one
 * unseen answer, "no vote" if any abstained), weight it by the Dirichlet-multinomial pmf written out in full,
 * R!/Πx_i! · Γ(A)/Γ(A+R) · Π Γ(a_i+x_i)/Γ(a_i), and add up the splits where the leader ends strictly ahead.
 */
function enumerate(tallies: number[], abstained: number, R: number, prior = 1): number {
  let leader = -1;
  for (let i = 0; i < tallies.length; i++) if (tallies[i]! > 0 && (leader < 0 || tallies[i]! > tallies[leader]!)) leader = i;
  if (leader < 0) return 0;
  const a = [...tallies.map((t) => t + prior), prior, ...(abstained > 0 ? [abstained] : [])];
  const c = [...tallies, 0];
  const A = a.reduce((s, v) => s + v, 0);
  let p = 0;
  const x = new Array<number>(a.length).fill(0);
  const rec = (i: number, left: number): void => {
    if (i === a.length - 1) {
      x[i] = left;
      let pmf = factorial(R) / rising(A, R);
      for (let j = 0; j < a.length; j++) pmf *= rising(a[j]!, x[j]!) / factorial(x[j]!);
      let win = true;
      for (let j = 0; j < c.length; j++) if (j !== leader && !(c[j]! + x[j]! < c[leader]! + x[leader]!)) win = false;
      if (win) p += pmf;
      return;
    }
    for (let v = 0; v <= left; v++) { x[i] = v; rec(i + 1, left - v); }
  };
  rec(0, R);
  return p;
}

describe('vote posterior: P(the leader stays the plurality)', () => {
  it('the doc comment example: 3 votes for A, 5 to come', () => {
    const p = votePosterior({ tallies: [3], abstained: 0, remaining: 5 });
    // By hand: a = (4, 1); A loses iff the unseen answer gets ≥ 4 of 5: BetaBinomial(5; 1, 4) mass at 4 and 5.
    const lose = betaBinomial(4, 5, 1, 4) + betaBinomial(5, 5, 1, 4);
    // BetaBinomial(5, 1, 4): P(x) = C(5,x) B(x+1, 9−x) / B(1, 4); B(1,4) = 1/4.
    // B(a, b) = (a−1)!(b−1)!/(a+b−1)!: x = 4 → 5·B(5,5)·4, x = 5 → 1·B(6,4)·4.
    const byHand = 1 - 4 * (5 * (factorial(4) * factorial(4)) / factorial(9) + (factorial(5) * factorial(3)) / factorial(9));
    assert.ok(Math.abs(byHand - 0.9603174603) < 1e-9);
    assert.ok(Math.abs(lose - (1 - byHand)) < 1e-12);
    assert.ok(Math.abs(p.probability - byHand) < 1e-12, `${p.probability} vs ${byHand}`);
    assert.equal(p.leader, 0);
    assert.equal(p.exact, true);
  });

  const cases: Array<[number[], number, number]> = [
    [[1], 0, 1], [[1], 0, 7], [[2, 1], 0, 5], [[3, 3], 0, 2], [[2, 2, 1], 1, 3], [[4, 1], 2, 1], [[1, 1, 1, 1], 0, 4],
    [[5, 2], 0, 9], [[0, 2], 0, 3], [[3], 2, 3], [[2, 1, 1], 0, 6], [[1.6, 0.7], 0, 4], [[0.9, 0.85, 0.2], 0.0, 5], [[2.5, 2], 1, 6],
  ];
  for (const [tallies, abstained, R] of cases) {
    it(`equals exact enumeration: tallies ${JSON.stringify(tallies)}, ${abstained} without a vote, ${R} to come`, () => {
      for (const prior of [1, 0.5]) {
        const want = enumerate(tallies, abstained, R, prior);
        const got = votePosterior({ tallies, abstained, remaining: R, prior });
        assert.ok(Math.abs(got.probability - want) < 1e-10, `prior ${prior}: ${got.probability} vs ${want}`);
      }
    });
  }

  it('edge cases: no vote yet → 0; nothing left → 1 when strictly ahead, 0 on a tie', () => {
    assert.deepEqual(votePosterior({ tallies: [], abstained: 2, remaining: 3 }), { leader: null, probability: 0, exact: true });
    assert.equal(votePosterior({ tallies: [3, 1], abstained: 0, remaining: 0 }).probability, 1);
    assert.equal(votePosterior({ tallies: [2, 2], abstained: 0, remaining: 0 }).probability, 0);
    assert.equal(votePosterior({ tallies: [1, 3], abstained: 0, remaining: 0 }).leader, 1);
    assert.throws(() => votePosterior({ tallies: [1], abstained: 0, remaining: 1.5 }), RangeError);
    assert.throws(() => votePosterior({ tallies: [-1], abstained: 0, remaining: 1 }), RangeError);
  });

  it('more agreement or fewer samples to come → more certain', () => {
    const p = (t: number[], R: number) => votePosterior({ tallies: t, abstained: 0, remaining: R }).probability;
    assert.ok(p([4], 4) > p([3], 5));
    assert.ok(p([3, 1], 2) > p([3, 1], 4));
  });

  it('above the exact limit a seeded Monte Carlo agrees with the exact value', () => {
    const input = { tallies: [6, 3, 1], abstained: 1, remaining: 12 };
    const exact = votePosterior(input);
    const mc = votePosterior({ ...input, exactLimit: 0, draws: 40_000, seed: 7 });
    assert.equal(mc.exact, false);
    assert.ok(Math.abs(mc.probability - exact.probability) < 0.01, `${mc.probability} vs ${exact.probability}`);
    assert.equal(votePosterior({ ...input, exactLimit: 0, draws: 40_000, seed: 7 }).probability, mc.probability, 'reproducible');
  });

  it('n = 64: exact and fast enough for the sampler', () => {
    const t0 = performance.now();
    const r = votePosterior({ tallies: [10, 4, 2, 1, 1], abstained: 2, remaining: 44 });
    assert.equal(r.exact, true);
    assert.ok(r.probability > 0 && r.probability < 1);
    assert.ok(performance.now() - t0 < 60_000);
  });
});
