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
  } | null;
}
