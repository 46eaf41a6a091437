/**
 * Ranking metrics with sklearn 1.2 semantics, reproduced down to the floating-point summation order
 * (numpy's pairwise sum), so AP / AUROC match `average_precision_score` / `roc_auc_score` bit for bit.
 */

/**
 * Indices of `s` by score descending (ties grouped later, so their internal order does not matter). NaN scores come
 * first, like sklearn's reversed ascending argsort.
 */
export function descendingOrder(s: ArrayLike<number>, out?: Int32Array): Int32Array {
  const n = s.length;
  const order = out ?? new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.subarray(0, n).sort((a, b) => {
    const sa = s[a]!, sb = s[b]!;
    if (sa === sb) return a - b;
    if (sa !== sa) return sb !== sb ? a - b : -1;
    if (sb !== sb) return 1;
    return sb - sa;
  });
  return order;
}

/** numpy's pairwise summation (`add.reduce` on a contiguous float64 array) of v[start … start+n−1]. */
export function pairwiseSum(v: ArrayLike<number>, start: number, n: number): number {
  return pairwiseSumF64(v instanceof Float64Array ? v : Float64Array.from(v), start, n);
}

/** pairwiseSum on a Float64Array (kept monomorphic for the bootstrap's hot loop). */
export function pairwiseSumF64(v: Float64Array, start: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += v[start + i]!;
    return res;
  }
  if (n <= 128) {
    let r0 = v[start]!, r1 = v[start + 1]!, r2 = v[start + 2]!, r3 = v[start + 3]!;
    let r4 = v[start + 4]!, r5 = v[start + 5]!, r6 = v[start + 6]!, r7 = v[start + 7]!;
    const end8 = n - (n % 8);
    let i = 8;
    for (; i < end8; i += 8) {
      const b = start + i;
      r0 += v[b]!; r1 += v[b + 1]!; r2 += v[b + 2]!; r3 += v[b + 3]!;
      r4 += v[b + 4]!; r5 += v[b + 5]!; r6 += v[b + 6]!; r7 += v[b + 7]!;
    }
    let res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
    for (; i < n; i++) res += v[start + i]!;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSumF64(v, start, n2) + pairwiseSumF64(v, start + n2, n - n2);
}

/** numpy `np.mean` of a float64 array. */
export function numpyMean(v: ArrayLike<number>, n = v.length): number {
  return pairwiseSum(v, 0, n) / n;
}

let termBuf = new Float64Array(64);
function terms(k: number): Float64Array {
  if (termBuf.length < k) termBuf = new Float64Array(Math.max(k, termBuf.length * 2));
  return termBuf;
}

/**
 * AP from the cumulative TP and total (TP + FP) counts at each distinct threshold, highest threshold first:
 * Σ (R_k − R_{k−1})·P_k summed the way sklearn does it (reversed order, pairwise). `scratch` must hold K values.
 */
export function apFromCurve(tps: Int32Array, totals: Int32Array, K: number, scratch: Float64Array): number {
  const P = tps[K - 1]!;
  let prevR = 0;
  for (let k = 0; k < K; k++) {
    const tp = tps[k]!;
    const r = tp / P;
    scratch[K - 1 - k] = (r - prevR) * (tp / totals[k]!);
    prevR = r;
  }
  return pairwiseSumF64(scratch, 0, K);
}

/** sklearn `average_precision_score` (binary, positive label 1). NaN when there is no positive (sklearn warns and returns 0). */
export function averagePrecision(y: ArrayLike<number>, s: ArrayLike<number>): number {
  const curve = binaryCurve(y, s);
  if (curve === null || curve.tps[curve.K - 1] === 0) return NaN;
  return apFromCurve(curve.tps, curve.totals, curve.K, terms(curve.K));
}

/** sklearn `roc_auc_score` (binary): trapezoids over the ROC with drop_intermediate. NaN unless both classes occur. */
export function rocAuc(y: ArrayLike<number>, s: ArrayLike<number>): number {
  const curve = binaryCurve(y, s);
  if (curve === null) return NaN;
  const { tps, totals } = curve;
  let K = curve.K;
  const fps = Int32Array.from(totals.subarray(0, K), (t, k) => t - tps[k]!);
  const P = tps[K - 1]!, N = fps[K - 1]!;
  if (P === 0 || N === 0) return NaN;
  // drop_intermediate: keep the ends and every point where the fps or tps second difference is non-zero
  const keep: number[] = [];
  if (K > 2) {
    keep.push(0);
    for (let j = 1; j < K - 1; j++) {
      if (fps[j + 1]! - 2 * fps[j]! + fps[j - 1]! !== 0 || tps[j + 1]! - 2 * tps[j]! + tps[j - 1]! !== 0) keep.push(j);
    }
    keep.push(K - 1);
  } else for (let j = 0; j < K; j++) keep.push(j);
  K = keep.length;
  // curve starts at (0, 0)
  const fpr = new Float64Array(K + 1), tpr = new Float64Array(K + 1);
  for (let j = 0; j < K; j++) {
    fpr[j + 1] = fps[keep[j]!]! / N;
    tpr[j + 1] = tps[keep[j]!]! / P;
  }
  // np.trapz(tpr, fpr): Σ diff(x)·(y[1:] + y[:-1]) / 2
  const t = terms(K);
  for (let j = 0; j < K; j++) t[j] = ((fpr[j + 1]! - fpr[j]!) * (tpr[j + 1]! + tpr[j]!)) / 2.0;
  return pairwiseSumF64(t, 0, K);
}

/** sklearn `_binary_clf_curve`: cumulative TP and TP + FP at each distinct score, highest first. null for empty input. */
function binaryCurve(y: ArrayLike<number>, s: ArrayLike<number>): { tps: Int32Array; totals: Int32Array; K: number } | null {
  const n = y.length;
  if (s.length !== n) throw new RangeError(`labels (${n}) and scores (${s.length}) differ in length`);
  if (n === 0) return null;
  const order = descendingOrder(s);
  const tps = new Int32Array(n), totals = new Int32Array(n);
  let tp = 0, K = 0;
  for (let j = 0; j < n; j++) {
    const i = order[j]!;
    if (y[i] === 1) tp++;
    // a threshold ends where the next score differs (NaN never equals, so each NaN is its own threshold)
    if (j === n - 1 || s[order[j + 1]!] !== s[i]) {
      tps[K] = tp;
      totals[K] = j + 1;
      K++;
    }
  }
  return { tps, totals, K };
}

/**
 * numpy `np.percentile(a, q)` with the default 'linear' method, `sorted` ascending (first `count` values used).
 * Uses numpy's `_lerp` (interpolating from the upper value when the fraction is ≥ 0.5), so results match to the bit.
 */
export function percentileLinear(sorted: ArrayLike<number>, q: number, count = sorted.length): number {
  if (count === 0) return NaN;
  const virtual = (count - 1) * (q / 100);
  let prev = Math.floor(virtual);
  let next = prev + 1;
  const gamma = virtual - prev;
  if (virtual >= count - 1) prev = next = count - 1;
  else if (virtual < 0) prev = next = 0;
  const a = sorted[prev]!, b = sorted[next]!;
  const diff = b - a;
  return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
}
