/**
 * The watch view's state: a pure reducer over MonitorEvents (`scan(reduceWatchState, initialWatchState())`).
 * Everything kept per sample is bounded (text tail, sparkline buckets, windows, risk history), so a long session
 * uses fixed memory; a new state shares every unchanged sample with the previous one.
 */
import type { FeatureRecord, MonitorEvent } from '../online/monitor-events.ts';
import type { Regime } from '../models/model-file.ts';
import { emptySpark, pushSpark, type SparkBuffer } from './spark-buffer.ts';
import { sanitizeText } from './sanitize-text.ts';

/** Characters of generated text kept per sample (the panels show the end of it). */
export const TAIL_CHARS = 600;
/** Risk updates kept per sample (one per window plus 'full' in practice). */
export const RISK_HISTORY_LIMIT = 32;
/** Windows kept per sample. */
export const WINDOW_LIMIT = 16;
/** Samples tracked; later ones are counted and ignored (a warning says so once). */
export const SAMPLE_LIMIT = 512;
/** Recent warnings kept. */
export const NOTICE_LIMIT = 5;
/** Characters kept of one warning or error message. */
export const NOTICE_CHARS = 300;

export interface RiskPoint {
  readonly T: number | 'full';
  readonly risk: number;
  readonly threshold: number | null;
}

export interface WindowSnapshot {
  readonly T: number;
  readonly features: FeatureRecord;
}

export interface SampleFlag {
  readonly T: number;
  readonly risk: number;
  readonly threshold: number;
  readonly regime: Regime;
}

export interface SampleEnd {
  readonly finishReason: string;
  /** The extracted answer (`predicted_answer`, else `answer`), null when none was found. */
  readonly answer: string | null;
  /** Whether the answer was right, when the record knows (`correct` 0/1). */
  readonly correct: boolean | null;
  readonly generatedLen: number;
  /** Tokens before the final-answer line (the prefinal cut), null when no cut was found. */
  readonly prefinalLen: number | null;
  readonly degenerate: boolean;
}

export interface SampleView {
  readonly id: string;
  /** Tokens received so far. */
  readonly tokens: number;
  /** The end of the generated text, sanitised for the terminal, at most TAIL_CHARS characters. */
  readonly tail: string;
  readonly firstT: number;
  readonly lastT: number;
  readonly risk: RiskPoint | null;
  readonly riskHistory: readonly RiskPoint[];
  /** Windows reached, ascending T. */
  readonly windows: readonly WindowSnapshot[];
  readonly spark: SparkBuffer;
  readonly flag: SampleFlag | null;
  readonly end: SampleEnd | null;
  readonly errors: number;
  readonly lastError: string | null;
}

export type SampleStatus = 'streaming' | 'flagged' | 'stopped' | 'finished' | 'failed';

export interface WatchState {
  /** In order of first appearance. */
  readonly samples: readonly SampleView[];
  readonly indexById: ReadonlyMap<string, number>;
  readonly startT: number | null;
  readonly lastT: number | null;
  readonly totalTokens: number;
  /** Tokens per second over the last completed second of event time (total/elapsed before that). */
  readonly tokensPerSecond: number;
  readonly rateMarkT: number | null;
  readonly rateMarkTokens: number;
  readonly rateSettled: boolean;
  readonly warnings: readonly string[];
  readonly streamErrors: number;
  /** Samples ignored because SAMPLE_LIMIT was reached. */
  readonly droppedSamples: number;
}

export function initialWatchState(): WatchState {
  return {
    samples: [], indexById: new Map(), startT: null, lastT: null, totalTokens: 0, tokensPerSecond: 0,
    rateMarkT: null, rateMarkTokens: 0, rateSettled: false, warnings: [], streamErrors: 0, droppedSamples: 0,
  };
}

/**
 * Windows the sample really reached (T ≤ tokens). At its end the monitor also reports the windows it never reached,
 * with the whole trace's features; views list those separately rather than as if they had been seen.
 */
export function reachedWindows(s: SampleView): readonly WindowSnapshot[] {
  return s.windows.filter((w) => w.T <= s.tokens);
}

/**
 * The risk to show: the latest, except for a stopped sample, whose 'full' risk is computed on a cut trace — then the
 * last early-window risk (for a flagged sample, the one that flagged it).
 */
export function displayRisk(s: SampleView): RiskPoint | null {
  if (s.end?.finishReason !== 'abort') return s.risk;
  for (let i = s.riskHistory.length - 1; i >= 0; i--) if (s.riskHistory[i]!.T !== 'full') return s.riskHistory[i]!;
  return null;
}

/** What a person reads in the sample's state line. */
export function sampleStatus(s: SampleView): SampleStatus {
  if (s.end) {
    if (s.end.finishReason === 'abort') return 'stopped';
    if (s.end.finishReason === 'error') return 'failed';
    return 'finished';
  }
  return s.flag ? 'flagged' : 'streaming';
}

export function reduceWatchState(state: WatchState, event: MonitorEvent): WatchState {
  const t = Number.isFinite(event.t) ? event.t : (state.lastT ?? 0);
  let next: WatchState = {
    ...state,
    startT: state.startT === null ? t : Math.min(state.startT, t),
    lastT: state.lastT === null ? t : Math.max(state.lastT, t),
  };

  switch (event.type) {
    case 'warning':
      return withSample(addNotice(next, event.message), event.sampleId, t, (s) => s);
    case 'stream_error': {
      const message = `${event.position}: ${event.message}`;
      next = addNotice({ ...next, streamErrors: next.streamErrors + 1 }, `stream error at ${message}`);
      return withSample(next, event.sampleId, t, (s) => ({ ...s, errors: s.errors + 1, lastError: clip(sanitizeText(message)) }));
    }
    case 'token': {
      next = withSample(next, event.sampleId, t, (s) => {
        const tail = s.tail + sanitizeText(event.token);
        return {
          ...s,
          tokens: Math.max(s.tokens + 1, event.index + 1),
          tail: tail.length > TAIL_CHARS ? tail.slice(tail.length - TAIL_CHARS) : tail,
          spark: pushSpark(s.spark, event.entropy, event.nll),
        };
      });
      return updateRate({ ...next, totalTokens: next.totalTokens + 1 }, t);
    }
    case 'window':
      return withSample(next, event.sampleId, t, (s) => {
        const windows = s.windows.filter((w) => w.T !== event.T);
        windows.push({ T: event.T, features: event.features });
        windows.sort((a, b) => a.T - b.T);
        return { ...s, windows: windows.length > WINDOW_LIMIT ? windows.slice(windows.length - WINDOW_LIMIT) : windows };
      });
    case 'risk':
      return withSample(next, event.sampleId, t, (s) => {
        const point: RiskPoint = { T: event.T, risk: event.risk, threshold: event.threshold };
        const history = [...s.riskHistory, point];
        return { ...s, risk: point, riskHistory: history.length > RISK_HISTORY_LIMIT ? history.slice(-RISK_HISTORY_LIMIT) : history };
      });
    case 'committed_failure':
      return withSample(next, event.sampleId, t, (s) => (s.flag ? s : {
        ...s, flag: { T: event.T, risk: event.risk, threshold: event.threshold, regime: event.regime },
      }));
    case 'final':
      return withSample(next, event.sampleId, t, (s) => {
        const end = readEnd(event.record, s.tokens);
        return { ...s, end, tokens: Math.max(s.tokens, end.generatedLen) };
      });
    default:
      return next;
  }
}

/** Applies `update` to the sample `id`, creating it on first sight; events without a sample id leave samples alone. */
function withSample(state: WatchState, id: string | undefined, t: number, update: (s: SampleView) => SampleView): WatchState {
  if (id === undefined) return state;
  const at = state.indexById.get(id);
  if (at === undefined) {
    if (state.samples.length >= SAMPLE_LIMIT) {
      const first = state.droppedSamples === 0;
      const dropped = { ...state, droppedSamples: state.droppedSamples + 1 };
      return first ? addNotice(dropped, `more than ${SAMPLE_LIMIT} samples: later samples are not shown`) : dropped;
    }
    const indexById = new Map(state.indexById);
    indexById.set(id, state.samples.length);
    return { ...state, indexById, samples: [...state.samples, update(newSample(id, t))] };
  }
  const samples = state.samples.slice();
  samples[at] = { ...update(samples[at]!), lastT: Math.max(samples[at]!.lastT, t) };
  return { ...state, samples };
}

function newSample(id: string, t: number): SampleView {
  return {
    id, tokens: 0, tail: '', firstT: t, lastT: t, risk: null, riskHistory: [], windows: [], spark: emptySpark(),
    flag: null, end: null, errors: 0, lastError: null,
  };
}

function addNotice(state: WatchState, message: string): WatchState {
  const warnings = [...state.warnings, clip(sanitizeText(message))];
  return { ...state, warnings: warnings.length > NOTICE_LIMIT ? warnings.slice(-NOTICE_LIMIT) : warnings };
}

function clip(text: string): string {
  return text.length > NOTICE_CHARS ? `${text.slice(0, NOTICE_CHARS - 1)}…` : text;
}

/** Tokens/s: after each full second of event time, the rate over that second; before the first, over the time so far. */
function updateRate(state: WatchState, t: number): WatchState {
  if (state.rateMarkT === null) return { ...state, rateMarkT: t, rateMarkTokens: state.totalTokens - 1 };
  const dt = t - state.rateMarkT;
  const tokens = state.totalTokens - state.rateMarkTokens;
  if (dt >= 1000) {
    return { ...state, tokensPerSecond: (tokens * 1000) / dt, rateMarkT: t, rateMarkTokens: state.totalTokens, rateSettled: true };
  }
  if (!state.rateSettled && dt > 0) return { ...state, tokensPerSecond: (tokens * 1000) / dt };
  return state;
}

function readEnd(record: FeatureRecord, tokensSeen: number): SampleEnd {
  const answerRaw = record['predicted_answer'] ?? record['answer'];
  const answer = answerRaw === null || answerRaw === undefined ? null : sanitizeText(String(answerRaw)).trim().slice(0, 80);
  const correctRaw = record['correct'];
  const correct = correctRaw === 1 || correctRaw === '1' || correctRaw === 'true' ? true
    : correctRaw === 0 || correctRaw === '0' || correctRaw === 'false' ? false : null;
  const generated = numberOf(record['generated_len']);
  const prefinal = numberOf(record['prefinal_len']);
  return {
    finishReason: typeof record['finish_reason'] === 'string' ? record['finish_reason'] : String(record['finish_reason'] ?? ''),
    answer: answer === '' ? null : answer,
    correct,
    generatedLen: generated ?? tokensSeen,
    prefinalLen: prefinal !== null && prefinal > 0 ? prefinal : null,
    degenerate: numberOf(record['degenerate']) === 1,
  };
}

function numberOf(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : null;
}
