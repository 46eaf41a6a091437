/**
 * Per-token uncertainty signals, SPEC §1.2 — the single definition used by the online monitor and the offline tools.
 *
 * All distribution-shaped signals renormalise over the k returned top-logprobs only (not the full vocabulary), so they
 * depend on k: entropy over a top-20 list is a lower bound on, and not comparable with, entropy over a top-200 list.
 * NLL is −logprob of the chosen token as the server reports it (full vocabulary, not renormalised).
 */

/** Signal parameters; the paper used nucleus_p 0.7 / tie_delta 0.5 (MATH, GPQA, LCB) and 0.9 / 0.1 (GSM8K). */
export interface SignalParams {
  /** Nucleus mass p: nucleus size is the smallest i whose cumulative renormalised probability reaches p. */
  readonly nucleusP: number;
  /** Near-tie window in natural-log units, on the raw logprobs. */
  readonly tieDelta: number;
}

export const DEFAULT_SIGNAL_PARAMS: SignalParams = { nucleusP: 0.7, tieDelta: 0.5 };

/** The five top-k–derived signals of one token (NLL is separate: it exists even without a top-k list). */
export interface TopKSignals {
  entropy: number;
  margin: number;
  nucleusSize: number;
  nearTie: number;
  fork: number;
}

/**
 * Computes the top-k signals of one token into `out` without allocating.
 * `logprobs[0..k)` are the top-logprob values in server order; `scratch` must hold ≥ k numbers (it is overwritten).
 * k must be ≥ 1 — a token with an empty or missing list has no top-k signals (SPEC §1.3 skips it).
 */
export function computeTopKSignals(logprobs: ArrayLike<number>, k: number, params: SignalParams, scratch: Float64Array, out: TopKSignals): TopKSignals {
  // Stable log-sum-exp; also find the top two raw values (a second equal maximum becomes p_(2): margin 0).
  let m = -Infinity;
  let second = -Infinity;
  for (let j = 0; j < k; j++) {
    const l = logprobs[j]!;
    if (l > m) { second = m; m = l; } else if (l > second) second = l;
  }
  let sum = 0;
  for (let j = 0; j < k; j++) sum += Math.exp(logprobs[j]! - m);
  const lse = m + Math.log(sum);

  let entropy = 0;
  let ties = 0;
  const tieFloor = m - params.tieDelta;
  for (let j = 0; j < k; j++) {
    const l = logprobs[j]!;
    const p = Math.exp(l - lse);
    scratch[j] = p;
    if (p > 0) entropy -= p * Math.log(p);
    if (l >= tieFloor) ties++;
  }
  const p1 = Math.exp(m - lse);
  const p2 = k > 1 ? Math.exp(second - lse) : 0;

  // Nucleus: sort the renormalised probabilities descending (insertion sort: k ≤ a few hundred, usually sorted already).
  for (let i = 1; i < k; i++) {
    const v = scratch[i]!;
    let j = i - 1;
    while (j >= 0 && scratch[j]! < v) { scratch[j + 1] = scratch[j]!; j--; }
    scratch[j + 1] = v;
  }
  let cum = 0;
  let nucleus = k;
  for (let i = 0; i < k; i++) {
    cum += scratch[i]!;
    if (cum >= params.nucleusP) { nucleus = i + 1; break; }
  }

  out.entropy = entropy;
  out.margin = p1 - p2;
  out.nucleusSize = nucleus;
  out.nearTie = Math.max(0, ties - 1);
  out.fork = ties - 1 > 0 ? 1 : 0;
  return out;
}
