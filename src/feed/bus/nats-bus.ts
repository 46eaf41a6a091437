import { randomUUID } from 'node:crypto';
import { connect, headers, RequestError, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { FailmodeError } from '../../errors.ts';
import { FeedProtocolError, type FeedErrorCode } from '../protocol.ts';
import { KvStopCounter } from './kv-stop-counter.ts';
import { INSTANCE_PREFIX, instanceSubject, RUN_PREFIX, runSubject, stopSubject, type InstanceHeartbeat } from './subject.ts';

export interface NatsBusOptions {
  /** `nats://HOST:PORT` (several comma-separated for a cluster). */
  readonly url: string;
  /** Shown in the NATS server's monitoring (`failmode-serve`, `failmode-feed`). */
  readonly name: string;
  /** Connections to this bus publish the instance's samples (true for serve, false for a gateway). */
  readonly noEcho?: boolean;
  /** How long a `stop` waits for the owning instance's reply. @default 5000 */
  readonly stopTimeoutMs?: number;
  /** Pause between reconnect attempts when NATS is away. @default 250 */
  readonly reconnectWaitMs?: number;
}

/** Header of a `sample_started` naming the instance that runs the sample (so a gateway can end it if the instance dies). */
export const INSTANCE_HEADER = 'Failmode-Instance';

/** Payload of a stop reply: `{}` = stopped; else the protocol error the client should get. */
interface StopReply {
  readonly error?: { readonly code: FeedErrorCode; readonly message: string };
}

/**
 * The NATS side of `failmode serve --bus` and `failmode feed --bus` (official client; core NATS for the feed and the
 * stops, a KV bucket for the min-keep counts). Reconnects for ever when NATS goes away; publishes made meanwhile are
 * kept by the client and sent after the reconnect (see docs/scale-out.md).
 */
export class NatsBus {
  /** This process's id on the bus (heartbeats, the `Failmode-Instance` header). */
  readonly instance: string;
  readonly nc: NatsConnection;
  private readonly o: Required<NatsBusOptions>;
  private heartbeat: NodeJS.Timeout | null = null;
  private heartbeatSamples: () => InstanceHeartbeat['samples'] = () => [];
  private heartbeatMs = 1000;
  private readonly statusListeners: Array<(type: string) => void> = [];

  private constructor(nc: NatsConnection, o: Required<NatsBusOptions>) {
    this.nc = nc;
    this.o = o;
    this.instance = `${o.name}-${randomUUID().slice(0, 8)}`;
    void (async () => {
      for await (const s of nc.status()) for (const l of this.statusListeners) l(s.type);
    })();
  }

  /** Connects (fails with exit code 1 and one line when NATS cannot be reached at start). */
  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const o: Required<NatsBusOptions> = { noEcho: false, stopTimeoutMs: 5000, reconnectWaitMs: 250, ...options };
    const servers = o.url.split(',').map((s) => s.trim()).filter((s) => s !== '');
    for (const s of servers) {
      if (!/^(nats|tls):\/\/[^/\s]+$/.test(s)) throw new FailmodeError(`Expected --bus to be a NATS URL like nats://127.0.0.1:4222, got \`${s.slice(0, 80)}\``, 'FAILMODE_ERR_USAGE', 2);
    }
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers, name: o.name, noEcho: o.noEcho, reconnect: true, maxReconnectAttempts: -1,
        reconnectTimeWait: o.reconnectWaitMs, reconnectJitter: 50, timeout: 5000,
      });
    } catch (err) {
      throw new FailmodeError(`Cannot connect to NATS at ${servers.join(', ')}: ${(err as Error).message}`, 'FAILMODE_ERR_BUS', 1);
    }
    return new NatsBus(nc, o);
  }

  /** Called with every connection status change (`disconnect`, `reconnect`, …). */
  onStatus(listener: (type: string) => void): void {
    this.statusListeners.push(listener);
  }

  /** Publishes one feed message (already encoded) of `sampleId` (null: run-wide) on its subject. */
  publish(run: string, sampleId: string | null, type: string, text: string): void {
    if (this.nc.isClosed()) return;
    if (type === 'sample_started') {
      const h = headers();
      h.set(INSTANCE_HEADER, this.instance);
      this.nc.publish(runSubject(run, sampleId, type), text, { headers: h });
    } else {
      this.nc.publish(runSubject(run, sampleId, type), text);
    }
  }

  /** Answers stop requests for one sample of this instance until the returned function is called. */
  serveStops(sampleId: string, stop: () => void): () => void {
    const sub: Subscription = this.nc.subscribe(stopSubject(sampleId), {
      callback: (err, msg) => {
        if (err) return;
        let reply: StopReply = {};
        try {
          stop();
        } catch (e) {
          reply = e instanceof FeedProtocolError ? { error: { code: e.code, message: e.message } } : { error: { code: 'bad_message', message: (e as Error).message } };
        }
        msg.respond(JSON.stringify(reply));
      },
    });
    return () => sub.unsubscribe();
  }

  /** A client's stop for a sample another process runs. Throws FeedProtocolError `unknown_sample` if nobody owns it. */
  async requestStop(sampleId: string): Promise<void> {
    let text: string;
    try {
      text = (await this.nc.request(stopSubject(sampleId), '', { timeout: this.o.stopTimeoutMs })).string();
    } catch (err) {
      if (err instanceof RequestError && err.isNoResponders()) throw new FeedProtocolError('unknown_sample', `No sample \`${sampleId}\` is running`);
      throw new FeedProtocolError('unknown_sample', `No instance answered the stop for \`${sampleId}\` (${(err as Error).message})`);
    }
    const reply = JSON.parse(text) as StopReply;
    if (reply.error) throw new FeedProtocolError(reply.error.code, reply.error.message);
  }

  /** Every feed message of every run: `(subject, text, instance header of a sample_started)`. */
  subscribeRuns(onMessage: (subject: string, text: string, instance: string | null) => void): void {
    this.nc.subscribe(`${RUN_PREFIX}.>`, {
      callback: (err, msg) => {
        if (err) return;
        onMessage(msg.subject, msg.string(), msg.headers?.get(INSTANCE_HEADER) || null);
      },
    });
  }

  /** Heartbeats of every instance. */
  subscribeHeartbeats(onBeat: (hb: InstanceHeartbeat) => void): void {
    this.nc.subscribe(`${INSTANCE_PREFIX}.*`, {
      callback: (err, msg) => {
        if (err) return;
        try {
          onBeat(msg.json<InstanceHeartbeat>());
        } catch {
          // Not ours: ignored.
        }
      },
    });
  }

  /** Says every `everyMs` that this instance is alive and which samples it runs. */
  startHeartbeat(everyMs: number, samples: () => InstanceHeartbeat['samples']): void {
    this.heartbeatMs = everyMs;
    this.heartbeatSamples = samples;
    const beat = (): void => this.beat(false);
    beat();
    this.heartbeat = setInterval(beat, everyMs);
    this.heartbeat.unref();
  }

  /** The min-keep counter shared by every instance (a KV bucket with compare-and-set). */
  async stopCounter(): Promise<KvStopCounter> {
    return await KvStopCounter.open(this.nc);
  }

  /** Orderly shutdown: a last heartbeat saying so, then every pending publish is flushed. */
  async close(): Promise<void> {
    if (this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = null;
      this.beat(true);
    }
    if (this.nc.isClosed()) return;
    await this.nc.drain().catch(() => this.nc.close());
  }

  private beat(leaving: boolean): void {
    if (this.nc.isClosed()) return;
    const hb: InstanceHeartbeat = { instance: this.instance, everyMs: this.heartbeatMs, samples: leaving ? [] : this.heartbeatSamples(), ...(leaving ? { leaving } : {}) };
    this.nc.publish(instanceSubject(this.instance), JSON.stringify(hb));
  }
}
