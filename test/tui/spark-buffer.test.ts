import { test } from 'node:test';
import assert from 'node:assert/strict';
import { columnOfToken, emptySpark, pushSpark, sparkColumns, SPARK_CAPACITY, type SparkBuffer } from '../../src/tui/spark-buffer.ts';
import { renderSparkline } from '../../src/tui/render-sparkline.ts';

// Deterministic per-token values; every 7th token has no entropy (no top-k list).
const entropyAt = (i: number) => (i % 7 === 6 ? Number.NaN : Math.abs(Math.sin(i * 0.37)) * 3);
const nllAt = (i: number) => (i % 11) / 4;

function fill(n: number, capacity = SPARK_CAPACITY): SparkBuffer {
  let b = emptySpark(capacity);
  for (let i = 0; i < n; i++) b = pushSpark(b, entropyAt(i), nllAt(i));
  return b;
}

/** Mean of a signal over tokens [start, start+len), skipping NaN — the slow reference. */
function directMean(at: (i: number) => number, start: number, len: number): number {
  let s = 0, c = 0;
  for (let i = start; i < start + len; i++) if (Number.isFinite(at(i))) { s += at(i); c++; }
  return c ? s / c : Number.NaN;
}

test('memory stays fixed however many tokens arrive', () => {
  const b = fill(100_000);
  assert.ok(b.bucketCount < SPARK_CAPACITY);
  assert.equal(b.buckets.length, SPARK_CAPACITY * 4);
  assert.equal(b.tokens, 100_000);
  assert.equal(b.stride, 1024, 'stride doubles each time the buffer fills: 100000 tokens / 1024 < 128 buckets');
});

for (const n of [1, 5, 127, 128, 129, 1000, 4321]) {
  test(`columns of a ${n}-token trace cover every token once and equal a direct mean over their range`, () => {
    const b = fill(n, 16);
    for (const width of [3, 7, 40]) {
      for (const signal of ['entropy', 'nll'] as const) {
        const cols = sparkColumns(b, signal, width);
        assert.ok(cols.length <= width && cols.length > 0);
        assert.equal(cols.reduce((a, c) => a + c.tokens, 0), n);
        let start = 0;
        for (const c of cols) {
          assert.equal(c.start, start);
          const ref = directMean(signal === 'entropy' ? entropyAt : nllAt, c.start, c.tokens);
          if (Number.isNaN(ref)) assert.ok(Number.isNaN(c.mean));
          else assert.ok(Math.abs(c.mean - ref) < 1e-9, `${signal} col@${c.start}: ${c.mean} vs ${ref}`);
          start += c.tokens;
        }
      }
    }
  });
}

test('pushSpark never mutates the buffer it was given', () => {
  const a = fill(15, 4);
  const copy = Float64Array.from(a.buckets);
  const b = pushSpark(a, 1, 1);
  assert.deepEqual(Array.from(a.buckets), Array.from(copy));
  assert.equal(a.tokens, 15);
  assert.equal(b.tokens, 16);
});

test('columnOfToken finds the column holding a token', () => {
  const cols = sparkColumns(fill(100, 16), 'nll', 10);
  for (const i of [0, 17, 55, 99]) {
    const c = columnOfToken(cols, i);
    assert.ok(cols[c]!.start <= i && i < cols[c]!.start + cols[c]!.tokens);
  }
  assert.equal(columnOfToken(cols, 100), -1);
});

test('the sparkline scales to the largest column and marks windows and T*', () => {
  let b = emptySpark(128);
  for (let i = 0; i < 512; i++) b = pushSpark(b, i < 256 ? 0.5 : 2, 1);
  const r = renderSparkline(b, { signal: 'entropy', width: 64, windows: [128, 256, 512], commitmentPoint: 400 });
  assert.equal(r.columns, 64);
  assert.equal(r.max, 2);
  assert.equal(r.bars, '▂'.repeat(32) + '█'.repeat(32));
  // 8 tokens per column: token 127 is in column 15, 255 in 31, 399 in 49, 511 in 63.
  assert.equal(r.axis[15], '╵');
  assert.equal(r.axis.slice(16, 19), '128');
  assert.equal(r.axis[31], '╵');
  assert.equal(r.axis.slice(32, 35), '256');
  assert.equal(r.axis[49], '▲');
  assert.equal(r.axis.slice(50, 52), 'T*');
  assert.equal(r.axis[63], '╵', 'the last window is ticked even when its label has no room');
  assert.equal(Array.from(r.axis).length, 64);
});

test('a commitment point not reached yet is announced at the right end', () => {
  let b = emptySpark(128);
  for (let i = 0; i < 200; i++) b = pushSpark(b, 1, 1);
  const r = renderSparkline(b, { signal: 'nll', width: 50, windows: [128], commitmentPoint: 400 });
  assert.ok(r.axis.endsWith(' T*=400→'), r.axis);
  assert.ok(r.axis.includes('╵128'));
  assert.ok(!r.axis.includes('▲'));
});

test('an empty buffer draws blanks', () => {
  const r = renderSparkline(emptySpark(), { signal: 'entropy', width: 10 });
  assert.equal(r.bars, ' '.repeat(10));
  assert.ok(Number.isNaN(r.max));
});
