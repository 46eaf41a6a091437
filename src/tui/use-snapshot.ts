import { useEffect, useRef, useState } from 'react';
import type { Observable } from 'rxjs';

export interface UseSnapshotOptions {
  /** False while paused: new snapshots are kept aside, not shown; turning it back on shows the newest at once. */
  readonly isActive?: boolean;
  /** Called if the source errors (the watch view shows the message rather than crashing the session). */
  readonly onError?: (err: unknown) => void;
}

/**
 * Subscribes to a stream of snapshots for the component's lifetime and returns the one to show.
 * Unmounting unsubscribes (which, for the watch view, stops the upstream requests).
 */
export function useSnapshot<T>(source$: Observable<T>, initial: T, { isActive = true, onError }: UseSnapshotOptions = {}): T {
  const [shown, setShown] = useState<T>(initial);
  const latest = useRef<T>(initial);
  const active = useRef(isActive);
  active.current = isActive;
  const errorHandler = useRef(onError);
  errorHandler.current = onError;

  useEffect(() => {
    const sub = source$.subscribe({
      next: (value) => {
        latest.current = value;
        if (active.current) setShown(value);
      },
      error: (err) => errorHandler.current?.(err),
    });
    return () => sub.unsubscribe();
  }, [source$]);

  useEffect(() => {
    if (isActive) setShown(latest.current);
  }, [isActive]);

  return shown;
}
