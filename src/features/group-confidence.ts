/**
 * DeepConf's online confidence signals (Fu et al. 2025, "Deep Think with Confidence"), O(1) per token and
 * allocation-free, the one definition used by the live record and the DeepConf-style stop policy.
 *
 * - token confidence  C_i = −(1/k) · Σ_{j≤k} log p_i(j), over the token's top-k logprobs as the server reports them
 *   (not renormalised; higher = more confident). Entries that are not finite (−∞ for a masked token) are left out
 *   of the mean; a token with no finite entry (or no top-k list) has no confidence and is skipped by every aggregate;
 * - group confidence  C_G = mean of C over the last G tokens (a sliding group; over all tokens while fewer than G);
 * - lowest group confidence = min of C_G over every full group so far; while fewer than G tokens were seen, the mean
 *   so far (DeepConf's `compute_least_grouped` does the same);
 * - tail confidence = mean of C over the last G tokens (the group confidence at the last token);
 * - mean confidence = mean of C over all tokens.
 *
 * Like entropy over a top-k list, C depends on k: a top-20 confidence is not comparable with a top-5 one.
 * The group sum is a running sum, re-summed exactly from the ring at every wrap so rounding never accumulates.
 *
 * ## Example
 * G = 2, confidences 3, 1, 2 → group confidence 1.5 (last two), lowest group confidence min(2, 1.5) = 1.5,
 * tail 1.5, mean 2.
 */
export class GroupConfidence {
  /** G: tokens per group. */
  readonly groupSize: number;
  private readonly ring: Float64Array;
  private n = 0;
  private head = 0;
  private groupSum = 0;
  private totalSum = 0;
  private lowest = Infinity;

  constructor(groupSize: number = DEFAULT_CONF_GROUP_SIZE) {
    if (!Number.isInteger(groupSize) || groupSize < 1 || groupSize > 1 << 20) {
      throw new TypeError(`Expected the confidence group size to be an integer from 1 to ${1 << 20}, got \`${groupSize}\` (${typeof groupSize})`);
    }
    this.groupSize = groupSize;
    this.ring = new Float64Array(groupSize);
  }

  reset(): void {
    this.ring.fill(0);
    this.n = 0;
    this.head = 0;
    this.groupSum = 0;
    this.totalSum = 0;
    this.lowest = Infinity;
  }

  copyFrom(other: GroupConfidence): void {
    if (other.groupSize !== this.groupSize) throw new RangeError(`Cannot copy a group of ${other.groupSize} into one of ${this.groupSize}`);
    this.ring.set(other.ring);
    this.n = other.n;
    this.head = other.head;
    this.groupSum = other.groupSum;
    this.totalSum = other.totalSum;
    this.lowest = other.lowest;
  }

  /** Tokens with a confidence so far. */
  get count(): number {
    return this.n;
  }

  /** Whether a full group of G tokens has been seen (DeepConf's online rule only compares full groups). */
  get groupFull(): boolean {
    return this.n >= this.groupSize;
  }

  /** Adds one token's confidence (from {@link tokenConfidence}); NaN is ignored. */
  push(conf: number): void {
    if (Number.isNaN(conf)) return;
    const G = this.groupSize;
    if (this.n >= G) this.groupSum -= this.ring[this.head]!;
    this.ring[this.head] = conf;
    this.groupSum += conf;
    this.totalSum += conf;
    this.n++;
    this.head++;
    if (this.head === G) {
      this.head = 0;
      // Exact re-sum once per G tokens: O(1) amortised, and the sliding sum never drifts.
      let s = 0;
      for (let i = 0; i < G; i++) s += this.ring[i]!;
      this.groupSum = s;
    }
    if (this.n >= G) {
      const g = this.groupSum / G;
      if (g < this.lowest) this.lowest = g;
    }
  }

  /** Mean confidence of the last min(n, G) tokens; NaN before any token. */
  get groupConfidence(): number {
    if (this.n === 0) return NaN;
    return this.groupSum / Math.min(this.n, this.groupSize);
  }

  /** Lowest full-group confidence so far; the mean so far while fewer than G tokens were seen; NaN before any. */
  get lowestGroupConfidence(): number {
    if (this.n === 0) return NaN;
    return this.n >= this.groupSize ? this.lowest : this.totalSum / this.n;
  }

  /** Mean confidence of the last G tokens (fewer at the start). */
  get tailConfidence(): number {
    return this.groupConfidence;
  }

  /** Mean confidence of every token so far. */
  get meanConfidence(): number {
    return this.n === 0 ? NaN : this.totalSum / this.n;
  }
}

/** Default G of the live record: the paper's smallest early window (DeepConf used 2048 on 32k-token traces). */
export const DEFAULT_CONF_GROUP_SIZE = 128;

/**
 * Token confidence C = −(1/k) · Σ log p(j) over `logprobs[0..k)` (non-finite entries left out); NaN when none is finite.
 */
export function tokenConfidence(logprobs: ArrayLike<number>, k: number): number {
  let sum = 0;
  let m = 0;
  for (let j = 0; j < k; j++) {
    const l = logprobs[j]!;
    if (Number.isFinite(l)) { sum += l; m++; }
  }
  return m === 0 ? NaN : -sum / m;
}

/** {@link tokenConfidence} of a token event's top-k list (same rule), without copying it. NaN for an empty list. */
export function topListConfidence(top: ReadonlyArray<{ readonly logprob: number }>): number {
  let sum = 0;
  let m = 0;
  for (let j = 0; j < top.length; j++) {
    const l = top[j]!.logprob;
    if (Number.isFinite(l)) { sum += l; m++; }
  }
  return m === 0 ? NaN : -sum / m;
}

/** Record columns of the DeepConf signals (docs/early-stopping.md, "DeepConf confidence columns"). */
export const CONF_COLUMNS = {
  mean: 'conf_mean',
  lowestGroup: 'conf_lowest_group',
  tail: 'conf_tail',
  groupSize: 'conf_group_size',
  tokens: 'conf_tokens',
} as const;

/** Writes the DeepConf columns of a sample's confidence state into `out`. */
export function writeConfidenceColumns(out: Record<string, number | string | null>, g: GroupConfidence): void {
  out[CONF_COLUMNS.mean] = g.meanConfidence;
  out[CONF_COLUMNS.lowestGroup] = g.lowestGroupConfidence;
  out[CONF_COLUMNS.tail] = g.tailConfidence;
  out[CONF_COLUMNS.groupSize] = g.groupSize;
  out[CONF_COLUMNS.tokens] = g.count;
}
