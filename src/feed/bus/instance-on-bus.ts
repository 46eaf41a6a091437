import { FailmodeError } from '../../errors.ts';
import type { FeedHub, FeedHubOptions } from '../feed-hub.ts';
import type { ServerMessage } from '../protocol.ts';
import type { KvStopCounter } from './kv-stop-counter.ts';
import { NatsBus, type NatsBusOptions } from './nats-bus.ts';

/** Heartbeat period of an instance on the bus. @default 1000 ms */
export const DEFAULT_HEARTBEAT_MS = 1000;

/** The sample a feed message is about (null: a run-wide message such as `vote`). */
export function messageSampleId(msg: ServerMessage): string | null {
  return 'sampleId' in msg && typeof msg.sampleId === 'string' ? msg.sampleId : null;
}

/** A process's samples on the bus (see {@link instanceOnBus}). */
export interface InstanceOnBus {
  /** The hub's `observe`: each sample answers stop requests while it runs. */
  readonly observe: NonNullable<FeedHubOptions['observe']>;
  /** Publishes one hub message (already encoded) on its subject. */
  publish(run: string, msg: ServerMessage, text: string): void;
  startHeartbeat(everyMs?: number): void;
}

/** A process joined to the bus as an instance: the connection, its samples' side of it, the shared min-keep counts. */
export interface JoinedBus extends InstanceOnBus {
  readonly bus: NatsBus;
  readonly stops: KvStopCounter;
}

/**
 * Connects to NATS and opens the min-keep KV bucket (closing the connection again, with one clear line, when
 * JetStream is off): what `serve --bus`, `feed --bus` and each `serve --workers --bus` thread do at start.
 */
export async function joinBus(options: NatsBusOptions, hub: () => FeedHub | null): Promise<JoinedBus> {
  const bus = await NatsBus.connect(options);
  const stops = await bus.stopCounter().catch(async (err: unknown) => {
    await bus.close();
    throw new FailmodeError(`Cannot open the NATS KV bucket for the min-keep counts (is JetStream on? nats-server -js): ${(err as Error).message}`, 'FAILMODE_ERR_BUS', 1);
  });
  return { ...instanceOnBus(bus, hub), bus, stops };
}

/**
 * What makes a process's samples part of the bus: each of their feed messages is published on its subject, each
 * sample answers stop requests while it runs, and a heartbeat lists the live samples (so a gateway can end them if
 * this process dies).
 */
export function instanceOnBus(bus: NatsBus, hub: () => FeedHub | null): InstanceOnBus {
  const stopServers = new Map<string, () => void>();
  return {
    observe: {
      started(sample) {
        stopServers.set(sample.sampleId, bus.serveStops(sample.sampleId, () => { sample.stop('client'); }));
      },
      finished(sample) {
        stopServers.get(sample.sampleId)?.();
        stopServers.delete(sample.sampleId);
      },
    },
    publish(run, msg, text) {
      // Messages outside any run (the monitor's configuration warnings) belong to this process only; ticks travel on
      // the bus only as batches (a gateway turns them back into per-token ticks for who wants those).
      if (run === '' || msg.type === 'token') return;
      bus.publish(run, messageSampleId(msg), msg.type, text);
    },
    startHeartbeat(everyMs = DEFAULT_HEARTBEAT_MS) {
      bus.startHeartbeat(everyMs, () => {
        const h = hub();
        if (!h) return [];
        const out: Array<[string, string, string, number]> = [];
        for (const s of h.liveSamples()) out.push([s.sampleId, s.init.run, s.init.question, s.tokens]);
        return out;
      });
    },
  };
}
