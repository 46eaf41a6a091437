import type { MonitorEvent } from '../online/monitor-events.ts';
import { stopSignal, type StopPolicy, type StopSignal } from '../policy/stop-policy.ts';
import type { MonitorFactory, SampleMonitorHandle } from '../online/shared-monitor.ts';
import type { TokenTick, TokenTickSignals } from '../online/monitor.ts';
import { recordAnswer } from '../policy/record-answer.ts';
import type { Channel, StreamEvent } from '../stream/token-event.ts';
import type { StopCounter } from './bus/stop-counter.ts';
import type { SampleSource, ServerMessage, StopMessage, StopReason } from './protocol.ts';

/** What a tick needs of its token event. */
export interface TickToken {
  readonly index: number;
  readonly token: string;
  readonly channel: Channel;
}

export interface LiveSampleInit {
  /** The id clients see. */
  readonly sampleId: string;
  /** The id of this sample's stream events inside the monitor (unique for the server's lifetime). @default sampleId */
  readonly monitorId?: string;
  readonly run: string;
  readonly question: string;
  readonly source: SampleSource;
  readonly model: string | null;
  /** Stop the sample when the stop policy fires (else risks are only reported). */
  readonly earlyStop: boolean;
  readonly reference: string | null;
  /**
   * Self-consistency guard for policy stops: the question has `samples` samples in all, and a stop that would leave
   * fewer than `minKeep` of them unstopped is skipped (the sample runs on and still votes). Client stops ignore it.
   */
  readonly keep?: { readonly samples: number; readonly minKeep: number } | null;
  /** Called once when the sample is stopped (abort the upstream request / tell the pushing client). */
  readonly onStop?: (msg: StopMessage) => void;
  /** Called once when the sample has finished (after its `sample_finished`). */
  readonly onFinished?: (sample: LiveSample) => void;
}

export interface LiveSampleContext {
  readonly createMonitor: MonitorFactory;
  readonly stopPolicy: StopPolicy;
  /** Publishes a feed message about this sample's run. */
  readonly publish: (run: string, msg: ServerMessage) => void;
  /** Whether anyone wants per-token ticks of the run. */
  readonly wantsTicks: (run: string) => boolean;
  /**
   * One per-token tick of this sample (only called when `wantsTicks`): the token, its signals, the clock for its time
   * (references only: the receiver copies the numbers where they go, no message object unless one is sent).
   */
  readonly tick: (ev: TickToken, signals: TokenTickSignals, now: () => number) => void;
  /** A finished sample's answer goes to the vote board; returns its question's `vote`. */
  readonly tally: (sample: LiveSample) => ServerMessage;
  /** Stops per (run, question) for the `keep` guard (in this process, or shared across instances over NATS). */
  readonly stops: StopCounter;
  readonly now: () => number;
  /**
   * Shadow mode: every sample is judged by the stop policy as if early stopping were on, and none is stopped — the
   * decision is published as a `stop` with `shadow: true` and written to `log`.
   */
  readonly shadow?: boolean;
  readonly log?: (line: string) => void;
}

/**
 * One monitored sample on the server: feeds its stream events to the monitor, turns monitor events into feed
 * messages, applies the stop policy when early stopping was asked for, and announces the end with the answer and the
 * question's vote. Every transition happens once: a sample is stopped at most once and finishes exactly once.
 */
export class LiveSample {
  readonly init: LiveSampleInit;
  readonly monitorId: string;
  tokens = 0;
  stopped = false;
  finished = false;
  /** Last risk the monitor reported (for weighted votes and the finish message). */
  lastRisk: number | null = null;
  stopInfo: StopSignal | null = null;
  /** Shadow mode: the stop decided (and not acted on), with the tokens the sample had then. */
  shadowStop: { readonly reason: StopReason; readonly T: number | null; readonly risk: number | null; readonly tokens: number } | null = null;
  finishReason: string | null = null;
  answer: string | null = null;
  record: Record<string, number | string | null> | null = null;
  private readonly ctx: LiveSampleContext;
  private readonly monitor: SampleMonitorHandle;
  private ended = false;
  /** True while the monitor is handling an event: a stop decided then ends the sample right after it returns. */
  private inMonitor = false;
  private endAfterMonitor = false;
  /**
   * Stop decision reached while the monitor handles one token: acted on when it returns, so a `committed_failure`
   * of the same boundary (emitted right after its `risk`) is announced first and gives the reason.
   */
  private pendingSignal: StopSignal | null = null;
  /** A guarded stop waits for the shared counter's answer (NATS): no second request meanwhile. */
  private reserving = false;

  constructor(init: LiveSampleInit, ctx: LiveSampleContext) {
    this.init = init;
    this.ctx = ctx;
    this.monitorId = init.monitorId ?? init.sampleId;
    // Both callbacks are made once per sample: the monitor asks for the tick receiver per token, and gets null (so
    // builds nothing) while no subscriber wants the run's ticks.
    const run = init.run;
    const tick: TokenTick = ctx.tick;
    this.monitor = ctx.createMonitor(
      { monitorId: this.monitorId, reference: init.reference },
      (ev) => this.onMonitorEvent(ev),
      () => (ctx.wantsTicks(run) ? tick : null),
    );
    ctx.publish(init.run, {
      type: 'sample_started', run: init.run, question: init.question, sampleId: init.sampleId, source: init.source,
      model: init.model, earlyStop: init.earlyStop, t: ctx.now(),
    });
  }

  get sampleId(): string {
    return this.init.sampleId;
  }

  /** A stream event of this sample (token, end, stream_error) with `sampleId` = monitorId. Ignored after the sample was stopped or ended. */
  push(ev: StreamEvent): void {
    if (this.ended) return;
    if (ev.type === 'token') this.tokens++;
    if (ev.type === 'end') {
      this.ended = true;
      this.finishReason = this.stopped ? 'failmode_stop' : ev.finishReason;
    }
    if (ev.type === 'start') return;
    this.inMonitor = true;
    try {
      this.monitor.push(ev);
    } finally {
      this.inMonitor = false;
    }
    // A monitor that emits no final record still finishes the sample.
    if (ev.type === 'end' && !this.finished) this.finish();
    if (this.pendingSignal) {
      const signal = this.pendingSignal;
      this.pendingSignal = null;
      this.policyStop(signal);
    }
    if (this.endAfterMonitor) {
      this.endAfterMonitor = false;
      this.push({ type: 'end', sampleId: this.monitorId, finishReason: 'failmode_stop', t: this.ctx.now() });
    }
  }

  /**
   * Stops the sample: announces `stop`, calls `onStop` (which aborts the generation), and ends the monitor's sample
   * with finishReason `failmode_stop`. No-op when already stopped or ended.
   */
  stop(reason: StopReason, signal: StopSignal | null = null, reserved = false): boolean {
    if (this.stopped || this.ended) {
      if (reserved) this.ctx.stops.release(this.init.run, this.init.question);
      return false;
    }
    this.stopped = true;
    if (!reserved) this.ctx.stops.count(this.init.run, this.init.question);
    this.stopInfo = signal;
    const msg: StopMessage = {
      type: 'stop', run: this.init.run, sampleId: this.sampleId, reason,
      T: signal?.T ?? null, risk: signal?.risk ?? null, tokens: this.tokens, t: this.ctx.now(),
    };
    this.ctx.publish(this.init.run, msg);
    this.init.onStop?.(msg);
    // Never re-enter the monitor from inside its own callback.
    if (this.inMonitor) this.endAfterMonitor = true;
    else this.push({ type: 'end', sampleId: this.monitorId, finishReason: 'failmode_stop', t: this.ctx.now() });
    return true;
  }

  /** Records (publishes, logs) the stop the policy decided, without stopping: shadow mode. Once per sample. */
  private shadowStopNow(signal: StopSignal, reserved = false): boolean {
    if (this.shadowStop !== null || this.stopped || this.ended) {
      if (reserved) this.ctx.stops.release(this.init.run, this.init.question);
      return false;
    }
    if (!reserved) this.ctx.stops.count(this.init.run, this.init.question); // the keep guard counts it as in a real run
    this.shadowStop = { reason: signal.reason, T: signal.T, risk: signal.risk, tokens: this.tokens };
    const msg: StopMessage = {
      type: 'stop', run: this.init.run, sampleId: this.sampleId, reason: signal.reason,
      T: signal.T, risk: signal.risk, tokens: this.tokens, shadow: true, t: this.ctx.now(),
    };
    this.ctx.publish(this.init.run, msg);
    this.ctx.log?.(`shadow stop ${JSON.stringify({ run: this.init.run, question: this.init.question, sampleId: this.sampleId, reason: signal.reason, T: signal.T, risk: signal.risk, tokens_at_stop: this.tokens })}`);
    return true;
  }

  /**
   * A stop the policy asked for: with a `keep` guard only if the question's counter grants it — at once in one
   * process; over NATS the sample runs on until the grant comes back, and a refusal leaves it running. In shadow
   * mode the same decision is recorded instead of acted on.
   */
  private policyStop(signal: StopSignal): void {
    const act = (reserved: boolean): void => {
      if (this.ctx.shadow) this.shadowStopNow(signal, reserved);
      else this.stop(signal.reason, signal, reserved);
    };
    const keep = this.init.keep;
    if (!keep) {
      act(false);
      return;
    }
    if (this.reserving) return;
    const { run, question } = this.init;
    const granted = this.ctx.stops.reserve(run, question, keep.samples - keep.minKeep);
    if (granted === true) act(true);
    if (typeof granted === 'boolean') return;
    this.reserving = true;
    granted.then((ok) => {
      this.reserving = false;
      if (ok) act(true);
    }, () => {
      // The shared counter is unreachable: not stopping is the side that never breaks the guard.
      this.reserving = false;
    });
  }

  /** Ends a sample whose stream stopped without an end event (dropped connection, caller gone). */
  abandon(finishReason: string): void {
    if (!this.ended) this.push({ type: 'end', sampleId: this.monitorId, finishReason, t: this.ctx.now() });
  }

  private onMonitorEvent(ev: MonitorEvent): void {
    const { run } = this.init;
    const sampleId = this.sampleId;
    const now = this.ctx.now();
    switch (ev.type) {
      case 'window':
        this.ctx.publish(run, { type: 'window', run, sampleId, T: ev.T, features: ev.features, t: ev.t });
        break;
      case 'risk':
        this.lastRisk = ev.risk;
        this.ctx.publish(run, { type: 'risk', run, sampleId, index: ev.index, T: ev.T, risk: ev.risk, threshold: ev.threshold, t: ev.t });
        break;
      case 'committed_failure':
        this.ctx.publish(run, { type: 'committed_failure', run, sampleId, T: ev.T, risk: ev.risk, threshold: ev.threshold, regime: ev.regime, t: ev.t });
        break;
      case 'final':
        this.record = ev.record;
        this.answer = recordAnswer(ev.record);
        if (!this.finished && this.ended) this.finish();
        return;
      case 'stream_error':
        this.ctx.publish(run, { type: 'error', code: 'stream_error', message: `${ev.position}: ${ev.message}`, sampleId: this.sampleId, t: now });
        return;
      case 'warning':
        this.ctx.publish(run, { type: 'warning', run, sampleId: this.sampleId, message: ev.message, t: now });
        return;
      case 'token':
        // From a monitor factory that emits tick events itself.
        if (this.ctx.wantsTicks(run)) this.ctx.tick(ev, { lastTokenEntropy: ev.entropy, lastTokenNll: ev.nll }, () => ev.t);
        return;
    }
    if ((this.init.earlyStop || this.ctx.shadow) && !this.stopped && !this.ended && this.shadowStop === null) {
      const signal = stopSignal(ev, this.ctx.stopPolicy);
      if (signal && (this.pendingSignal === null || signal.reason === 'committed_failure')) this.pendingSignal = signal;
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    const { run, question } = this.init;
    this.ctx.publish(run, {
      type: 'sample_finished', run, question, sampleId: this.sampleId, finishReason: this.finishReason ?? 'unknown',
      stopped: this.stopped, tokens: this.tokens, answer: this.answer, record: this.record,
      ...(this.shadowStop !== null ? { shadowStop: this.shadowStop } : {}), t: this.ctx.now(),
    });
    this.ctx.publish(run, this.ctx.tally(this));
    this.init.onFinished?.(this);
  }
}
