/**
 * The WebSocket feed protocol, version 1 (docs/protocol.md is the prose of this file). Every message, both ways, is
 * one JSON text frame holding one object with a string `type`. Numbers that are undefined (NaN) travel as `null`.
 */
import type { FeatureRecord } from '../online/monitor-events.ts';
import type { Regime, StopRuleGuarantee } from '../models/model-file.ts';

export const FEED_PROTOCOL_VERSION = 1;

/**
 * The WebSocket subprotocol name of the feed. A client may offer it (`Sec-WebSocket-Protocol: failmode.feed.v1`) or
 * offer none; a handshake offering only other names is refused (400), so a client never believes it speaks a
 * protocol the server does not.
 */
export const FEED_SUBPROTOCOL = 'failmode.feed.v1';

// ---------------------------------------------------------------------------------------------------------------
// Server → client

export interface ModelSummary {
  readonly name: string;
  readonly regime: Regime;
  readonly commitmentPoint: number | null;
  readonly windows: readonly number[];
  readonly topK: number;
  readonly prefinal: boolean;
  readonly profile: string | null;
  /** Stop threshold on P(failure) per classifier window (null where none reaches the target precision). */
  readonly thresholds: ReadonlyArray<{ readonly window: number | 'full'; readonly threshold: number | null }>;
  /**
   * Added within v1: the stop rule's risk-control guarantee as the model file records it (docs/model-format.md), or
   * null for a model with per-window precision thresholds and no whole-rule guarantee.
   */
  readonly guarantee?: StopRuleGuarantee | null;
  /** Added within v1: the stop rule in words, e.g. `false kills ≤ 5% @90% conf. (n=312)`. */
  readonly stopRule?: string;
}

export interface HelloMessage {
  readonly type: 'hello';
  readonly protocol: typeof FEED_PROTOCOL_VERSION;
  readonly server: { readonly name: 'failmode'; readonly version: string; readonly stopPolicy: string; readonly shadow?: boolean };
  readonly model: ModelSummary | null;
  readonly limits: { readonly maxMessageBytes: number; readonly maxSubscriberQueueBytes: number; readonly heartbeatMs: number; readonly maxTokensPerMessage: number };
}

/** Acknowledges a `subscribe` / `unsubscribe`: the connection's subscriptions after it. */
export interface SubscribedMessage {
  readonly type: 'subscribed';
  readonly runs: readonly string[];
  /** Whether per-token `token` ticks are sent to this connection. */
  readonly tokens: boolean;
}

/** Where a sample's tokens come from: the proxy's upstream request, or a client pushing `tokens`. */
export type SampleSource = 'proxy' | 'client';

export interface SampleStartedMessage {
  readonly type: 'sample_started';
  readonly run: string;
  readonly question: string;
  readonly sampleId: string;
  readonly source: SampleSource;
  readonly model: string | null;
  readonly earlyStop: boolean;
  readonly t: number;
}

export interface WindowMessage {
  readonly type: 'window';
  readonly run: string;
  readonly sampleId: string;
  readonly T: number;
  readonly features: FeatureRecord;
  readonly t: number;
}

export interface RiskMessage {
  readonly type: 'risk';
  readonly run: string;
  readonly sampleId: string;
  readonly index: number;
  readonly T: number | 'full';
  readonly risk: number;
  readonly threshold: number | null;
  readonly t: number;
}

export interface CommittedFailureMessage {
  readonly type: 'committed_failure';
  readonly run: string;
  readonly sampleId: string;
  readonly T: number;
  readonly risk: number;
  readonly threshold: number;
  readonly regime: Regime;
  readonly t: number;
}

/** Why a sample was stopped. */
export type StopReason = 'committed_failure' | 'risk' | 'client';

export interface StopMessage {
  readonly type: 'stop';
  readonly run: string;
  readonly sampleId: string;
  readonly reason: StopReason;
  /** Window and risk that triggered it (null for a client's stop). */
  readonly T: number | null;
  readonly risk: number | null;
  /** Tokens the sample had when stopped. */
  readonly tokens: number;
  /** Shadow mode (`failmode serve --shadow`): the stop was decided and recorded, the sample runs on. Absent otherwise. */
  readonly shadow?: true;
  readonly t: number;
}

export interface SampleFinishedMessage {
  readonly type: 'sample_finished';
  readonly run: string;
  readonly question: string;
  readonly sampleId: string;
  /** The server's finish_reason, `failmode_stop` when stopped, `error` for a dropped connection. */
  readonly finishReason: string;
  readonly stopped: boolean;
  readonly tokens: number;
  readonly answer: string | null;
  /** The monitor's final record (every SPEC §1.4 column plus finish_reason, answer, correct…), null if none. */
  readonly record: FeatureRecord | null;
  /** Shadow mode: the stop that would have happened (absent when none, or without --shadow). */
  readonly shadowStop?: { readonly reason: StopReason; readonly T: number | null; readonly risk: number | null; readonly tokens: number };
  readonly t: number;
}

export interface VoteMessage {
  readonly type: 'vote';
  readonly run: string;
  readonly question: string;
  /** Every finished sample of the question so far, in finishing order. */
  readonly answers: ReadonlyArray<{ readonly sampleId: string; readonly answer: string | null; readonly stopped: boolean }>;
  /** Votes per answer (stopped samples and samples without an answer do not vote). */
  readonly counts: Readonly<Record<string, number>>;
  readonly majority: string | null;
  readonly agreement: number | null;
  readonly samples: number;
  readonly stopped: number;
  /**
   * P(the majority stays the plurality once the question's remaining samples finish), under the Dirichlet-multinomial
   * posterior of `failmode sample --prune vote` (docs/early-stopping.md); null when the server does not know how many
   * samples the question has (the caller sends `x-failmode-samples`).
   */
  readonly posterior: number | null;
  /** `posterior` ≥ the server's vote confidence (`--vote-confidence`, default 0.95), or no sample left to come. */
  readonly decided: boolean;
  readonly t: number;
}

/** A per-token tick (only to connections that subscribed with `tokens: true`): for views that draw sparklines. */
export interface TokenTickMessage {
  readonly type: 'token';
  readonly run: string;
  readonly sampleId: string;
  readonly index: number;
  readonly token: string;
  /** Entropy over the token's renormalised top-k (NaN → null without a list). */
  readonly entropy: number;
  readonly nll: number;
  readonly channel: 'reasoning' | 'content';
  readonly t: number;
}

/** Sent once when a subscriber that fell behind catches up: how many messages it missed. */
export interface LaggedMessage {
  readonly type: 'lagged';
  readonly dropped: number;
  readonly t: number;
}

export type FeedErrorCode =
  | 'bad_json' | 'bad_message' | 'unknown_type' | 'binary_not_supported'
  | 'unknown_sample' | 'sample_id_in_use' | 'sample_finished' | 'too_many_samples' | 'stream_error';

export interface ErrorMessage {
  readonly type: 'error';
  readonly code: FeedErrorCode;
  readonly message: string;
  readonly sampleId?: string;
  readonly t: number;
}

/** Something worth knowing once (e.g. a stream's top-k differs from the model's). */
export interface WarningMessage {
  readonly type: 'warning';
  readonly run?: string;
  readonly sampleId?: string;
  readonly message: string;
  readonly t: number;
}

/**
 * The engine had not stopped a request failmode aborted after `--abort-grace` (its /metrics still counted it): the
 * explicit abort was sent (`explicitAbort`), and `status` says whether the engine then stopped.
 */
export interface AbortUnconfirmedMessage {
  readonly type: 'abort_unconfirmed';
  readonly run: string;
  /** failmode's id of the upstream request (sent as `x-request-id` and SGLang's `rid`). */
  readonly requestId: string;
  /** The request's samples. */
  readonly sampleIds: readonly string[];
  readonly status: 'unconfirmed' | 'confirmed_after_explicit_abort';
  readonly explicitAbort: 'sent' | 'not_available' | 'failed' | 'not_needed';
  /** Requests the engine reported running at the last check. */
  readonly running: number | null;
  readonly t: number;
}

export type ServerMessage =
  | HelloMessage | SubscribedMessage | SampleStartedMessage | WindowMessage | RiskMessage | CommittedFailureMessage
  | StopMessage | SampleFinishedMessage | VoteMessage | TokenTickMessage | LaggedMessage | ErrorMessage | WarningMessage
  | AbortUnconfirmedMessage;

// ---------------------------------------------------------------------------------------------------------------
// Client → server

export interface SubscribeMessage {
  readonly type: 'subscribe' | 'unsubscribe';
  /** A run id, or `all`. */
  readonly run: string;
  /** `subscribe` only: also send per-token `token` ticks (for every subscribed run). Default false. */
  readonly tokens?: boolean;
}

export interface ClientStopMessage {
  readonly type: 'stop';
  readonly sampleId: string;
}

/** One pushed token: what the server needs to compute the signals. */
export interface PushedToken {
  readonly token: string;
  /** Chosen token's logprob; null when unknown (counts as NaN: no NLL). */
  readonly logprob: number | null;
  readonly top: ReadonlyArray<{ readonly token: string; readonly logprob: number | null }> | null;
  readonly channel: 'reasoning' | 'content';
}

export interface TokensMessage {
  readonly type: 'tokens';
  readonly sampleId: string;
  /** Only read on a sample's first message. */
  readonly run?: string;
  readonly question?: string;
  readonly reference?: string;
  readonly earlyStop?: boolean;
  readonly tokens: readonly PushedToken[];
  /** Ends the sample after these tokens. */
  readonly end?: { readonly finishReason: string };
}

export type ClientMessage = SubscribeMessage | ClientStopMessage | TokensMessage;

export const CLIENT_MESSAGE_TYPES = ['subscribe', 'unsubscribe', 'stop', 'tokens'] as const;

/** Longest id (run, question, sample) accepted from a client. */
export const MAX_ID_LENGTH = 200;

/** A client message that cannot be used: the `error` reply's code and sentence. */
export class FeedProtocolError extends Error {
  readonly code: FeedErrorCode;
  constructor(code: FeedErrorCode, message: string) {
    super(message);
    this.name = 'FeedProtocolError';
    this.code = code;
  }
}

/**
 * Parses and validates one client text frame. Throws FeedProtocolError (`bad_json`, `bad_message`, `unknown_type`)
 * whose message says what was expected and what came.
 */
export function parseClientMessage(text: string, limits: { readonly maxTokensPerMessage: number }): ClientMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new FeedProtocolError('bad_json', `Expected a JSON object, got unparsable text (${(err as Error).message})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new FeedProtocolError('bad_message', `Expected a JSON object with a \`type\`, got ${kind(raw)}`);
  const m = raw as Record<string, unknown>;
  if (typeof m.type !== 'string') throw new FeedProtocolError('bad_message', `Expected \`type\` to be a string, got ${kind(m.type)}`);
  switch (m.type) {
    case 'subscribe':
    case 'unsubscribe':
      if (m.tokens !== undefined && typeof m.tokens !== 'boolean') throw new FeedProtocolError('bad_message', `Expected \`tokens\` to be a boolean, got ${kind(m.tokens)}`);
      return { type: m.type, run: id(m, 'run'), ...(m.tokens !== undefined ? { tokens: m.tokens as boolean } : {}) };
    case 'stop':
      return { type: 'stop', sampleId: id(m, 'sampleId') };
    case 'tokens':
      return parseTokens(m, limits.maxTokensPerMessage);
    default:
      throw new FeedProtocolError('unknown_type', `Unknown message type \`${m.type.slice(0, 40)}\`. Type must be one of: ${CLIENT_MESSAGE_TYPES.join(', ')}`);
  }
}

function parseTokens(m: Record<string, unknown>, maxTokens: number): TokensMessage {
  const sampleId = id(m, 'sampleId');
  const opt = (name: 'run' | 'question' | 'reference'): string | undefined => (m[name] === undefined ? undefined : id(m, name, name === 'reference' ? 10_000 : MAX_ID_LENGTH));
  if (m.earlyStop !== undefined && typeof m.earlyStop !== 'boolean') throw new FeedProtocolError('bad_message', `Expected \`earlyStop\` to be a boolean, got ${kind(m.earlyStop)}`);
  const list = m.tokens ?? [];
  if (!Array.isArray(list)) throw new FeedProtocolError('bad_message', `Expected \`tokens\` to be an array, got ${kind(list)}`);
  if (list.length > maxTokens) throw new FeedProtocolError('bad_message', `Expected at most ${maxTokens} tokens per message, got ${list.length}`);
  const tokens: PushedToken[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) tokens[i] = parseToken(list[i], i);
  let end: TokensMessage['end'];
  if (m.end !== undefined) {
    const e = m.end as Record<string, unknown> | null;
    if (e === null || typeof e !== 'object' || typeof e.finishReason !== 'string' || e.finishReason.length > 64) {
      throw new FeedProtocolError('bad_message', `Expected \`end\` to be {"finishReason": string}, got ${kind(m.end)}`);
    }
    end = { finishReason: e.finishReason };
  }
  return {
    type: 'tokens', sampleId, tokens,
    ...(opt('run') !== undefined ? { run: opt('run')! } : {}),
    ...(opt('question') !== undefined ? { question: opt('question')! } : {}),
    ...(opt('reference') !== undefined ? { reference: opt('reference')! } : {}),
    ...(m.earlyStop !== undefined ? { earlyStop: m.earlyStop as boolean } : {}),
    ...(end ? { end } : {}),
  };
}

function parseToken(v: unknown, i: number): PushedToken {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new FeedProtocolError('bad_message', `Expected tokens[${i}] to be an object, got ${kind(v)}`);
  const t = v as Record<string, unknown>;
  if (typeof t.token !== 'string') throw new FeedProtocolError('bad_message', `Expected tokens[${i}].token to be a string, got ${kind(t.token)}`);
  if (t.logprob !== undefined && t.logprob !== null && typeof t.logprob !== 'number') {
    throw new FeedProtocolError('bad_message', `Expected tokens[${i}].logprob to be a number or null, got ${kind(t.logprob)}`);
  }
  const channel = t.channel ?? 'content';
  if (channel !== 'content' && channel !== 'reasoning') throw new FeedProtocolError('bad_message', `Expected tokens[${i}].channel to be "content" or "reasoning", got ${kind(channel)}`);
  let top: PushedToken['top'] = null;
  if (t.top !== undefined && t.top !== null) {
    if (!Array.isArray(t.top)) throw new FeedProtocolError('bad_message', `Expected tokens[${i}].top to be an array or null, got ${kind(t.top)}`);
    for (let j = 0; j < t.top.length; j++) {
      const a = t.top[j] as Record<string, unknown> | null;
      if (a === null || typeof a !== 'object' || typeof a.token !== 'string' || (a.logprob !== null && typeof a.logprob !== 'number')) {
        throw new FeedProtocolError('bad_message', `Expected tokens[${i}].top[${j}] to be {"token": string, "logprob": number}, got ${kind(a)}`);
      }
    }
    top = t.top as PushedToken['top'];
  }
  return { token: t.token, logprob: typeof t.logprob === 'number' ? t.logprob : null, top, channel };
}

function id(m: Record<string, unknown>, name: string, max = MAX_ID_LENGTH): string {
  const v = m[name];
  if (typeof v !== 'string' || v.length === 0 || v.length > max) {
    throw new FeedProtocolError('bad_message', `Expected \`${name}\` to be a non-empty string of at most ${max} characters, got ${kind(v)}`);
  }
  return v;
}

/** `got …` text: a short preview and the JSON type. */
function kind(v: unknown): string {
  const type = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
  let preview: string;
  try {
    preview = JSON.stringify(v) ?? String(v);
  } catch {
    preview = String(v);
  }
  return `\`${preview.length > 60 ? `${preview.slice(0, 60)}…` : preview}\` (${type})`;
}
