import { EventEmitter } from 'node:events';
import type { ProxyResponse } from '../proxy-response.ts';
import type { FromWorker } from './worker-messages.ts';

/**
 * Characters a worker may have sent for one response that the caller's connection has not taken yet; past it the proxy
 * stops reading that request's upstream until the main thread says the caller caught up (`written`).
 */
export const MAX_UNTAKEN_CHARS = 1024 * 1024;

/**
 * A caller's response as a serve worker sees it: each call goes to the main thread, which holds the real connection
 * and makes the same call on it. The main thread says when the caller went away ({@link callerClosed}) and how much
 * of the text its connection has taken ({@link taken}): the same back-pressure as a socket's `drain`, across threads.
 */
export class RemoteResponse extends EventEmitter implements ProxyResponse {
  headersSent = false;
  destroyed = false;
  writableEnded = false;
  writableFinished = false;
  private readonly id: number;
  private readonly post: (m: FromWorker) => void;
  private sentChars = 0;
  private takenChars = 0;

  constructor(id: number, post: (m: FromWorker) => void) {
    super();
    this.id = id;
    this.post = post;
  }

  get writableNeedDrain(): boolean {
    return this.sentChars - this.takenChars > MAX_UNTAKEN_CHARS;
  }

  writeHead(status: number, headers: Record<string, string> = {}): this {
    this.headersSent = true;
    this.post({ type: 'head', id: this.id, status, headers });
    return this;
  }

  write(text: string): boolean {
    if (!this.headersSent) this.writeHead(200);
    this.sentChars += text.length;
    this.post({ type: 'write', id: this.id, text });
    return !this.writableNeedDrain;
  }

  end(text = ''): this {
    if (this.writableEnded) return this;
    this.headersSent = true;
    this.writableEnded = true;
    this.writableFinished = true;
    this.post({ type: 'end', id: this.id, text });
    return this;
  }

  /** The caller's connection has taken `chars` characters of this response in all. */
  taken(chars: number): void {
    const waiting = this.writableNeedDrain;
    this.takenChars = Math.max(this.takenChars, chars);
    if (waiting && !this.writableNeedDrain) this.emit('drain');
  }

  /** The caller's connection closed before the end (or the server is shutting down): the proxy aborts upstream. */
  callerClosed(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('close');
  }
}
