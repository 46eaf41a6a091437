import { binomialCdf, clopperPearsonUpper } from './clopper-pearson.ts';

/**
 * Risk-controlled stop thresholds: choose the thresholds of ALL early windows together so that the whole live stop
 * rule has a stated error rate with a stated confidence over the calibration data (Learn-then-Test, fixed-sequence
 * testing with Clopper–Pearson bounds). Pure functions over typed arrays; no IO.
 *
 * ## The live rule
 * A sample is stopped at the first window T (ascending) at which it is still running and its risk at T ≥ threshold[T].
 * In a {@link RiskRows} table a sample that is not running at T (or was not scored there) has risk NaN at T.
 *
 *   false-kill rate = correct samples stopped / correct samples        (y = 0 is correct, y = 1 a failure)
 *   precision       = failures stopped / samples stopped
 *   recall          = failures stopped / failures
 *   tokens saved    = Σ_stopped (fullLen − T_stop)⁺ / Σ fullLen        (needs `fullLen`)
 *
 * ## The family: one common threshold λ for every window
 * thresholds[T] = λ for every T. A sample is then stopped iff M = max over its scored windows of risk ≥ λ (the first
 * window reaching λ exists iff the largest risk does), so the set of stopped samples grows as λ falls and the false-kill
 * count is monotone in λ. Why this family rather than per-window thresholds at a common quantile: it is fixed before the
 * calibration data is seen (a per-window quantile is computed FROM the calibration rows, which the fixed-sequence
 * argument does not cover), it has one parameter so the scan is exact, and the window classifiers are the same
 * estimator (balanced logistic regression) whose outputs live on one probability scale. The same holds for a
 * one-feature baseline scored with the same feature at every window.
 *
 * ## The procedure (`calibrateStopRule`)
 * λ is scanned from most to least conservative: the distinct values of M in decreasing order (all ties enter
 * together). At each λ the whole rule's errors on the calibration rows give a one-sided Clopper–Pearson upper bound
 * at confidence 1 − δ; the scan stops at the first λ whose bound exceeds α and returns the last λ that passed.
 * - `maxFalseKill` α (default 0.05): bound = CP upper(false kills, correct samples, δ). Validity: for a fixed λ the
 *   false kills are Binomial(#correct, true false-kill rate at λ); fixed-sequence testing of H_λ: rate(λ) > α in this
 *   order controls the family-wise error at δ, so P(true false-kill rate of the returned rule ≤ α) ≥ 1 − δ over the
 *   calibration draw, given the number of correct calibration samples (Bates et al. 2021; Angelopoulos et al. 2021).
 *   Scanning only the observed values is the same as scanning every real λ (the bound changes only there) and
 *   returning the lowest observed λ of the accepted run, which is at least as conservative.
 * - `targetPrecision` p: bound = CP upper(stopped correct, stopped, δ) on 1 − precision, which must stay ≤ α = 1 − p.
 *   This bound is CONDITIONAL on the number of samples the rule stops at λ (given s stopped samples, the stopped
 *   correct ones are a binomial draw among them); it says nothing about how many samples a live run will stop. A λ
 *   that stops few samples cannot pass (CP(0, s, δ) = 1 − δ^(1/s)), so in this mode the scan starts at the first λ that
 *   stops at least s_min = ⌈ln δ / ln(1 − α)⌉ samples — a start chosen from the scores alone, not the labels.
 * Null thresholds (never stop) when even the first λ tested fails (or there is none): never a made-up threshold.
 *
 * Assumption: calibration samples and live samples are exchangeable (drawn from the same distribution), and the risks
 * are the ones the live rule will see (out-of-fold scores stand in for the final model's; see docs/early-stopping.md).
 *
 * ## API
 * - {@link riskRowsFromColumns}(windows, perWindowRisk, y, fullLen?) → {@link RiskRows} (n × W row-major risks)
 * - {@link calibrateStopRule}(rows, {maxFalseKill?, targetPrecision?, delta?}) → {@link StopRuleCalibration}
 *   ({thresholds: Float64Array | null, lambda, guarantee: {@link StopGuarantee}})
 * - {@link stopWindowIndex}(rows, thresholds) → Int32Array: per sample the index of its stop window, −1 = not stopped
 * - {@link evaluateStopRule}(rows, thresholds) → {@link StopOutcome} (counts and rates of the rule on `rows`)
 * - {@link poolStopOutcomes}(outcomes) → one {@link StopOutcome} (e.g. held-out folds of a cross-fitted evaluation)
 * - {@link subsetRiskRows}(rows, indices) → the rows at `indices` (training / held-out folds)
 *
 * ## Example
 * windows [128, 256]; risks (NaN = not running) a: [0.9, NaN] fail, b: [0.2, 0.8] correct, c: [0.3, 0.4] fail,
 * d: [0.1, NaN] correct. M = [0.9, 0.8, 0.4, 0.1]. At λ = 0.9 only a is stopped (0 false kills); at λ = 0.8 b is stopped
 * at T = 256 (1 false kill of 2 correct). With 2 correct samples CP(0, 2, 0.1) = 1 − 0.1^½ ≈ 0.684, so for α = 0.05
 * even λ = 0.9 fails: thresholds null (never stop).
 */

/** The calibration (or evaluation) table: per sample, per window, the risk the live rule would see. */
export interface RiskRows {
  /** Early windows T, strictly increasing. */
  readonly windows: ArrayLike<number>;
  /** n × W, row-major: risk[i * W + w] is sample i's risk at windows[w]; NaN = not running at T or not scored. */
  readonly risk: Float64Array;
  /** Per sample: 1 = failure, 0 = correct. */
  readonly y: ArrayLike<number>;
  /** Optional per-sample token count of the whole generation (for tokens saved); NaN counts as unknown (0 saved). */
  readonly fullLen?: ArrayLike<number> | null;
}

export type StopControl = 'false-kill' | 'precision';

export interface CalibrateStopRuleOptions {
  /** Largest acceptable false-kill rate α (default 0.05 unless `targetPrecision` is given). */
  readonly maxFalseKill?: number;
  /** Control 1 − precision ≤ 1 − p instead of the false-kill rate (exclusive with `maxFalseKill`). */
  readonly targetPrecision?: number;
  /** 1 − confidence (default 0.1). */
  readonly delta?: number;
}

/** What a stop rule did on a set of rows. */
export interface StopOutcome {
  readonly n: number;
  readonly correct: number;
  readonly failures: number;
  readonly stops: number;
  /** Correct samples stopped. */
  readonly falseKills: number;
  readonly stoppedFailures: number;
  /** Σ over stopped samples of (fullLen − T_stop)⁺, and Σ fullLen (both 0 without lengths). */
  readonly tokensSaved: number;
  readonly totalTokens: number;
  /** falseKills / correct (NaN without correct samples). */
  readonly falseKillRate: number;
  /** stoppedFailures / stops (NaN when nothing is stopped). */
  readonly precision: number;
  /** stoppedFailures / failures (NaN without failures). */
  readonly recall: number;
  /** tokensSaved / totalTokens (NaN without lengths). */
  readonly tokensSavedShare: number;
}

/** The guarantee a calibrated rule carries, and what it did on the calibration rows. */
export interface StopGuarantee {
  readonly family: 'common-threshold';
  readonly control: StopControl;
  /** The controlled rate's bound: max false-kill rate, or max 1 − precision (= 1 − target precision). */
  readonly alpha: number;
  readonly delta: number;
  /** Correct calibration samples (the binomial n of the false-kill bound). */
  readonly calibrationN: number;
  /** All calibration samples and failures among them. */
  readonly n: number;
  readonly failures: number;
  /** At the chosen λ (all 0 when the rule never stops). */
  readonly stops: number;
  readonly falseKills: number;
  readonly stoppedFailures: number;
  /**
   * The Clopper–Pearson upper bound at the chosen λ (≤ alpha); for a never-stopping rule the bound of the first λ
   * tested (> alpha: why it was rejected), null when there was no λ to test.
   */
  readonly bound: number | null;
  /** Calibration figures of the chosen rule (null where undefined: no correct sample, nothing stopped, no lengths). */
  readonly falseKillRate: number | null;
  readonly precision: number | null;
  readonly recall: number | null;
  readonly tokensSaved: number | null;
}

export interface StopRuleCalibration {
  /** One threshold per window (all equal to `lambda`), or null: the rule never stops. */
  readonly thresholds: Float64Array | null;
  readonly lambda: number | null;
  readonly guarantee: StopGuarantee;
}

/** Builds {@link RiskRows} from one risk column per window (NaN = not running / not scored). */
export function riskRowsFromColumns(
  windows: ArrayLike<number>, perWindowRisk: readonly ArrayLike<number>[], y: ArrayLike<number>, fullLen?: ArrayLike<number> | null,
): RiskRows {
  const W = windows.length;
  if (perWindowRisk.length !== W) throw new RangeError(`Expected one risk column per window, got ${perWindowRisk.length} columns for ${W} windows`);
  const n = y.length;
  const risk = new Float64Array(n * W);
  for (let w = 0; w < W; w++) {
    const col = perWindowRisk[w]!;
    if (col.length !== n) throw new RangeError(`Expected ${n} risks at window ${windows[w]}, got ${col.length}`);
    for (let i = 0; i < n; i++) risk[i * W + w] = col[i]!;
  }
  const rows: RiskRows = { windows, risk, y, fullLen: fullLen ?? null };
  checkRows(rows);
  return rows;
}

/** The rows at `indices` (in that order), e.g. the training or held-out folds of a cross-fitted evaluation. */
export function subsetRiskRows(rows: RiskRows, indices: ArrayLike<number>): RiskRows {
  const W = rows.windows.length;
  const m = indices.length;
  const risk = new Float64Array(m * W);
  const y = new Uint8Array(m);
  const fullLen = rows.fullLen ? new Float64Array(m) : null;
  for (let r = 0; r < m; r++) {
    const i = indices[r]!;
    risk.set(rows.risk.subarray(i * W, i * W + W), r * W);
    y[r] = rows.y[i]!;
    if (fullLen) fullLen[r] = rows.fullLen![i]!;
  }
  return { windows: rows.windows, risk, y, fullLen };
}

/**
 * Per sample, the index (into `windows`) of the window the live rule stops it at, −1 when it is never stopped: the
 * first w (ascending) with a finite risk ≥ thresholds[w]. null thresholds stop nothing; a NaN threshold never stops at
 * that window.
 */
export function stopWindowIndex(rows: RiskRows, thresholds: ArrayLike<number> | null, out?: Int32Array): Int32Array {
  checkRows(rows);
  const W = rows.windows.length;
  const n = rows.y.length;
  const res = out ?? new Int32Array(n);
  res.fill(-1, 0, n);
  if (thresholds === null) return res;
  if (thresholds.length !== W) throw new RangeError(`Expected one threshold per window (${W}), got ${thresholds.length}`);
  const risk = rows.risk;
  for (let i = 0; i < n; i++) {
    const base = i * W;
    for (let w = 0; w < W; w++) {
      const r = risk[base + w]!;
      if (r === r && r >= thresholds[w]!) {
        res[i] = w;
        break;
      }
    }
  }
  return res;
}

/** What the rule with `thresholds` (null = never stop) does on `rows`. */
export function evaluateStopRule(rows: RiskRows, thresholds: ArrayLike<number> | null): StopOutcome {
  const stopAt = stopWindowIndex(rows, thresholds);
  const { y, windows } = rows;
  const len = rows.fullLen ?? null;
  let correct = 0, failures = 0, stops = 0, falseKills = 0, stoppedFailures = 0, tokensSaved = 0, totalTokens = 0;
  for (let i = 0; i < y.length; i++) {
    const fail = y[i] === 1;
    if (fail) failures++;
    else correct++;
    const L = len ? len[i]! : NaN;
    if (L === L) totalTokens += L;
    const w = stopAt[i]!;
    if (w < 0) continue;
    stops++;
    if (fail) stoppedFailures++;
    else falseKills++;
    if (L === L) tokensSaved += Math.max(0, L - windows[w]!);
  }
  return outcome(y.length, correct, failures, stops, falseKills, stoppedFailures, tokensSaved, len ? totalTokens : 0);
}

/** Sums the counts of several outcomes (e.g. the held-out folds of a cross-fitted evaluation) and recomputes the rates. */
export function poolStopOutcomes(outcomes: readonly StopOutcome[]): StopOutcome {
  let n = 0, correct = 0, failures = 0, stops = 0, falseKills = 0, stoppedFailures = 0, tokensSaved = 0, totalTokens = 0;
  for (const o of outcomes) {
    n += o.n; correct += o.correct; failures += o.failures; stops += o.stops; falseKills += o.falseKills;
    stoppedFailures += o.stoppedFailures; tokensSaved += o.tokensSaved; totalTokens += o.totalTokens;
  }
  return outcome(n, correct, failures, stops, falseKills, stoppedFailures, tokensSaved, totalTokens);
}

/**
 * Calibrates the common threshold λ of the live rule on `rows` (out-of-fold risks) by fixed-sequence testing with
 * Clopper–Pearson bounds — see the module comment for the procedure and what the guarantee means.
 */
export function calibrateStopRule(rows: RiskRows, options: CalibrateStopRuleOptions = {}): StopRuleCalibration {
  checkRows(rows);
  const { control, alpha, delta } = validateOptions(options);
  const { y, risk } = rows;
  const W = rows.windows.length;
  const n = y.length;

  // M_i: the largest risk over the windows the sample is scored at (−∞: never scored, never stopped).
  const M = new Float64Array(n);
  let correct = 0;
  let scored = 0;
  for (let i = 0; i < n; i++) {
    if (y[i] !== 1) correct++;
    let m = -Infinity;
    for (let w = 0; w < W; w++) {
      const r = risk[i * W + w]!;
      if (r > m) m = r; // NaN compares false
    }
    M[i] = m;
    if (m > -Infinity) scored++;
  }
  const failures = n - correct;
  const order = new Uint32Array(scored);
  for (let i = 0, k = 0; i < n; i++) if (M[i]! > -Infinity) order[k++] = i;
  order.sort((a, b) => M[b]! - M[a]! || a - b);

  // passes(k, m) ⇔ CP upper(k, m, δ) ≤ α ⇔ P(Bin(m, α) ≤ k) ≤ δ (the CDF falls as p grows): one CDF per test.
  const passes = (k: number, m: number) => m > 0 && binomialCdf(k, m, alpha) <= delta;
  // Precision mode: fewer stops than this cannot pass even with no error (CP(0, s, δ) = 1 − δ^(1/s)).
  let minStops = 1;
  if (control === 'precision') {
    minStops = Math.max(1, Math.floor(Math.log(delta) / Math.log(1 - alpha)) - 2);
    while (!passes(0, minStops)) minStops++;
  }

  let lambda: number | null = null;
  let chosen = { stops: 0, falseKills: 0 };
  let firstTested: { k: number; m: number } | null = null;
  let stops = 0;
  let falseKills = 0;
  for (let g = 0; g < scored; ) {
    const t = M[order[g]!]!;
    while (g < scored && M[order[g]!] === t) {
      stops++;
      if (y[order[g]!] !== 1) falseKills++;
      g++;
    }
    if (stops < minStops) continue; // not yet a tested hypothesis (precision mode only; depends on scores, not labels)
    const m = control === 'false-kill' ? correct : stops;
    if (firstTested === null) firstTested = { k: falseKills, m };
    if (!passes(falseKills, m)) break;
    lambda = t;
    chosen = { stops, falseKills };
  }

  const thresholds = lambda === null ? null : new Float64Array(W).fill(lambda);
  const onCal = evaluateStopRule(rows, thresholds);
  if (onCal.stops !== chosen.stops || onCal.falseKills !== chosen.falseKills) {
    throw new Error(`internal error: the scan counted ${chosen.stops} stops / ${chosen.falseKills} false kills, the rule ${onCal.stops} / ${onCal.falseKills}`);
  }
  let bound: number | null;
  if (lambda !== null) bound = clopperPearsonUpper(onCal.falseKills, control === 'false-kill' ? correct : onCal.stops, delta);
  else bound = firstTested === null || firstTested.m === 0 ? null : clopperPearsonUpper(firstTested.k, firstTested.m, delta);
  const finite = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    thresholds,
    lambda,
    guarantee: {
      family: 'common-threshold',
      control,
      alpha,
      delta,
      calibrationN: correct,
      n,
      failures,
      stops: onCal.stops,
      falseKills: onCal.falseKills,
      stoppedFailures: onCal.stoppedFailures,
      bound,
      falseKillRate: finite(onCal.falseKillRate),
      precision: finite(onCal.precision),
      recall: finite(onCal.recall),
      tokensSaved: rows.fullLen ? finite(onCal.tokensSavedShare) : null,
    },
  };
}

function validateOptions(o: CalibrateStopRuleOptions): { control: StopControl; alpha: number; delta: number } {
  const delta = o.delta ?? 0.1;
  if (!(delta > 0 && delta < 1)) throw new RangeError(`Expected delta (1 − confidence) in (0, 1), got ${delta}`);
  if (o.maxFalseKill !== undefined && o.targetPrecision !== undefined) {
    throw new RangeError('Expected either maxFalseKill or targetPrecision, got both');
  }
  if (o.targetPrecision !== undefined) {
    const p = o.targetPrecision;
    if (!(p > 0 && p < 1)) throw new RangeError(`Expected targetPrecision in (0, 1), got ${p}`);
    return { control: 'precision', alpha: 1 - p, delta };
  }
  const alpha = o.maxFalseKill ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`Expected maxFalseKill in (0, 1), got ${alpha}`);
  return { control: 'false-kill', alpha, delta };
}

function checkRows(rows: RiskRows): void {
  const W = rows.windows.length;
  const n = rows.y.length;
  if (rows.risk.length !== n * W) throw new RangeError(`Expected ${n} × ${W} risks, got ${rows.risk.length}`);
  for (let w = 1; w < W; w++) {
    if (!(rows.windows[w]! > rows.windows[w - 1]!)) throw new RangeError(`Expected windows in increasing order, got ${Array.from(rows.windows).join(', ')}`);
  }
  if (rows.fullLen && rows.fullLen.length !== n) throw new RangeError(`Expected ${n} lengths, got ${rows.fullLen.length}`);
}

function outcome(
  n: number, correct: number, failures: number, stops: number, falseKills: number, stoppedFailures: number, tokensSaved: number, totalTokens: number,
): StopOutcome {
  return {
    n, correct, failures, stops, falseKills, stoppedFailures, tokensSaved, totalTokens,
    falseKillRate: correct > 0 ? falseKills / correct : NaN,
    precision: stops > 0 ? stoppedFailures / stops : NaN,
    recall: failures > 0 ? stoppedFailures / failures : NaN,
    tokensSavedShare: totalTokens > 0 ? tokensSaved / totalTokens : NaN,
  };
}
