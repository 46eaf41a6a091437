/**
 * The live monitor: token events in, per-sample monitor events out (SPEC §1 features, the model file's classifiers).
 *
 * Per sample:
 * - `token` ticks (with `ticks: true`) carry the token's entropy and NLL for sparklines; a server hands them to a
 *   {@link TokenTickSink} instead, which builds nothing per token unless someone wants that sample's ticks;
 * - at every window boundary T (the T-th token) a `window` event with that window's features and, with a model that
 *   has a classifier for T, a `risk` event: P(failure) from that window's classifier. Between boundaries the latest
 *   risk stands (no per-token scoring — the classifiers are defined on windows);
 * - with a committed or near-committed model, the first boundary T ≥ T* (the commitment point) whose risk ≥ that
 *   window's stop threshold gives ONE `committed_failure` (T, risk, the features scored). A persistent-uncertainty
 *   model never flags early: its risk keeps updating and is scored once more with the 'full' classifier at the end;
 * - at the end: `window` events for the windows the sample never reached (their features are the whole trace's),
 *   the 'full' `risk`, and `final` with the sample record (every column of SPEC §1.4, answer, correct).
 *
 * Prefinal models (feature names `…_prefinal_w{T}`): until the final-answer marker is seen, the prefinal list IS the
 * running trace (the prefinal list is a prefix of the full list, and nothing has been cut yet), so an early window's
 * prefinal features are the running window's. If the marker appears before T, the prefinal window is the cut list.
 * A sample that never shows the marker has NaN prefinal features at the end; the classifier fills them with its
 * training medians (the paper's prefinal analysis would drop such a sample).
 *
 * Robustness: a malformed event becomes a `stream_error` and the session goes on; a stream whose top-k differs from
 * the model's `signal.topK` gets one `warning` (entropy, margin and nucleus size depend on k — SPEC §6.2 #8) and is
 * still scored. Open samples are bounded (`maxSamples`): beyond it the oldest open sample is closed with
 * finish_reason `evicted` — that is its one `final`; its later tokens and its end event are dropped. Closed ids are
 * remembered for that (the last `maxSamples` ended samples, the last {@link EVICTED_MEMORY} × `maxSamples` evicted
 * ones): only a sample evicted longer ago than that could start again.
 */
import { Observable } from 'rxjs';
import { DEFAULT_WINDOWS } from '../features/columns.ts';
import { DEFAULT_SIGNAL_PARAMS, type SignalParams } from '../features/token-signals.ts';
import type { ModelFile, WindowClassifier } from '../models/model-file.ts';
import { hasAnyFeature, scoreClassifier } from '../models/score-classifier.ts';
import type { StreamEvent, TokenEvent } from '../stream/token-event.ts';
import type { FeatureRecord, MonitorEvent } from './monitor-events.ts';
import { isProfile, type Profile } from './profiles.ts';
import { RecentIds } from './recent-ids.ts';
import { SampleFeatures } from './sample-features.ts';

export const DEFAULT_MAX_SAMPLES = 4096;
/**
 * Evicted samples remembered, as a multiple of `maxSamples` (65,536 ids by default; up to twice that held, ~10 MB):
 * an evicted sample's tokens and end keep coming while thousands of others are opened (20,000 choices in a request).
 */
export const EVICTED_MEMORY = 16;

export interface MonitorOptions {
  /** Classifiers per window (+ 'full'); without one the monitor emits features, windows and finals only. */
  readonly model?: ModelFile | null;
  /** Early windows (default: the model's windows, else the paper's 128 … 2048). The model's windows are always added. */
  readonly windows?: readonly number[];
  /** Signal parameters (default: the model's, else nucleus_p 0.7 / tie_delta 0.5). */
  readonly params?: SignalParams;
  /** Task profile (default: the model's, else `none`). */
  readonly profile?: Profile;
  /** Reference answer for every sample, or per sample id; enables `correct` in the record. */
  readonly reference?: string | ((sampleId: string) => string | undefined);
  /** The top-k the stream was requested with (checked against the model's signal.topK up front). */
  readonly topK?: number;
  /** Emit per-token `token` ticks (for UIs). */
  readonly ticks?: boolean;
  /** Per-token signals without an event object (ignored with `ticks: true`): see {@link TokenTickSink}. */
  readonly tickSink?: TokenTickSink;
  /** Option letters for `final-answer` extraction (default ABCD). */
  readonly letters?: string;
  /** Bound on simultaneously open samples (default 4096). */
  readonly maxSamples?: number;
  /** Clock for event timestamps (ms since the epoch). */
  readonly now?: () => number;
}

/** The last token's signals (a sample's SampleFeatures): read by reference, so no number is boxed per token. */
export interface TokenTickSignals {
  readonly lastTokenEntropy: number;
  readonly lastTokenNll: number;
}

/**
 * Receives one sample's per-token tick: the token event as pushed, its signals, and the monitor's clock (read for the
 * tick's time only by a receiver that uses it).
 */
export type TokenTick = (ev: TokenEvent, signals: TokenTickSignals, now: () => number) => void;

/**
 * Asked once per token: the receiver of sample `sampleId`'s tick when someone wants it now, else null — then nothing
 * is built or timed for the tick (a server with no tick subscriber allocates nothing per token for ticks).
 */
export type TokenTickSink = (sampleId: string) => TokenTick | null;

/** The settings a monitor actually runs with, after defaults and the model file. */
export interface ResolvedMonitorConfig {
  readonly windows: readonly number[];
  readonly params: SignalParams;
  readonly profile: Profile;
  readonly model: ModelFile | null;
}

/** Push-style monitor for callers outside RxJS (the WebSocket feed, the sampler). */
export interface SampleMonitor {
  readonly config: ResolvedMonitorConfig;
  /** Feeds one stream event; never throws for a malformed event (it becomes a `stream_error`). */
  push(ev: StreamEvent): void;
  /**
   * End of input: samples still open end with `finishReason` (their `final` is emitted) — '' when the input simply
   * stopped, 'abort' when the user stopped watching (Ctrl-C, q).
   */
  end(finishReason?: string): void;
  /** Open samples. */
  readonly openSamples: number;
}

interface SampleState {
  readonly id: string;
  readonly sf: SampleFeatures;
  /** Index into config.windows (ascending) of the next boundary. */
  next: number;
  flagged: boolean;
  topKChecked: boolean;
  /** Some token of it carried a logprob or a top-logprob list (else its features are all missing: no logprobs). */
  sawLogprobs: boolean;
  /**
   * The features of every window scored so far: a hazard-model classifier (docs/model-format.md) reads the previous
   * window's columns as well as window T's.
   */
  readonly history: FeatureRecord;
}

/** Resolves windows / params / profile from the options and the model file; throws TypeError on contradictions. */
export function resolveMonitorConfig(opts: MonitorOptions): ResolvedMonitorConfig {
  const model = opts.model ?? null;
  const base = opts.windows ?? model?.windows ?? DEFAULT_WINDOWS;
  const set = new Set<number>(base);
  if (model) for (const c of model.classifiers) if (typeof c.window === 'number') set.add(c.window);
  const windows = [...set].sort((a, b) => a - b);
  for (const T of windows) if (!Number.isInteger(T) || T <= 0) throw new TypeError(`Expected windows to be positive integers, got ${T}`);
  const params = opts.params ?? (model ? { nucleusP: model.signal.nucleusP, tieDelta: model.signal.tieDelta } : DEFAULT_SIGNAL_PARAMS);
  let profile: Profile = opts.profile ?? 'none';
  if (opts.profile === undefined && model?.profile) {
    if (!isProfile(model.profile)) throw new TypeError(`Model file profile \`${model.profile}\` is not one of final-answer, boxed, final-boxed, code, none`);
    profile = model.profile;
  }
  return { windows, params, profile, model };
}

export function createSampleMonitor(opts: MonitorOptions, emit: (ev: MonitorEvent) => void): SampleMonitor {
  const config = resolveMonitorConfig(opts);
  const { windows, params, profile, model } = config;
  const origin = performance.timeOrigin; // read once: the getter allocates on every call
  const now = opts.now ?? (() => origin + performance.now());
  const maxSamples = opts.maxSamples ?? DEFAULT_MAX_SAMPLES;
  const tickSink = opts.tickSink;
  const samples = new Map<string, SampleState>();
  /** Closed ids (bounded): late tokens of an ended, stopped or evicted sample must not reopen it (a second final). */
  const ended = new RecentIds(maxSamples);
  const evicted = new RecentIds(EVICTED_MEMORY * maxSamples);
  const isClosed = (id: string): boolean => ended.has(id) || evicted.has(id);
  const byWindow = new Map<number | 'full', WindowClassifier>();
  if (model) for (const c of model.classifiers) byWindow.set(c.window, c);
  const commits = model !== null && (model.regime === 'committed' || model.regime === 'near-committed') && model.commitmentPoint !== null;
  const tStar = model?.commitmentPoint ?? Infinity;
  let warnedTopK = false;
  let warnedNoLogprobs = false;
  /** Once per monitor: samples without any logprobs get no risk (their features are missing, not median-filled). */
  const warnNoLogprobs = (sampleId: string): void => {
    if (warnedNoLogprobs) return;
    warnedNoLogprobs = true;
    warn(`${sampleId} arrived without logprobs: its uncertainty features are missing, so no risk is scored for it or any other such sample (features are not filled with training medians; does the server honour logprobs / top_logprobs?)`, sampleId);
  };

  const warn = (message: string, sampleId?: string): void => {
    emit(sampleId === undefined ? { type: 'warning', message, t: now() } : { type: 'warning', sampleId, message, t: now() });
  };

  // Up-front configuration warnings.
  if (model && opts.topK !== undefined && opts.topK !== model.signal.topK) {
    warnedTopK = true;
    warn(topKMessage(opts.topK, model.signal.topK, 'requested'));
  }
  if (model && opts.params && (opts.params.nucleusP !== model.signal.nucleusP || opts.params.tieDelta !== model.signal.tieDelta)) {
    warn(`Signal parameters nucleus_p ${opts.params.nucleusP} / tie_delta ${opts.params.tieDelta} differ from the model's ${model.signal.nucleusP} / ${model.signal.tieDelta}; risks are computed on features the model was not trained on`);
  }
  if (model?.prefinal && profile === 'none') {
    warn('The model uses prefinal features but no task profile is set (--profile): the prefinal list is never cut, so its features are the running trace');
  }

  const referenceFor = (id: string): string | undefined =>
    typeof opts.reference === 'function' ? opts.reference(id) : opts.reference;

  function open(id: string): SampleState {
    let s = samples.get(id);
    if (s) return s;
    if (samples.size >= maxSamples) {
      const oldest = samples.keys().next().value as string;
      warn(`More than ${maxSamples} samples open at once: closing the oldest (${oldest}) without an end event`, oldest);
      close(samples.get(oldest)!, 'evicted', now());
    }
    s = {
      id,
      sf: new SampleFeatures({ windows, params, profile, sampleId: id, reference: referenceFor(id), letters: opts.letters }),
      next: 0, flagged: false, topKChecked: false, sawLogprobs: false, history: {},
    };
    samples.set(id, s);
    return s;
  }

  function scoreWindow(s: SampleState, T: number, t: number): void {
    const features: FeatureRecord = {};
    s.sf.windowFeatures(T, false, features);
    emit({ type: 'window', sampleId: s.id, T, features: { ...features }, t });
    if (!model) return;
    if (model.prefinal) s.sf.windowFeatures(T, true, features);
    Object.assign(s.history, features);
    const c = byWindow.get(T);
    if (!c) return;
    // Nothing to score (no logprobs, or a prefinal model before any prefinal feature exists): no made-up risk.
    if (!hasAnyFeature(c, s.history)) { if (!s.sawLogprobs) warnNoLogprobs(s.id); return; }
    const risk = scoreClassifier(c, s.history);
    const threshold = c.stop.threshold;
    emit({ type: 'risk', sampleId: s.id, index: s.sf.length - 1, T, risk, threshold, t });
    if (commits && !s.flagged && T >= tStar && threshold !== null && risk >= threshold) {
      s.flagged = true;
      const used: FeatureRecord = {};
      for (const name of c.featureNames) used[name] = s.history[name] ?? null;
      emit({ type: 'committed_failure', sampleId: s.id, T, risk, threshold, regime: model!.regime, features: used, t });
    }
  }

  function checkTopK(s: SampleState): void {
    if (!model || warnedTopK || s.topKChecked) return;
    s.topKChecked = true;
    const k = s.sf.topK;
    if (k > 0 && k !== model.signal.topK) {
      warnedTopK = true;
      warn(topKMessage(k, model.signal.topK, 'observed'), s.id);
    }
  }

  function onToken(ev: TokenEvent): void {
    if (isClosed(ev.sampleId)) return;
    const s = open(ev.sampleId);
    if (s.sf.isEnded) return;
    if (!s.sawLogprobs && (Number.isFinite(ev.logprob) || (ev.top !== null && ev.top.length > 0))) s.sawLogprobs = true;
    s.sf.push(ev);
    if (opts.ticks) {
      emit({ type: 'token', sampleId: s.id, index: ev.index, token: ev.token, entropy: s.sf.lastTokenEntropy, nll: s.sf.lastTokenNll, channel: ev.channel, t: now() });
    } else if (tickSink !== undefined) {
      const tick = tickSink(s.id);
      if (tick !== null) tick(ev, s.sf, now);
    }
    const n = s.sf.length;
    while (s.next < windows.length && windows[s.next]! <= n) {
      const T = windows[s.next++]!;
      if (T === n) { checkTopK(s); scoreWindow(s, T, now()); }
    }
  }

  /** `endT`: when the sample ended (the end event's time; latency_s in the record). */
  function close(s: SampleState, finishReason: string, endT: number): void {
    const t = now();
    samples.delete(s.id);
    (finishReason === 'evicted' ? evicted : ended).add(s.id);
    if (s.sf.isEnded) return;
    s.sf.end(finishReason, endT);
    checkTopK(s);
    // Windows the sample never reached: their features are the whole trace's; no early risk (it ended first).
    while (s.next < windows.length) {
      const T = windows[s.next++]!;
      emit({ type: 'window', sampleId: s.id, T, features: s.sf.windowFeatures(T, false), t });
    }
    const record = s.sf.record();
    const full = byWindow.get('full');
    // No risk only for a sample without logprobs: prefinal features that are missing because the marker never came
    // are filled with the training medians, as documented above.
    if (full && !hasAnyFeature(full, record) && !Number.isFinite(record.nll_mean)) warnNoLogprobs(s.id);
    else if (full) emit({ type: 'risk', sampleId: s.id, index: Math.max(0, s.sf.length - 1), T: 'full', risk: scoreClassifier(full, record), threshold: full.stop.threshold, t });
    emit({ type: 'final', sampleId: s.id, record, t });
  }

  function push(ev: StreamEvent): void {
    try {
      if (ev === null || typeof ev !== 'object') throw new TypeError(`Expected a stream event object, got ${ev === null ? 'null' : typeof ev}`);
      switch (ev.type) {
        case 'token':
          if (typeof ev.sampleId !== 'string') throw new TypeError('Expected token.sampleId to be a string');
          onToken(ev);
          return;
        case 'start':
          if (!isClosed(ev.sampleId)) open(ev.sampleId).sf.start(ev.t);
          return;
        case 'end': {
          if (isClosed(ev.sampleId)) return; // already ended (e.g. stopped by the user, then the server's end)
          const s = samples.get(ev.sampleId) ?? open(ev.sampleId);
          // The source counts text that came without logprobs; say so once, before the record whose features lack it.
          if (ev.tokensWithoutLogprobs !== undefined && ev.tokensWithoutLogprobs > 0) {
            const k = ev.tokensWithoutLogprobs;
            // A sample with no logprobs at all is said once per run, not once per sample.
            if (k >= s.sf.length) warnNoLogprobs(ev.sampleId);
            else warn(`${k} token${k === 1 ? '' : 's'} of ${ev.sampleId} arrived without logprobs: their uncertainty features are missing (does the server honour logprobs / top_logprobs?)`, ev.sampleId);
          }
          close(s, ev.finishReason ?? '', typeof ev.t === 'number' ? ev.t : now());
          return;
        }
        case 'stream_error':
          emit({
            type: 'stream_error', position: ev.position, message: ev.message, fatal: ev.fatal, t: ev.t,
            ...(ev.sampleId !== undefined ? { sampleId: ev.sampleId } : {}),
          });
          return;
        default:
          throw new TypeError(`Unknown stream event type \`${String((ev as { type?: unknown }).type)}\``);
      }
    } catch (err) {
      const sampleId = ev && typeof ev === 'object' && typeof (ev as { sampleId?: unknown }).sampleId === 'string' ? (ev as { sampleId: string }).sampleId : undefined;
      const position = ev && typeof ev === 'object' && 'index' in ev ? `token ${(ev as TokenEvent).index}` : 'event';
      emit({ type: 'stream_error', position, message: `monitor: ${err instanceof Error ? err.message : String(err)}`, t: now(), ...(sampleId !== undefined ? { sampleId } : {}) });
    }
  }

  return {
    config,
    push,
    end(finishReason = ''): void {
      for (const s of [...samples.values()]) close(s, finishReason, now());
    },
    get openSamples() { return samples.size; },
  };
}

/**
 * Monitors a stream of token events (any number of interleaved samples). Per subscription state; unsubscribing
 * stops the source. Samples still open when the source completes are closed with finish_reason ''.
 */
export function monitor(events$: Observable<StreamEvent>, opts: MonitorOptions = {}): Observable<MonitorEvent> {
  return new Observable<MonitorEvent>((subscriber) => {
    const m = createSampleMonitor(opts, (ev) => subscriber.next(ev));
    const sub = events$.subscribe({
      next: (ev) => m.push(ev),
      error: (err) => {
        subscriber.next({ type: 'stream_error', position: 'source', message: err instanceof Error ? err.message : String(err), fatal: true, t: opts.now?.() ?? Date.now() });
        m.end();
        subscriber.complete();
      },
      complete: () => { m.end(); subscriber.complete(); },
    });
    return () => sub.unsubscribe();
  });
}

function topKMessage(streamK: number, modelK: number, how: 'requested' | 'observed'): string {
  return `Stream top-k ${streamK} (${how}) differs from the model's top-k ${modelK}: entropy, margin and nucleus size renormalise over the top-k list, so risks are not calibrated for this stream (still scored)`;
}
