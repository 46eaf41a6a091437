/**
 * The body of one `failmode serve --workers N` thread: a serve instance without a socket of its own. The main thread
 * hands it callers' requests (body already read); it runs the proxy — upstream request, parsing, monitoring, stops —
 * with its own hub, and sends back the caller's response and every feed message of its samples. A question's samples
 * all come to one worker, so its vote and its min-keep count live here whole. With a bus the worker is an instance on
 * it like any serve process (its own NATS connection, heartbeats, stop subject per sample, min-keep in KV).
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { proxyChatRequest, type ProxyObserver } from '../chat-proxy.ts';
import { FeedHub } from '../feed-hub.ts';
import { sendJsonError } from '../http-body.ts';
import { FeedProtocolError } from '../protocol.ts';
import { proxyShape } from '../proxy-shape.ts';
import { joinBus, messageSampleId } from '../bus/instance-on-bus.ts';
import { sharedMonitorFactory } from '../../online/shared-monitor.ts';
import { DeliveryBudget, RemoteResponse } from './remote-response.ts';
import { MESSAGE_TYPES_READ_BY_MAIN, type FromWorker, type ServeWorkerConfig, type ToWorker } from './worker-messages.ts';

/** `workerData.role` of a serve worker. */
export const SERVE_WORKER_ROLE = 'failmode-serve-worker';

async function runWorker(config: ServeWorkerConfig): Promise<void> {
  const port = parentPort!;
  const post = (m: FromWorker): void => port.postMessage(m);
  let tickRuns: ReadonlySet<string> = new Set();
  const mainWantsTicks = (run: string): boolean => tickRuns.has('all') || tickRuns.has(run);
  // The main thread has the same monitor configuration and reports its warnings once.
  const shared = sharedMonitorFactory({ model: config.model, ...(config.profile ? { profile: config.profile } : {}) }, () => undefined);
  let hub: FeedHub | null = null;
  const onBus = config.bus ? await joinBus({ url: config.bus, name: 'failmode-serve' }, () => hub) : null;
  const bus = onBus?.bus ?? null;
  hub = new FeedHub({
    publish: (run, msg) => {
      const text = JSON.stringify(msg);
      // The main thread's subscribers get ticks only of the runs they want; the bus always gets the batches.
      if (msg.type !== 'token_batch' || mainWantsTicks(run)) {
        post({ type: 'feed', run, sampleId: messageSampleId(msg), msgType: msg.type, text, ...(MESSAGE_TYPES_READ_BY_MAIN.has(msg.type) ? { msg } : {}) });
      }
      onBus?.publish(run, msg, text);
    },
    // Ticks cross to the main thread only as batches; it makes per-token ticks of them for who wants those.
    wantsTicks: () => false,
    wantsTickBatches: (run) => bus !== null || mainWantsTicks(run),
    createMonitor: shared.factory, stopPolicy: config.stopPolicy, shadow: config.shadow, log: (line) => post({ type: 'log', line }),
    ...(config.voteConfidence !== null ? { voteConfidence: config.voteConfidence } : {}),
    ...(onBus ? { observe: onBus.observe, stops: onBus.stops } : {}),
  });
  const liveHub = hub;
  const observer: ProxyObserver = {
    request: (api) => post({ type: 'observe', what: 'request', api }),
    upstreamError: (kind) => post({ type: 'observe', what: 'upstream-error', kind }),
  };
  const inFlight = new Map<number, RemoteResponse>();
  const budget = new DeliveryBudget();
  let closing = false;
  let closed = false;
  const closedIfDrained = (): void => {
    if (!closing || inFlight.size > 0 || closed) return;
    closed = true;
    // After the samples' ends: the bus gets them and a last heartbeat saying this instance leaves.
    void (bus?.close() ?? Promise.resolve()).catch(() => undefined).then(() => post({ type: 'closed' }));
  };

  const handle = (m: Extract<ToWorker, { type: 'request' }>): void => {
    const res = new RemoteResponse(m.id, post, budget, config.timeReads);
    inFlight.set(m.id, res);
    const readMs: number[] | null = config.timeReads ? [] : null;
    proxyChatRequest({ headers: m.headers }, m.body, res, {
      ...config.proxy, hub: liveHub, shape: proxyShape(m.api), observer, ...(readMs ? { onChunkProcessed: (ms: number) => readMs.push(ms) } : {}),
    }).catch((err: unknown) => {
      sendJsonError(res, 500, `Internal error: ${(err as Error).message}`, 'server_error');
      return null;
    }).then((stopped) => {
      inFlight.delete(m.id);
      res.end(); // no-op when the proxy ended it
      post({ type: 'done', id: m.id, stopped, ...(readMs ? { readMs } : {}) });
      closedIfDrained();
    });
  };

  port.on('message', (m: ToWorker) => {
    switch (m.type) {
      case 'request':
        if (closing) {
          const res = new RemoteResponse(m.id, post, budget);
          sendJsonError(res, 503, 'failmode serve is shutting down', 'server_error');
          post({ type: 'done', id: m.id, stopped: null });
        } else {
          handle(m);
        }
        break;
      case 'caller-closed':
        inFlight.get(m.id)?.callerClosed();
        break;
      case 'written':
        inFlight.get(m.id)?.taken(m.chars);
        break;
      case 'delivered':
        budget.deliveredUpTo(m.chars);
        break;
      case 'stop': {
        const sample = liveHub.get(m.sampleId);
        if (!sample) {
          post({ type: 'stop-reply', ask: m.ask, error: { code: 'unknown_sample', message: `No sample \`${m.sampleId}\` is running` } });
          break;
        }
        try {
          sample.stop('client');
          post({ type: 'stop-reply', ask: m.ask });
        } catch (err) {
          const error = err instanceof FeedProtocolError ? { code: err.code, message: err.message } : { code: 'bad_message' as const, message: (err as Error).message };
          post({ type: 'stop-reply', ask: m.ask, error });
        }
        break;
      }
      case 'tick-runs':
        tickRuns = new Set(m.runs);
        break;
      case 'stats':
        post({ type: 'stats-reply', ask: m.ask, stats: liveHub.stats() });
        break;
      case 'close':
        closing = true;
        for (const res of inFlight.values()) res.callerClosed();
        closedIfDrained();
        break;
    }
  });
  onBus?.startHeartbeat(config.busHeartbeatMs ?? undefined);
  post({ type: 'ready' });
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === SERVE_WORKER_ROLE) {
  // A start-up failure (NATS unreachable) is the worker's error: the main thread reports it and stops.
  await runWorker((workerData as { config: ServeWorkerConfig }).config);
}
