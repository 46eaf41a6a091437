import { vote } from '../policy/vote.ts';
import { votePosterior } from '../policy/vote-posterior.ts';
import type { VoteMessage } from './protocol.ts';

interface Entry {
  readonly answers: Array<{ sampleId: string; answer: string | null; stopped: boolean }>;
}

/**
 * Running self-consistency tallies per (run, question) for the feed's `vote` messages. The server cannot know how
 * many samples a question will get, so every finished sample re-announces its question's tally.
 * Bounded: at most `maxQuestions` questions (least recently updated dropped first) and `maxSamplesPerQuestion`
 * answers each (later ones still counted in `samples` but not listed).
 */
export class VoteBoard {
  private readonly entries = new Map<string, Entry>();
  private readonly maxQuestions: number;
  private readonly maxSamplesPerQuestion: number;

  private readonly voteConfidence: number;

  constructor(opts: { maxQuestions?: number; maxSamplesPerQuestion?: number; voteConfidence?: number } = {}) {
    this.maxQuestions = opts.maxQuestions ?? 10_000;
    this.maxSamplesPerQuestion = opts.maxSamplesPerQuestion ?? 1024;
    this.voteConfidence = opts.voteConfidence ?? 0.95;
  }

  /**
   * Adds a finished sample and returns its question's `vote` message. `total`: the question's sample count when the
   * caller said it (x-failmode-samples), for the posterior.
   */
  add(run: string, question: string, sampleId: string, answer: string | null, stopped: boolean, t: number, total: number | null = null): VoteMessage {
    const key = JSON.stringify([run, question]);
    let e = this.entries.get(key);
    if (e) this.entries.delete(key); // re-insert: Map order = recency
    else e = { answers: [] };
    this.entries.set(key, e);
    if (this.entries.size > this.maxQuestions) this.entries.delete(this.entries.keys().next().value!);
    if (e.answers.length < this.maxSamplesPerQuestion) e.answers.push({ sampleId, answer, stopped });
    const v = vote(e.answers, 'majority');
    const remaining = total === null ? null : Math.max(0, total - e.answers.length);
    let posterior: number | null = null;
    if (remaining !== null) {
      const abstained = e.answers.reduce((s, a) => s + (!a.stopped && a.answer === null ? 1 : 0), 0);
      // vote() lists counts in first-seen order, the posterior's tie order.
      posterior = votePosterior({ tallies: Object.values(v.counts), abstained, remaining }).probability;
    }
    return {
      type: 'vote', run, question,
      answers: e.answers.map((a) => ({ ...a })),
      counts: v.counts, majority: v.majority, agreement: v.agreement,
      samples: e.answers.length, stopped: e.answers.reduce((s, a) => s + (a.stopped ? 1 : 0), 0),
      posterior, decided: remaining === 0 || (posterior !== null && posterior >= this.voteConfidence), t,
    };
  }

  get size(): number {
    return this.entries.size;
  }
}
