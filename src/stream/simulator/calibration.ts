import { readFileSync } from 'node:fs';
import type { TokenShape } from './token-model.ts';

/** The six window features the simulator is fitted to (paper column stems). */
export const CALIBRATED_FEATURES = ['entropy_mean', 'nll_mean', 'margin_mean', 'fork_rate', 'near_tie_mean', 'nucleus_size_mean'] as const;
export type CalibratedFeature = (typeof CALIBRATED_FEATURES)[number];

/** A token range [previous end, end) with its latent-uncertainty distribution: ln tau ~ N(mu, sigma²). */
export interface Segment {
  readonly end: number;
  readonly mu: number;
  readonly sigma: number;
}

/** Fitted curve of one class (correct / failure) of one profile. */
export interface ClassCurve {
  /** Segments in token order; the last one extends to the end of the trace. */
  readonly segments: readonly Segment[];
  /** SD of a per-trace offset added to ln tau (makes traces differ from each other as much as the paper's do). */
  readonly traceSd: number;
  /** generated_len quantiles 0, 5, …, 100 % of the class (inverse-CDF sampling with linear interpolation). */
  readonly lengthQuantiles: readonly number[];
  /** Paper targets per window T: mean and SD over traces with ≥ T tokens, and how many traces. */
  readonly targets: Readonly<Record<string, Readonly<Record<CalibratedFeature, { readonly mean: number; readonly sd: number }>> & { readonly n: number }>>;
}

/** One calibration profile (one paper file). */
export interface CalibrationProfile {
  /** The results file it was fitted to. */
  readonly source: string;
  /** Share of correct rows in that file (how often an unforced sample is correct). */
  readonly accuracy: number;
  readonly shape: TokenShape;
  /** Top-k the targets were computed at (the paper's vocab_size). */
  readonly topK: number;
  readonly correct: ClassCurve;
  readonly failure: ClassCurve;
}

/** `src/stream/simulator/calibration.json`, written by scripts/calibrate-simulator.ts. */
export interface Calibration {
  readonly version: 1;
  readonly windows: readonly number[];
  /** Committed failures follow the failure curve up to this token, then the correct curve. */
  readonly commitAt: number;
  /** Persistent failures: ln tau rises linearly by this much from the start to the end of the trace. */
  readonly persistentRamp: number;
  /** 'mc' for multiple-choice prompts (Final Answer: X), 'math' for the rest (\boxed{}). */
  readonly profiles: { readonly mc: CalibrationProfile; readonly math: CalibrationProfile };
}

let cached: Calibration | undefined;

/** The committed calibration (read once; the simulator never reads the paper's data at run time). */
export function loadCalibration(): Calibration {
  if (!cached) {
    const c = JSON.parse(readFileSync(new URL('./calibration.json', import.meta.url), 'utf8')) as Calibration;
    if (c.version !== 1) throw new Error(`Expected simulator calibration version 1, got ${String(c.version)}`);
    cached = c;
  }
  return cached;
}
