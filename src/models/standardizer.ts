/**
 * sklearn `StandardScaler` on a row-major n×p matrix: per-column mean and population standard deviation
 * (corrected two-pass variance), with near-constant columns (sklearn's `_is_constant_feature`) given scale 1.
 */
export interface Standardizer {
  mean: Float64Array;
  scale: Float64Array;
}

export function fitStandardizer(X: Float64Array, n: number, p: number): Standardizer {
  if (n < 1) throw new RangeError('fitStandardizer: need at least one row');
  if (X.length < n * p) throw new RangeError(`fitStandardizer: X has ${X.length} values, need ${n}×${p}`);
  const mean = new Float64Array(p);
  const scale = new Float64Array(p);
  const eps = Number.EPSILON;
  for (let j = 0; j < p; j++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += X[i * p + j]!;
    const m = sum / n;
    let corr = 0, sq = 0;
    for (let i = 0; i < n; i++) {
      const d = X[i * p + j]! - m;
      corr += d;
      sq += d * d;
    }
    const variance = (sq - (corr * corr) / n) / n;
    const constant = variance <= n * eps * variance + (n * m * eps) ** 2;
    mean[j] = m;
    scale[j] = constant ? 1 : Math.sqrt(variance);
  }
  return { mean, scale };
}

/** (x − mean) / scale per column; writes `out` (may be `X` itself) and returns it. */
export function applyStandardizer(st: Standardizer, X: Float64Array, n: number, p: number, out?: Float64Array): Float64Array {
  const res = out ?? new Float64Array(n * p);
  const { mean, scale } = st;
  for (let i = 0; i < n; i++) {
    const row = i * p;
    for (let j = 0; j < p; j++) res[row + j] = (X[row + j]! - mean[j]!) / scale[j]!;
  }
  return res;
}
