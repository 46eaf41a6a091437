import type { IncomingHttpHeaders } from 'node:http';

/**
 * What the proxy uses of the caller's HTTP response: Node's `ServerResponse` has it, and so has a worker thread's
 * stand-in that sends each call to the thread holding the real one (`serve --workers`).
 */
export interface ProxyResponse {
  writeHead(status: number, headers?: Record<string, string>): unknown;
  write(text: string): unknown;
  end(text?: string): unknown;
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  readonly writableFinished: boolean;
  /** What was written is more than the caller has taken yet: wait for `drain` before reading more upstream. */
  readonly writableNeedDrain: boolean;
  /** `close`: the connection ended (before `writableFinished`: the caller went away). `drain`: room again. */
  on(event: 'close', listener: () => void): unknown;
  once(event: 'close' | 'drain', listener: () => void): unknown;
  off(event: 'close' | 'drain', listener: () => void): unknown;
}

/**
 * When the caller has not taken what was written: resolves once it has (`drain`), or its connection closed, or
 * `signal` aborted; null when there is room. The proxy waits on it before reading more of the upstream, so a slow
 * caller holds the upstream back (TCP carries the pressure to the engine) instead of filling this process's memory.
 */
export function callerDrained(res: ProxyResponse, signal: AbortSignal): Promise<void> | null {
  if (!res.writableNeedDrain || res.destroyed || signal.aborted) return null;
  return new Promise<void>((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
    signal.addEventListener('abort', done);
  });
}

/** What the proxy uses of the caller's request once its body is read: the headers. */
export interface ProxyRequestHead {
  readonly headers: IncomingHttpHeaders;
}
