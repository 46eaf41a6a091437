import type { StopPolicy } from '../policy/stop-policy.ts';
import type { StreamEvent, TopLogprob } from '../stream/token-event.ts';
import type { FeedConnection } from './feed-server.ts';
import type { MonitorFactory } from '../online/shared-monitor.ts';
import { LiveSample, type LiveSampleInit, type TickToken } from './live-sample.ts';
import type { TokenTickSignals } from '../online/monitor.ts';
import { FeedProtocolError, type ClientStopMessage, type ServerMessage, type TokensMessage } from './protocol.ts';
import { VoteBoard } from './vote-board.ts';
import { TickBatch } from './tick-batch.ts';
import { TICK_BATCH_MS } from './protocol.ts';
import { LocalStopCounter, type StopCounter } from './bus/stop-counter.ts';

export interface FeedHubOptions {
  /** Delivers a message to the run's subscribers (and to `owner`, the pushing client, even if not subscribed). */
  readonly publish: (run: string, msg: ServerMessage, owner: FeedConnection | null) => void;
  /** Whether any subscriber wants per-token `token` ticks of a run. @default () => false */
  readonly wantsTicks?: (run: string) => boolean;
  /** Whether any subscriber (or the bus) wants the ticks of a run as `token_batch` messages. @default () => false */
  readonly wantsTickBatches?: (run: string) => boolean;
  readonly createMonitor: MonitorFactory;
  /** @default 'any-window' */
  readonly stopPolicy?: StopPolicy;
  /** Most samples monitored at once (proxy and pushed together); more are refused. @default 4096 */
  readonly maxLiveSamples?: number;
  /** Most samples one WebSocket client may push at once. @default 256 */
  readonly maxPushedPerClient?: number;
  readonly now?: () => number;
  /** Shadow mode: every sample is judged by the stop policy, none is stopped; decisions are published and logged. */
  readonly shadow?: boolean;
  /** The server's log (one line per shadow stop). @default nothing */
  readonly log?: (line: string) => void;
  /** Vote confidence of the `vote` messages' `decided`. @default 0.95 */
  readonly voteConfidence?: number;
  /** Told when a sample starts and when it has finished (the bus answers stops for it meanwhile). */
  readonly observe?: { started(sample: LiveSample): void; finished(sample: LiveSample): void };
  /** Stops per (run, question) for the min-keep guard. @default an in-process {@link LocalStopCounter} */
  readonly stops?: StopCounter;
}

/** A hub's counts (`/health`'s `samples`): live now, and totals since start. */
export interface HubStats {
  readonly live: number;
  readonly started: number;
  readonly finished: number;
  readonly stopped: number;
  readonly tokens: number;
  readonly questions: number;
}

/** Two hubs' counts together (a serve with worker threads has one hub per thread). */
export function sumHubStats(a: HubStats, b: HubStats): HubStats {
  return { live: a.live + b.live, started: a.started + b.started, finished: a.finished + b.finished, stopped: a.stopped + b.stopped, tokens: a.tokens + b.tokens, questions: a.questions + b.questions };
}

/** Per-connection bookkeeping of pushed samples. */
interface PushState {
  readonly live: Map<string, LiveSample>;
  /** Recently finished pushed ids → whether they were stopped (bounded), so late tokens of a stopped sample are recognised. */
  readonly finished: Map<string, boolean>;
}

/**
 * The server's registry of live samples, shared by the HTTP proxy and the WebSocket feed: starts monitored samples,
 * routes a client's `stop` to the sample (proxy samples abort their upstream request; pushed samples tell their
 * client), turns pushed `tokens` into stream events, and keeps the vote board.
 */
export class FeedHub {
  readonly votes: VoteBoard;
  private readonly live = new Map<string, LiveSample>();
  private readonly pushed = new WeakMap<FeedConnection, PushState>();
  private readonly o: Required<Omit<FeedHubOptions, 'observe'>> & Pick<FeedHubOptions, 'observe'>;
  private totals = { started: 0, stopped: 0, finished: 0, tokens: 0 };
  private pushSeq = 0;
  /** Batches with ticks waiting for the frame timer. */
  private readonly waiting = new Map<TickBatch, FeedConnection | null>();
  private frameTimer: NodeJS.Timeout | null = null;

  constructor(options: FeedHubOptions) {
    this.o = {
      stopPolicy: 'any-window', maxLiveSamples: 4096, maxPushedPerClient: 256, wantsTicks: () => false, wantsTickBatches: () => false,
      now: () => performance.timeOrigin + performance.now(), stops: new LocalStopCounter(), shadow: false, log: () => undefined, voteConfidence: 0.95, ...options,
    };
    this.votes = new VoteBoard({ voteConfidence: this.o.voteConfidence });
  }

  /** Starts monitoring a sample; throws FeedProtocolError `sample_id_in_use` / `too_many_samples`. */
  begin(init: LiveSampleInit & { readonly owner?: FeedConnection | null }): LiveSample {
    if (this.live.has(init.sampleId)) throw new FeedProtocolError('sample_id_in_use', `Sample \`${init.sampleId}\` is already running`);
    if (this.live.size >= this.o.maxLiveSamples) throw new FeedProtocolError('too_many_samples', `Already monitoring ${this.live.size} samples (the limit)`);
    const owner = init.owner ?? null;
    const batch = new TickBatch(init.run, init.sampleId);
    const { run, sampleId } = init;
    // A tick becomes a `token` message only for per-token subscribers; batches take its fields into their columns.
    const tick = (ev: TickToken, signals: TokenTickSignals, now: () => number): void => {
      const t = now();
      const entropy = signals.lastTokenEntropy;
      const nll = signals.lastTokenNll;
      if (this.o.wantsTicks(run)) {
        this.o.publish(run, { type: 'token', run, sampleId, index: ev.index, token: ev.token, entropy, nll, channel: ev.channel, t }, owner);
      }
      if (this.o.wantsTickBatches(run)) {
        if (batch.add(ev.index, ev.token, entropy, nll, ev.channel, t)) this.flushTicks(batch, owner);
        else if (batch.size === 1) this.awaitFrame(batch, owner);
      }
    };
    const publish = (msgRun: string, msg: ServerMessage): void => {
      // A sample's other messages never overtake its ticks.
      if (batch.size > 0) this.flushTicks(batch, owner);
      this.o.publish(msgRun, msg, owner);
    };
    const sample = new LiveSample({
      ...init,
      onFinished: (s) => {
        this.live.delete(s.sampleId);
        this.totals.finished++;
        this.totals.tokens += s.tokens;
        if (s.stopped) this.totals.stopped++;
        this.o.observe?.finished(s);
        init.onFinished?.(s);
      },
    }, {
      createMonitor: this.o.createMonitor, stopPolicy: this.o.stopPolicy, publish, tick, wantsTicks: (run: string) => this.o.wantsTicks(run) || this.o.wantsTickBatches(run), now: this.o.now,
      shadow: this.o.shadow, log: this.o.log,
      tally: (s) => this.votes.add(s.init.run, s.init.question, s.sampleId, s.answer, s.stopped, this.o.now(), s.init.keep?.samples ?? null),
      stops: this.o.stops,
    });
    this.live.set(init.sampleId, sample);
    this.totals.started++;
    this.o.observe?.started(sample);
    return sample;
  }

  /** The samples being monitored now. */
  liveSamples(): IterableIterator<LiveSample> {
    return this.live.values();
  }

  /** Sends a sample's pending ticks as one `token_batch`. */
  private flushTicks(batch: TickBatch, owner: FeedConnection | null): void {
    this.waiting.delete(batch);
    this.o.publish(batch.run, batch.take(), owner);
  }

  /** A batch got its first tick: it goes out at the latest one frame later. */
  private awaitFrame(batch: TickBatch, owner: FeedConnection | null): void {
    this.waiting.set(batch, owner);
    if (this.frameTimer) return;
    this.frameTimer = setTimeout(() => {
      this.frameTimer = null;
      for (const [b, o] of [...this.waiting]) if (b.size > 0) this.flushTicks(b, o);
      this.waiting.clear();
    }, TICK_BATCH_MS);
    this.frameTimer.unref();
  }

  get(sampleId: string): LiveSample | undefined {
    return this.live.get(sampleId);
  }

  /** A client's `stop`: stops the sample (its onStop aborts it). */
  clientStop(_conn: FeedConnection, msg: ClientStopMessage): void {
    const s = this.live.get(msg.sampleId);
    if (!s) throw new FeedProtocolError('unknown_sample', `No sample \`${msg.sampleId}\` is running`);
    s.stop('client');
  }

  /** A client's `tokens`: the first message of a sampleId starts a pushed sample owned by that connection. */
  clientTokens(conn: FeedConnection, msg: TokensMessage): void {
    let state = this.pushed.get(conn);
    if (!state) {
      state = { live: new Map(), finished: new Map() };
      this.pushed.set(conn, state);
    }
    let s = state.live.get(msg.sampleId);
    if (!s) {
      const wasStopped = state.finished.get(msg.sampleId);
      // Tokens already in flight when the server stopped the sample are expected; anything else is a client bug.
      if (wasStopped === true) return;
      if (wasStopped === false) throw new FeedProtocolError('sample_finished', `Sample \`${msg.sampleId}\` has already ended`);
      if (state.live.size >= this.o.maxPushedPerClient) throw new FeedProtocolError('too_many_samples', `This connection already pushes ${state.live.size} samples (the limit)`);
      const st = state;
      s = this.begin({
        // Pushed ids are the client's: give the monitor a unique one, so an id reused later starts a fresh sample.
        sampleId: msg.sampleId, monitorId: `${msg.sampleId}@client${conn.id}.${++this.pushSeq}`, run: msg.run ?? 'default', question: msg.question ?? msg.sampleId, source: 'client',
        model: null, earlyStop: msg.earlyStop ?? false, reference: msg.reference ?? null, owner: conn,
        onFinished: (x) => {
          st.live.delete(x.sampleId);
          st.finished.set(x.sampleId, x.stopped);
          if (st.finished.size > 4096) st.finished.delete(st.finished.keys().next().value!);
        },
      });
      st.live.set(msg.sampleId, s);
    }
    const t = this.o.now();
    for (const tok of msg.tokens) {
      if (s.finished) break;
      s.push({
        type: 'token', sampleId: s.monitorId, index: s.tokens, token: tok.token,
        logprob: tok.logprob ?? NaN, top: tok.top as readonly TopLogprob[] | null, channel: tok.channel, t,
      });
    }
    if (msg.end && !s.finished) s.push({ type: 'end', sampleId: s.monitorId, finishReason: msg.end.finishReason, t });
  }

  /** The connection closed: its pushed samples end with finishReason `error`. */
  clientClosed(conn: FeedConnection): void {
    const state = this.pushed.get(conn);
    if (!state) return;
    for (const s of [...state.live.values()]) s.abandon('error');
  }

  /** A message about a run that no sample sends (e.g. `abort_unconfirmed`). */
  announce(run: string, msg: ServerMessage): void {
    this.o.publish(run, msg, null);
  }

  /** A malformed upstream chunk no sample can be named for: `error` `stream_error` to the run's subscribers. */
  streamError(run: string, message: string): void {
    this.o.publish(run, { type: 'error', code: 'stream_error', message, t: this.o.now() }, null);
  }

  /** Feeds one stream event to its sample (proxy path, where sampleId = monitorId); events of unknown samples are ignored. */
  route(ev: StreamEvent): void {
    if (ev.sampleId === undefined) return;
    this.live.get(ev.sampleId)?.push(ev);
  }

  stats(): HubStats {
    let liveTokens = 0;
    for (const s of this.live.values()) liveTokens += s.tokens;
    return { live: this.live.size, ...this.totals, tokens: this.totals.tokens + liveTokens, questions: this.votes.size };
  }
}
