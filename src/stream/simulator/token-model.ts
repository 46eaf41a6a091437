import type { Rng } from './rng.ts';

/** Alternatives the simulator's "vocabulary" has per position (the paper's pipelines asked vLLM for top-200). */
export const SIM_VOCAB = 200;

/** Scores below the top by more than this contribute < 1e-17 to the normaliser: stop summing there. */
const CUTOFF = 40;

/** Shape of the per-token distributions (fitted per calibration profile). */
export interface TokenShape {
  /** Zipf exponent of the tail: alternative j ≥ 2 sits `shape·ln j` (scaled) below the runner-up. */
  readonly shape: number;
  /** How far (nats) below the runner-up the tail starts: sets the background mass spread over the tail. */
  readonly tailOffset: number;
  /** Temperature the chosen token is sampled at (the paper's runs used 0.6; servers report temperature-1 logprobs). */
  readonly sampleTemperature: number;
}

/** Result of one draw (reused by the caller). */
export interface TokenDraw {
  /** 0-based rank of the sampled token among the alternatives (0 = the most likely). */
  chosenRank: number;
  /** Its log-probability over the whole simulated vocabulary (temperature 1, as servers report). */
  chosenLogprob: number;
}

/**
 * One token's next-token distribution at uncertainty ("temperature") `tau` > 0, over SIM_VOCAB alternatives sorted by
 * probability. Scores: `s_0 = 0`; the runner-up `s_1 = s_0 − E₁/tau` and the third `s_2 = s_1 − E₂/tau` compete at a
 * rate set by tau (near-ties, forks, margin, nucleus size); a thin Zipf tail `s_j = s_2 − E₃ − tailOffset −
 * shape·ln(j−1)` for j ≥ 3 adds the background entropy real top-200 lists show (E₁, E₂, E₃ ~ Exp(1)).
 * Writes the log-probabilities (normalised over the whole vocabulary) of the first `k` alternatives into
 * `logprobs[0..k)`, samples the chosen token at `sampleTemperature`, and returns its rank and log-probability in `out`.
 * Uses exactly four random numbers per call whatever k is. Allocation-free; cost O(alternatives within CUTOFF + k).
 */
export function drawToken(tau: number, p: TokenShape, rng: Rng, k: number, logprobs: Float64Array, out: TokenDraw): TokenDraw {
  const s1 = -rng.exp() / tau;
  const s2 = s1 - rng.exp() / tau;
  const tailBase = s2 - rng.exp() - p.tailOffset;
  const shape = p.shape;
  // Normalisers over the vocabulary at temperature 1 (z1) and at the sampling temperature (zs).
  const invT = 1 / p.sampleTemperature;
  let z1 = 1 + Math.exp(s1) + Math.exp(s2);
  let zs = 1 + Math.exp(s1 * invT) + Math.exp(s2 * invT);
  let n = 3; // alternatives that matter
  for (; n < SIM_VOCAB; n++) {
    const s = tailBase - shape * Math.log(n - 1);
    if (s < -CUTOFF) break;
    z1 += Math.exp(s);
    zs += Math.exp(s * invT);
  }
  const lse = Math.log(z1);
  if (k > 0) logprobs[0] = -lse;
  if (k > 1) logprobs[1] = s1 - lse;
  if (k > 2) logprobs[2] = s2 - lse;
  for (let i = 3; i < k; i++) logprobs[i] = tailBase - shape * Math.log(i - 1) - lse;
  // Sample at the sampling temperature: walk the sorted alternatives.
  let u = rng.next() * zs - 1;
  let rank = 0;
  let s = 0;
  if (u >= 0) {
    rank = 1;
    s = s1;
    u -= Math.exp(s1 * invT);
    if (u >= 0) {
      rank = 2;
      s = s2;
      u -= Math.exp(s2 * invT);
      while (u >= 0 && rank < n - 1) {
        rank++;
        s = tailBase - shape * Math.log(rank - 1);
        u -= Math.exp(s * invT);
      }
    }
  }
  out.chosenRank = rank;
  out.chosenLogprob = s - lse;
  return out;
}
