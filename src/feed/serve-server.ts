import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenHttp } from './listen-http.ts';
import { createRequire } from 'node:module';
import { FailmodeError } from '../errors.ts';
import type { ModelFile } from '../models/model-file.ts';
import type { ResolvedMonitorConfig } from '../online/monitor.ts';
import type { Profile } from '../online/profiles.ts';
import type { StopPolicy } from '../policy/stop-policy.ts';
import { handleChatCompletions, type ProxySettings } from './chat-proxy.ts';
import type { RefusalLimits } from './relay-upstream-refusal.ts';
import { proxyShape } from './proxy-shape.ts';
import { ServeMetrics } from './serve-metrics.ts';
import { checkEngineAbort } from '../stream/engine-abort-check.ts';
import type { StoppedRequest } from './chat-proxy.ts';
import { redactUrl } from '../stream/redact-url.ts';
import { requestToken, tokenMatches } from './check-token.ts';
import { FeedHub, sumHubStats } from './feed-hub.ts';
import { createFeedServer, type FeedServer } from './feed-server.ts';
import { sendJsonError } from './http-body.ts';
import { isLoopbackHost } from './is-loopback-host.ts';
import type { ModelSummary } from './protocol.ts';
import { stopRuleShort } from '../models/describe-stop-rule.ts';
import { sharedMonitorFactory, type MonitorFactory } from '../online/shared-monitor.ts';
import { joinBus } from './bus/instance-on-bus.ts';
import type { NatsBus } from './bus/nats-bus.ts';
import { ServeWorkers } from './workers/serve-workers.ts';

export interface ServeOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** 0 = any free port. @default 8787 */
  readonly port?: number;
  /** OpenAI-compatible base URL (…/v1) the proxy forwards to; null = feed only (the proxy answers 503). */
  readonly upstream?: string | null;
  /** Key sent to the upstream; never logged. */
  readonly upstreamApiKey?: string | null;
  readonly model?: ModelFile | null;
  /** Task profile for answer extraction and the prefinal cut (default: the model's). */
  readonly profile?: Profile;
  /** Required on the proxy and the feed; mandatory for a non-loopback host. */
  readonly token?: string | null;
  /** Per-subscriber outbound bound in bytes. @default 1 MiB */
  readonly maxSubscriberQueueBytes?: number;
  /** Largest WebSocket message from a client. @default 256 KiB */
  readonly maxMessageBytes?: number;
  /** Largest proxy request body. @default 4 MiB */
  readonly maxBodyBytes?: number;
  /** @default 30000 */
  readonly heartbeatMs?: number;
  /** @default 'any-window' */
  readonly stopPolicy?: StopPolicy;
  /** Upstream request timeout. @default 20 min */
  readonly upstreamTimeoutMs?: number;
  /** Bounds on an upstream error body (bytes passed through, time to arrive). @default 1 MiB, 30 s */
  readonly upstreamErrorBody?: RefusalLimits;
  /** Browser origins allowed on the feed. @default [] */
  readonly allowedOrigins?: readonly string[];
  /**
   * Check on the upstream's /metrics that a request aborted after a stop really stopped; still running after this
   * many ms → `abort_unconfirmed` on the feed and SGLang's explicit abort (see engine-abort-check.ts). null = no check.
   * @default null
   */
  readonly abortGraceMs?: number | null;
  /** Poll interval of the abort check. @default 250 */
  readonly abortPollMs?: number;
  /** Monitor factory override (tests); default: the live monitor with `model` and `profile`. */
  readonly createMonitor?: MonitorFactory;
  /**
   * Shadow mode: every monitored sample is judged by the stop policy as if early stopping were on, and none is
   * stopped; each decision is a feed `stop` with `shadow: true` and a line in `log`. @default false
   */
  readonly shadow?: boolean;
  /** The server's log, one line at a time (the CLI writes it to stderr). @default nothing */
  readonly log?: (line: string) => void;
  /** Confidence of the feed `vote` messages' `decided`. @default 0.95 */
  readonly voteConfidence?: number;
  /**
   * `nats://HOST:PORT`: publish every feed message of this instance's samples on NATS, answer stops for them, keep
   * the min-keep counts in a NATS KV bucket (docs/scale-out.md). null = everything in this process. @default null
   */
  readonly bus?: string | null;
  /** Heartbeat period on the bus. @default 1000 */
  readonly busHeartbeatMs?: number;
  /**
   * Told the proxy's processing time (ms) of each upstream read, from its arrival to the caller's write (benchmarks);
   * with workers, to the response handed to the main thread (the hop from there: `onWorkerHop`).
   */
  readonly onChunkProcessed?: (ms: number) => void;
  /** With workers and `onChunkProcessed`: the time (ms) from a worker sending a write to the caller's write. */
  readonly onWorkerHop?: (ms: number) => void;
  /**
   * Worker threads running the proxy (upstream requests, parsing, monitoring, stops); the main thread keeps the
   * sockets, the feed and the metrics (one view). 0 = everything on the main thread. @default 0
   */
  readonly workers?: number;
}

export interface ServeHandle {
  /** `http://host:port` */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  readonly hub: FeedHub;
  readonly feed: FeedServer;
  /** The NATS connection with `--bus`, else null. */
  readonly bus: NatsBus | null;
  /** The proxy's worker threads with `workers` > 0, else null. */
  readonly workers: ServeWorkers | null;
  close(): Promise<void>;
}

/**
 * Starts `failmode serve`: the monitoring proxy (`POST /v1/chat/completions`, `POST /v1/completions`, `GET /v1/models`), `GET /health` and
 * the WebSocket feed at `/feed`. Safe by default: binds 127.0.0.1; any other host needs a token (refused otherwise).
 */
export async function startServe(options: ServeOptions = {}): Promise<ServeHandle> {
  const o = {
    host: '127.0.0.1', port: 8787, upstream: null as string | null, upstreamApiKey: null as string | null, model: null as ModelFile | null,
    token: null as string | null, maxSubscriberQueueBytes: 1024 * 1024, maxMessageBytes: 256 * 1024, maxBodyBytes: 4 * 1024 * 1024,
    heartbeatMs: 30_000, stopPolicy: 'any-window' as StopPolicy, upstreamTimeoutMs: 20 * 60_000, allowedOrigins: [] as readonly string[],
    ...options,
  };
  if (!isLoopbackHost(o.host) && !o.token) {
    throw new FailmodeError(`Refusing to listen on ${o.host} without --token: a non-loopback address exposes the proxy and the feed to the network`, 'FAILMODE_ERR_USAGE', 2);
  }
  if (o.upstream !== null) {
    let u: URL;
    try {
      u = new URL(o.upstream);
    } catch {
      throw new FailmodeError(`Expected --upstream to be an http(s) URL like http://127.0.0.1:8000/v1, got \`${redactUrl(o.upstream)}\``, 'FAILMODE_ERR_USAGE', 2);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new FailmodeError(`Expected --upstream to be an http(s) URL, got \`${u.protocol}\``, 'FAILMODE_ERR_USAGE', 2);
  }
  const workerCount = o.workers ?? 0;
  if (!(Number.isInteger(workerCount) && workerCount >= 0 && workerCount <= 256)) throw new FailmodeError(`Expected --workers to be an integer from 0 to 256, got \`${workerCount}\``, 'FAILMODE_ERR_USAGE', 2);
  if (workerCount > 0 && o.createMonitor) throw new TypeError('A monitor factory override cannot cross into worker threads: use workers: 0');

  let feed: FeedServer | null = null;
  let config: ResolvedMonitorConfig | null = null;
  let createMonitor = o.createMonitor;
  if (!createMonitor) {
    const shared = sharedMonitorFactory({ model: o.model, ...(o.profile ? { profile: o.profile } : {}) }, (ev) => {
      if (ev.type === 'warning') feed?.publish('', { type: 'warning', message: ev.message, t: ev.t });
    });
    createMonitor = shared.factory;
    config = shared.config;
  }
  let hub: FeedHub | null = null;
  const onBus = o.bus ? await joinBus({ url: o.bus, name: 'failmode-serve' }, () => hub) : null;
  const bus = onBus?.bus ?? null;
  const serveMetrics = new ServeMetrics(() => feed?.stats() ?? null);
  hub = new FeedHub({
    publish: (run, msg, owner) => {
      serveMetrics.observe(msg);
      // Encoded once for the local subscribers and the bus.
      const text = JSON.stringify(msg);
      feed?.publishText(run, text, msg.type, owner);
      onBus?.publish(run, msg, text);
    },
    wantsTicks: (run) => feed?.wantsTicks(run) ?? false,
    // Over a bus, gateways' subscribers may want ticks of any run: batches are always published.
    wantsTickBatches: (run) => bus !== null || (feed?.wantsTickBatches(run) ?? false),
    createMonitor, stopPolicy: o.stopPolicy,
    ...(o.shadow ? { shadow: true } : {}), ...(o.log ? { log: o.log } : {}), ...(o.voteConfidence !== undefined ? { voteConfidence: o.voteConfidence } : {}),
    ...(onBus ? { observe: onBus.observe, stops: onBus.stops } : {}),
  });
  const liveHub = hub;
  const metrics = serveMetrics;
  const proxy: ProxySettings | null = o.upstream === null ? null : {
    upstream: o.upstream, upstreamApiKey: o.upstreamApiKey, passCallerAuth: o.token === null, topK: o.model?.signal.topK ?? 20,
    canStop: o.model !== null || o.createMonitor !== undefined, maxBodyBytes: o.maxBodyBytes, timeoutMs: o.upstreamTimeoutMs,
    sendRid: o.abortGraceMs !== null && o.abortGraceMs !== undefined, ...(o.upstreamErrorBody ? { refusalLimits: o.upstreamErrorBody } : {}),
  };
  const pool = workerCount > 0 && proxy !== null ? await ServeWorkers.start({
    count: workerCount,
    config: {
      proxy, model: o.model, profile: o.profile ?? null, stopPolicy: o.stopPolicy, shadow: o.shadow === true, voteConfidence: o.voteConfidence ?? null,
      timeReads: o.onChunkProcessed !== undefined, bus: o.bus ?? null, busHeartbeatMs: o.busHeartbeatMs ?? null,
    },
    onFeed: (run, type, text, msg) => {
      if (msg) metrics.observe(msg);
      feed?.relay(run, text, type);
    },
    onRequest: (api) => metrics.request(api), onUpstreamError: (kind) => metrics.upstreamError(kind),
    ...(o.onChunkProcessed ? { onReadTimes: (ms: readonly number[]) => { for (const x of ms) o.onChunkProcessed!(x); } } : {}),
    ...(o.onWorkerHop ? { onHop: o.onWorkerHop } : {}),
    ...(o.log ? { log: o.log } : {}),
  }).catch(async (err: unknown) => {
    await bus?.close();
    throw new FailmodeError((err as Error).message, 'FAILMODE_ERR_WORKERS', 1);
  }) : null;
  /** Upstream requests in flight: what the engine should be running besides an aborted one. */
  let openUpstreams = 0;
  const checkAbort = (r: StoppedRequest): void => {
    if (o.upstream === null || o.abortGraceMs === null || o.abortGraceMs === undefined) return;
    void checkEngineAbort(r.requestId, {
      baseURL: o.upstream, apiKey: o.upstreamApiKey, graceMs: o.abortGraceMs, ...(o.abortPollMs !== undefined ? { pollMs: o.abortPollMs } : {}),
      expectedRunning: () => openUpstreams,
    }).then((result) => {
      metrics.abortChecked(result.status, r.estimatedSaved);
      if (result.status === 'unconfirmed' || result.status === 'confirmed_after_explicit_abort') {
        liveHub.announce(r.run, {
          type: 'abort_unconfirmed', run: r.run, requestId: r.requestId, sampleIds: r.sampleIds, status: result.status,
          explicitAbort: result.explicitAbort, running: result.running, t: performance.timeOrigin + performance.now(),
        });
      }
    });
  };
  const version = packageVersion();
  const server = createServer({ requestTimeout: 0, headersTimeout: 30_000 });
  feed = createFeedServer({
    noServer: true, token: o.token, maxPayload: o.maxMessageBytes, maxBufferedBytes: o.maxSubscriberQueueBytes,
    heartbeatMs: o.heartbeatMs, allowedOrigins: o.allowedOrigins,
    hello: () => ({ server: { name: 'failmode', version, stopPolicy: o.stopPolicy, ...(o.shadow ? { shadow: true } : {}) }, model: o.model ? modelSummary(o.model, config) : null }),
    // A sample of a worker thread is stopped there; one of another instance on the bus, there.
    onStop: (conn, msg) => (liveHub.get(msg.sampleId) ? liveHub.clientStop(conn, msg)
      : pool?.owns(msg.sampleId) ? pool.stop(msg.sampleId)
        : bus ? bus.requestStop(msg.sampleId) : liveHub.clientStop(conn, msg)),
    onTokens: (conn, msg) => liveHub.clientTokens(conn, msg),
    onClose: (conn) => liveHub.clientClosed(conn),
    ...(pool ? { onSubscriptionsChanged: () => pool.setTickRuns(feed!.tickRuns()) } : {}),
  });
  // Every upgrade goes to the feed, which answers 404 for any path but /feed.
  server.on('upgrade', (req, socket, head) => feed!.handleUpgrade(req, socket, head));
  const started = Date.now();

  const authorized = (req: IncomingMessage): boolean => o.token === null || tokenMatches(requestToken(req), o.token);

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
    const route = `${req.method} ${path}`;
    const handle = async (): Promise<void> => {
      if (route === 'GET /health') {
        const body: Record<string, unknown> = { status: 'ok', protocol: 1, uptimeSeconds: Math.round((Date.now() - started) / 1000) };
        if (authorized(req)) {
          const samples = pool ? sumHubStats(liveHub.stats(), await pool.stats()) : liveHub.stats();
          Object.assign(body, { version, upstream: o.upstream !== null, model: o.model?.training.name ?? null, stopRule: o.model ? stopRuleShort(o.model) : null, samples, feed: feed!.stats(), ...(bus ? { bus: { instance: bus.instance } } : {}), ...(pool ? { workers: pool.describe() } : {}) });
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
        return;
      }
      if (!authorized(req)) return sendJsonError(res, 401, 'Missing or wrong token (send `Authorization: Bearer <token>`)', 'authentication_error');
      if (route === 'POST /v1/chat/completions' || route === 'POST /v1/completions') {
        if (proxy === null) return sendJsonError(res, 503, 'No upstream configured (start failmode serve with --upstream URL)', 'upstream_error');
        openUpstreams++;
        let stopped: StoppedRequest | null;
        try {
          const api = route === 'POST /v1/completions' ? 'completions' as const : 'chat' as const;
          stopped = pool ? await pool.handle(req, res, api) : await handleChatCompletions(req, res, {
            ...proxy, hub: liveHub, shape: proxyShape(api), observer: metrics, ...(o.onChunkProcessed ? { onChunkProcessed: o.onChunkProcessed } : {}),
          });
        } finally {
          openUpstreams--;
        }
        if (stopped) {
          metrics.tokensSaved(stopped.estimatedSaved);
          checkAbort(stopped);
        }
        return;
      }
      if (route === 'GET /metrics') {
        res.writeHead(200, { 'content-type': metrics.contentType });
        res.end(await metrics.text());
        return;
      }
      if (route === 'GET /v1/models') {
        if (o.upstream === null) return sendJsonError(res, 503, 'No upstream configured (start failmode serve with --upstream URL)', 'upstream_error');
        return passthroughModels(req, res, o.upstream, o.upstreamApiKey, o.token === null);
      }
      sendJsonError(res, 404, `No route ${route.slice(0, 120)}; failmode serve answers POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /metrics, GET /health and WebSocket /feed`, 'not_found');
    };
    handle().catch((err: unknown) => sendJsonError(res, 500, `Internal error: ${(err as Error).message}`, 'server_error'));
  });
  const { port, url } = await listenHttp(server, o.host, o.port).catch(async (err: unknown) => {
    await pool?.close();
    await bus?.close();
    throw err;
  });
  onBus?.startHeartbeat(o.busHeartbeatMs);
  const f = feed;
  return {
    url,
    port,
    server,
    hub: liveHub,
    feed: f,
    bus,
    workers: pool,
    async close() {
      await f.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // The workers' samples cut off above publish their ends before the threads stop.
      await pool?.close();
      // After the HTTP side: the samples it cut off have published their ends.
      await bus?.close();
    },
  };
}

/** What `hello` says about the model. */
export function modelSummary(m: ModelFile, config: ResolvedMonitorConfig | null): ModelSummary {
  return {
    name: m.training.name, regime: m.regime, commitmentPoint: m.commitmentPoint, windows: [...m.windows], topK: m.signal.topK,
    prefinal: m.prefinal, profile: config?.profile ?? m.profile,
    thresholds: m.classifiers.map((c) => ({ window: c.window, threshold: c.stop.threshold })),
    guarantee: m.guarantee ?? null,
    stopRule: stopRuleShort(m),
  };
}

async function passthroughModels(req: IncomingMessage, res: ServerResponse, upstream: string, key: string | null, passCallerAuth: boolean): Promise<void> {
  const headers: Record<string, string> = {};
  if (key) headers.authorization = `Bearer ${key}`;
  else if (passCallerAuth && typeof req.headers.authorization === 'string') headers.authorization = req.headers.authorization;
  try {
    const r = await fetch(`${upstream.replace(/\/+$/, '')}/models`, { headers, signal: AbortSignal.timeout(30_000) });
    const text = await r.text();
    res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
    res.end(text);
  } catch (err) {
    sendJsonError(res, 502, `Cannot reach the upstream: ${(err as Error).message}`, 'upstream_error');
  }
}

export function packageVersion(): string {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}
