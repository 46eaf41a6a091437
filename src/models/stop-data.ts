/**
 * The input of every stop model and stop rule: per sample its label, lengths and the window features of each early
 * window T, as plain typed arrays (no table, no IO) so the models can be fitted and scored on any subset of rows.
 *
 * A sample is *running at T* when its stop length > T (src/offline/running-at.ts: the prefinal length in prefinal
 * mode, else the generation's length); only a running sample can be stopped at T, and stopping it there saves
 * `fullLen − T` tokens.
 */
export interface StopData {
  /** Early windows T, increasing. */
  readonly windows: readonly number[];
  /** Base feature names (the columns of each window's matrix), e.g. the paper's 11. */
  readonly featureNames: readonly string[];
  /** Per window: row-major n × p feature matrix (p = featureNames.length), NaN = missing. */
  readonly features: readonly Float64Array[];
  /** 1 = failure, 0 = correct. */
  readonly y: Uint8Array;
  /** Length that decides whether a sample is running at T. */
  readonly stopLen: Float64Array;
  /** Tokens the whole generation took (what stopping saves from). */
  readonly fullLen: Float64Array;
}

/**
 * Whether a sample of this (stop) length is still running at window T: length > T — the one definition, re-exported
 * by src/offline/running-at.ts for the offline tools and `train --fit-on running`.
 */
export function isRunningAt(length: number, T: number): boolean {
  return length > T;
}

/** Whether sample i of `data` is running at window T. */
export function runningAt(data: StopData, i: number, T: number): boolean {
  return isRunningAt(data.stopLen[i]!, T);
}

/** Number of rows of a StopData, with its arrays checked against each other. */
export function stopDataRows(data: StopData): number {
  const n = data.y.length;
  const p = data.featureNames.length;
  if (data.stopLen.length !== n || data.fullLen.length !== n) throw new RangeError(`StopData: ${n} labels but ${data.stopLen.length} stop lengths and ${data.fullLen.length} full lengths`);
  if (data.features.length !== data.windows.length) throw new RangeError(`StopData: ${data.windows.length} windows but ${data.features.length} feature matrices`);
  for (const [w, X] of data.features.entries()) if (X.length !== n * p) throw new RangeError(`StopData: window ${data.windows[w]} has ${X.length} feature values, expected ${n}×${p}`);
  for (let w = 1; w < data.windows.length; w++) if (!(data.windows[w]! > data.windows[w - 1]!)) throw new RangeError(`StopData: windows must increase, got ${data.windows.join(', ')}`);
  return n;
}

/**
 * Per-window risks of a stop model for some rows: `risks[w][k]` is the failure risk of row `rows[k]` at window w, NaN
 * when the row is not running at that window (or the model has no score there) — such a row cannot be stopped there.
 */
export type WindowRisks = Float64Array[];
