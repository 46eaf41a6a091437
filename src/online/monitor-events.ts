/**
 * What the live monitor emits per sample (headless `--jsonl` lines, the TUI, the WebSocket feed all consume these).
 * Feature records use the paper's column names (`entropy_mean_w128`, `nll_max_prefinal`, …).
 */
import type { Regime } from '../models/model-file.ts';

export type FeatureRecord = Record<string, number | string | null>;

/** A window boundary T was reached (or the sample ended before it): the window's features. */
export interface WindowEvent {
  readonly type: 'window';
  readonly sampleId: string;
  readonly T: number;
  /** The 14 stats of the window, under `{stat}_w{T}` names, plus `window_len_w{T}`. */
  readonly features: FeatureRecord;
  readonly t: number;
}

/** Failure risk P(failure) from the classifier of window `T` ('full' at the end of the sample). */
export interface RiskEvent {
  readonly type: 'risk';
  readonly sampleId: string;
  readonly index: number;
  readonly T: number | 'full';
  readonly risk: number;
  /** The classifier's stop threshold for this window (null if it has none). */
  readonly threshold: number | null;
  readonly t: number;
}

/** A committing model's sample passed its commitment point T* with risk ≥ the stop threshold. Emitted at most once per sample. */
export interface CommittedFailureEvent {
  readonly type: 'committed_failure';
  readonly sampleId: string;
  readonly T: number;
  readonly risk: number;
  readonly threshold: number;
  readonly regime: Regime;
  readonly features: FeatureRecord;
  readonly t: number;
}

/** A per-token tick, for views that draw sparklines (not written to --jsonl by default). */
export interface TokenTickEvent {
  readonly type: 'token';
  readonly sampleId: string;
  readonly index: number;
  readonly token: string;
  readonly entropy: number;
  readonly nll: number;
  readonly channel: 'reasoning' | 'content';
  readonly t: number;
}

/** The sample ended; `record` has every column of SPEC §1.4 plus finish_reason, hit_max_tokens, degenerate, predicted_answer, extraction_method, correct. */
export interface FinalEvent {
  readonly type: 'final';
  readonly sampleId: string;
  readonly record: FeatureRecord;
  readonly t: number;
}

/** A malformed chunk or transport problem; the session goes on. */
export interface MonitorStreamErrorEvent {
  readonly type: 'stream_error';
  readonly sampleId?: string;
  readonly position: string;
  readonly message: string;
  /** True when the source ended because of it (transport failure); absent or false for a skipped chunk. */
  readonly fatal?: boolean;
  readonly t: number;
}

/** Something the user should know once (e.g. stream top-k differs from the model's). */
export interface WarningEvent {
  readonly type: 'warning';
  readonly sampleId?: string;
  readonly message: string;
  readonly t: number;
}

export type MonitorEvent = WindowEvent | RiskEvent | CommittedFailureEvent | TokenTickEvent | FinalEvent | MonitorStreamErrorEvent | WarningEvent;
