/**
 * The learned stop models: each maps a sample's window features to a failure risk at every early window T it is still
 * running at. Both are fitted with the exact L2 logistic regression (balanced, C = 1; ./logistic-regression.ts) on the
 * given rows only, and both end as one linear scorer per window on the raw window columns — the form the model file
 * stores (a `WindowClassifier` with mean 0, scale 1) and the live monitor scores:
 *
 *   risk_T(x) = σ(b_T + Σ_k a_{T,k} · x̃_k),   x̃_k = x_k, or fill_k when x_k is missing
 *
 * - `window`: one classifier per window T on window T's features, fitted on the rows still running at T (the
 *   population the live rule scores at T).
 * - `hazard`: ONE model for the whole rule, P(failure | running at T, features of the windows ≤ T), fitted on the
 *   stacked (sample, window) pairs of running samples. Design row of sample i at window w (windows T_0 < T_1 < …):
 *     [ x̃_w (p) | x̃_w − x̃_{w−1} (p; 0 at w = 0) | 1{w = 1} … 1{w = W−1} ]
 *   standardised over the stacked rows. Missing values are filled per window column with the median over the fitted
 *   rows running at that window, so the change term of window w uses window w−1's column and its fill — both stored
 *   in window w's scorer (its feature list names the current and the previous window's columns).
 */
import { fitLogisticRegression } from './logistic-regression.ts';
import { applyStandardizer, fitStandardizer } from './standardizer.ts';
import { sigmoid } from './score-classifier.ts';
import { runningAt, type StopData, type WindowRisks } from './stop-data.ts';

/** One window's linear scorer on raw window columns: term k reads feature `j[k]` of window index `w[k]`. */
export interface LinearWindowScorer {
  readonly w: readonly number[];
  readonly j: readonly number[];
  readonly fill: readonly number[];
  readonly coef: readonly number[];
  readonly intercept: number;
}

export type StopModelKind = 'window' | 'hazard';
export const STOP_MODEL_KINDS: readonly StopModelKind[] = ['window', 'hazard'];

/** A fitted stop model: one scorer per window (null: no score at that window — nothing is stopped there). */
export interface FittedStopModel {
  readonly kind: StopModelKind;
  readonly scorers: ReadonlyArray<LinearWindowScorer | null>;
}

/** Fewest rows of each class a fit needs (fewer: no scorer). */
export const MIN_CLASS_ROWS = 2;

/** Fits a stop model of the given kind on `rows` of `data`; null when the rows do not hold both classes. */
export function fitStopModel(kind: StopModelKind, data: StopData, rows: ArrayLike<number>): FittedStopModel | null {
  return kind === 'window' ? fitWindowModel(data, rows) : fitHazardModel(data, rows);
}

/** Risks of `rows` under a fitted model: NaN where a row is not running or the window has no scorer. */
export function stopModelRisks(model: FittedStopModel, data: StopData, rows: ArrayLike<number>): WindowRisks {
  const p = data.featureNames.length;
  return data.windows.map((T, w) => {
    const out = new Float64Array(rows.length).fill(NaN);
    const s = model.scorers[w];
    if (!s) return out;
    for (let k = 0; k < rows.length; k++) {
      const i = rows[k]!;
      if (!runningAt(data, i, T)) continue;
      let z = s.intercept;
      for (let t = 0; t < s.coef.length; t++) {
        const v = data.features[s.w[t]!]![i * p + s.j[t]!]!;
        z += s.coef[t]! * (v === v ? v : s.fill[t]!);
      }
      out[k] = sigmoid(z);
    }
    return out;
  });
}

/** Per window column, the median over `rows` running at that window (NaN skipped; 0 when there is none). */
export function windowFillMedians(data: StopData, rows: ArrayLike<number>): Float64Array[] {
  const p = data.featureNames.length;
  return data.windows.map((T, w) => {
    const X = data.features[w]!;
    const med = new Float64Array(p);
    const vals: number[] = [];
    for (let j = 0; j < p; j++) {
      vals.length = 0;
      for (let k = 0; k < rows.length; k++) {
        const i = rows[k]!;
        if (!runningAt(data, i, T)) continue;
        const v = X[i * p + j]!;
        if (v === v) vals.push(v);
      }
      med[j] = median(vals);
    }
    return med;
  });
}

function median(vals: number[]): number {
  if (vals.length === 0) return 0;
  vals.sort((a, b) => a - b);
  const m = vals.length >> 1;
  return vals.length % 2 ? vals[m]! : (vals[m - 1]! + vals[m]!) / 2;
}

function fitWindowModel(data: StopData, rows: ArrayLike<number>): FittedStopModel | null {
  const p = data.featureNames.length;
  const fills = windowFillMedians(data, rows);
  let any = false;
  const scorers = data.windows.map((T, w) => {
    const run: number[] = [];
    let pos = 0;
    for (let k = 0; k < rows.length; k++) if (runningAt(data, rows[k]!, T)) { run.push(rows[k]!); pos += data.y[rows[k]!]!; }
    if (pos < MIN_CLASS_ROWS || run.length - pos < MIN_CLASS_ROWS) return null;
    const X = new Float64Array(run.length * p);
    const y = new Uint8Array(run.length);
    const F = data.features[w]!;
    const fill = fills[w]!;
    for (let r = 0; r < run.length; r++) {
      const i = run[r]!;
      y[r] = data.y[i]!;
      for (let j = 0; j < p; j++) { const v = F[i * p + j]!; X[r * p + j] = v === v ? v : fill[j]!; }
    }
    const { coef, intercept } = fitStandardised(X, run.length, p, y);
    any = true;
    return {
      w: Array.from({ length: p }, () => w), j: Array.from({ length: p }, (_, j) => j), fill: Array.from(fill),
      coef: Array.from(coef), intercept,
    };
  });
  return any ? { kind: 'window', scorers } : null;
}

/** Column count of the hazard design for W windows and p features: p levels, p changes, W − 1 window indicators. */
export function hazardDesignWidth(W: number, p: number): number {
  return 2 * p + W - 1;
}

/**
 * The hazard model's design matrix over `rows`: one row per (sample, window) with the sample running at the window,
 * ordered by sample then window; with its labels and the (row, window) of each design row. Exported for the tests.
 */
export function hazardDesign(data: StopData, rows: ArrayLike<number>, fills: readonly Float64Array[]): { X: Float64Array; y: Uint8Array; n: number; d: number; sample: Int32Array; window: Int32Array } {
  const p = data.featureNames.length;
  const W = data.windows.length;
  const d = hazardDesignWidth(W, p);
  const sample: number[] = [];
  const window: number[] = [];
  for (let k = 0; k < rows.length; k++) {
    const i = rows[k]!;
    for (let w = 0; w < W; w++) if (runningAt(data, i, data.windows[w]!)) { sample.push(i); window.push(w); }
  }
  const n = sample.length;
  const X = new Float64Array(n * d);
  const y = new Uint8Array(n);
  const val = (w: number, i: number, j: number) => { const v = data.features[w]![i * p + j]!; return v === v ? v : fills[w]![j]!; };
  for (let r = 0; r < n; r++) {
    const i = sample[r]!, w = window[r]!;
    y[r] = data.y[i]!;
    const o = r * d;
    for (let j = 0; j < p; j++) {
      const x = val(w, i, j);
      X[o + j] = x;
      X[o + p + j] = w === 0 ? 0 : x - val(w - 1, i, j);
    }
    if (w > 0) X[o + 2 * p + w - 1] = 1;
  }
  return { X, y, n, d, sample: Int32Array.from(sample), window: Int32Array.from(window) };
}

function fitHazardModel(data: StopData, rows: ArrayLike<number>): FittedStopModel | null {
  const p = data.featureNames.length;
  const fills = windowFillMedians(data, rows);
  const { X, y, n, d } = hazardDesign(data, rows, fills);
  let pos = 0;
  for (let r = 0; r < n; r++) pos += y[r]!;
  if (pos < MIN_CLASS_ROWS || n - pos < MIN_CLASS_ROWS) return null;
  const { coef, intercept } = fitStandardised(X, n, d, y);
  // coef/intercept act on the RAW design columns (standardiser folded in); collapse per window onto raw window columns.
  const scorers = data.windows.map((_, w) => {
    const terms: Array<{ w: number; j: number; fill: number; coef: number }> = [];
    for (let j = 0; j < p; j++) terms.push({ w, j, fill: fills[w]![j]!, coef: coef[j]! + (w > 0 ? coef[p + j]! : 0) });
    if (w > 0) for (let j = 0; j < p; j++) terms.push({ w: w - 1, j, fill: fills[w - 1]![j]!, coef: -coef[p + j]! });
    return {
      w: terms.map((t) => t.w), j: terms.map((t) => t.j), fill: terms.map((t) => t.fill), coef: terms.map((t) => t.coef),
      intercept: intercept + (w > 0 ? coef[2 * p + w - 1]! : 0),
    };
  });
  return { kind: 'hazard', scorers };
}

/** Standardise → balanced L2 LR (C = 1) → coefficients and intercept on the raw (unstandardised) columns. */
function fitStandardised(X: Float64Array, n: number, p: number, y: Uint8Array): { coef: Float64Array; intercept: number } {
  const st = fitStandardizer(X, n, p);
  const Z = applyStandardizer(st, X, n, p);
  const fit = fitLogisticRegression(Z, n, p, y);
  const coef = new Float64Array(p);
  let intercept = fit.intercept;
  for (let j = 0; j < p; j++) {
    coef[j] = fit.coef[j]! / st.scale[j]!;
    intercept -= coef[j]! * st.mean[j]!;
  }
  return { coef, intercept };
}

/** A fitted model's scorer at one window in the model file's form (`WindowClassifier` minus `oof`/`stop`/`n`). */
export interface ExportedScorer {
  readonly window: number;
  readonly featureNames: string[];
  readonly fill: number[];
  readonly mean: number[];
  readonly scale: number[];
  readonly coef: number[];
  readonly intercept: number;
}

/**
 * The model's per-window scorers as model-file classifiers: coefficients on the raw columns (mean 0, scale 1), the
 * columns named by `columnName(window T, base feature)` — the live record's names. Windows without a scorer are left
 * out. `scoreClassifier` on these reproduces {@link stopModelRisks} exactly (up to float rounding).
 */
export function exportStopModel(model: FittedStopModel, data: StopData, columnName: (T: number, feature: string) => string): ExportedScorer[] {
  const out: ExportedScorer[] = [];
  model.scorers.forEach((s, w) => {
    if (!s) return;
    const names = s.coef.map((_, t) => columnName(data.windows[s.w[t]!]!, data.featureNames[s.j[t]!]!));
    out.push({
      window: data.windows[w]!, featureNames: names, fill: [...s.fill], mean: names.map(() => 0), scale: names.map(() => 1),
      coef: [...s.coef], intercept: s.intercept,
    });
  });
  return out;
}
