import { NumpyGenerator } from './rng/numpy-generator.ts';
import { apFromCurve, descendingOrder, pairwiseSumF64, percentileLinear } from './metrics.ts';

/**
 * The paper's `bootstrap_prauc` and `delta_ci` (SPEC §3.5), bit-exact and fast.
 *
 * Every call re-seeds `default_rng(seed)`, so the resamples depend only on (number of units, nBoot, seed): they are
 * drawn once and kept as per-resample COUNT vectors (how often each row — or cluster — was drawn). A resample's AP is
 * then one O(n) walk over the rows sorted by score with the counts as weights: duplicated rows tie with themselves,
 * so the weighted TP/FP at each distinct threshold are exactly sklearn's curve on the resampled arrays, and the AP
 * terms are summed in sklearn's order. No allocation per resample.
 */

export interface BootstrapOptions {
  nBoot: number;
  /** default 42 (the paper's SEED) */
  seed?: number;
  /** Cluster id per row: resample clusters (sorted unique ids) instead of rows. Must have one id per row. */
  clusters?: Int32Array | null;
  /** false: redraw the resamples instead of using (and filling) the count-table cache. Same results. */
  cache?: boolean;
}

/** Per-resample draw counts, resample-major. A unit is drawn at most `units` times, so 16 bits suffice up to 65 535 units. */
type CountTable = Uint16Array;
const MAX_UNITS = 0xffff;

// Count tables are cached (LRU) up to this many bytes in total; a table larger than a quarter of it is not cached
// but streamed, one resample at a time.
const CACHE_LIMIT_BYTES = 256 * 1024 * 1024;
const countCache = new Map<string, CountTable>();
let cacheBytes = 0;

/** counts[r·units + u] = how many times unit u is drawn in resample r (`rng.integers(0, units, units)` per resample). */
export function resampleCounts(units: number, nBoot: number, seed: number): CountTable {
  const key = `${units}|${nBoot}|${seed}`;
  const hit = countCache.get(key);
  if (hit) {
    countCache.delete(key); // refresh LRU position
    countCache.set(key, hit);
    return hit;
  }
  checkUnits(units);
  const table = new Uint16Array(units * nBoot);
  const rng = NumpyGenerator.fromSeed(seed);
  const idx = new Int32Array(units);
  for (let r = 0; r < nBoot; r++) {
    rng.integers(0, units, units, idx);
    const base = r * units;
    for (let j = 0; j < units; j++) table[base + idx[j]!]!++;
  }
  if (table.byteLength <= CACHE_LIMIT_BYTES / 4) {
    countCache.set(key, table);
    cacheBytes += table.byteLength;
    for (const [k, t] of countCache) {
      if (cacheBytes <= CACHE_LIMIT_BYTES || k === key) break;
      countCache.delete(k);
      cacheBytes -= t.byteLength;
    }
  }
  return table;
}

function checkUnits(units: number): void {
  if (units > MAX_UNITS) throw new RangeError(`bootstrap: at most ${MAX_UNITS} rows or clusters are supported, got ${units}`);
}

/**
 * The resamples of one call in order: `next()` returns the offset of resample r's counts in `counts` — the cached
 * table when it fits the cache, else one reused row redrawn per resample (same draws, bounded memory).
 */
class Resamples {
  counts: Uint16Array;
  private readonly units: number;
  private readonly streamed: { rng: NumpyGenerator; idx: Int32Array } | null;
  private r = 0;

  constructor(units: number, nBoot: number, seed: number, cache: boolean) {
    checkUnits(units);
    this.units = units;
    if (cache && units * nBoot * 2 <= CACHE_LIMIT_BYTES / 4) {
      this.counts = resampleCounts(units, nBoot, seed);
      this.streamed = null;
    } else {
      this.counts = new Uint16Array(units);
      this.streamed = { rng: NumpyGenerator.fromSeed(seed), idx: new Int32Array(units) };
    }
  }

  next(): number {
    const s = this.streamed;
    if (!s) return this.r++ * this.units;
    const { idx } = s;
    const counts = this.counts;
    if (this.r++ > 0) for (let j = 0; j < idx.length; j++) counts[idx[j]!] = 0;
    s.rng.integers(0, this.units, this.units, idx);
    for (let j = 0; j < idx.length; j++) counts[idx[j]!]!++;
    return 0;
  }
}

/**
 * A score vector prepared for weighted AP walks: per row in score-descending order one packed int —
 * bits 0–15 its unit (row or cluster index), bit 16 its label, bit 17 set where a distinct-score threshold ends.
 */
type SortedCurve = Int32Array;
const LABEL_BIT = 16;
const GROUP_END_BIT = 17;

function prepareCurve(y: ArrayLike<number>, s: ArrayLike<number>, unitOfRow: Int32Array | null): SortedCurve {
  const n = y.length;
  const order = descendingOrder(s);
  const packed = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const i = order[j]!;
    const end = j === n - 1 || s[order[j + 1]!] !== s[i];
    packed[j] = (unitOfRow ? unitOfRow[i]! : i) | ((y[i] === 1 ? 1 : 0) << LABEL_BIT) | ((end ? 1 : 0) << GROUP_END_BIT);
  }
  return packed;
}

let tpsBuf = new Int32Array(0), totBuf = new Int32Array(0), termBuf = new Float64Array(0);
function ensureCurveBuffers(n: number): void {
  if (tpsBuf.length < n) {
    tpsBuf = new Int32Array(n);
    totBuf = new Int32Array(n);
    termBuf = new Float64Array(n);
  }
}

/**
 * AP of resample r, or NaN when the resample has a single class (the paper skips it). Branch-free walk (whether a
 * row was drawn is unpredictable): cumulative TP/total are written at every row, and the threshold index K only
 * advances at the end of a score group that received a draw — a group with no drawn row does not exist in the resample.
 */
function resampleAp(counts: Uint16Array, base: number, c: SortedCurve): number {
  const n = c.length;
  const tps = tpsBuf, tot = totBuf;
  let tp = 0, total = 0, lastTotal = 0, K = 0;
  for (let j = 0; j < n; j++) {
    const packed = c[j]!;
    const cnt = counts[base + (packed & 0xffff)]!;
    tp += -((packed >>> LABEL_BIT) & 1) & cnt; // cnt for a positive row, 0 otherwise
    total += cnt;
    tps[K] = tp;
    tot[K] = total;
    const advance = (packed >>> GROUP_END_BIT) & ((lastTotal - total) >>> 31); // group ends and total grew
    K += advance;
    lastTotal += advance * (total - lastTotal);
  }
  if (tp === 0 || tp === total) return NaN;
  return apFromCurve(tps, tot, K, termBuf);
}

/** Unit of each row: the row itself, or the rank of its cluster id among the sorted unique ids. */
function units(n: number, clusters: Int32Array | null | undefined): { count: number; unitOfRow: Int32Array | null } {
  if (!clusters) return { count: n, unitOfRow: null };
  if (clusters.length !== n) throw new RangeError(`bootstrap: ${clusters.length} cluster ids for ${n} rows`);
  const unique = Array.from(new Set(clusters)).sort((a, b) => a - b);
  const rank = new Map(unique.map((id, k) => [id, k]));
  const unitOfRow = new Int32Array(n);
  for (let i = 0; i < n; i++) unitOfRow[i] = rank.get(clusters[i]!)!;
  return { count: unique.length, unitOfRow };
}

let valBuf = new Float64Array(0), sortBuf = new Float64Array(0);
function ensureValueBuffers(m: number): void {
  if (valBuf.length < m) {
    valBuf = new Float64Array(m);
    sortBuf = new Float64Array(m);
  }
}

/** mean, 2.5th and 97.5th numpy-linear percentiles of vals[0 … m−1]. */
function summarize(m: number): { mean: number; lo: number; hi: number } {
  if (m === 0) return { mean: NaN, lo: NaN, hi: NaN };
  const sorted = sortBuf.subarray(0, m);
  sorted.set(valBuf.subarray(0, m));
  sorted.sort();
  return { mean: pairwiseSumF64(valBuf, 0, m) / m, lo: percentileLinear(sorted, 2.5), hi: percentileLinear(sorted, 97.5) };
}

function checkInputs(y: ArrayLike<number>, scores: ArrayLike<number>[], nBoot: number): void {
  for (const s of scores) {
    if (s.length !== y.length) throw new RangeError(`bootstrap: ${y.length} labels but ${s.length} scores`);
  }
  if (!Number.isInteger(nBoot) || nBoot < 0) throw new RangeError(`bootstrap: nBoot must be a non-negative integer, got ${nBoot}`);
}

/** `bootstrap_prauc`: mean and 95% percentile CI of AP over the valid resamples; NaN×3 if none is valid. */
export function bootstrapPrAuc(
  y: ArrayLike<number>, s: ArrayLike<number>, opts: BootstrapOptions,
): { mean: number; lo: number; hi: number; valid: number } {
  checkInputs(y, [s], opts.nBoot);
  const n = y.length;
  if (n === 0) return { mean: NaN, lo: NaN, hi: NaN, valid: 0 };
  const u = units(n, opts.clusters);
  const resamples = new Resamples(u.count, opts.nBoot, opts.seed ?? 42, opts.cache !== false);
  const curve = prepareCurve(y, s, u.unitOfRow);
  ensureCurveBuffers(n);
  ensureValueBuffers(opts.nBoot);
  let m = 0;
  for (let r = 0; r < opts.nBoot; r++) {
    const base = resamples.next();
    const ap = resampleAp(resamples.counts, base, curve);
    if (ap === ap) valBuf[m++] = ap;
  }
  return { ...summarize(m), valid: m };
}

/**
 * `delta_ci`: Δ = AP(early) − AP(full) on the same resamples; mean Δ, 95% percentile CI, and the share of valid
 * resamples with Δ > 0 (strict).
 */
export function deltaCi(
  y: ArrayLike<number>, sEarly: ArrayLike<number>, sFull: ArrayLike<number>, opts: BootstrapOptions,
): { mean: number; lo: number; hi: number; pGreater: number; valid: number } {
  checkInputs(y, [sEarly, sFull], opts.nBoot);
  const n = y.length;
  if (n === 0) return { mean: NaN, lo: NaN, hi: NaN, pGreater: NaN, valid: 0 };
  const u = units(n, opts.clusters);
  const resamples = new Resamples(u.count, opts.nBoot, opts.seed ?? 42, opts.cache !== false);
  const early = prepareCurve(y, sEarly, u.unitOfRow);
  const full = prepareCurve(y, sFull, u.unitOfRow);
  ensureCurveBuffers(n);
  ensureValueBuffers(opts.nBoot);
  let m = 0, greater = 0;
  for (let r = 0; r < opts.nBoot; r++) {
    const base = resamples.next();
    const pe = resampleAp(resamples.counts, base, early);
    if (pe !== pe) continue;
    const d = pe - resampleAp(resamples.counts, base, full);
    valBuf[m++] = d;
    if (d > 0) greater++;
  }
  if (m === 0) return { mean: NaN, lo: NaN, hi: NaN, pGreater: NaN, valid: 0 };
  return { ...summarize(m), pGreater: greater / m, valid: m };
}
