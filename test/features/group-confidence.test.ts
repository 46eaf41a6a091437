import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupConfidence, tokenConfidence, topListConfidence, CONF_COLUMNS } from '../../src/features/group-confidence.ts';
import { SampleFeatures } from '../../src/online/sample-features.ts';

/** Brute force, straight from DeepConf's definitions: every aggregate recomputed from the whole list. */
function batch(confs: number[], G: number): { group: number; lowest: number; tail: number; mean: number } {
  const n = confs.length;
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  if (n === 0) return { group: NaN, lowest: NaN, tail: NaN, mean: NaN };
  const last = confs.slice(Math.max(0, n - G));
  let lowest: number;
  if (n < G) lowest = mean(confs);
  else {
    lowest = Infinity;
    for (let i = 0; i + G <= n; i++) lowest = Math.min(lowest, mean(confs.slice(i, i + G)));
  }
  return { group: mean(last), lowest, tail: mean(last), mean: mean(confs) };
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const close = (a: number, b: number, what: string) => {
  if (Number.isNaN(b)) return assert.ok(Number.isNaN(a), `${what}: expected NaN, got ${a}`);
  assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
};

describe('DeepConf token confidence', () => {
  it('is minus the mean of the top-k logprobs (DeepConf eq. 2)', () => {
    assert.equal(tokenConfidence([-0.1, -2.3, -4.6], 3), (0.1 + 2.3 + 4.6) / 3);
    assert.equal(tokenConfidence([-1, -3, -100], 2), 2, 'only the first k count');
  });
  it('topListConfidence reads a token event\'s list by the same rule', () => {
    const top = [-0.2, -1.5, -Infinity, -7].map((logprob, j) => ({ token: `t${j}`, logprob }));
    assert.equal(topListConfidence(top), (0.2 + 1.5 + 7) / 3);
    assert.ok(Number.isNaN(topListConfidence([])));
  });
  it('leaves non-finite entries out; none finite → NaN', () => {
    assert.equal(tokenConfidence([-1, -Infinity, -3], 3), 2);
    assert.ok(Number.isNaN(tokenConfidence([-Infinity], 1)));
    assert.ok(Number.isNaN(tokenConfidence([], 0)));
  });
});

describe('GroupConfidence: online = batch recomputation', () => {
  it('the worked example of the doc comment', () => {
    const g = new GroupConfidence(2);
    for (const c of [3, 1, 2]) g.push(c);
    assert.equal(g.groupConfidence, 1.5);
    assert.equal(g.lowestGroupConfidence, 1.5);
    assert.equal(g.tailConfidence, 1.5);
    assert.equal(g.meanConfidence, 2);
  });

  for (const G of [1, 2, 5, 16, 128]) {
    it(`G = ${G}: after every token, each aggregate equals the brute-force value`, () => {
      const r = rng(G * 7919);
      const g = new GroupConfidence(G);
      const confs: number[] = [];
      const b0 = batch(confs, G);
      close(g.groupConfidence, b0.group, 'empty');
      for (let i = 0; i < 3 * G + 37; i++) {
        // Heavy-tailed values, with a dip so that the minimum moves.
        const c = i > G && i < G + 5 ? 0.01 * r() : 5 * r() ** 3 + 0.1;
        g.push(c);
        confs.push(c);
        const b = batch(confs, G);
        close(g.groupConfidence, b.group, `group@${i}`);
        close(g.lowestGroupConfidence, b.lowest, `lowest@${i}`);
        close(g.tailConfidence, b.tail, `tail@${i}`);
        close(g.meanConfidence, b.mean, `mean@${i}`);
        assert.equal(g.count, confs.length);
        assert.equal(g.groupFull, confs.length >= G);
      }
    });
  }

  it('NaN confidences are skipped; copyFrom and reset', () => {
    const g = new GroupConfidence(3);
    for (const c of [1, NaN, 2, 4]) g.push(c);
    close(g.groupConfidence, 7 / 3, 'group');
    const h = new GroupConfidence(3);
    h.copyFrom(g);
    h.push(10);
    close(h.groupConfidence, 16 / 3, 'copy continues');
    close(g.groupConfidence, 7 / 3, 'original untouched');
    g.reset();
    assert.ok(Number.isNaN(g.meanConfidence));
    assert.throws(() => new GroupConfidence(0), /integer from 1/);
    assert.throws(() => h.copyFrom(new GroupConfidence(4)), RangeError);
  });

  it('stays exact over a long run (the sliding sum is re-summed at every wrap)', () => {
    const G = 64;
    const g = new GroupConfidence(G);
    const r = rng(3);
    const last: number[] = [];
    for (let i = 0; i < 200_000; i++) {
      const c = i % 2 ? 1e6 * r() : 1e-6 * r();
      g.push(c);
      last.push(c);
      if (last.length > G) last.shift();
    }
    const want = last.reduce((s, x) => s + x, 0) / G;
    assert.ok(Math.abs(g.groupConfidence - want) <= 1e-9 * want);
  });
});

describe('the live sample record carries the DeepConf columns', () => {
  it('conf_* equal a batch computation over the tokens pushed', () => {
    const r = rng(42);
    const G = 8;
    const sf = new SampleFeatures({ confGroupSize: G, keepText: false, windows: [4] });
    const confs: number[] = [];
    for (let i = 0; i < 50; i++) {
      const k = 1 + (i % 5);
      const top = Array.from({ length: k }, (_, j) => ({ token: `t${j}`, logprob: -(j + r() * 3) }));
      // Every 7th token has no top-k list: it has no confidence.
      const ev = { type: 'token' as const, sampleId: 's:0', index: i, token: 'x', logprob: top[0]!.logprob, top: i % 7 === 3 ? null : top, channel: 'content' as const, t: i };
      sf.push(ev);
      if (ev.top) confs.push(-ev.top.reduce((s, e) => s + e.logprob, 0) / k);
    }
    const rec = sf.record();
    const b = batch(confs, G);
    close(rec[CONF_COLUMNS.mean] as number, b.mean, 'conf_mean');
    close(rec[CONF_COLUMNS.lowestGroup] as number, b.lowest, 'conf_lowest_group');
    close(rec[CONF_COLUMNS.tail] as number, b.tail, 'conf_tail');
    assert.equal(rec[CONF_COLUMNS.groupSize], G);
    assert.equal(rec[CONF_COLUMNS.tokens], confs.length);
  });
});
