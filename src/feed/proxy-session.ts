import { ChunkDecoder, stripBytesMembers } from '../stream/chunk-decoder.ts';
import type { StreamEvent } from '../stream/token-event.ts';
import { FAILMODE_STOP, type CallerResponse, type ResponseMeta } from './caller-response.ts';
import type { FailmodeControls } from './failmode-controls.ts';
import type { FeedHub } from './feed-hub.ts';
import type { LiveSample } from './live-sample.ts';
import { FeedProtocolError } from './protocol.ts';

type Json = Record<string, unknown>;

export interface ProxySessionInit {
  readonly hub: FeedHub;
  readonly requestId: string;
  readonly controls: FailmodeControls;
  readonly earlyStop: boolean;
  /** The request's `n`: the response may end early only once every choice has been seen and closed. */
  readonly expectedChoices: number;
  readonly caller: CallerResponse;
  /** Whether the caller gets the upstream's logprobs (else they may be dropped before parsing). */
  readonly keepBytes: boolean;
  /** Ends the engine's work (aborts the upstream request). */
  readonly abortUpstream: (reason: Error) => void;
}

interface ChoiceState {
  sample: LiveSample | null;
  /** No more chunks of this choice go to the caller (it finished, or failmode stopped it). */
  closed: boolean;
  stopAnnounced: boolean;
  finishReason: string | null;
}

/**
 * One proxied request, event by event: each upstream chunk is parsed once, decoded into the samples' stream events
 * (monitored through the hub) and handed to the caller's response; stops decided meanwhile are announced after the
 * chunk that caused them; when every choice has ended and one was stopped, the response ends and the upstream
 * request is aborted.
 */
export class ProxySession {
  done = false;
  private readonly o: ProxySessionInit;
  private readonly decoder: ChunkDecoder;
  private readonly choices = new Map<number, ChoiceState>();
  private readonly meta: ResponseMeta = {};
  private usage: unknown = undefined;
  private pendingStops: number[] = [];
  /** True while an upstream chunk is decoded: a stop decided then is announced after the chunk's own tokens. */
  private inChunk = false;
  private readonly isClosed = (index: number): boolean => this.choices.get(index)?.closed === true;

  constructor(o: ProxySessionInit) {
    this.o = o;
    this.decoder = new ChunkDecoder((ev) => this.onEvent(ev), { requestId: o.requestId });
  }

  /** One SSE data payload from the upstream. */
  data(data: string, position: string): void {
    if (this.done) return;
    if (data === '[DONE]' || data.trim() === '[DONE]') {
      this.decoder.done();
      this.finishResponse();
      return;
    }
    const chunk = parseChunk(data, this.o.keepBytes);
    if (chunk === null) {
      // The decoder reports it as a stream_error; the caller gets the data unchanged.
      this.decoder.decodeData(data, position);
      this.o.caller.unparsed(data);
      return;
    }
    this.remember(chunk);
    this.inChunk = true;
    try {
      this.decoder.decodeChunk(chunk, position);
      this.o.caller.chunk(data, chunk, this.isClosed);
      this.closeFinished(chunk);
    } finally {
      this.inChunk = false;
    }
    this.afterStops();
  }

  /** After each upstream read: what the caller's response buffered goes out. */
  flush(): void {
    this.o.caller.flush();
  }

  /** The upstream body ended or failed: end open samples and the caller's response. */
  close(reason: 'abort' | 'error'): void {
    for (const c of this.choices.values()) c.sample?.abandon(c.sample.stopped ? FAILMODE_STOP : reason);
    this.decoder.finish();
    if (!this.done) this.finishResponse();
  }

  /** Request identity (for chunks failmode writes itself) and the last usage. */
  private remember(chunk: Json): void {
    const m = this.meta as Record<string, unknown>;
    for (const k of ['id', 'created', 'model', 'system_fingerprint'] as const) if (chunk[k] !== undefined && m[k] === undefined) m[k] = chunk[k];
    if (chunk.usage !== undefined && chunk.usage !== null) this.usage = chunk.usage;
  }

  /** A choice with a finish_reason gets nothing more (a stopped one still got this chunk's tokens). */
  private closeFinished(chunk: Json): void {
    const choices = chunk.choices;
    if (!Array.isArray(choices)) return;
    for (const raw of choices as Json[]) {
      if (raw === null || typeof raw !== 'object') continue;
      const c = this.choice(typeof raw.index === 'number' ? raw.index : 0);
      if (!c.closed && typeof raw.finish_reason === 'string' && raw.finish_reason !== '') {
        c.closed = true;
        c.finishReason = raw.finish_reason;
      }
    }
  }

  /** Announces pending stops; once every choice has ended and one was stopped, ends the response and the engine's work. */
  private afterStops(): void {
    this.flushStops();
    if (!this.done && this.choices.size >= this.o.expectedChoices && this.allClosed() && this.anyStopped()) {
      this.finishResponse();
      this.o.abortUpstream(new Error('failmode early stop'));
    }
  }

  private onEvent(ev: StreamEvent): void {
    if (ev.type === 'start') {
      this.startSample(ev.sampleId, ev.model ?? null);
      return;
    }
    this.o.hub.route(ev);
  }

  /** A new choice: a monitored sample in the hub (unless the hub is full: then served, not monitored). */
  private startSample(sampleId: string, model: string | null): void {
    const index = Number(sampleId.slice(sampleId.lastIndexOf(':') + 1));
    const c = this.choice(index);
    const { controls } = this.o;
    try {
      c.sample = this.o.hub.begin({
        sampleId, run: controls.run, question: controls.question ?? this.o.requestId, source: 'proxy',
        model, earlyStop: this.o.earlyStop, reference: controls.reference, keep: controls.keep,
        onStop: () => {
          this.pendingStops.push(index);
          // A stop from outside (a feed client's `stop`) takes effect now, not at the next upstream chunk.
          if (!this.inChunk) {
            this.afterStops();
            this.o.caller.flush();
          }
        },
      });
    } catch (err) {
      if (!(err instanceof FeedProtocolError)) throw err;
    }
  }

  private choice(index: number): ChoiceState {
    let c = this.choices.get(index);
    if (!c) {
      c = { sample: null, closed: false, stopAnnounced: false, finishReason: null };
      this.choices.set(index, c);
    }
    return c;
  }

  /** Announces to the caller every choice failmode stopped since the last chunk. */
  private flushStops(): void {
    if (this.pendingStops.length === 0) return;
    const stops = this.pendingStops;
    this.pendingStops = [];
    for (const index of stops) {
      const c = this.choice(index);
      if (c.stopAnnounced) continue;
      c.stopAnnounced = true;
      c.closed = true;
      c.finishReason = FAILMODE_STOP;
      this.o.caller.stopped(index, this.meta, this.o.requestId);
    }
  }

  private allClosed(): boolean {
    for (const c of this.choices.values()) if (!c.closed) return false;
    return true;
  }

  private anyStopped(): boolean {
    for (const c of this.choices.values()) if (c.finishReason === FAILMODE_STOP) return true;
    return false;
  }

  private finishResponse(): void {
    if (this.done) return;
    this.flushStops();
    this.done = true;
    this.o.caller.end(this.meta, this.o.requestId, (index) => {
      const c = this.choices.get(index);
      return c?.finishReason ?? (c?.sample?.stopped ? FAILMODE_STOP : null);
    }, this.usage);
  }
}

/** A chunk object, or null when the data is not a JSON object. `bytes` members are dropped unless the caller gets them. */
function parseChunk(data: string, keepBytes: boolean): Json | null {
  try {
    const parsed: unknown = JSON.parse(keepBytes ? data : stripBytesMembers(data));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed as Json : null;
  } catch {
    return null;
  }
}
