import { Observable, auditTime, materialize, scan } from 'rxjs';
import type { MonitorEvent } from '../online/monitor-events.ts';
import { initialWatchState, reduceWatchState, type WatchState } from './state.ts';

/** Default time between snapshots: 50 ms, i.e. at most 20 redraws per second however fast tokens arrive. */
export const SNAPSHOT_INTERVAL_MS = 50;

/** The view's input: the reduced state plus whether the event stream is still live. */
export interface WatchSnapshot {
  readonly state: WatchState;
  readonly status: 'live' | 'complete' | 'error';
  /** The stream's error message when status is 'error'. */
  readonly error: string | null;
}

export const INITIAL_SNAPSHOT: WatchSnapshot = { state: initialWatchState(), status: 'live', error: null };

/**
 * Reduces MonitorEvents into WatchState and emits throttled snapshots (`auditTime`: the latest state at most once
 * per `intervalMs`, and always the last one). The stream's completion or error becomes a final snapshot (via
 * `materialize`), so the view can say "all ended" or show the error instead of going blank.
 */
export function watchSnapshots(events$: Observable<MonitorEvent>, { intervalMs = SNAPSHOT_INTERVAL_MS }: { intervalMs?: number } = {}): Observable<WatchSnapshot> {
  return events$.pipe(
    materialize(),
    scan((snap: WatchSnapshot, n): WatchSnapshot => {
      if (n.kind === 'N') return { ...snap, state: reduceSafely(snap.state, n.value) };
      if (n.kind === 'C') return { ...snap, status: 'complete' };
      return { ...snap, status: 'error', error: n.error instanceof Error ? n.error.message : String(n.error) };
    }, INITIAL_SNAPSHOT),
    auditTime(intervalMs),
  );
}

/** One event the view cannot digest must not end a live session: it becomes a warning line instead. */
function reduceSafely(state: WatchState, event: MonitorEvent): WatchState {
  try {
    return reduceWatchState(state, event);
  } catch (err) {
    const message = `could not display a ${String((event as { type?: unknown })?.type)} event: ${err instanceof Error ? err.message : String(err)}`;
    return reduceWatchState(state, { type: 'warning', message, t: state.lastT ?? 0 });
  }
}
