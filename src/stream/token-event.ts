/**
 * The one event type every source (live endpoint, raw SSE bytes, JSONL recording, simulator) produces.
 * A sample is one choice of one request: `sampleId` = `${requestId}:${choiceIndex}`.
 */

export type Channel = 'reasoning' | 'content';

/** One alternative of a token's top-k list, as the server sent it. */
export interface TopLogprob {
  readonly token: string;
  readonly logprob: number;
}

/** One generated token. */
export interface TokenEvent {
  readonly type: 'token';
  readonly sampleId: string;
  /** 0-based position of the token within its sample (both channels counted in arrival order). */
  readonly index: number;
  readonly token: string;
  /** Log-probability of the chosen token over the full vocabulary. NaN when the server sent none; the `-9999` placeholder is kept as sent. */
  readonly logprob: number;
  /** Top-k alternatives in server order; null when the chunk carried no list (such tokens count for NLL only). */
  readonly top: readonly TopLogprob[] | null;
  readonly channel: Channel;
  /** Arrival time, ms since the epoch (performance.timeOrigin + performance.now()). */
  readonly t: number;
}

/** A sample ended: the server's `finish_reason` (or `error` for a dropped connection, `abort` when we stopped it). */
export interface SampleEndEvent {
  readonly type: 'end';
  readonly sampleId: string;
  readonly finishReason: string;
  readonly usage?: { readonly promptTokens?: number; readonly completionTokens?: number };
  /** Tokens of this sample whose chunk carried no logprobs (counted and reported, never silently dropped). */
  readonly tokensWithoutLogprobs?: number;
  readonly t: number;
}

/** A sample started (first chunk seen). */
export interface SampleStartEvent {
  readonly type: 'start';
  readonly sampleId: string;
  readonly model?: string;
  readonly t: number;
}

/** A malformed chunk or a transport problem. The stream goes on after it unless `fatal`. */
export interface StreamErrorEvent {
  readonly type: 'stream_error';
  readonly sampleId?: string;
  /** Where: e.g. `line 42`, `chunk 17`, `byte 1024`. */
  readonly position: string;
  readonly message: string;
  readonly fatal: boolean;
  readonly t: number;
}

export type StreamEvent = TokenEvent | SampleEndEvent | SampleStartEvent | StreamErrorEvent;
