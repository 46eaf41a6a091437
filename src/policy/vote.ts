/**
 * Self-consistency voting over the answers of one question's samples.
 *
 * - `majority`: plurality of the answer strings, as the paper's MATH pipeline (`Counter.most_common(1)`, SPEC §2.2):
 *   ties go to the answer seen first in ballot order (= completion order).
 * - `weighted`: each ballot counts `1 − risk` (its last failure risk, clamped to [0, 1]; a ballot without a risk counts
 *   1); the answer with the largest total wins, ties again to the first seen.
 *
 * Ballots without an answer (nothing extracted) and stopped samples do not vote: a stopped sample was flagged as
 * failing and its partial text has no final answer. `agreement` = the winner's ballot count / number of voters.
 *
 * ## Example
 * `vote([{answer:'4'},{answer:'5'},{answer:'4'}], 'majority')` → majority '4', counts {4: 2, 5: 1}, agreement 2/3.
 */

export type VoteMethod = 'majority' | 'weighted';
export const VOTE_METHODS: readonly VoteMethod[] = ['majority', 'weighted'];

export interface Ballot {
  readonly answer: string | null;
  /** Last failure risk of the sample (for `weighted`). */
  readonly risk?: number | null;
  /** Stopped samples never vote. */
  readonly stopped?: boolean;
}

export interface VoteResult {
  /** The winning answer, null when nobody voted. */
  readonly majority: string | null;
  /** Ballots per answer, in first-seen order. */
  readonly counts: Readonly<Record<string, number>>;
  /** Total weight per answer (equals `counts` for `majority`). */
  readonly weights: Readonly<Record<string, number>>;
  /** Winner's ballot count / voters; null when nobody voted. */
  readonly agreement: number | null;
  /** Ballots that voted (an answer and not stopped). */
  readonly voters: number;
}

export function vote(ballots: readonly Ballot[], method: VoteMethod = 'majority'): VoteResult {
  const counts = new Map<string, number>();
  const weights = new Map<string, number>();
  let voters = 0;
  for (const b of ballots) {
    if (b.stopped || b.answer === null || b.answer === undefined) continue;
    voters++;
    counts.set(b.answer, (counts.get(b.answer) ?? 0) + 1);
    weights.set(b.answer, (weights.get(b.answer) ?? 0) + (method === 'weighted' ? ballotWeight(b.risk) : 1));
  }
  let majority: string | null = null;
  let best = -Infinity;
  // Map iteration is insertion order, and only a strictly larger total replaces the leader: ties → first seen.
  for (const [answer, w] of weights) {
    if (w > best) { best = w; majority = answer; }
  }
  return {
    majority,
    counts: Object.fromEntries(counts),
    weights: Object.fromEntries(weights),
    agreement: majority === null ? null : counts.get(majority)! / voters,
    voters,
  };
}

function ballotWeight(risk: number | null | undefined): number {
  if (typeof risk !== 'number' || !Number.isFinite(risk)) return 1;
  return 1 - Math.min(1, Math.max(0, risk));
}
