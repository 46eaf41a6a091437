import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapPrAuc, deltaCi, resampleCounts } from '../../src/offline/bootstrap.ts';
import { averagePrecision, percentileLinear } from '../../src/offline/metrics.ts';
import { NumpyGenerator } from '../../src/offline/rng/numpy-generator.ts';
import { ref } from '../fixtures/h1-reference.ts';

/** The obvious implementation: explicit index arrays, copied resamples, full AP per resample. */
function naiveResamples(y: number[], clusters: number[] | null, nBoot: number, seed: number, visit: (idx: number[]) => void): void {
  const rng = NumpyGenerator.fromSeed(seed);
  const n = y.length;
  const uniq = clusters ? [...new Set(clusters)].sort((a, b) => a - b) : null;
  for (let r = 0; r < nBoot; r++) {
    let idx: number[];
    if (uniq) {
      const picked = Array.from(rng.integers(0, uniq.length, uniq.length), (k) => uniq[k]!);
      idx = picked.flatMap((c) => clusters!.flatMap((v, i) => (v === c ? [i] : [])));
    } else idx = Array.from(rng.integers(0, n, n));
    visit(idx);
  }
}

function naiveBootstrap(y: number[], s: number[], clusters: number[] | null, nBoot: number, seed: number) {
  const vals: number[] = [];
  naiveResamples(y, clusters, nBoot, seed, (idx) => {
    const yt = idx.map((i) => y[i]!);
    const pos = yt.reduce((a, b) => a + b, 0);
    if (pos === 0 || pos === yt.length) return;
    vals.push(averagePrecision(yt, idx.map((i) => s[i]!)));
  });
  const sorted = [...vals].sort((a, b) => a - b);
  return { mean: vals.reduce((a, b) => a + b, 0) / vals.length, lo: percentileLinear(sorted, 2.5), hi: percentileLinear(sorted, 97.5), valid: vals.length };
}

test('bootstrapPrAuc / deltaCi equal the direct numpy+sklearn computation (fixtures), incl. cluster mode and skipped resamples', () => {
  assert.ok(ref.bootstrap.length >= 4);
  for (const c of ref.bootstrap) {
    const opts = { nBoot: c.nBoot, seed: c.seed, clusters: c.clusters ? Int32Array.from(c.clusters) : null };
    const b = bootstrapPrAuc(c.y, c.full, opts);
    const [mean, lo, hi, valid] = c.prauc;
    assert.equal(b.valid, valid, `valid n=${c.y.length}`);
    assert.equal(b.lo, lo, `lo n=${c.y.length}`);
    assert.equal(b.hi, hi, `hi n=${c.y.length}`);
    assert.equal(b.mean, mean, `mean n=${c.y.length}`);
    const d = deltaCi(c.y, c.early, c.full, opts);
    const [dm, dlo, dhi, pg, dvalid] = c.delta;
    assert.equal(d.valid, dvalid);
    assert.equal(d.lo, dlo);
    assert.equal(d.hi, dhi);
    assert.equal(d.pGreater, pg);
    assert.equal(d.mean, dm, 'delta mean');
    const same = deltaCi(c.y, c.full, c.full, opts);
    assert.deepEqual([same.mean, same.lo, same.hi, same.pGreater, same.valid], c.deltaSame);
  }
  // the small case really skips resamples
  assert.ok(ref.bootstrap.some((c) => c.prauc[3] < c.nBoot));
});

test('bootstrapPrAuc equals a naive per-resample bootstrap on random tied data (i.i.d. and clusters)', () => {
  let x = 12345;
  const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (const [n, nBoot, seed, nClusters] of [[40, 300, 42, 0], [9, 400, 42, 0], [33, 200, 5, 7]] as const) {
    const y = Array.from({ length: n }, () => (rnd() < 0.3 ? 1 : 0));
    y[0] = 1;
    y[1] = 0;
    const s = Array.from({ length: n }, () => Math.round(rnd() * 6) / 6);
    const clusters = nClusters ? Array.from({ length: n }, () => Math.floor(rnd() * nClusters) * 10 - 3) : null;
    const fast = bootstrapPrAuc(y, s, { nBoot, seed, clusters: clusters ? Int32Array.from(clusters) : null });
    const slow = naiveBootstrap(y, s, clusters, nBoot, seed);
    assert.equal(fast.valid, slow.valid);
    assert.equal(fast.lo, slow.lo);
    assert.equal(fast.hi, slow.hi);
    assert.ok(Math.abs(fast.mean - slow.mean) < 1e-12);
  }
});

test('each call re-seeds: repeated calls agree, and the resample counts are those of rng.integers(0, n, n)', () => {
  const y = [1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0];
  const s = [0.9, 0.1, 0.3, 0.7, 0.3, 0.2, 0.8, 0.5, 0.4, 0.6, 0.1, 0.3];
  assert.deepEqual(bootstrapPrAuc(y, s, { nBoot: 500 }), bootstrapPrAuc(y, s, { nBoot: 500, seed: 42 }));
  assert.notDeepEqual(bootstrapPrAuc(y, s, { nBoot: 500 }), bootstrapPrAuc(y, s, { nBoot: 500, seed: 43 }));
  const counts = resampleCounts(12, 3, 42);
  const g = NumpyGenerator.fromSeed(42);
  for (let r = 0; r < 3; r++) {
    const expect = new Array<number>(12).fill(0);
    for (const i of g.integers(0, 12, 12)) expect[i]!++;
    assert.deepEqual(Array.from(counts.subarray(r * 12, r * 12 + 12)), expect);
  }
});

test('streamed resamples (no count cache) give identical results', () => {
  const c = ref.bootstrap[2]!; // cluster case
  const opts = { nBoot: c.nBoot, seed: c.seed, clusters: Int32Array.from(c.clusters!) };
  assert.deepEqual(bootstrapPrAuc(c.y, c.full, { ...opts, cache: false }), bootstrapPrAuc(c.y, c.full, opts));
  assert.deepEqual(deltaCi(c.y, c.early, c.full, { ...opts, cache: false }), deltaCi(c.y, c.early, c.full, opts));
  const d = ref.bootstrap[0]!;
  const b = bootstrapPrAuc(d.y, d.full, { nBoot: d.nBoot, seed: d.seed, cache: false });
  assert.deepEqual([b.mean, b.lo, b.hi, b.valid], d.prauc);
});

test('degenerate inputs: no valid resample → NaN; empty input → NaN; mismatched lengths throw', () => {
  const none = bootstrapPrAuc([0, 0, 0], [0.1, 0.2, 0.3], { nBoot: 50 });
  assert.equal(none.valid, 0);
  assert.ok(Number.isNaN(none.mean) && Number.isNaN(none.lo) && Number.isNaN(none.hi));
  assert.ok(Number.isNaN(deltaCi([], [], [], { nBoot: 10 }).pGreater));
  assert.throws(() => bootstrapPrAuc([0, 1], [0.1], { nBoot: 5 }), RangeError);
  assert.throws(() => deltaCi([0, 1], [0.1, 0.2], [0.3], { nBoot: 5 }), RangeError);
  assert.throws(() => bootstrapPrAuc([0, 1], [0.1, 0.2], { nBoot: 5, clusters: Int32Array.from([1]) }), RangeError);
});
