import type { ProxyResponse } from '../proxy-response.ts';
import type { FromWorker } from './worker-messages.ts';

/**
 * A caller's response as a serve worker sees it: each call goes to the main thread, which holds the real connection
 * and makes the same call on it. The main thread says when the caller went away ({@link callerClosed}).
 */
export class RemoteResponse implements ProxyResponse {
  headersSent = false;
  destroyed = false;
  writableEnded = false;
  writableFinished = false;
  private readonly id: number;
  private readonly post: (m: FromWorker) => void;
  private readonly closeListeners: Array<() => void> = [];

  constructor(id: number, post: (m: FromWorker) => void) {
    this.id = id;
    this.post = post;
  }

  writeHead(status: number, headers: Record<string, string> = {}): this {
    this.headersSent = true;
    this.post({ type: 'head', id: this.id, status, headers });
    return this;
  }

  write(text: string): boolean {
    if (!this.headersSent) this.writeHead(200);
    this.post({ type: 'write', id: this.id, text });
    return true;
  }

  end(text = ''): this {
    if (this.writableEnded) return this;
    this.headersSent = true;
    this.writableEnded = true;
    this.writableFinished = true;
    this.post({ type: 'end', id: this.id, text });
    return this;
  }

  on(_event: 'close', listener: () => void): this {
    this.closeListeners.push(listener);
    return this;
  }

  /** The caller's connection closed before the end (or the server is shutting down): the proxy aborts upstream. */
  callerClosed(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const l of this.closeListeners) l();
  }
}
