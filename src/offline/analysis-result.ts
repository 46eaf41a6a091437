/**
 * Everything `failmode analyze` computes, as plain data: the text report (SPEC §3.6) is rendered from it, `--json`
 * writes it as is, the plot and `failmode train` / `reproduce` read it. `null` stands for the report's `N/A` (NaN).
 * Documented in docs/analysis-json.md. Schema version 1.
 */
import type { CommitmentPlotData } from '../plots/commitment-plot.ts';
import type { LrSolver } from './cv-lr.ts';
import type { InsufficientData } from './support-rule.ts';

export type Verdict = '✓ Committed' | '✗ Full better' | '~ Near-committed' | '? Ambiguous' | 'N/A';

/** Paper mode reproduces the paper's procedure, quirks included; corrected mode fixes SPEC §6.3 items 11 and 16. */
export type AnalysisMode = 'paper' | 'corrected';

/** A cross-validated PR-AUC with its bootstrap CI and AUROC (cv_prauc). */
export interface CvEstimate {
  readonly prauc: number | null;
  readonly lo: number | null;
  readonly hi: number | null;
  readonly auroc: number | null;
}

/** delta_ci: bootstrap mean of AP(early) − AP(full), its percentile CI, share of resamples with Δ > 0, and the verdict. */
export interface DeltaEstimate {
  readonly mean: number;
  readonly lo: number;
  readonly hi: number;
  readonly pGreater: number;
  readonly verdict: Verdict;
}

export interface WindowEstimate extends CvEstimate {
  readonly T: number;
}

export interface WindowDelta {
  readonly T: number;
  /** null when the early or full OOF scores are missing or of different length (printed `T=…  N/A`). */
  readonly delta: DeltaEstimate | null;
}

/** The commitment-point signature of a set of window deltas. */
export type Signature = 'committed' | 'near-committed' | 'persistent';

/** A signature, or `insufficient data` when the table is below the support rule (src/offline/support-rule.ts). */
export type VerdictType = Signature | 'insufficient data';

export interface AnalysisResult {
  readonly schema: 'failmode-analysis';
  readonly version: 1;
  readonly file: string;
  readonly modelName: string;
  readonly mode: AnalysisMode;
  /** The CVs' logistic-regression solver (absent in results written before it was an option: 'newton'). */
  readonly solver?: LrSolver;
  readonly nBoot: number;
  readonly windows: readonly number[];
  /**
   * Present only when the working frame is below the support rule (src/offline/support-rule.ts): then no CV is run,
   * every estimate is null, and the verdict (`summary.verdict.type`, `ablation.signature`) is `insufficient data`.
   */
  readonly insufficient?: InsufficientData;
  /** Rows dropped because `correct` was missing (the paper's script crashed on them). */
  readonly excludedMissingCorrect: number;
  readonly cluster: { readonly column: string; readonly nClusters: number; readonly nRows: number } | null;
  /** What `--prefinal` did: null when not requested. */
  readonly prefinal: null | {
    readonly active: boolean;
    /** Why prefinal mode fell back to regular features, if it did. */
    readonly fallback: null | 'no-length-column' | 'few-failures';
    readonly lengthColumn: string | null;
    /** Rows with prefinal length > 0, and their failures (also printed on fallback: the subset's failures). */
    readonly validRows: number;
    readonly validFailures: number;
  };

  /** Section 1 (on the working frame). */
  readonly overview: {
    readonly n: number;
    readonly failures: number;
    /** Mean of generated_len (else full_len); null if neither exists. */
    readonly meanGenLen: number | null;
    /** Rows with prefinal length > 0; null when no prefinal length column exists. */
    readonly prefinalValid: number | null;
    readonly fullColumns: number;
    readonly windows: ReadonlyArray<{ readonly T: number; readonly columns: number; readonly meanWindowLen: number | null }>;
  };

  /** Section 2: window ablation on the working frame. */
  readonly ablation: {
    readonly baseline: number;
    readonly full: CvEstimate;
    readonly fullClusterRobust: boolean;
    readonly early: readonly WindowEstimate[];
    /** Number of full-trace OOF scores (the "computed from N samples" line), 0 when none. */
    readonly fullOofCount: number;
    readonly deltas: readonly WindowDelta[];
    readonly bestWindow: { readonly T: number; readonly prauc: number } | null;
    readonly signature: VerdictType;
  };

  /** Section 3: with --prefinal, the length-confound reference on the original frame; otherwise the prefinal ablation. */
  readonly section3:
    | {
        readonly kind: 'reference';
        readonly rawFull: CvEstimate;
        readonly generatedLen: CvEstimate | null;
      }
    | {
        readonly kind: 'ablation';
        /** The prefinal length column used; null → none exists and the section stops after its warning. */
        readonly lengthColumn?: string | null;
        readonly validRows: number;
        readonly n: number;
        readonly validFailures: number;
        /** Number of prefinal full-trace features; 0 → the section ends after its warning. */
        readonly fullFeatures: number;
        readonly full: CvEstimate | null;
        /** Per window; null estimate = no prefinal window columns. */
        readonly early: ReadonlyArray<{ readonly T: number; readonly estimate: CvEstimate | null }>;
        readonly deltas: readonly WindowDelta[];
        readonly bestWindow: { readonly T: number; readonly prauc: number } | null;
        readonly survives: boolean;
      };

  /** Section 4: single-feature PR-AUCs, per-feature shape, max vs mean aggregates. */
  readonly features: {
    readonly single: ReadonlyArray<{ readonly feature: string; readonly full: number | null; readonly windows: readonly (number | null)[] }>;
    readonly shapes: ReadonlyArray<{ readonly feature: string; readonly bestT: number | null; readonly bestPA: number | null; readonly fullPA: number | null; readonly shape: string }>;
    readonly aggregate: {
      readonly maxFull: number | null;
      readonly meanFull: number | null;
      readonly windows: ReadonlyArray<{ readonly T: number; readonly max: number | null; readonly mean: number | null }>;
    };
  };

  /** Section 5: summary table and the final verdict. */
  readonly summary: {
    readonly n: number;
    readonly failures: number;
    readonly fullPrauc: number | null;
    readonly rows: ReadonlyArray<{ readonly T: number; readonly early: number | null; readonly full: number | null; readonly delta: DeltaEstimate | null }>;
    readonly verdict: {
      readonly type: VerdictType;
      /** Commitment point T* (committed), or the best window (near-committed); null for persistent. */
      readonly T: number | null;
      readonly early: number | null;
      readonly full: number | null;
    };
  };

  /** What the plot shows (SPEC §3.7), present unless no data. */
  readonly plot: null | CommitmentPlotData;
}
