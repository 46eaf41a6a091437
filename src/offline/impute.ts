/** Median of a column (optionally over a subset of rows), skipping NaN — pandas `Series.median()`. All-NaN → NaN. */

let buf = new Float64Array(0);

export function columnMedian(values: Float64Array, rows?: ArrayLike<number>): number {
  const n = rows ? rows.length : values.length;
  if (buf.length < n) buf = new Float64Array(Math.max(n, buf.length * 2));
  let m = 0;
  for (let k = 0; k < n; k++) {
    const v = values[rows ? rows[k]! : k]!;
    if (v === v) buf[m++] = v;
  }
  if (m === 0) return NaN;
  const sorted = buf.subarray(0, m).sort();
  const h = m >> 1;
  // numpy takes the mean of the middle one or two values
  return m % 2 === 1 ? sorted[h]! : (sorted[h - 1]! + sorted[h]!) / 2;
}
