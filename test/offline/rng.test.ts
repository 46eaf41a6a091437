import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NumpyGenerator } from '../../src/offline/rng/numpy-generator.ts';
import { MT19937, legacyShuffle } from '../../src/offline/rng/mt19937.ts';
import { seedSequenceState } from '../../src/offline/rng/seed-sequence.ts';
import { listAfter, ref, testVectorLines } from '../fixtures/h1-reference.ts';
import { needsPaper } from '../fixtures/requires.ts';

const lines = testVectorLines();
const hex = (v: bigint): string => `0x${v.toString(16).padStart(16, '0')}`;

test('SeedSequence(42).generate_state(4, uint64) matches test_vectors.txt', needsPaper('reference/test_vectors.txt'), () => {
  const w = seedSequenceState(42, 8);
  const words = [0, 1, 2, 3].map((i) => hex((BigInt(w[2 * i + 1]!) << 32n) | BigInt(w[2 * i]!)));
  assert.deepEqual(words, listAfter(lines, 'generate_state(4,uint64)='));
});

test('PCG64(42) state, increment and first four 64-bit outputs match test_vectors.txt', needsPaper('reference/test_vectors.txt'), () => {
  const line = lines.find((l) => l.startsWith('PCG64(42) state='))!;
  const [, state, inc] = /state= (0x[0-9a-f]+) inc= (0x[0-9a-f]+)/.exec(line)!;
  const g = NumpyGenerator.fromSeed(42);
  const st = g.stateBigInt();
  assert.equal(`0x${st.state.toString(16)}`, state);
  assert.equal(`0x${st.inc.toString(16)}`, inc);
  const outs = [0, 1, 2, 3].map(() => hex(g.nextUint64()));
  assert.deepEqual(outs, listAfter(lines, 'first 4 next_uint64='));
});

test('default_rng(42).integers(0, 197, 12) matches test_vectors.txt', needsPaper('reference/test_vectors.txt'), () => {
  assert.deepEqual(Array.from(NumpyGenerator.fromSeed(42).integers(0, 197, 12)), listAfter(lines, 'integers(0,197,size=12)='));
});

test('the 32-bit half cache carries over between integers() calls', needsPaper('reference/test_vectors.txt'), () => {
  const g = NumpyGenerator.fromSeed(42);
  const first = Array.from(g.integers(0, 10, 10));
  const second = Array.from(g.integers(0, 10, 10));
  assert.deepEqual(first, listAfter(lines, 'two calls integers(0,10,10):', 0));
  assert.deepEqual(second, listAfter(lines, 'two calls integers(0,10,10):', 1));
  // 10 draws consume five 64-bit outputs, so the second call must not restart at a fresh 64-bit boundary by accident
  assert.notDeepEqual(first, second);
});

test('choice(arange(5), 5) ≡ integers(0, 5, 5) from test_vectors.txt', needsPaper('reference/test_vectors.txt'), () => {
  const got = Array.from(NumpyGenerator.fromSeed(42).integers(0, 5, 5));
  assert.deepEqual(got, listAfter(lines, 'choice(arange(5),5)='));
  assert.deepEqual(got, listAfter(lines, 'default_rng(42).integers(0,5,5)='));
});

test('legacy RandomState(42) raw 32-bit outputs match test_vectors.txt', needsPaper('reference/test_vectors.txt'), () => {
  const m = new MT19937(42);
  assert.deepEqual([0, 1, 2, 3].map(() => m.nextUint32()), listAfter(lines, 'MT19937 legacy seed 42 raw32:'));
});

test('integers() matches numpy for several seeds, ranges, rejection-heavy ranges and a no-draw range', () => {
  assert.ok(ref.integers.length >= 4);
  for (const { seed, calls } of ref.integers) {
    const g = NumpyGenerator.fromSeed(seed);
    for (const [lo, hi, n, expected] of calls) {
      assert.deepEqual(Array.from(g.integers(lo, hi, n)), expected, `seed ${seed} integers(${lo}, ${hi}, ${n})`);
    }
  }
});

test('raw 64-bit outputs match numpy for seeds 0, 1, 99', () => {
  for (const [seed, expected] of Object.entries(ref.raw64)) {
    const g = NumpyGenerator.fromSeed(Number(seed));
    assert.deepEqual(expected.map(() => `0x${g.nextUint64().toString(16)}`), expected, `seed ${seed}`);
  }
});

test('integers() writes into a caller buffer and validates its arguments', needsPaper('reference/test_vectors.txt'), () => {
  const buf = new Int32Array(20).fill(-7);
  const res = NumpyGenerator.fromSeed(42).integers(0, 197, 12, buf);
  assert.equal(res, buf);
  assert.deepEqual(Array.from(buf.subarray(0, 12)), listAfter(lines, 'integers(0,197,size=12)='));
  assert.equal(buf[12], -7);
  const g = NumpyGenerator.fromSeed(1);
  assert.throws(() => g.integers(5, 5, 1), RangeError);
  assert.throws(() => g.integers(0, 2 ** 33, 1), RangeError);
  assert.throws(() => g.integers(0, 10, 5, new Int32Array(4)), RangeError);
  assert.throws(() => NumpyGenerator.fromSeed(-1), RangeError);
});

test('MT19937 matches numpy across the twist boundary for several seeds', () => {
  for (const [seed, { first, around_twist, second_twist }] of Object.entries(ref.mt19937)) {
    const m = new MT19937(Number(seed));
    const out = Array.from({ length: 1300 }, () => m.nextUint32());
    assert.deepEqual(out.slice(0, 5), first, `seed ${seed}`);
    assert.deepEqual(out.slice(620, 630), around_twist, `seed ${seed}`);
    assert.deepEqual(out.slice(1245, 1250), second_twist, `seed ${seed}`);
  }
});

test('legacyShuffle matches RandomState.shuffle, including consecutive shuffles from one generator', () => {
  for (const { seed, n, first, second } of ref.shuffle) {
    const m = new MT19937(seed);
    const a = Int32Array.from({ length: n }, (_, i) => i);
    legacyShuffle(m, a);
    const b = Array.from({ length: Math.floor(n / 2) }, (_, i) => i);
    legacyShuffle(m, b);
    assert.deepEqual(Array.from(a), first, `seed ${seed}`);
    assert.deepEqual(b, second, `seed ${seed}`);
  }
});
