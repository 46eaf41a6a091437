/**
 * The portable model file (`failmode train` writes it, the live monitor loads it): one classifier per early window T
 * plus one for the full trace, each the paper's estimator (median fill → standardise → L2 logistic regression).
 * Feature names are the paper's column names of the live sample record, e.g. `entropy_mean_prefinal_w256`.
 *
 * Format version 1. All numbers are plain JSON numbers; NaN is never written (null where undefined).
 */

import type { StopGuarantee } from './risk-control.ts';

export const MODEL_FORMAT = 'failmode-model';
export const MODEL_FORMAT_VERSION = 1;

export type Regime = 'committed' | 'near-committed' | 'persistent';

/** One fitted classifier: P(failure | x) = σ(intercept + Σ coef_j · (fill(x_j) − mean_j) / scale_j). */
export interface WindowClassifier {
  /** Early window T in tokens, or 'full' for the whole (prefinal) trace. */
  readonly window: number | 'full';
  readonly featureNames: readonly string[];
  /** Value used for a missing feature: the training column's median. */
  readonly fill: readonly number[];
  /** Standardiser: training mean and population std (1 where the std was 0). */
  readonly mean: readonly number[];
  readonly scale: readonly number[];
  readonly coef: readonly number[];
  readonly intercept: number;
  /** Optional (added in v1): training rows of this classifier — all rows, or under `training.fitOn: 'running'` the rows still running at T. */
  readonly n?: number;
  /** Out-of-fold quality (5-fold stratified CV, seed 42), as the analysis reports it. */
  readonly oof: { readonly prauc: number | null; readonly auroc: number | null };
  /**
   * Stop threshold on P(failure). Without a model `guarantee` (files before it was added): chosen per window on
   * out-of-fold scores for `targetPrecision`. With one: the calibrated rule's threshold for this window (null = this
   * window never stops; the 'full' classifier's is always null), and `precision` / `recall` are null.
   */
  readonly stop: {
    readonly threshold: number | null;
    /** The precision asked for; optional (absent) under a false-kill guarantee. */
    readonly targetPrecision?: number;
    /** Out-of-fold precision and recall of failures at that threshold (null if the target is never reached). */
    readonly precision: number | null;
    readonly recall: number | null;
  };
}

/**
 * Optional (added in v1): the risk-controlled stop rule's guarantee (src/models/risk-control.ts, docs/early-stopping.md).
 * The live rule — stop at the first early window whose risk ≥ its threshold — has a true false-kill rate (or 1 −
 * precision, under `control: 'precision'`) ≤ `alpha` with probability ≥ 1 − `delta` over the calibration draw, assuming
 * calibration and live samples are exchangeable. Calibrated on the window classifiers' out-of-fold scores.
 */
export interface StopRuleGuarantee extends StopGuarantee {
  /** Learn-then-Test fixed-sequence testing with one-sided Clopper–Pearson bounds. */
  readonly method: 'fixed-sequence-clopper-pearson';
  /** The common threshold; null = the rule never stops (no threshold met the bound). */
  readonly threshold: number | null;
  /** Per early window: calibration samples the rule stops there, and correct ones among them. */
  readonly perWindow: ReadonlyArray<{ readonly window: number; readonly stops: number; readonly falseKills: number }>;
}

export interface ModelFile {
  readonly format: typeof MODEL_FORMAT;
  readonly version: typeof MODEL_FORMAT_VERSION;
  readonly createdAt: string;
  /** Signal parameters the features were computed with. The paper's API runs used top-k 20, its vLLM runs up to 200. */
  readonly signal: { readonly topK: number; readonly nucleusP: number; readonly tieDelta: number };
  /** True when features are the prefinal ones (tokens before the final-answer line). */
  readonly prefinal: boolean;
  /** Task profile whose final-answer marker defines the prefinal cut, when known (final-answer | boxed | final-boxed | code). */
  readonly profile: string | null;
  readonly windows: readonly number[];
  readonly classifiers: readonly WindowClassifier[];
  readonly regime: Regime;
  /** Commitment point T* (null for persistent uncertainty). */
  readonly commitmentPoint: number | null;
  readonly training: {
    readonly name: string;
    readonly n: number;
    readonly failures: number;
    readonly failureRate: number;
    /** Optional (added in v1): the analysis procedure of the OOF figures and the verdict ('paper' | 'corrected'). */
    readonly mode?: 'paper' | 'corrected';
    /** Optional (added in v1): bootstrap resamples behind the regime verdict. */
    readonly nBoot?: number;
    /**
     * Optional (added in v1; absent = 'all'): the rows each early window's classifier was fitted and evaluated on —
     * 'all' rows, or only those still 'running' at T (the population the live stop rule scores). 'full' uses all rows.
     */
    readonly fitOn?: 'all' | 'running';
    /**
     * Optional (added in v1; absent = 'window'): the stop model behind the early windows' classifiers — 'window' (one
     * classifier per window) or 'hazard' (one model over windows, src/models/stop-models.ts; each window's classifier
     * then also reads the previous window's columns). Either way the file holds one classifier per window.
     */
    readonly stopModel?: 'window' | 'hazard';
    /**
     * Optional (added in v1; absent = the data met the support rule): the model was trained with `--force` on data
     * below the offline support rule (≥ minRows rows, ≥ minClass failures and correct rows, a usable feature column;
     * src/offline/support-rule.ts). Its figures and regime then rest on thin data: the regime is recorded as
     * 'persistent' (no commitment point), as no verdict was possible.
     */
    readonly insufficient?: InsufficientData & { readonly forced: true };
  };
  /** Optional (added in v1): the stop rule's risk-control guarantee; absent in files with per-window precision thresholds. */
  readonly guarantee?: StopRuleGuarantee;
  readonly description?: string;
}

/** What a result records when its data falls below the offline support rule (src/offline/support-rule.ts; the JSON
 * field `insufficient`); a model trained with `--force` on such data records it too. */
export interface InsufficientData {
  /** One line: each shortfall with what it needs, e.g. `8 rows (need ≥ 20); 1 failure (need ≥ 5)`. */
  readonly reason: string;
  readonly n: number;
  readonly failures: number;
  readonly correct: number;
  readonly usableFeatures: number;
  readonly minRows: number;
  readonly minClass: number;
}
