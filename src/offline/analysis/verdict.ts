import type { Signature, Verdict } from '../analysis-result.ts';

/** SPEC §3.5: any NaN → N/A; CI above 0 → committed; CI below 0 → full better; p > 0.8 with Δ̄ > 0 → near; else ambiguous. */
export function deltaVerdict(mean: number, lo: number, hi: number, p: number): Verdict {
  if ([mean, lo, hi, p].some(Number.isNaN)) return 'N/A';
  if (lo > 0) return '✓ Committed';
  if (hi < 0) return '✗ Full better';
  if (p > 0.8 && mean > 0) return '~ Near-committed';
  return '? Ambiguous';
}

/** Section 2's summary line: some window's CI above 0 → committed; else some near-committed window; else persistent. */
export function signatureOf(deltas: ReadonlyArray<{ readonly lo: number; readonly verdict: Verdict } | null>): Signature {
  if (deltas.some((d) => d !== null && d.lo > 0)) return 'committed';
  if (deltas.some((d) => d !== null && d.verdict === '~ Near-committed')) return 'near-committed';
  return 'persistent';
}

/** Index of the first maximum among non-NaN values (Python's `max` keeps the first), −1 if none. */
export function firstMaxIndex(values: ReadonlyArray<number | null>): number {
  let best = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || Number.isNaN(v)) continue;
    if (best < 0 || v > values[best]!) best = i;
  }
  return best;
}

/**
 * Section 4b's shape of one feature's window curve (SPEC §3.6): best = first maximum over windows; `Early>Full ✓` if
 * it beats the full-trace value, else by where the best window sits: last `Monotone ↑`, first `First peak`, else
 * `Inverted-U ✓` (even when below the full-trace value — SPEC §6.3 item 15). null when no window has a value.
 */
export function featureShape(windows: readonly number[], values: ReadonlyArray<number | null>, full: number | null):
  { bestT: number; bestPA: number; shape: string } | null {
  const i = firstMaxIndex(values);
  if (i < 0) return null;
  const bestT = windows[i]!;
  const bestPA = values[i]!;
  const shape = full !== null && bestPA > full ? 'Early>Full ✓'
    : bestT === windows[windows.length - 1] ? 'Monotone ↑'
      : bestT === windows[0] ? 'First peak' : 'Inverted-U ✓';
  return { bestT, bestPA, shape };
}
