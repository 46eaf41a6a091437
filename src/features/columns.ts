/**
 * The paper's column vocabulary (SPEC §1.3–§1.4, §3.3). Every feature record failmode writes — live or offline —
 * uses these names, so recordings feed `failmode analyze` / `train` unchanged.
 */

/** The 14 statistics per token list, in the paper's column order. */
export const STAT_NAMES = [
  'entropy_mean', 'entropy_max', 'entropy_std',
  'margin_mean', 'margin_max', 'margin_std',
  'nll_mean', 'nll_max', 'nll_std',
  'fork_rate',
  'nucleus_size_mean', 'nucleus_size_max',
  'near_tie_mean', 'near_tie_max',
] as const;
export type StatName = (typeof STAT_NAMES)[number];

/** The 11 features the analysis uses (no `*_std`), SPEC §3.3. */
export const BASE_FEATURES = [
  'entropy_mean', 'entropy_max', 'nll_mean', 'nll_max', 'margin_mean', 'margin_max',
  'nucleus_size_mean', 'nucleus_size_max', 'near_tie_mean', 'near_tie_max', 'fork_rate',
] as const;
export type BaseFeature = (typeof BASE_FEATURES)[number];

/** The 5 names containing "max". */
export const MAX_FEATURES = BASE_FEATURES.filter((f) => f.includes('max'));
/** The 5 names containing "mean", plus fork_rate. */
export const MEAN_FEATURES = [...BASE_FEATURES.filter((f) => f.includes('mean')), 'fork_rate'];

/** The paper's default early windows T. */
export const DEFAULT_WINDOWS = [128, 256, 400, 512, 1024, 2048] as const;

/** Suffix of a token list: '' (all tokens) or '_prefinal' (tokens before the final-answer line). */
export type ListSuffix = '' | '_prefinal';

/** `{stat}{suffix}` — a full-list column, e.g. `nll_max_prefinal`. */
export function fullColumn(stat: string, suffix: ListSuffix = ''): string {
  return `${stat}${suffix}`;
}

/** `{stat}{suffix}_w{T}` — a window column, e.g. `entropy_mean_w128`, `entropy_mean_prefinal_w128`. */
export function windowColumn(stat: string, T: number, suffix: ListSuffix = ''): string {
  return `${stat}${suffix}_w${T}`;
}

/** `full_len{suffix}` and `window_len{suffix}_w{T}`. */
export function fullLenColumn(suffix: ListSuffix = ''): string {
  return `full_len${suffix}`;
}
export function windowLenColumn(T: number, suffix: ListSuffix = ''): string {
  return `window_len${suffix}_w${T}`;
}

/** All signal columns of one suffix block in the paper's file order: 14 stats + full_len, then per window 14 + window_len. */
export function signalBlockColumns(windows: readonly number[], suffix: ListSuffix = ''): string[] {
  const cols: string[] = [...STAT_NAMES.map((s) => fullColumn(s, suffix)), fullLenColumn(suffix)];
  for (const T of windows) cols.push(...STAT_NAMES.map((s) => windowColumn(s, T, suffix)), windowLenColumn(T, suffix));
  return cols;
}
