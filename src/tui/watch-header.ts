/** What the watch view's header says about the session (also the `header` option of runWatchTui). */
export interface WatchHeaderInfo {
  /** The endpoint's base URL (never a key). */
  readonly endpoint: string;
  readonly model: string;
  /** The loaded classifier, or null/absent when running without one (risk and flags are then off). */
  readonly classifier?: {
    /** The training data's name (ModelFile.training.name). */
    readonly name: string;
    readonly regime: string;
    /** Commitment point T* (null for persistent uncertainty). */
    readonly commitmentPoint: number | null;
    /** The stop rule's guarantee in words (describe-stop-rule.ts `stopRuleShort`), e.g. `false kills ≤ 5% @90% conf. (n=312)`. */
    readonly stopRule?: string;
  } | null;
}
