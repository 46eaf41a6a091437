import { createSampleMonitor, type MonitorOptions, type ResolvedMonitorConfig, type TokenTick } from './monitor.ts';
import type { MonitorEvent } from './monitor-events.ts';
import type { StreamEvent } from '../stream/token-event.ts';

/** Monitors one sample: receives its stream events, reports monitor events through the callback given at creation. */
export interface SampleMonitorHandle {
  push(ev: StreamEvent): void;
}

/**
 * Builds the monitor of one sample (the live monitor with the server's model, profile and top-k). `ticks`, when
 * given, is asked once per token for the receiver of that token's tick (null: nobody wants it, nothing is built);
 * a factory may ignore it and emit `token` events instead.
 */
export type MonitorFactory = (
  sample: { readonly monitorId: string; readonly reference: string | null },
  emit: (ev: MonitorEvent) => void,
  ticks?: () => TokenTick | null,
) => SampleMonitorHandle;

/**
 * One live monitor for every sample the server watches (one model, one set of warnings), with its events routed back
 * to the sample that owns them. Events without a sample (configuration warnings) go to `onGlobal`.
 */
export function sharedMonitorFactory(opts: Omit<MonitorOptions, 'reference' | 'tickSink'>, onGlobal: (ev: MonitorEvent) => void): { factory: MonitorFactory; config: ResolvedMonitorConfig } {
  const routes = new Map<string, (ev: MonitorEvent) => void>();
  const tickRoutes = new Map<string, () => TokenTick | null>();
  const references = new Map<string, string>();
  const tickSink = (id: string): TokenTick | null => {
    const route = tickRoutes.get(id);
    return route === undefined ? null : route();
  };
  // Up-front warnings are emitted while the monitor is created, before routes exist: they go to onGlobal.
  const m = createSampleMonitor({ ...opts, reference: (id) => references.get(id), tickSink }, (ev) => {
    const id = ev.sampleId;
    const route = id === undefined ? undefined : routes.get(id);
    if (route) route(ev);
    else onGlobal(ev);
    if (ev.type === 'final') {
      routes.delete(ev.sampleId);
      tickRoutes.delete(ev.sampleId);
      references.delete(ev.sampleId);
    }
  });
  const factory: MonitorFactory = (sample, emit, ticks) => {
    routes.set(sample.monitorId, emit);
    if (ticks) tickRoutes.set(sample.monitorId, ticks);
    if (sample.reference !== null) references.set(sample.monitorId, sample.reference);
    return { push: (ev) => m.push(ev) };
  };
  return { factory, config: m.config };
}
