import { logGamma } from '../models/clopper-pearson.ts';

/**
 * The probability that a question's current vote leader is still the plurality once every sample has finished —
 * the rule of `failmode sample --prune vote` (Adaptive-Consistency, Aggarwal et al. 2023, stops on a Dirichlet
 * posterior over answer shares; this one asks the question the vote actually needs answered).
 *
 * ## The model
 * Each sample still to come (running or not started) draws its vote i.i.d. from shares θ over m categories: every
 * answer seen so far, ONE "answer not seen yet" category, and — when some samples already ended without a vote —
 * a "no vote" category. θ ~ Dirichlet(a) with a = tally + `prior` for the seen answers (tally = votes, or the
 * (1 − risk)-weighted sum of a weighted vote), `prior` for the new answer, and the number of abstentions (no prior)
 * for "no vote". The R remaining votes are then Dirichlet-multinomial(R, a) (the posterior predictive).
 * The leader L (largest tally; ties → first seen) stays the plurality iff for every other answer b:
 * tally_b + x_b < tally_L + x_L (strictly: a tie counts as lost, whatever the vote's tie rule would say).
 * Conservative choices: the unseen-answer category is one competitor (wrong answers that scatter can only do less);
 * ties count against the leader; each remaining sample counts as a full vote even in a weighted vote.
 *
 * ## Computation
 * Exact, by the chain rule of the Dirichlet-multinomial: x_L ~ BetaBinomial(R, a_L, A − a_L), then each next category
 * x_i ~ BetaBinomial(R − used, a_i, Σ_{j>i} a_j), the last one taking what is left; a dynamic programme over "votes
 * used" with each category's cap gives P in O(m · R³). Above `exactLimit` operations (large n) a seeded Monte Carlo
 * over the Pólya urn (the same predictive) gives it, `exact: false`.
 *
 * ## Example
 * 3 votes for A, none against, 5 samples to come, prior 1: a = (A: 4, new: 1); B needs ≥ 4 of the 5 draws:
 * P(A stays) = 1 − P(x_new ≥ 4) = 1 − (5·B(5,2) + B(6,1)) / B(1,4)… = 0.9603 (see the test's enumeration).
 */
export interface VotePosteriorInput {
  /** Vote total per answer seen so far (counts, or (1 − risk)-weighted sums), in first-seen order; ≥ 0. */
  readonly tallies: readonly number[];
  /** Samples that ended without a vote (no answer extracted). Stopped samples are simply not remaining. */
  readonly abstained: number;
  /** Samples still to come: running or not started (stopped ones excluded). */
  readonly remaining: number;
  /** Dirichlet prior per answer category. @default 1 */
  readonly prior?: number;
  /** Largest O(m·R³) work done exactly. @default 2e7 */
  readonly exactLimit?: number;
  /** Monte Carlo draws above the limit. @default 20000 */
  readonly draws?: number;
  /** Seed of the Monte Carlo. @default 1 */
  readonly seed?: number;
}

export interface VotePosterior {
  /** Index (into `tallies`) of the leader; null when nothing was voted yet. */
  readonly leader: number | null;
  /** P(the leader is still the strict plurality after the remaining samples); 0 without a leader. */
  readonly probability: number;
  readonly exact: boolean;
}

export function votePosterior(input: VotePosteriorInput): VotePosterior {
  const { tallies, abstained, remaining: R } = input;
  const prior = input.prior ?? 1;
  if (!(Number.isInteger(R) && R >= 0)) throw new RangeError(`Expected \`remaining\` to be a whole number, got ${R}`);
  if (!(Number.isFinite(abstained) && abstained >= 0)) throw new RangeError(`Expected \`abstained\` ≥ 0, got ${abstained}`);
  if (!(prior > 0 && Number.isFinite(prior))) throw new RangeError(`Expected \`prior\` > 0, got ${prior}`);
  let leader: number | null = null;
  for (let i = 0; i < tallies.length; i++) {
    const t = tallies[i]!;
    if (!(Number.isFinite(t) && t >= 0)) throw new RangeError(`Expected tallies[${i}] ≥ 0, got ${t}`);
    if (t > 0 && (leader === null || t > tallies[leader]!)) leader = i;
  }
  if (leader === null) return { leader: null, probability: 0, exact: true };
  const cL = tallies[leader]!;
  // Competitors: the other seen answers and one unseen answer (tally 0); then "no vote" if any.
  const others: Array<{ tally: number; a: number }> = [];
  for (let i = 0; i < tallies.length; i++) if (i !== leader) others.push({ tally: tallies[i]!, a: tallies[i]! + prior });
  others.push({ tally: 0, a: prior });
  const aL = cL + prior;
  const aNone = abstained;
  if (R === 0) return { leader, probability: others.every((o) => o.tally < cL) ? 1 : 0, exact: true };

  const m = others.length + 1 + (aNone > 0 ? 1 : 0);
  const work = m * (R + 1) ** 3;
  if (work > (input.exactLimit ?? 2e7)) return { leader, probability: monteCarlo(cL, aL, others, aNone, R, input.draws ?? 20_000, input.seed ?? 1), exact: false };

  // Mass after each competitor (for the chain rule's BetaBinomial second parameter).
  const after = new Float64Array(others.length);
  let acc = aNone;
  for (let i = others.length - 1; i >= 0; i--) { after[i] = acc; acc += others[i]!.a; }
  const aRest = acc; // Σ of every competitor and "no vote"
  let p = 0;
  let dp = new Float64Array(R + 1);
  let next = new Float64Array(R + 1);
  for (let xL = 0; xL <= R; xL++) {
    const pL = betaBinomial(xL, R, aL, aRest);
    if (pL === 0) continue;
    const budget = R - xL;
    dp.fill(0);
    dp[0] = pL;
    for (let i = 0; i < others.length; i++) {
      const o = others[i]!;
      const cap = strictCap(cL + xL - o.tally);
      next.fill(0);
      const last = i === others.length - 1 && aNone === 0;
      for (let u = 0; u <= budget; u++) {
        const w = dp[u]!;
        if (w === 0) continue;
        const left = budget - u;
        if (last) {
          if (left <= cap) next[budget] += w;
          continue;
        }
        const hi = Math.min(left, cap);
        for (let x = 0; x <= hi; x++) next[u + x] += w * betaBinomial(x, left, o.a, after[i]!);
      }
      [dp, next] = [next, dp];
    }
    // "No vote" (if present) takes whatever is left, unconstrained; without it the last competitor already did.
    for (let u = 0; u <= budget; u++) p += dp[u]!;
  }
  return { leader, probability: Math.min(1, Math.max(0, p)), exact: true };
}

/** Largest integer x with x < d (d = leader's final tally − the competitor's current tally). */
function strictCap(d: number): number {
  const r = Math.round(d);
  return Math.abs(d - r) < 1e-9 ? r - 1 : Math.floor(d);
}

/** P(X = x), X ~ BetaBinomial(n, α, β); β = 0 puts all the mass on x = n. */
export function betaBinomial(x: number, n: number, alpha: number, beta: number): number {
  if (x < 0 || x > n) return 0;
  if (beta === 0) return x === n ? 1 : 0;
  if (alpha === 0) return x === 0 ? 1 : 0;
  const lnChoose = logGamma(n + 1) - logGamma(x + 1) - logGamma(n - x + 1);
  const lnB = (a: number, b: number) => logGamma(a) + logGamma(b) - logGamma(a + b);
  return Math.exp(lnChoose + lnB(x + alpha, n - x + beta) - lnB(alpha, beta));
}

/** The same probability by simulating the Pólya urn (exactly the Dirichlet-multinomial predictive), seeded. */
function monteCarlo(cL: number, aL: number, others: ReadonlyArray<{ tally: number; a: number }>, aNone: number, R: number, draws: number, seed: number): number {
  const m = others.length;
  const a = new Float64Array(m + 2);
  const x = new Int32Array(m + 2);
  let s = seed >>> 0;
  const rand = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let wins = 0;
  for (let d = 0; d < draws; d++) {
    a[0] = aL;
    for (let i = 0; i < m; i++) a[i + 1] = others[i]!.a;
    a[m + 1] = aNone;
    x.fill(0);
    let total = aL + aNone;
    for (let i = 0; i < m; i++) total += others[i]!.a;
    for (let r = 0; r < R; r++) {
      let u = rand() * total;
      let k = 0;
      while (k < m + 1 && u >= a[k]!) { u -= a[k]!; k++; }
      a[k]++;
      x[k]++;
      total++;
    }
    let win = true;
    for (let i = 0; i < m && win; i++) if (!(others[i]!.tally + x[i + 1]! < cL + x[0]! - 1e-9)) win = false;
    if (win) wins++;
  }
  return wins / draws;
}
