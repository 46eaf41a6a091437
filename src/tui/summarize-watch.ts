/**
 * What the footer reports: the answers so far with their plurality vote, how many samples were flagged and stopped,
 * and an estimate of the tokens early stopping saved.
 */
import { sampleStatus, type WatchState } from './state.ts';

export interface AnswerCount {
  readonly answer: string;
  readonly count: number;
}

export interface Vote {
  /** Answers by count, descending (ties in order of first appearance). */
  readonly answers: readonly AnswerCount[];
  /** The plurality answer, or null when there is no answer yet or the top count is tied. */
  readonly majority: string | null;
  /** The answers sharing the top count (one unless tied). */
  readonly leaders: readonly string[];
  readonly topCount: number;
  /** Samples that produced an answer. */
  readonly voters: number;
}

export interface WatchSummary {
  readonly total: number;
  readonly streaming: number;
  readonly flagged: number;
  readonly stopped: number;
  /** Of `stopped`, those never flagged (stopped by the user). */
  readonly stoppedByUser: number;
  readonly finished: number;
  readonly failed: number;
  /** Every sample ended. */
  readonly allEnded: boolean;
  readonly vote: Vote;
  /** The vote over samples never flagged (differs from `vote` only when flagged samples ran to an answer). */
  readonly unflaggedVote: Vote;
  /**
   * Tokens not generated thanks to stopping: Σ over stopped samples of max(0, L − tokens at stop), where L is the mean
   * length of the samples that finished on their own. Null until one has finished (nothing to compare with).
   */
  readonly tokensSaved: number | null;
  readonly referenceLength: number | null;
}

export function tallyVote(answers: readonly string[]): Vote {
  const counts = new Map<string, number>();
  for (const a of answers) counts.set(a, (counts.get(a) ?? 0) + 1);
  const sorted = [...counts].map(([answer, count]) => ({ answer, count })).sort((a, b) => b.count - a.count);
  const topCount = sorted[0]?.count ?? 0;
  const leaders = sorted.filter((a) => a.count === topCount).map((a) => a.answer);
  return { answers: sorted, majority: leaders.length === 1 ? leaders[0]! : null, leaders, topCount, voters: answers.length };
}

export function summarizeWatch(state: WatchState): WatchSummary {
  let streaming = 0, flagged = 0, stopped = 0, stoppedByUser = 0, finished = 0, failed = 0;
  const answers: string[] = [];
  const unflaggedAnswers: string[] = [];
  let finishedLen = 0;
  for (const s of state.samples) {
    if (s.flag) flagged++;
    switch (sampleStatus(s)) {
      case 'streaming': case 'flagged': streaming++; break;
      case 'stopped': stopped++; if (!s.flag) stoppedByUser++; break;
      case 'finished': finished++; finishedLen += s.end!.generatedLen; break;
      case 'failed': failed++; break;
    }
    if (s.end?.answer) {
      answers.push(s.end.answer);
      if (!s.flag) unflaggedAnswers.push(s.end.answer);
    }
  }
  const referenceLength = finished > 0 ? finishedLen / finished : null;
  let tokensSaved: number | null = null;
  if (referenceLength !== null) {
    tokensSaved = 0;
    for (const s of state.samples) {
      if (sampleStatus(s) === 'stopped') tokensSaved += Math.max(0, referenceLength - s.end!.generatedLen);
    }
    tokensSaved = Math.round(tokensSaved);
  }
  return {
    total: state.samples.length, streaming, flagged, stopped, stoppedByUser, finished, failed,
    allEnded: state.samples.length > 0 && streaming === 0,
    vote: tallyVote(answers), unflaggedVote: tallyVote(unflaggedAnswers), tokensSaved, referenceLength,
  };
}

/** `B×4 C×1 → majority B (4 of 5)` */
export function voteLine(vote: Vote): string {
  if (vote.voters === 0) return 'none yet';
  const list = vote.answers.slice(0, 6).map((a) => `${a.answer}×${a.count}`).join(' ') + (vote.answers.length > 6 ? ' …' : '');
  const verdict = vote.majority !== null
    ? `majority ${vote.majority} (${vote.topCount} of ${vote.voters})`
    : `tie ${vote.leaders.join('/')} (${vote.topCount} each)`;
  return `${list} → ${verdict}`;
}
