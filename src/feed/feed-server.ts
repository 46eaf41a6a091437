import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { requestToken, tokenMatches } from './check-token.ts';
import {
  FEED_PROTOCOL_VERSION, FEED_SUBPROTOCOL, FeedProtocolError, parseClientMessage,
  type ClientStopMessage, type HelloMessage, type ServerMessage, type TickMode, type TokenBatchMessage, type TokensMessage,
} from './protocol.ts';
import { ticksOfBatch } from './tick-batch.ts';

export interface FeedServerOptions {
  /** Listen for upgrades on this HTTP server (requests for other paths are left to other listeners). */
  readonly server?: Server;
  /** The caller routes upgrades itself with {@link FeedServer.handleUpgrade}. Exactly one of `server` / `noServer`. */
  readonly noServer?: boolean;
  /** @default '/feed' */
  readonly path?: string;
  /** Required bearer token (header `Authorization: Bearer …` or `?token=`); null = no auth (loopback only). */
  readonly token?: string | null;
  /** Largest client frame in bytes (ws closes the connection with 1009 above it). @default 262144 */
  readonly maxPayload?: number;
  /** Per-subscriber outbound bound: above this many buffered bytes messages are dropped and counted. @default 1048576 */
  readonly maxBufferedBytes?: number;
  /** Ping interval; a peer that missed the previous pong is terminated. @default 30000 */
  readonly heartbeatMs?: number;
  /** How often a subscriber that dropped messages is checked for having caught up. @default 100 */
  readonly lagCheckMs?: number;
  /** Most tokens in one `tokens` message. @default 4096 */
  readonly maxTokensPerMessage?: number;
  /** Browser origins allowed to connect; any other `Origin` header is refused (403). @default [] */
  readonly allowedOrigins?: readonly string[];
  /** Server and model part of the `hello` message. */
  readonly hello: () => Pick<HelloMessage, 'server' | 'model'>;
  /** A client's `stop`; throw (or reject with) FeedProtocolError to reply with an `error`. */
  readonly onStop?: (conn: FeedConnection, msg: ClientStopMessage) => void | Promise<void>;
  /** A client's `tokens`; throw FeedProtocolError to reply with an `error`. */
  readonly onTokens?: (conn: FeedConnection, msg: TokensMessage) => void;
  /** The connection closed (its pushed samples should end). */
  readonly onClose?: (conn: FeedConnection) => void;
  /** A connection subscribed, unsubscribed or closed (who wants which ticks may have changed). */
  readonly onSubscriptionsChanged?: () => void;
}

/** One WebSocket client. */
export class FeedConnection {
  readonly id: number;
  readonly ws: WebSocket;
  /** Subscribed run ids (`all` = every run). */
  readonly runs = new Set<string>();
  /** Per-token ticks wanted (subscribe with `tokens: true`, or `"batch"` for `token_batch` messages). */
  ticks: TickMode = false;
  /** Messages dropped since the last `lagged` notice. */
  dropped = 0;
  sent = 0;
  alive = true;
  constructor(id: number, ws: WebSocket) {
    this.id = id;
    this.ws = ws;
  }
  isSubscribed(run: string): boolean {
    return this.runs.has('all') || this.runs.has(run);
  }
}

export interface FeedStats {
  readonly clients: number;
  readonly subscribers: number;
  readonly messagesPublished: number;
  readonly framesSent: number;
  readonly framesDropped: number;
  readonly laggedNotices: number;
  readonly clientErrors: number;
}

export interface FeedServer {
  /** Completes a WebSocket upgrade for the feed path (auth, origin and path checks first; refusals get an HTTP status). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /**
   * Sends a message to every connection subscribed to `run` (serialised once; `token` ticks only to connections that
   * asked for them). `also` gets it even if not subscribed.
   */
  publish(run: string, message: ServerMessage, also?: FeedConnection | null): void;
  /** {@link publish} of a message already encoded, of type `type`. */
  publishText(run: string, text: string, type: string, also?: FeedConnection | null): void;
  /**
   * A message another process or thread encoded (an instance on the bus, a serve worker): published as is; a
   * `token_batch` also goes out tick by tick to the connections that asked for per-token ticks.
   */
  relay(run: string, text: string, type: string): void;
  /** Whether any connection would receive `token` ticks of `run` (so callers can skip building them). */
  wantsTicks(run: string): boolean;
  /** Whether any connection would receive `token_batch` messages of `run`. */
  wantsTickBatches(run: string): boolean;
  /** Runs whose ticks (per token or batched) some connection wants; `all` stands for every run. */
  tickRuns(): string[];
  /** Sends to one connection, subject to its bound. Returns false when dropped or closed. */
  send(conn: FeedConnection, message: ServerMessage): boolean;
  readonly connections: ReadonlySet<FeedConnection>;
  stats(): FeedStats;
  /** Closes every connection (1001) and stops the timers. */
  close(): Promise<void>;
}

const DEFAULTS = {
  path: '/feed',
  token: null as string | null,
  maxPayload: 256 * 1024,
  maxBufferedBytes: 1024 * 1024,
  heartbeatMs: 30_000,
  lagCheckMs: 100,
  maxTokensPerMessage: 4096,
  allowedOrigins: [] as readonly string[],
};

/**
 * The WebSocket side of `failmode serve`: connections, subscriptions, bounded delivery, heartbeat.
 *
 * Delivery is bounded per subscriber: before each frame the socket's `bufferedAmount` is compared with
 * `maxBufferedBytes`; above it the frame is dropped and counted (never queued), and once the subscriber has drained
 * below the bound it gets ONE `lagged` message with the number it missed, then the stream resumes. Memory per
 * subscriber is therefore at most the bound plus one frame, whatever the subscriber's speed.
 *
 * Bad client input (not JSON, not an object, unknown type, invalid fields, binary frames) gets an `error` reply and the
 * connection stays up; a frame over `maxPayload` is refused by ws (close 1009) before it is buffered.
 */
export function createFeedServer(options: FeedServerOptions): FeedServer {
  const o = { ...DEFAULTS, ...options };
  if ((o.server === undefined) === !o.noServer) {
    throw new TypeError('One and only one of the "server" or "noServer" options must be specified');
  }
  for (const [name, v] of [['maxPayload', o.maxPayload], ['maxBufferedBytes', o.maxBufferedBytes], ['heartbeatMs', o.heartbeatMs], ['lagCheckMs', o.lagCheckMs], ['maxTokensPerMessage', o.maxTokensPerMessage]] as const) {
    if (!(Number.isInteger(v) && v > 0)) throw new TypeError(`Expected \`${name}\` to be a positive integer, got \`${v}\` (${typeof v})`);
  }
  if (o.token !== null && (typeof o.token !== 'string' || o.token === '')) throw new TypeError('Expected `token` to be a non-empty string or null');

  const wss = new WebSocketServer({
    noServer: true, maxPayload: o.maxPayload, clientTracking: false, perMessageDeflate: false,
    // Offered names are checked before the upgrade (see offersForeignProtocolsOnly); ours is echoed when offered.
    handleProtocols: (protocols) => (protocols.has(FEED_SUBPROTOCOL) ? FEED_SUBPROTOCOL : false),
  });
  const connections = new Set<FeedConnection>();
  let nextId = 1;
  const totals = { published: 0, sent: 0, dropped: 0, lagged: 0, clientErrors: 0 };
  const limits = { maxMessageBytes: o.maxPayload, maxSubscriberQueueBytes: o.maxBufferedBytes, heartbeatMs: o.heartbeatMs, maxTokensPerMessage: o.maxTokensPerMessage };

  const heartbeat = setInterval(() => {
    for (const c of connections) {
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      try {
        c.ws.ping();
      } catch {
        c.ws.terminate();
      }
    }
  }, o.heartbeatMs);
  heartbeat.unref();

  // Subscribers that dropped frames are re-checked on a short timer until they have caught up, so the `lagged`
  // notice arrives even when nothing else is published.
  let lagTimer: NodeJS.Timeout | null = null;
  const lagging = new Set<FeedConnection>();
  const scheduleLagCheck = (c: FeedConnection): void => {
    lagging.add(c);
    if (lagTimer) return;
    lagTimer = setInterval(() => {
      for (const l of lagging) {
        if (l.ws.readyState !== WebSocket.OPEN) lagging.delete(l);
        else if (l.ws.bufferedAmount <= o.maxBufferedBytes) flushLagged(l);
      }
      if (lagging.size === 0 && lagTimer) {
        clearInterval(lagTimer);
        lagTimer = null;
      }
    }, o.lagCheckMs);
    lagTimer.unref();
  };
  const flushLagged = (c: FeedConnection): void => {
    if (c.dropped === 0) return;
    const text = JSON.stringify({ type: 'lagged', dropped: c.dropped, t: now() });
    c.dropped = 0;
    lagging.delete(c);
    totals.lagged++;
    c.ws.send(text);
    c.sent++;
    totals.sent++;
  };

  const sendText = (c: FeedConnection, text: string): boolean => {
    if (c.ws.readyState !== WebSocket.OPEN) return false;
    if (c.ws.bufferedAmount > o.maxBufferedBytes) {
      c.dropped++;
      totals.dropped++;
      scheduleLagCheck(c);
      return false;
    }
    if (c.dropped > 0) flushLagged(c);
    c.ws.send(text);
    c.sent++;
    totals.sent++;
    return true;
  };
  const send = (c: FeedConnection, message: ServerMessage): boolean => sendText(c, JSON.stringify(message));
  const replyError = (c: FeedConnection, err: FeedProtocolError, sampleId?: string): void => {
    totals.clientErrors++;
    send(c, { type: 'error', code: err.code, message: err.message, ...(sampleId !== undefined ? { sampleId } : {}), t: now() });
  };

  const onMessage = (c: FeedConnection, data: RawData, isBinary: boolean): void => {
    if (isBinary) {
      replyError(c, new FeedProtocolError('binary_not_supported', 'Expected a text frame holding JSON, got a binary frame'));
      return;
    }
    let msg;
    try {
      msg = parseClientMessage(data.toString(), o);
    } catch (err) {
      if (err instanceof FeedProtocolError) return replyError(c, err);
      throw err;
    }
    try {
      switch (msg.type) {
        case 'subscribe':
          c.runs.add(msg.run);
          if (msg.tokens !== undefined) c.ticks = msg.tokens;
          send(c, { type: 'subscribed', runs: [...c.runs], tokens: c.ticks });
          o.onSubscriptionsChanged?.();
          break;
        case 'unsubscribe':
          c.runs.delete(msg.run);
          send(c, { type: 'subscribed', runs: [...c.runs], tokens: c.ticks });
          o.onSubscriptionsChanged?.();
          break;
        case 'stop':
          if (!o.onStop) throw new FeedProtocolError('unknown_sample', `No sample \`${msg.sampleId}\` is running`);
          {
            const pending = o.onStop(c, msg);
            // A stop routed to another process answers later: its error reply then.
            if (pending) {
              const sampleId = msg.sampleId;
              pending.catch((err: unknown) => {
                if (err instanceof FeedProtocolError) replyError(c, err, sampleId);
                else replyError(c, new FeedProtocolError('bad_message', `Internal error handling the stop: ${(err as Error).message}`), sampleId);
              });
            }
          }
          break;
        case 'tokens':
          if (!o.onTokens) throw new FeedProtocolError('bad_message', 'This server does not accept pushed tokens');
          o.onTokens(c, msg);
          break;
      }
    } catch (err) {
      if (err instanceof FeedProtocolError) return replyError(c, err, 'sampleId' in msg ? msg.sampleId : undefined);
      throw err;
    }
  };

  const refuse = (socket: Duplex, status: number, text: string): void => {
    // As ws's abortHandshake: destroy only once the response is flushed, or the client never sees the status.
    socket.once('finish', () => socket.destroy());
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
  };

  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (pathname !== o.path) return refuse(socket, 404, 'Not Found');
    const origin = req.headers.origin;
    if (typeof origin === 'string' && !o.allowedOrigins.includes(origin)) return refuse(socket, 403, 'Forbidden');
    if (o.token !== null && !tokenMatches(requestToken(req, { allowQuery: true }), o.token)) return refuse(socket, 401, 'Unauthorized');
    if (offersForeignProtocolsOnly(req)) return refuse(socket, 400, `Bad Request: the feed speaks the subprotocol ${FEED_SUBPROTOCOL} (or none)`);
    wss.handleUpgrade(req, socket, head, (ws) => {
      const c = new FeedConnection(nextId++, ws);
      connections.add(c);
      ws.on('error', () => undefined); // e.g. 1009 on an oversized frame: ws closes the socket itself
      ws.on('pong', () => { c.alive = true; });
      ws.on('message', (data, isBinary) => {
        c.alive = true;
        try {
          onMessage(c, data, isBinary);
        } catch (err) {
          // A bug in a handler must not take the server down; the client hears about it.
          totals.clientErrors++;
          send(c, { type: 'error', code: 'bad_message', message: `Internal error handling the message: ${(err as Error).message}`, t: now() });
        }
      });
      ws.on('close', () => {
        connections.delete(c);
        lagging.delete(c);
        o.onClose?.(c);
        if (c.runs.size > 0) o.onSubscriptionsChanged?.();
      });
      send(c, { type: 'hello', protocol: FEED_PROTOCOL_VERSION, ...o.hello(), limits });
    });
  };

  const onServerUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname === o.path) handleUpgrade(req, socket, head);
  };
  o.server?.on('upgrade', onServerUpgrade);

  return {
    handleUpgrade,
    publish(run, message, also = null) {
      totals.published++;
      let text: string | null = null;
      const want = tickMode(message.type);
      for (const c of connections) {
        if (c !== also && !c.isSubscribed(run)) continue;
        if (want !== null && c.ticks !== want) continue;
        text ??= JSON.stringify(message);
        sendText(c, text);
      }
    },
    publishText(run, text, type, also = null) {
      totals.published++;
      const want = tickMode(type);
      for (const c of connections) {
        if (c !== also && !c.isSubscribed(run)) continue;
        if (want !== null && c.ticks !== want) continue;
        sendText(c, text);
      }
    },
    relay(run, text, type) {
      this.publishText(run, text, type);
      // Per-token ticks are made once for all who want them, each encoded once.
      if (type === 'token_batch' && this.wantsTicks(run)) for (const tick of ticksOfBatch(JSON.parse(text) as TokenBatchMessage)) this.publish(run, tick);
    },
    send,
    wantsTicks(run) {
      for (const c of connections) if (c.ticks === true && c.isSubscribed(run)) return true;
      return false;
    },
    wantsTickBatches(run) {
      for (const c of connections) if (c.ticks === 'batch' && c.isSubscribed(run)) return true;
      return false;
    },
    tickRuns() {
      const runs = new Set<string>();
      for (const c of connections) if (c.ticks !== false) for (const r of c.runs) runs.add(r);
      return [...runs];
    },
    connections,
    stats() {
      let subscribers = 0;
      for (const c of connections) if (c.runs.size > 0) subscribers++;
      return {
        clients: connections.size, subscribers, messagesPublished: totals.published, framesSent: totals.sent,
        framesDropped: totals.dropped, laggedNotices: totals.lagged, clientErrors: totals.clientErrors,
      };
    },
    async close() {
      clearInterval(heartbeat);
      if (lagTimer) clearInterval(lagTimer);
      o.server?.off('upgrade', onServerUpgrade);
      const closing = [...connections].map((c) => new Promise<void>((resolve) => {
        if (c.ws.readyState === WebSocket.CLOSED) return resolve();
        c.ws.once('close', () => resolve());
        c.ws.close(1001, 'server shutting down');
        setTimeout(() => { c.ws.terminate(); resolve(); }, 1000).unref();
      }));
      await Promise.all(closing);
      wss.close();
    },
  };
}

/** The tick mode a connection needs for a message type (null: not a tick, every subscriber gets it). */
function tickMode(type: string): TickMode | null {
  return type === 'token' ? true : type === 'token_batch' ? 'batch' : null;
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

/** True when the handshake offers subprotocols and ours is not among them. */
function offersForeignProtocolsOnly(req: IncomingMessage): boolean {
  const h = req.headers['sec-websocket-protocol'];
  if (h === undefined) return false;
  const offered = String(h).split(',').map((p) => p.trim()).filter((p) => p !== '');
  return offered.length > 0 && !offered.includes(FEED_SUBPROTOCOL);
}
