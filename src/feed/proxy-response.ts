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
  /** `close`: the connection ended (before `writableFinished`: the caller went away). */
  on(event: 'close', listener: () => void): unknown;
}

/** What the proxy uses of the caller's request once its body is read: the headers. */
export interface ProxyRequestHead {
  readonly headers: IncomingHttpHeaders;
}
