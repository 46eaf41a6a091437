/**
 * Stops taken per (run, question), for the self-consistency guard (`--min-keep`): a policy stop is taken only while
 * fewer than `limit` = samples − minKeep of the question's samples were stopped. In one process this is a map; across
 * serve instances it lives in NATS ({@link KvStopCounter}), so the check and the increment are one atomic step.
 */
export interface StopCounter {
  /** Takes one stop of (run, question) if fewer than `limit` were taken: true = granted and counted. */
  reserve(run: string, question: string, limit: number): boolean | Promise<boolean>;
  /** Counts a stop outside the guard (a client's stop). */
  count(run: string, question: string): void;
  /** Gives back a granted stop that was not used (the sample ended while the grant was on its way). */
  release(run: string, question: string): void;
}

/** The key of a (run, question) pair. */
export function questionKey(run: string, question: string): string {
  return JSON.stringify([run, question]);
}

/** The in-process counter (the embedded default): bounded, least recently used question dropped first. */
export class LocalStopCounter implements StopCounter {
  private readonly stops = new Map<string, number>();
  private readonly maxQuestions: number;

  constructor(maxQuestions = 10_000) {
    this.maxQuestions = maxQuestions;
  }

  reserve(run: string, question: string, limit: number): boolean {
    if (this.get(run, question) >= limit) return false;
    this.add(run, question, 1);
    return true;
  }

  count(run: string, question: string): void {
    this.add(run, question, 1);
  }

  release(run: string, question: string): void {
    this.add(run, question, -1);
  }

  get(run: string, question: string): number {
    return this.stops.get(questionKey(run, question)) ?? 0;
  }

  private add(run: string, question: string, d: number): void {
    const key = questionKey(run, question);
    const n = Math.max(0, (this.stops.get(key) ?? 0) + d);
    this.stops.delete(key); // re-insert: Map order = recency
    this.stops.set(key, n);
    if (this.stops.size > this.maxQuestions) this.stops.delete(this.stops.keys().next().value!);
  }
}
