import type { FeedHub, FeedHubOptions } from '../feed-hub.ts';
import type { ServerMessage } from '../protocol.ts';
import type { NatsBus } from './nats-bus.ts';

/** Heartbeat period of an instance on the bus. @default 1000 ms */
export const DEFAULT_HEARTBEAT_MS = 1000;

/** The sample a feed message is about (null: a run-wide message such as `vote`). */
export function messageSampleId(msg: ServerMessage): string | null {
  return 'sampleId' in msg && typeof msg.sampleId === 'string' ? msg.sampleId : null;
}

/**
 * What makes a process's samples part of the bus: each of their feed messages is published on its subject, each
 * sample answers stop requests while it runs, and a heartbeat lists the live samples (so a gateway can end them if
 * this process dies).
 */
export function instanceOnBus(bus: NatsBus, hub: () => FeedHub | null): {
  readonly observe: NonNullable<FeedHubOptions['observe']>;
  publish(run: string, msg: ServerMessage, text: string): void;
  startHeartbeat(everyMs?: number): void;
} {
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
      // Messages outside any run (the monitor's configuration warnings) belong to this process only.
      if (run === '') return;
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
