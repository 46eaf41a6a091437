import { createHash } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import type { StopCounter } from './stop-counter.ts';
import { questionKey } from './stop-counter.ts';

/** Bucket of the per-question stop counts shared by every serve instance. */
export const STOPS_BUCKET = 'failmode_stops';
/** Counts expire a day after their last change (a question's samples run within minutes; the bucket stays bounded). */
const STOPS_TTL_MS = 24 * 3600_000;
/** Compare-and-set attempts before giving up (each failure means another instance changed the count meanwhile). */
const MAX_ATTEMPTS = 100;

/**
 * The min-keep counter in a NATS KV bucket: every change is a compare-and-set on the key's revision (`create` when
 * absent, `update(key, n, revision)` otherwise), retried on conflict, so two instances never both take the last
 * allowed stop of a question.
 */
export class KvStopCounter implements StopCounter {
  private readonly kv: KV;

  private constructor(kv: KV) {
    this.kv = kv;
  }

  static async open(nc: NatsConnection): Promise<KvStopCounter> {
    const kv = await new Kvm(nc).create(STOPS_BUCKET, { history: 1, ttl: STOPS_TTL_MS });
    return new KvStopCounter(kv);
  }

  reserve(run: string, question: string, limit: number): Promise<boolean> {
    return this.change(run, question, (n) => (n < limit ? n + 1 : null));
  }

  count(run: string, question: string): void {
    this.change(run, question, (n) => n + 1).catch(() => undefined);
  }

  release(run: string, question: string): void {
    this.change(run, question, (n) => Math.max(0, n - 1)).catch(() => undefined);
  }

  /** Stops taken so far for (run, question). */
  async get(run: string, question: string): Promise<number> {
    const e = await this.kv.get(keyOf(run, question));
    return e && e.operation === 'PUT' ? Number(e.string()) || 0 : 0;
  }

  /** Applies `next` to the count atomically; false when `next` declines (returns null). */
  private async change(run: string, question: string, next: (n: number) => number | null): Promise<boolean> {
    const key = keyOf(run, question);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const e = await this.kv.get(key);
      const exists = e !== null && e.operation === 'PUT';
      const n = next(exists ? Number(e.string()) || 0 : 0);
      if (n === null) return false;
      try {
        if (exists) await this.kv.update(key, String(n), e.revision);
        else if (e !== null) await this.kv.update(key, String(n), e.revision); // a deleted key: its tombstone's revision
        else await this.kv.create(key, String(n));
        return true;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
    throw new Error(`Could not update the stop count of ${questionKey(run, question)} after ${MAX_ATTEMPTS} attempts`);
  }
}

/** A KV key for (run, question): ids are free text, keys are not, so the key is a hash of the pair. */
function keyOf(run: string, question: string): string {
  return `q.${createHash('sha256').update(questionKey(run, question)).digest('hex').slice(0, 40)}`;
}

/** Another writer changed the key first (wrong last sequence, or it exists already). */
function isConflict(err: unknown): boolean {
  const m = String((err as Error)?.message ?? err);
  return /wrong last sequence|key exists|10071/i.test(m);
}
