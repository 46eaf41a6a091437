import { NumpyGenerator } from './rng/numpy-generator.ts';
import { apFromCurve, descendingOrder, pairwiseSum, percentileLinear } from './metrics.ts';

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
}

type CountTable = Uint16Array | Uint32Array;

const CACHE_LIMIT_BYTES = 128 * 1024 * 1024;
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
  const table: CountTable = units <= 0xffff ? new Uint16Array(units * nBoot) : new Uint32Array(units * nBoot);
  const rng = NumpyGenerator.fromSeed(seed);
  const idx = new Int32Array(units);
  for (let r = 0; r < nBoot; r++) {
    rng.integers(0, units, units, idx);
    const base = r * units;
    for (let j = 0; j < units; j++) table[base + idx[j]!]!++;
  }
  countCache.set(key, table);
  cacheBytes += table.byteLength;
  for (const [k, t] of countCache) {
    if (cacheBytes <= CACHE_LIMIT_BYTES || k === key) break;
    countCache.delete(k);
    cacheBytes -= t.byteLength;
  }
  return table;
}

/** A score vector prepared for weighted AP walks: rows by score descending, with their unit, label and group ends. */
interface SortedCurve {
  unit: Int32Array;
  y: Uint8Array;
  /** 1 where a distinct-score threshold ends */
  groupEnd: Uint8Array;
}

function prepareCurve(y: ArrayLike<number>, s: ArrayLike<number>, unitOfRow: Int32Array | null): SortedCurve {
  const n = y.length;
  const order = descendingOrder(s);
  const unit = new Int32Array(n), ys = new Uint8Array(n), groupEnd = new Uint8Array(n);
  for (let j = 0; j < n; j++) {
    const i = order[j]!;
    unit[j] = unitOfRow ? unitOfRow[i]! : i;
    ys[j] = y[i] === 1 ? 1 : 0;
    groupEnd[j] = j === n - 1 || s[order[j + 1]!] !== s[i] ? 1 : 0;
  }
  return { unit, y: ys, groupEnd };
}

let tpsBuf = new Float64Array(0), fpsBuf = new Float64Array(0), termBuf = new Float64Array(0);
function ensureCurveBuffers(n: number): void {
  if (tpsBuf.length < n) {
    tpsBuf = new Float64Array(n);
    fpsBuf = new Float64Array(n);
    termBuf = new Float64Array(n);
  }
}

/** AP of resample r, or NaN when the resample has a single class (the paper skips it). */
function resampleAp(counts: CountTable, base: number, c: SortedCurve): number {
  const unit = c.unit, ys = c.y, groupEnd = c.groupEnd, n = unit.length;
  const tps = tpsBuf, fps = fpsBuf;
  let tp = 0, total = 0, lastTotal = 0, K = 0;
  for (let j = 0; j < n; j++) {
    const w = counts[base + unit[j]!]!;
    tp += ys[j]! * w;
    total += w;
    // a threshold exists in the resample only if one of its rows was drawn
    if (groupEnd[j] === 1 && total !== lastTotal) {
      tps[K] = tp;
      fps[K] = total - tp;
      K++;
      lastTotal = total;
    }
  }
  if (tp === 0 || tp === total) return NaN;
  return apFromCurve(tps, fps, K, termBuf);
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
  return { mean: pairwiseSum(valBuf, 0, m) / m, lo: percentileLinear(sorted, 2.5), hi: percentileLinear(sorted, 97.5) };
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
  const counts = resampleCounts(u.count, opts.nBoot, opts.seed ?? 42);
  const curve = prepareCurve(y, s, u.unitOfRow);
  ensureCurveBuffers(n);
  ensureValueBuffers(opts.nBoot);
  let m = 0;
  for (let r = 0; r < opts.nBoot; r++) {
    const ap = resampleAp(counts, r * u.count, curve);
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
  const counts = resampleCounts(u.count, opts.nBoot, opts.seed ?? 42);
  const early = prepareCurve(y, sEarly, u.unitOfRow);
  const full = prepareCurve(y, sFull, u.unitOfRow);
  ensureCurveBuffers(n);
  ensureValueBuffers(opts.nBoot);
  let m = 0, greater = 0;
  for (let r = 0; r < opts.nBoot; r++) {
    const base = r * u.count;
    const pe = resampleAp(counts, base, early);
    if (pe !== pe) continue;
    const d = pe - resampleAp(counts, base, full);
    valBuf[m++] = d;
    if (d > 0) greater++;
  }
  if (m === 0) return { mean: NaN, lo: NaN, hi: NaN, pGreater: NaN, valid: 0 };
  return { ...summarize(m), pGreater: greater / m, valid: m };
}
