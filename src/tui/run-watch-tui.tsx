import React from 'react';
import { render } from 'ink';
import { tap, type Observable } from 'rxjs';
import type { MonitorEvent } from '../online/monitor-events.ts';
import { WatchApp } from './watch-app.tsx';
import { SNAPSHOT_INTERVAL_MS, watchSnapshots } from './watch-snapshots.ts';
import type { WatchHeaderInfo } from './watch-header.ts';

/** Redraws per second at most (Ink's own throttle, on top of the snapshot throttle). */
export const WATCH_MAX_FPS = 20;

export interface WatchTuiOptions {
  /** The monitor's events (subscribed once when the view opens, unsubscribed when it closes). */
  readonly events$: Observable<MonitorEvent>;
  readonly header: WatchHeaderInfo;
  /**
   * Stops one sample's stream. Called when the user presses s on a sample, and — with `earlyStop` — as soon as a
   * sample's committed_failure event arrives. Called at most once per sample.
   */
  readonly onStopSample?: (sampleId: string) => void;
  /** Called once after the view has closed (q or Ctrl+C), after events$ was unsubscribed. */
  readonly onQuit?: () => void;
  /** Stop flagged samples automatically (needs onStopSample); the header says whether it is on. */
  readonly earlyStop?: boolean;
  /** Streams to draw on and read keys from (tests); default process.stdout / process.stdin. */
  readonly stdout?: NodeJS.WriteStream;
  readonly stdin?: NodeJS.ReadStream;
  /**
   * Draw on the terminal's alternate screen, restoring the previous screen on exit.
   * @default true when stdout is a TTY
   */
  readonly altScreen?: boolean;
  /** @default SNAPSHOT_INTERVAL_MS (50) */
  readonly snapshotIntervalMs?: number;
}

/**
 * Opens the live watch view and resolves when the user quits (q, or Ctrl+C). The view keeps showing the final state
 * after every sample has ended, until q. Callers check `isInteractiveTerminal()` first and fall back to headless output.
 */
export async function runWatchTui(opts: WatchTuiOptions): Promise<void> {
  const stdout = opts.stdout ?? process.stdout;
  const stdin = opts.stdin ?? process.stdin;
  const stopped = new Set<string>();
  const stop = (sampleId: string): void => {
    if (stopped.has(sampleId)) return;
    stopped.add(sampleId);
    opts.onStopSample?.(sampleId);
  };
  // Early stopping acts on the raw event, not on a throttled snapshot, so a flagged sample stops at once.
  const events$ = opts.earlyStop && opts.onStopSample
    ? opts.events$.pipe(tap((e) => { if (e.type === 'committed_failure') stop(e.sampleId); }))
    : opts.events$;
  const snapshots$ = watchSnapshots(events$, { intervalMs: opts.snapshotIntervalMs ?? SNAPSHOT_INTERVAL_MS });
  const altScreen = opts.altScreen ?? stdout.isTTY === true;
  if (altScreen) stdout.write('\u001b[?1049h\u001b[H');
  try {
    const app = render(
      <WatchApp snapshots$={snapshots$} header={opts.header} onStopSample={opts.onStopSample ? stop : undefined} earlyStop={opts.earlyStop ?? false} />,
      { stdout, stdin, maxFps: WATCH_MAX_FPS, exitOnCtrlC: true, patchConsole: true },
    );
    await app.waitUntilExit();
  } finally {
    if (altScreen) stdout.write('\u001b[?1049l');
  }
  opts.onQuit?.();
}
