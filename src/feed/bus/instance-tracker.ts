import type { SampleFinishedMessage } from '../protocol.ts';
import type { InstanceHeartbeat } from './subject.ts';

/** The end of a sample whose process died before it finished: `sample_finished` with finishReason `error`. */
export function lostSampleEnd(sampleId: string, run: string, question: string, tokens: number, t: number): SampleFinishedMessage {
  return { type: 'sample_finished', run, question, sampleId, finishReason: 'error', stopped: false, tokens, answer: null, record: null, t };
}

interface TrackedSample {
  readonly run: string;
  question: string;
  tokens: number;
}

interface Instance {
  lastSeen: number;
  everyMs: number;
  readonly samples: Map<string, TrackedSample>;
}

export interface InstanceTrackerOptions {
  /** An instance is dead after this many heartbeat periods without one. @default 5 */
  readonly missedBeats?: number;
  /** Most samples remembered as ended by the tracker (their late messages are dropped). @default 65536 */
  readonly maxEnded?: number;
  readonly now?: () => number;
}

/**
 * A gateway's view of the serve instances on the bus: which samples each runs (from its heartbeats and the
 * `Failmode-Instance` header of `sample_started`), and when one stopped beating. A dead instance's open samples are
 * ended here with `finishReason: "error"` for this gateway's subscribers; messages of those samples arriving later
 * (an instance that was only cut off) are dropped, so a subscriber never sees a sample after its end.
 */
export class InstanceTracker {
  private readonly instances = new Map<string, Instance>();
  /** sampleId → its instance. */
  private readonly owner = new Map<string, string>();
  private readonly ended = new Set<string>();
  private readonly o: Required<InstanceTrackerOptions>;
  /** No verdict before this time (set after the gateway itself reconnects: everyone gets a fresh chance). */
  private quietUntil = 0;

  constructor(options: InstanceTrackerOptions = {}) {
    this.o = { missedBeats: 5, maxEnded: 65_536, now: () => performance.timeOrigin + performance.now(), ...options };
  }

  heartbeat(hb: InstanceHeartbeat): void {
    if (hb.leaving) {
      // An orderly shutdown ended its samples itself.
      const inst = this.instances.get(hb.instance);
      if (inst) for (const id of inst.samples.keys()) this.owner.delete(id);
      this.instances.delete(hb.instance);
      return;
    }
    const inst = this.instance(hb.instance);
    inst.everyMs = hb.everyMs;
    for (const [sampleId, run, question, tokens] of hb.samples) {
      if (this.ended.has(sampleId)) continue;
      const s = inst.samples.get(sampleId);
      if (s) s.tokens = Math.max(s.tokens, tokens);
      else {
        inst.samples.set(sampleId, { run, question, tokens });
        this.owner.set(sampleId, hb.instance);
      }
    }
  }

  /**
   * A feed message from the bus. Returns false when it must be dropped (its sample was already ended here).
   * `instance` is the header of a `sample_started`; `parse` decodes the message when the tracker needs its fields.
   */
  message(sampleId: string | null, type: string, instance: string | null, parse: () => unknown): boolean {
    if (sampleId === null) return true;
    if (this.ended.has(sampleId)) return false;
    if (type === 'sample_started' && instance !== null) {
      const m = parse() as { run: string; question: string };
      this.instance(instance).samples.set(sampleId, { run: m.run, question: m.question, tokens: 0 });
      this.owner.set(sampleId, instance);
    } else if (type === 'sample_finished') {
      this.forget(sampleId);
    } else if (type === 'token') {
      const s = this.sample(sampleId);
      if (s) s.tokens++;
    }
    return true;
  }

  /** The gateway lost NATS and is back: nobody is judged until they had time to beat again. */
  reconnected(): void {
    const now = this.o.now();
    let longest = 1000;
    for (const inst of this.instances.values()) longest = Math.max(longest, inst.everyMs);
    this.quietUntil = now + longest * this.o.missedBeats;
    for (const inst of this.instances.values()) inst.lastSeen = now;
  }

  /** Whether some instance looks dead (then {@link sweep}, after making sure every message received was handled). */
  suspects(): boolean {
    const now = this.o.now();
    if (now < this.quietUntil) return false;
    for (const inst of this.instances.values()) if (now - inst.lastSeen > inst.everyMs * this.o.missedBeats) return true;
    return false;
  }

  /** Instances that missed their heartbeats: removed, and the `sample_finished` (error) of each of their open samples. */
  sweep(): SampleFinishedMessage[] {
    const now = this.o.now();
    if (now < this.quietUntil) return [];
    const out: SampleFinishedMessage[] = [];
    for (const [id, inst] of this.instances) {
      if (now - inst.lastSeen <= inst.everyMs * this.o.missedBeats) continue;
      this.instances.delete(id);
      for (const [sampleId, s] of inst.samples) {
        this.owner.delete(sampleId);
        this.markEnded(sampleId);
        out.push(lostSampleEnd(sampleId, s.run, s.question, s.tokens, now));
      }
    }
    return out;
  }

  /** Instances alive as far as this gateway knows, with their open samples. */
  stats(): { instances: number; samples: number } {
    return { instances: this.instances.size, samples: this.owner.size };
  }

  private instance(id: string): Instance {
    let inst = this.instances.get(id);
    if (!inst) {
      inst = { lastSeen: this.o.now(), everyMs: 1000, samples: new Map() };
      this.instances.set(id, inst);
    } else {
      inst.lastSeen = this.o.now();
    }
    return inst;
  }

  private sample(sampleId: string): TrackedSample | undefined {
    const id = this.owner.get(sampleId);
    return id === undefined ? undefined : this.instances.get(id)?.samples.get(sampleId);
  }

  private forget(sampleId: string): void {
    const id = this.owner.get(sampleId);
    if (id !== undefined) this.instances.get(id)?.samples.delete(sampleId);
    this.owner.delete(sampleId);
    // Remembered, so a heartbeat sent just before the end cannot bring it back.
    this.markEnded(sampleId);
  }

  private markEnded(sampleId: string): void {
    this.ended.add(sampleId);
    if (this.ended.size > this.o.maxEnded) this.ended.delete(this.ended.values().next().value!);
  }
}
