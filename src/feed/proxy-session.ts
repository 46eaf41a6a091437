import { ChunkDecoder, MAX_OPEN_CHOICES, stripBytesMembers } from '../stream/chunk-decoder.ts';
import type { StreamEvent } from '../stream/token-event.ts';
import { choiceIndex, FAILMODE_STOP, type CallerResponse, type ResponseEnd } from './caller-response.ts';
import type { FailmodeControls } from './failmode-controls.ts';
import type { FeedHub } from './feed-hub.ts';
import type { LiveSample } from './live-sample.ts';
import { FeedProtocolError } from './protocol.ts';
import type { ResponseMeta } from './proxy-shape.ts';

type Json = Record<string, unknown>;

/** A request failmode aborted upstream because its samples were stopped (for the abort check). */
export interface StoppedRequest {
  readonly requestId: string;
  readonly run: string;
  readonly sampleIds: readonly string[];
  /** Σ over the stopped choices of (max_tokens − tokens so far); 0 without max_tokens. */
  readonly estimatedSaved: number;
}

export interface ProxySessionInit {
  readonly hub: FeedHub;
  readonly requestId: string;
  readonly controls: FailmodeControls;
  /** Early stopping asked for and possible (the server has a model). */
  readonly earlyStop: boolean;
  /** The request's `n`: the response may end early only once every choice has been seen and closed. */
  readonly expectedChoices: number;
  /** The request's max_tokens (for the tokens-saved estimate), null if it set none. */
  readonly maxTokens: number | null;
  /** top_logprobs asked of the upstream (a completions top list is cut to it). */
  readonly upstreamTop: number;
  readonly caller: CallerResponse;
  /** Whether the parsed chunk must keep its `bytes` members (the caller gets it re-serialised with logprobs). */
  readonly keepBytes: boolean;
  /** Ends the engine's work (aborts the upstream request). */
  readonly abortUpstream: (reason: Error) => void;
  /** Told when the upstream left the response unfinished. */
  readonly onTruncated?: () => void;
}

interface ChoiceState {
  readonly index: number;
  sample: LiveSample | null;
  /** No more chunks of this choice go to the caller (it finished, or failmode stopped it). */
  closed: boolean;
  stopAnnounced: boolean;
  finishReason: string | null;
  /** Tokens of this choice seen (the usage reported when the upstream's own never comes). */
  tokens: number;
}

/**
 * One proxied request, event by event: each upstream chunk is parsed once, decoded into the samples' stream events
 * (each fed straight to its monitored sample) and handed to the caller's response; stops decided meanwhile are
 * announced after the chunk that caused them; when every choice has ended and one was stopped, the response ends and
 * the upstream request is aborted. An upstream that ends without finishing every choice ends the response with an
 * error, never a clean end.
 */
export class ProxySession {
  done = false;
  /** Set when a stop made failmode abort the upstream request. */
  stoppedUpstream: StoppedRequest | null = null;
  private readonly o: ProxySessionInit;
  private readonly decoder: ChunkDecoder;
  private readonly choices = new Map<number, ChoiceState>();
  private readonly bySampleId = new Map<string, ChoiceState>();
  /** The choice of the last event (a chunk's tokens all belong to one choice): no map lookup per token. */
  private lastSampleId = '';
  private lastChoice: ChoiceState | null = null;
  private readonly meta: { id?: unknown; created?: unknown; model?: unknown; system_fingerprint?: unknown } = {};
  private usage: unknown = undefined;
  private pendingStops: number[] = [];
  /** True while an upstream chunk is decoded: a stop decided then is announced after the chunk's own tokens. */
  private inChunk = false;
  private readonly isClosed = (index: number): boolean => this.choices.get(index)?.closed === true;

  constructor(o: ProxySessionInit) {
    this.o = o;
    this.decoder = new ChunkDecoder((ev) => this.onEvent(ev), { requestId: o.requestId, maxTopLogprobs: o.upstreamTop });
  }

  /** One SSE data payload from the upstream; `position`: its event number (`event N` in errors) or a text. */
  data(data: string, position: string | number): void {
    if (this.done) return;
    if (data === '[DONE]' || data.trim() === '[DONE]') {
      this.decoder.done();
      this.finishResponse();
      return;
    }
    const chunk = parseChunk(data, this.o.keepBytes);
    if (chunk === null) {
      // Reported on the feed (stream_error); not forwarded: the caller's client would fail on it and lose the rest.
      this.decoder.decodeData(data, position);
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

  /**
   * The upstream body ended or failed (`failure`: why): end open samples and the caller's response. A response the
   * upstream left unfinished (no [DONE], a choice without finish_reason) ends with an error, never a clean end.
   */
  close(reason: 'abort' | 'error', failure: string | null = null): void {
    for (const c of this.choices.values()) c.sample?.abandon(c.sample.stopped ? FAILMODE_STOP : reason);
    this.decoder.finish();
    if (this.done) return;
    const open: number[] = [];
    for (const c of this.choices.values()) if (!c.closed) open.push(c.index);
    if (reason === 'error' && (open.length > 0 || this.choices.size === 0)) {
      this.o.onTruncated?.();
      this.flushStops();
      this.done = true;
      this.o.caller.fail({ failure, openChoices: open, choicesSeen: this.choices.size }, this.ending());
    } else {
      this.finishResponse();
    }
  }

  /** Request identity (for chunks failmode writes itself) and the last usage. */
  private remember(chunk: Json): void {
    const m = this.meta;
    if (m.id === undefined && chunk.id !== undefined) m.id = chunk.id;
    if (m.created === undefined && chunk.created !== undefined) m.created = chunk.created;
    if (m.model === undefined && chunk.model !== undefined) m.model = chunk.model;
    if (m.system_fingerprint === undefined && chunk.system_fingerprint !== undefined) m.system_fingerprint = chunk.system_fingerprint;
    if (chunk.usage !== undefined && chunk.usage !== null) this.usage = chunk.usage;
  }

  /** A choice with a finish_reason gets nothing more (a stopped one still got this chunk's tokens). */
  private closeFinished(chunk: Json): void {
    const choices = chunk.choices;
    if (!Array.isArray(choices)) return;
    for (const raw of choices as unknown[]) {
      if (raw === null || typeof raw !== 'object') continue;
      const r = raw as Json;
      const c = this.choice(choiceIndex(r));
      if (!c.closed && typeof r.finish_reason === 'string' && r.finish_reason !== '') {
        c.closed = true;
        c.finishReason = r.finish_reason;
      }
    }
  }

  /** Announces pending stops; once every choice has ended and one was stopped, ends the response and the engine's work. */
  private afterStops(): void {
    this.flushStops();
    if (!this.done && this.choices.size >= this.o.expectedChoices && this.allClosed() && this.anyStopped()) {
      this.finishResponse();
      this.stoppedUpstream = this.stoppedRequest();
      this.o.abortUpstream(new Error('failmode early stop'));
    }
  }

  private onEvent(ev: StreamEvent): void {
    if (ev.type === 'start') {
      this.startSample(ev.sampleId, ev.model ?? null);
      return;
    }
    if (ev.sampleId === undefined) {
      // A chunk no sample can be named for (unparsable, a server error object).
      if (ev.type === 'stream_error') this.o.hub.streamError(this.o.controls.run, `${this.o.requestId} ${ev.position}: ${ev.message}`);
      return;
    }
    const c = ev.sampleId === this.lastSampleId ? this.lastChoice : this.choiceOf(ev.sampleId);
    if (c === null) return;
    if (ev.type === 'token') c.tokens++;
    c.sample?.push(ev);
  }

  private choiceOf(sampleId: string): ChoiceState | null {
    const c = this.bySampleId.get(sampleId) ?? null;
    this.lastSampleId = sampleId;
    this.lastChoice = c;
    return c;
  }

  /** A new choice: a monitored sample in the hub (unless the hub is full: then served, not monitored). */
  private startSample(sampleId: string, model: string | null): void {
    const index = Number(sampleId.slice(sampleId.lastIndexOf(':') + 1));
    const c = this.choice(index);
    this.bySampleId.set(sampleId, c);
    this.lastSampleId = '';
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
      // Over the monitoring limit: the request is still served, just not monitored.
    }
  }

  private choice(index: number): ChoiceState {
    let c = this.choices.get(index);
    if (!c) {
      c = { index, sample: null, closed: false, stopAnnounced: false, finishReason: null, tokens: 0 };
      // Bounded like the decoder's open choices: past it a choice is served but not tracked (the decoder said so).
      if (this.choices.size < MAX_OPEN_CHOICES) this.choices.set(index, c);
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
      this.o.caller.stopped(index, this.responseMeta());
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
    this.o.caller.end(this.ending());
  }

  private ending(): ResponseEnd {
    const choices = [...this.choices.values()].sort((a, b) => a.index - b.index)
      .map((c) => ({ index: c.index, finishReason: c.finishReason ?? (c.sample?.stopped ? FAILMODE_STOP : null) }));
    let counted = 0;
    for (const c of this.choices.values()) counted += c.tokens;
    return { meta: this.responseMeta(), choices, usage: this.usage, countedTokens: this.anyStopped() ? counted : null };
  }

  private responseMeta(): ResponseMeta {
    const m = this.meta;
    return {
      id: m.id ?? this.o.requestId, created: m.created ?? Math.floor(Date.now() / 1000), model: m.model ?? null,
      ...(m.system_fingerprint !== undefined ? { system_fingerprint: m.system_fingerprint } : {}),
    };
  }

  private stoppedRequest(): StoppedRequest {
    let saved = 0;
    const ids: string[] = [];
    for (const c of this.choices.values()) {
      ids.push(`${this.o.requestId}:${c.index}`);
      if (c.finishReason === FAILMODE_STOP && this.o.maxTokens !== null) saved += Math.max(0, this.o.maxTokens - c.tokens);
    }
    return { requestId: this.o.requestId, run: this.o.controls.run, sampleIds: ids, estimatedSaved: saved };
  }
}

/**
 * The chunk object, or null when the data is not a JSON object. `bytes` members (never read by the monitor; about
 * 40 % of a top-k chunk's allocations) are dropped before parsing unless the caller gets the parsed chunk with them.
 */
function parseChunk(data: string, keepBytes: boolean): Json | null {
  try {
    const parsed: unknown = JSON.parse(keepBytes ? data : stripBytesMembers(data));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed as Json : null;
  } catch {
    return null;
  }
}
