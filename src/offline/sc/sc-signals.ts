import type { Frame } from '../frame.ts';
import { fullColumn, windowColumn } from '../../features/columns.ts';

/** The three "signal conditions" of the SC analyses, in the paper's CSV order (SPEC-SC §1.6). */
export const SC_SIGNALS = ['full_trace', 'prefinal_full', 'prefinal_early'] as const;
export type ScSignal = (typeof SC_SIGNALS)[number];

/** The `--score` flag spelling of each signal. */
export const SCORE_FLAGS = ['prefinal-full', 'prefinal-early', 'raw-full'] as const;
export type ScoreFlag = (typeof SCORE_FLAGS)[number];
export function signalOfFlag(flag: ScoreFlag): ScSignal {
  return flag === 'raw-full' ? 'full_trace' : flag === 'prefinal-full' ? 'prefinal_full' : 'prefinal_early';
}

export function signalLabel(signal: ScSignal, w: number): string {
  return signal === 'full_trace' ? 'Full trace (no prefinal strip)' : signal === 'prefinal_full' ? 'Prefinal full trace' : `Prefinal early window (T=${w})`;
}

/** Where a signal's columns come from: `suffixOf(stat)` gives the column of a base statistic, or null if unavailable. */
export interface SignalSource {
  readonly signal: ScSignal;
  /** Column for a base statistic (e.g. 'entropy_mean' → 'entropy_mean_prefinal_w400'). */
  column(stat: string): string;
  /** null when usable; else why not (columns missing). */
  readonly missing: string | null;
  /** A remark for the report (e.g. the MATH "full prefinal = first Tmax tokens" remap). */
  readonly remark: string | null;
}

/** Largest T for which `entropy_mean_prefinal_w{T}` exists (the MATH adapter's "full prefinal", SPEC-SC §1.3). */
function largestPrefinalWindow(frame: Frame): number | null {
  let best: number | null = null;
  for (const name of frame.columnNames) {
    const m = /^entropy_mean_prefinal_w(\d+)$/.exec(name);
    if (m && (best === null || Number(m[1]) > best)) best = Number(m[1]);
  }
  return best;
}

/** Resolves the columns of each signal for early window `w`. */
export function signalSources(frame: Frame, w: number): Record<ScSignal, SignalSource> {
  const need = (col: (s: string) => string): string | null => {
    const miss = ['entropy_mean', 'margin_mean'].map(col).filter((c) => !frame.has(c));
    return miss.length ? `missing column(s) ${miss.join(', ')}` : null;
  };
  const raw = (s: string) => fullColumn(s);
  const early = (s: string) => windowColumn(s, w, '_prefinal');
  let prefinal = (s: string) => fullColumn(s, '_prefinal');
  let remark: string | null = null;
  if (need(prefinal) !== null) {
    const tmax = largestPrefinalWindow(frame);
    if (tmax !== null) {
      prefinal = (s: string) => windowColumn(s, tmax, '_prefinal');
      remark = `no *_prefinal columns: "prefinal full" = first ${tmax} prefinal tokens (*_prefinal_w${tmax}), as the paper's MATH adapter`;
    }
  }
  return {
    full_trace: { signal: 'full_trace', column: raw, missing: need(raw), remark: null },
    prefinal_full: { signal: 'prefinal_full', column: prefinal, missing: need(prefinal), remark },
    prefinal_early: { signal: 'prefinal_early', column: early, missing: need(early), remark: null },
  };
}

/**
 * The training-free uncertainty score u = entropy_mean − margin_mean over the signal's span, per completion row
 * (higher = less confident; SPEC-SC §1.6). All NaN when the columns are missing.
 */
export function rawUncertainty(frame: Frame, source: SignalSource): Float64Array {
  const out = new Float64Array(frame.nRows).fill(NaN);
  if (source.missing !== null) return out;
  const e = frame.numeric(source.column('entropy_mean'))!;
  const m = frame.numeric(source.column('margin_mean'))!;
  for (let i = 0; i < out.length; i++) out[i] = e[i]! - m[i]!;
  return out;
}
