import { BASE_FEATURES } from '../../features/columns.ts';
import type { Frame } from '../frame.ts';

/** The prefinal length columns, in the order the paper looks for them (SPEC §3.4). */
export const PREFINAL_LENGTH_COLUMNS = ['prefinal_len', 'preboxed_generated_len'] as const;

/** `full_cols`: `{f}` or `{f}_prefinal` for the base features present, in BASE_FEATURES order. */
export function fullColumns(frame: Frame, prefinal = false): string[] {
  return BASE_FEATURES.map((f) => (prefinal ? `${f}_prefinal` : f)).filter((c) => frame.has(c));
}

/** `window_cols`: `{f}_w{T}` or `{f}_prefinal_w{T}` present. */
export function windowColumns(frame: Frame, T: number, prefinal = false): string[] {
  return BASE_FEATURES.map((f) => (prefinal ? `${f}_prefinal_w${T}` : `${f}_w${T}`)).filter((c) => frame.has(c));
}

/** `_avail`: the given names that are columns of the frame, in the given order. */
export function available(frame: Frame, names: readonly string[]): string[] {
  return names.filter((c) => frame.has(c));
}

/** Windows auto-detected from column names ending in `_w{N}` (any suffix group), sorted ascending. */
export function detectWindows(frame: Frame): number[] {
  const found = new Set<number>();
  for (const c of frame.columnNames) {
    const m = /_w(\d+)$/.exec(c);
    if (m) found.add(Number(m[1]));
  }
  return [...found].sort((a, b) => a - b);
}

/** First prefinal length column present, or null. */
export function prefinalLengthColumn(frame: Frame): string | null {
  return PREFINAL_LENGTH_COLUMNS.find((c) => frame.has(c)) ?? null;
}

/**
 * The `--prefinal` remapping (SPEC §3.4): `{f} := {f}_prefinal` for the base features, and `{base}_w{T} :=
 * {base}_prefinal_w{T}` for every such column (so `window_len` and the std stats too); `full_len`, `generated_len`
 * and the full-trace `*_std` keep their raw values.
 */
export function prefinalRemapping(frame: Frame): Array<readonly [target: string, from: string]> {
  const out: Array<readonly [string, string]> = [];
  for (const f of BASE_FEATURES) if (frame.has(`${f}_prefinal`)) out.push([f, `${f}_prefinal`]);
  for (const c of frame.columnNames) {
    const m = /^(.+)_prefinal_w(\d+)$/.exec(c);
    if (m) out.push([`${m[1]}_w${m[2]}`, c]);
  }
  return out;
}
