/**
 * A fixed-size, downsampled history of one sample's per-token entropy and NLL, for sparklines.
 *
 * Tokens are summed into buckets of `stride` tokens. When all `capacity` buckets are full, neighbouring pairs are
 * merged and the stride doubles, so the buffer always covers the whole trace in at most `capacity` buckets and memory
 * stays fixed however long the generation runs. Sums and counts are kept (not means), so merging is exact and
 * tokens without a value (entropy is NaN when a chunk carried no top-k list) do not bias a bucket.
 *
 * Values are immutable: `pushSpark` returns a new buffer and copies the bucket array only when a bucket completes
 * (once every `stride` tokens), so the per-token cost is one small object.
 */

/** Default number of buckets (enough for the widest panel of a 200-column terminal). */
export const SPARK_CAPACITY = 128;

/** Floats per bucket: entropy sum, entropy count, NLL sum, NLL count. */
const FIELDS = 4;

export interface SparkBuffer {
  readonly capacity: number;
  /** Tokens per complete bucket (a power of two). */
  readonly stride: number;
  /** Complete buckets, `FIELDS` floats each; treat as read-only. */
  readonly buckets: Float64Array;
  readonly bucketCount: number;
  /** The bucket being filled. */
  readonly pendingTokens: number;
  readonly pendingEntropySum: number;
  readonly pendingEntropyCount: number;
  readonly pendingNllSum: number;
  readonly pendingNllCount: number;
  /** Tokens pushed in total. */
  readonly tokens: number;
}

export type SparkSignal = 'entropy' | 'nll';

export function emptySpark(capacity = SPARK_CAPACITY): SparkBuffer {
  if (!Number.isInteger(capacity) || capacity < 2 || capacity % 2 !== 0) {
    throw new TypeError(`Expected spark capacity to be an even integer ≥ 2, got ${capacity}`);
  }
  return {
    capacity, stride: 1, buckets: new Float64Array(capacity * FIELDS), bucketCount: 0,
    pendingTokens: 0, pendingEntropySum: 0, pendingEntropyCount: 0, pendingNllSum: 0, pendingNllCount: 0, tokens: 0,
  };
}

/** Adds one token's entropy and NLL (either may be NaN: it then counts as a token but not as a value). */
export function pushSpark(buf: SparkBuffer, entropy: number, nll: number): SparkBuffer {
  const eOk = Number.isFinite(entropy);
  const nOk = Number.isFinite(nll);
  const next = {
    ...buf,
    tokens: buf.tokens + 1,
    pendingTokens: buf.pendingTokens + 1,
    pendingEntropySum: buf.pendingEntropySum + (eOk ? entropy : 0),
    pendingEntropyCount: buf.pendingEntropyCount + (eOk ? 1 : 0),
    pendingNllSum: buf.pendingNllSum + (nOk ? nll : 0),
    pendingNllCount: buf.pendingNllCount + (nOk ? 1 : 0),
  };
  if (next.pendingTokens < buf.stride) return next;

  // The pending bucket is complete: append it, then halve the resolution if the buffer is full.
  let buckets = new Float64Array(buf.buckets);
  let count = buf.bucketCount;
  let stride = buf.stride;
  const o = count * FIELDS;
  buckets[o] = next.pendingEntropySum;
  buckets[o + 1] = next.pendingEntropyCount;
  buckets[o + 2] = next.pendingNllSum;
  buckets[o + 3] = next.pendingNllCount;
  count++;
  if (count === buf.capacity) {
    const merged = new Float64Array(buf.capacity * FIELDS);
    for (let i = 0; i < count / 2; i++) {
      for (let f = 0; f < FIELDS; f++) merged[i * FIELDS + f] = buckets[2 * i * FIELDS + f]! + buckets[(2 * i + 1) * FIELDS + f]!;
    }
    buckets = merged;
    count /= 2;
    stride *= 2;
  }
  return {
    ...next, buckets, bucketCount: count, stride,
    pendingTokens: 0, pendingEntropySum: 0, pendingEntropyCount: 0, pendingNllSum: 0, pendingNllCount: 0,
  };
}

/** One column of a rendered sparkline: the mean over `tokens` tokens starting at token `start` (NaN when no value). */
export interface SparkColumn {
  readonly start: number;
  readonly tokens: number;
  readonly mean: number;
}

/**
 * Resamples the buffer to at most `width` columns that use the whole width: column c covers buckets
 * [⌊c·n/w⌋, ⌊(c+1)·n/w⌋) of the n buckets (the partial bucket last), so columns differ by at most one bucket.
 */
export function sparkColumns(buf: SparkBuffer, signal: SparkSignal, width: number): SparkColumn[] {
  const sumF = signal === 'entropy' ? 0 : 2;
  const n = buf.bucketCount + (buf.pendingTokens > 0 ? 1 : 0);
  if (n === 0 || width <= 0) return [];
  const cols = Math.min(n, width);
  const columns: SparkColumn[] = [];
  let start = 0;
  for (let c = 0; c < cols; c++) {
    let sum = 0;
    let cnt = 0;
    let tokens = 0;
    for (let b = Math.floor((c * n) / cols); b < Math.floor(((c + 1) * n) / cols); b++) {
      if (b < buf.bucketCount) {
        sum += buf.buckets[b * FIELDS + sumF]!;
        cnt += buf.buckets[b * FIELDS + sumF + 1]!;
        tokens += buf.stride;
      } else {
        sum += signal === 'entropy' ? buf.pendingEntropySum : buf.pendingNllSum;
        cnt += signal === 'entropy' ? buf.pendingEntropyCount : buf.pendingNllCount;
        tokens += buf.pendingTokens;
      }
    }
    columns.push({ start, tokens, mean: cnt > 0 ? sum / cnt : Number.NaN });
    start += tokens;
  }
  return columns;
}

/** The column holding token `index` (0-based), or -1 when the columns do not reach it. */
export function columnOfToken(columns: readonly SparkColumn[], index: number): number {
  let lo = 0;
  let hi = columns.length - 1;
  if (hi < 0 || index < 0 || index >= columns[hi]!.start + columns[hi]!.tokens) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (columns[mid]!.start <= index) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
