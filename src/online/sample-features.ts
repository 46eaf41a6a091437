/**
 * Every feature column of SPEC §1.4 for ONE sample, updated token by token in O(1) time and O(1) memory:
 * the full-trace block, each early window `_w{T}` (the running state is copied — "frozen" — when the T-th token
 * arrives), the prefinal block `_prefinal` (state at the final-answer marker's line start, see PrefinalTracker) and
 * the prefinal windows `_prefinal_w{T}` (the prefinal list is a prefix of the full list, so its window T is the full
 * window T when the prefinal list has ≥ T tokens, else the prefinal state itself).
 *
 * Per token: top-k signals via computeTopKSignals into a reused object, one SignalAccumulator update, window freezes
 * by copy, the marker matchers, the degenerate detector, and a store per character into a fixed text ring (TextWindow;
 * `keepText: false` turns it off, and with it answer extraction). No allocation in steady state.
 *
 * Text kept for answer extraction: the last TAIL_CHARS characters plus, per marker, REGION_CHARS characters from
 * its first match. Extraction is exact while the whole text fits in the tail; beyond that it reads the marker regions
 * and the tail (the answer is at the end, and the primary methods read from the first marker).
 */
import { signalBlockColumns, STAT_NAMES, DEFAULT_WINDOWS, fullLenColumn, windowLenColumn, type ListSuffix } from '../features/columns.ts';
import { GroupConfidence, tokenConfidence, writeConfidenceColumns, DEFAULT_CONF_GROUP_SIZE } from '../features/group-confidence.ts';
import { SignalAccumulator } from '../features/signal-accumulator.ts';
import { computeTopKSignals, DEFAULT_SIGNAL_PARAMS, type SignalParams, type TopKSignals } from '../features/token-signals.ts';
import type { TokenEvent } from '../stream/token-event.ts';
import { DegenerateDetector } from './degenerate-detector.ts';
import { extractAnswer, isCorrect, referenceAnswer } from './extract-answer.ts';
import type { FeatureRecord } from './monitor-events.ts';
import { PrefinalTracker } from './prefinal-tracker.ts';
import { profileSpec, type Profile } from './profiles.ts';
import { TextWindow } from './text-window.ts';

export const TAIL_CHARS = 16_384;
export const REGION_CHARS = 8_192;

export interface SampleFeaturesOptions {
  /** Early windows T (default the paper's 128 … 2048). Positive integers. */
  readonly windows?: readonly number[];
  readonly params?: SignalParams;
  /** Task profile: decides the prefinal marker and answer extraction (default `none`). */
  readonly profile?: Profile;
  /** Sample id `${requestId}:${choiceIndex}`; `question_id` / `completion_idx` are derived from it unless given in `record(extra)`. */
  readonly sampleId?: string;
  /** Reference answer (dataset field): enables `correct`. */
  readonly reference?: string;
  /** Option letters for `final-answer` extraction (default ABCD; AR-LSAT: ABCDE). */
  readonly letters?: string;
  /** Keep a bounded text tail for answer extraction (default true). */
  readonly keepText?: boolean;
  /** G of the DeepConf group confidence columns (`conf_*`, default 128). */
  readonly confGroupSize?: number;
}

/** Metadata columns of the sample record, in file order (signal blocks follow). */
export const RECORD_METADATA_COLUMNS = [
  'sample_id', 'question_id', 'completion_idx', 'profile', 'predicted_answer', 'extraction_method', 'true_answer', 'correct',
  'generated_len', 'prefinal_len', 'hit_max_tokens', 'finish_reason', 'degenerate', 'latency_s',
  'top_logprobs_k', 'tokens_without_top_logprobs', 'prefinal_marker',
] as const;

export class SampleFeatures {
  readonly windows: readonly number[];
  readonly params: SignalParams;
  readonly profile: Profile;
  readonly sampleId: string;
  readonly reference: string | undefined;
  private readonly letters: string | undefined;
  private readonly keepText: boolean;

  private readonly full = new SignalAccumulator();
  /** DeepConf token / group confidence over the whole trace (`conf_*` columns). */
  readonly confidence: GroupConfidence;
  /** Window states in ascending T order (`sortedWindows`). */
  private readonly sortedWindows: number[];
  private readonly winStates: SignalAccumulator[];
  private nextWin = 0;
  private readonly tracker: PrefinalTracker;
  private readonly degenerate = new DegenerateDetector();
  private scratch = new Float64Array(256);
  private logprobs = new Float64Array(256);
  private readonly sig: TopKSignals = { entropy: 0, margin: 0, nucleusSize: 0, nearTie: 0, fork: 0 };
  /** Last token's signals (NaN entropy when it had no top-k list), for ticks. */
  private lastEntropy = NaN;
  private lastNll = NaN;

  private readonly text: TextWindow | null;

  private maxK = 0;
  private withoutTop = 0;
  private firstT = NaN;
  private lastT = NaN;
  private finishReason: string | null = null;
  private ended = false;
  private ignoredAfterEnd = 0;

  constructor(opts: SampleFeaturesOptions = {}) {
    const windows = [...(opts.windows ?? DEFAULT_WINDOWS)];
    for (const T of windows) if (!Number.isInteger(T) || T <= 0) throw new TypeError(`Expected windows to be positive integers, got ${T}`);
    this.windows = windows;
    this.sortedWindows = [...new Set(windows)].sort((a, b) => a - b);
    this.winStates = this.sortedWindows.map(() => new SignalAccumulator());
    this.params = opts.params ?? DEFAULT_SIGNAL_PARAMS;
    this.profile = opts.profile ?? 'none';
    this.sampleId = opts.sampleId ?? '';
    this.reference = opts.reference;
    this.letters = opts.letters;
    this.keepText = opts.keepText ?? true;
    this.confidence = new GroupConfidence(opts.confGroupSize ?? DEFAULT_CONF_GROUP_SIZE);
    this.tracker = new PrefinalTracker(profileSpec(this.profile));
    this.text = this.keepText ? new TextWindow(this.tracker.spec.markers.length, TAIL_CHARS, REGION_CHARS) : null;
  }

  /** Tokens seen. */
  get length(): number {
    return this.full.length;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Largest top-k list length seen. */
  get topK(): number {
    return this.maxK;
  }

  /** Entropy (NaN without top-k) and NLL of the last token. */
  get lastTokenEntropy(): number { return this.lastEntropy; }
  get lastTokenNll(): number { return this.lastNll; }

  /** Marker name and whether the prefinal list exists so far (provisional until the end). */
  get prefinalMarker(): string | null { return this.tracker.marker; }
  get prefinalAvailable(): boolean { return this.tracker.available; }

  /** Notes the sample's start time (ms) when a `start` event arrives before the first token. */
  start(t: number): void {
    if (Number.isNaN(this.firstT)) this.firstT = t;
  }

  /** Adds one token: O(1) time and memory, no allocation. */
  push(ev: TokenEvent): void {
    if (this.ended) { this.ignoredAfterEnd++; return; }
    validateToken(ev); // before any state changes, so a bad event leaves the sample as it was
    if (Number.isNaN(this.firstT)) this.firstT = ev.t;
    this.lastT = ev.t;
    const text = ev.token;

    const tw = this.text;
    if (tw) tw.append(text);
    this.degenerate.push(text);
    this.tracker.scanToken(text, this.full);
    if (tw) {
      // A marker's (new) first match: its region starts there (the tail already holds this token).
      for (let k = 0; k < this.tracker.spec.markers.length; k++) {
        const m = this.tracker.markerStart(k);
        if (m >= 0) tw.startRegion(k, m);
      }
    }

    const nll = -ev.logprob;
    const top = ev.top;
    let signals: TopKSignals | null = null;
    if (top !== null && top !== undefined && top.length > 0) {
      const k = top.length;
      if (k > this.logprobs.length) { this.logprobs = new Float64Array(k); this.scratch = new Float64Array(k); }
      for (let j = 0; j < k; j++) this.logprobs[j] = top[j]!.logprob;
      signals = computeTopKSignals(this.logprobs, k, this.params, this.scratch, this.sig);
      this.confidence.push(tokenConfidence(this.logprobs, k));
      if (k > this.maxK) this.maxK = k;
      this.lastEntropy = signals.entropy;
    } else {
      this.withoutTop++;
      this.lastEntropy = NaN;
    }
    this.lastNll = nll;
    this.full.push(nll, signals);

    const n = this.full.length;
    while (this.nextWin < this.sortedWindows.length && this.sortedWindows[this.nextWin] === n) {
      this.winStates[this.nextWin]!.copyFrom(this.full);
      this.nextWin++;
    }
  }

  /** The sample ended (finish_reason as the server sent it; '' when missing). Further tokens are ignored. */
  end(finishReason: string, t?: number): void {
    if (this.ended) return;
    this.finishReason = finishReason;
    if (t !== undefined) this.lastT = t;
    this.tracker.finish(this.full);
    this.degenerate.finish();
    this.ended = true;
  }

  /** Aggregate over the first min(T, n) tokens (T need not be a configured window only if ≥ n). */
  windowState(T: number): SignalAccumulator {
    const i = this.sortedWindows.indexOf(T);
    if (i < 0) throw new RangeError(`Window ${T} is not configured (windows: ${this.sortedWindows.join(', ')})`);
    return i < this.nextWin ? this.winStates[i]! : this.full;
  }

  /** The 14 stats + `window_len{suffix}_w{T}` of window T; `prefinal` uses the prefinal list (the running trace until the marker is seen — it is a prefix of the full list). */
  windowFeatures(T: number, prefinal = false, out: FeatureRecord = {}): FeatureRecord {
    const suffix: ListSuffix = prefinal ? '_prefinal' : '';
    const acc = prefinal ? this.prefinalWindowState(T, true) : this.windowState(T);
    writeStats(out, acc, `${suffix}_w${T}`);
    out[windowLenColumn(T, suffix)] = acc.length;
    return out;
  }

  /** The full block (or the prefinal block, running trace until the marker is seen) into `out`. */
  fullFeatures(prefinal = false, out: FeatureRecord = {}): FeatureRecord {
    const suffix: ListSuffix = prefinal ? '_prefinal' : '';
    const acc = prefinal ? (this.tracker.state ?? this.full) : this.full;
    writeStats(out, acc, suffix);
    out[fullLenColumn(suffix)] = acc.length;
    return out;
  }

  /**
   * The sample record: metadata, then every column of SPEC §1.4 for the full list and the prefinal list (NaN block
   * with NaN lengths and `prefinal_len` 0 when there is no prefinal list). Callable mid-stream (provisional values).
   */
  record(extra: FeatureRecord = {}): FeatureRecord {
    const rec: FeatureRecord = {};
    const [qid, cidx] = splitSampleId(this.sampleId);
    const extracted = this.text ? extractAnswer(this.profile, this.extractionText(), { letters: this.letters }) : { answer: null, method: 'none' };
    const ref = this.reference;
    rec.sample_id = this.sampleId;
    rec.question_id = qid;
    rec.completion_idx = cidx;
    rec.profile = this.profile;
    rec.predicted_answer = extracted.answer;
    rec.extraction_method = extracted.method;
    rec.true_answer = ref === undefined ? null : referenceAnswer(this.profile, ref);
    rec.correct = ref === undefined ? null : isCorrect(this.profile, extracted.answer, ref);
    rec.generated_len = this.full.length;
    const pre = this.tracker.state;
    rec.prefinal_len = pre ? pre.length : 0;
    rec.hit_max_tokens = this.finishReason === 'length' ? 1 : 0;
    rec.finish_reason = this.finishReason ?? '';
    rec.degenerate = this.degenerate.degenerate ? 1 : 0;
    rec.latency_s = Number.isNaN(this.firstT) || Number.isNaN(this.lastT) ? NaN : (this.lastT - this.firstT) / 1000;
    rec.top_logprobs_k = this.maxK;
    rec.tokens_without_top_logprobs = this.withoutTop;
    rec.prefinal_marker = this.tracker.marker ?? '';
    writeConfidenceColumns(rec, this.confidence);

    // Full block in the paper's order.
    writeStats(rec, this.full, '');
    rec[fullLenColumn('')] = this.full.length;
    for (const T of this.windows) {
      const acc = this.windowState(T);
      writeStats(rec, acc, `_w${T}`);
      rec[windowLenColumn(T)] = acc.length;
    }
    // Prefinal block.
    if (pre) {
      writeStats(rec, pre, '_prefinal');
      rec[fullLenColumn('_prefinal')] = pre.length;
      for (const T of this.windows) {
        const acc = this.prefinalWindowState(T, false)!;
        writeStats(rec, acc, `_prefinal_w${T}`);
        rec[windowLenColumn(T, '_prefinal')] = acc.length;
      }
    } else {
      for (const col of signalBlockColumns(this.windows, '_prefinal')) rec[col] = NaN;
    }
    for (const [k, v] of Object.entries(extra)) rec[k] = v;
    return rec;
  }

  /** Text the answer is extracted from (the whole text while it fits; else marker regions + tail, see TextWindow). */
  extractionText(): string {
    return this.text ? this.text.text() : '';
  }

  /** State of the prefinal list's window T; before the marker (running=true) the running trace stands in. */
  private prefinalWindowState(T: number, running: boolean): SignalAccumulator {
    const pre = this.tracker.state ?? (running ? this.full : null);
    if (!pre) throw new Error('no prefinal list');
    return pre.length >= T ? this.windowState(T) : pre;
  }
}

function validateToken(ev: TokenEvent): void {
  if (typeof ev.token !== 'string') throw new TypeError(`Expected token.token to be a string, got ${typeof ev.token}`);
  if (typeof ev.logprob !== 'number') throw new TypeError(`Expected token.logprob to be a number, got ${typeof ev.logprob}`);
  const top = ev.top;
  if (top === null || top === undefined) return;
  if (!Array.isArray(top)) throw new TypeError(`Expected token.top to be an array or null, got ${typeof top}`);
  for (let j = 0; j < top.length; j++) {
    const e = top[j];
    if (e === null || typeof e !== 'object' || typeof e.logprob !== 'number') throw new TypeError(`Expected token.top[${j}].logprob to be a number`);
  }
}

function writeStats(out: FeatureRecord, acc: SignalAccumulator, suffix: string): void {
  for (const name of STAT_NAMES) out[`${name}${suffix}`] = acc.stat(name);
}

/** `${requestId}:${choiceIndex}` → [question_id, completion_idx] (null parts when the id has another shape). */
export function splitSampleId(id: string): [string | null, number | null] {
  const i = id.lastIndexOf(':');
  if (i <= 0) return [id === '' ? null : id, null];
  const idx = Number(id.slice(i + 1));
  return Number.isInteger(idx) && idx >= 0 ? [id.slice(0, i), idx] : [id, null];
}
