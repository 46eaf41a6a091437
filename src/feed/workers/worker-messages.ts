import type { IncomingHttpHeaders } from 'node:http';
import type { ModelFile } from '../../models/model-file.ts';
import type { Profile } from '../../online/profiles.ts';
import type { StopPolicy } from '../../policy/stop-policy.ts';
import type { HubStats } from '../feed-hub.ts';
import type { FeedErrorCode, ServerMessage } from '../protocol.ts';
import type { StoppedRequest } from '../proxy-session.ts';
import type { ProxySettings } from '../chat-proxy.ts';

/** What a serve worker is started with (structured-cloned into the thread). */
export interface ServeWorkerConfig {
  readonly index: number;
  /** The proxy's settings, as on the main thread (the upstream key among them: never logged). */
  readonly proxy: ProxySettings;
  readonly model: ModelFile | null;
  readonly profile: Profile | null;
  readonly stopPolicy: StopPolicy;
  readonly shadow: boolean;
  readonly voteConfidence: number | null;
  /** Report each upstream read's processing time with the request's `done` (benchmarks). */
  readonly timeReads: boolean;
  /** `nats://…`: the worker is an instance on the bus itself (publishes, answers stops, min-keep in KV, heartbeats). */
  readonly bus: string | null;
  readonly busHeartbeatMs: number | null;
}

/** The main thread to a worker. */
export type ToWorker =
  /** A caller's request, its body read and parsed by the main thread. */
  | { readonly type: 'request'; readonly id: number; readonly api: 'chat' | 'completions'; readonly headers: IncomingHttpHeaders; readonly body: Record<string, unknown> }
  /** The caller went away before its response ended. */
  | { readonly type: 'caller-closed'; readonly id: number }
  /** The caller's connection has taken this many characters of the response in all (flow control). */
  | { readonly type: 'written'; readonly id: number; readonly chars: number }
  /** The main thread has handled this many characters of the worker's writes in all (flow control). */
  | { readonly type: 'delivered'; readonly chars: number }
  /** A feed client's stop for a sample of this worker. */
  | { readonly type: 'stop'; readonly ask: number; readonly sampleId: string }
  /** Runs whose ticks someone wants (`all`: every run): the worker sends their `token_batch` messages. */
  | { readonly type: 'tick-runs'; readonly runs: readonly string[] }
  | { readonly type: 'stats'; readonly ask: number }
  /** Shutting down: abort what is in flight (its samples publish their ends), then say `closed`. */
  | { readonly type: 'close' };

/** A worker to the main thread. */
export type FromWorker =
  | { readonly type: 'ready' }
  /** The caller's response: status and headers, text written, end (the ProxyResponse calls, in order). */
  | { readonly type: 'head'; readonly id: number; readonly status: number; readonly headers: Record<string, string> }
  /** `at`: when it was sent (ms since the epoch, high resolution; only when reads are timed). */
  | { readonly type: 'write'; readonly id: number; readonly text: string; readonly at?: number }
  | { readonly type: 'end'; readonly id: number; readonly text: string }
  /** The request's handling is over; `stopped` when a stop aborted the upstream request. */
  | { readonly type: 'done'; readonly id: number; readonly stopped: StoppedRequest | null; readonly readMs?: readonly number[] }
  /**
   * A feed message of this worker's samples, encoded once; `msg` too when the main thread reads its fields
   * (metrics, sample ownership).
   */
  | { readonly type: 'feed'; readonly run: string; readonly sampleId: string | null; readonly msgType: string; readonly text: string; readonly msg?: ServerMessage }
  | { readonly type: 'observe'; readonly what: 'request'; readonly api: string }
  | { readonly type: 'observe'; readonly what: 'upstream-error'; readonly kind: 'unreachable' | 'http' | 'truncated' }
  | { readonly type: 'stop-reply'; readonly ask: number; readonly error?: { readonly code: FeedErrorCode; readonly message: string } }
  | { readonly type: 'stats-reply'; readonly ask: number; readonly stats: HubStats }
  | { readonly type: 'log'; readonly line: string }
  | { readonly type: 'closed' };

/** Feed message types the main thread reads the fields of. */
export const MESSAGE_TYPES_READ_BY_MAIN: ReadonlySet<string> = new Set(['sample_started', 'sample_finished', 'risk', 'stop']);
