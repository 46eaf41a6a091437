import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenHttp } from './listen-http.ts';
import { FailmodeError } from '../errors.ts';
import type { ModelFile } from '../models/model-file.ts';
import type { Profile } from '../online/profiles.ts';
import type { StopPolicy } from '../policy/stop-policy.ts';
import { joinBus } from './bus/instance-on-bus.ts';
import { InstanceTracker } from './bus/instance-tracker.ts';
import type { NatsBus } from './bus/nats-bus.ts';
import { parseRunSubject } from './bus/subject.ts';
import { requestToken, tokenMatches } from './check-token.ts';
import { FeedHub } from './feed-hub.ts';
import { createFeedServer, type FeedServer } from './feed-server.ts';
import { sendJsonError } from './http-body.ts';
import { isLoopbackHost } from './is-loopback-host.ts';
import type { ResolvedMonitorConfig } from '../online/monitor.ts';
import { sharedMonitorFactory } from '../online/shared-monitor.ts';
import { modelSummary, packageVersion } from './serve-server.ts';

export interface FeedGatewayOptions {
  /** `nats://HOST:PORT` of the bus the serve instances publish on. */
  readonly bus: string;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** 0 = any free port. @default 8788 */
  readonly port?: number;
  /** Required on the feed; mandatory for a non-loopback host. */
  readonly token?: string | null;
  /** Model for samples pushed to this gateway with `tokens` (and for `hello`); null: monitored without scores. */
  readonly model?: ModelFile | null;
  readonly profile?: Profile;
  /** @default 'any-window' */
  readonly stopPolicy?: StopPolicy;
  /** @default 1 MiB */
  readonly maxSubscriberQueueBytes?: number;
  /** @default 256 KiB */
  readonly maxMessageBytes?: number;
  /** @default 30000 */
  readonly heartbeatMs?: number;
  /** Heartbeat period of this gateway on the bus (for its pushed samples) and how often instances are checked. @default 1000 */
  readonly busHeartbeatMs?: number;
  /** @default [] */
  readonly allowedOrigins?: readonly string[];
}

export interface FeedGatewayHandle {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  readonly feed: FeedServer;
  readonly bus: NatsBus;
  close(): Promise<void>;
}

/**
 * `failmode feed --bus`: a WebSocket gateway speaking feed protocol v1 unchanged, with the serve instances behind it
 * on NATS. It holds no sample state of its own beyond its connections: every message of every run comes from the bus
 * (each subscriber gets what it subscribed to, ticks only if asked, bounded as in `serve`); a `stop` goes to the
 * instance that owns the sample; samples pushed with `tokens` are monitored here, owned by their connection like in
 * `serve`, and published on the bus like any instance's. When an instance stops beating, its open samples end here
 * with finishReason `error`.
 */
export async function startFeedGateway(options: FeedGatewayOptions): Promise<FeedGatewayHandle> {
  const o = {
    host: '127.0.0.1', port: 8788, token: null as string | null, model: null as ModelFile | null, stopPolicy: 'any-window' as StopPolicy,
    maxSubscriberQueueBytes: 1024 * 1024, maxMessageBytes: 256 * 1024, heartbeatMs: 30_000, busHeartbeatMs: 1000,
    allowedOrigins: [] as readonly string[], ...options,
  };
  if (!isLoopbackHost(o.host) && !o.token) {
    throw new FailmodeError(`Refusing to listen on ${o.host} without --token: a non-loopback address exposes the feed to the network`, 'FAILMODE_ERR_USAGE', 2);
  }
  // noEcho: this gateway's own pushed samples reach its subscribers directly, not a second time from NATS.
  let feed: FeedServer | null = null;
  let hub: FeedHub | null = null;
  const onBus = await joinBus({ url: o.bus, name: 'failmode-feed', noEcho: true }, () => hub);
  const bus = onBus.bus;
  const shared = sharedMonitorFactory({ model: o.model, ...(o.profile ? { profile: o.profile } : {}) }, () => undefined);
  const config: ResolvedMonitorConfig = shared.config;
  const liveHub = new FeedHub({
    publish: (run, msg, owner) => {
      const text = JSON.stringify(msg);
      feed?.publishText(run, text, msg.type, owner);
      onBus.publish(run, msg, text);
    },
    wantsTicks: (run) => feed?.wantsTicks(run) ?? false, wantsTickBatches: () => true, createMonitor: shared.factory, stopPolicy: o.stopPolicy, observe: onBus.observe, stops: onBus.stops,
  });
  hub = liveHub;

  const tracker = new InstanceTracker();
  let parsed = 0;
  bus.subscribeRuns((subject, text, instance) => {
    const s = parseRunSubject(subject);
    if (!s || !feed) return;
    if (!tracker.message(s.sampleId, s.type, instance, () => { parsed++; return JSON.parse(text); })) return;
    // Instances send ticks as batches: the feed makes per-token ticks of them for who wants those.
    feed.relay(s.run, text, s.type);
  });
  bus.subscribeHeartbeats((hb) => { if (hb.instance !== bus.instance) tracker.heartbeat(hb); });
  bus.onStatus((type) => { if (type === 'reconnect') tracker.reconnected(); });
  let sweeping = false;
  const sweeper = setInterval(() => {
    if (sweeping || !tracker.suspects()) return;
    // A busy gateway may hold heartbeats it has not read yet: a round trip to NATS first delivers everything the
    // server sent before it, so only an instance that really went quiet is declared dead.
    sweeping = true;
    bus.nc.flush().then(() => {
      for (const end of tracker.sweep()) feed?.publish(end.run, end);
    }, () => undefined).finally(() => { sweeping = false; });
  }, o.busHeartbeatMs);
  sweeper.unref();

  const version = packageVersion();
  const server = createServer({ requestTimeout: 0, headersTimeout: 30_000 });
  feed = createFeedServer({
    noServer: true, token: o.token, maxPayload: o.maxMessageBytes, maxBufferedBytes: o.maxSubscriberQueueBytes,
    heartbeatMs: o.heartbeatMs, allowedOrigins: o.allowedOrigins,
    hello: () => ({ server: { name: 'failmode', version, stopPolicy: o.stopPolicy }, model: o.model ? modelSummary(o.model, config) : null }),
    onStop: (conn, msg) => (liveHub.get(msg.sampleId) ? liveHub.clientStop(conn, msg) : bus.requestStop(msg.sampleId)),
    onTokens: (conn, msg) => liveHub.clientTokens(conn, msg),
    onClose: (conn) => liveHub.clientClosed(conn),
  });
  const f = feed;
  server.on('upgrade', (req, socket, head) => f.handleUpgrade(req, socket, head));
  const started = Date.now();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
    if (req.method === 'GET' && path === '/health') {
      const body: Record<string, unknown> = { status: 'ok', protocol: 1, gateway: true, uptimeSeconds: Math.round((Date.now() - started) / 1000) };
      if (o.token === null || tokenMatches(requestToken(req), o.token)) {
        Object.assign(body, { bus: { instance: bus.instance, connected: !bus.nc.isClosed(), ...tracker.stats(), parsedMessages: parsed }, samples: liveHub.stats(), feed: f.stats() });
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
      return;
    }
    sendJsonError(res, 404, `No route ${`${req.method} ${path}`.slice(0, 120)}; failmode feed answers GET /health and WebSocket /feed`, 'not_found');
  });
  const { port, url } = await listenHttp(server, o.host, o.port).catch(async (err: unknown) => {
    clearInterval(sweeper);
    await bus.close();
    throw err;
  });
  onBus.startHeartbeat(o.busHeartbeatMs);
  return {
    url, port, server, feed: f, bus,
    async close() {
      clearInterval(sweeper);
      await f.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await bus.close();
    },
  };
}
