import { EventEmitter } from 'node:events';
import type { ProxyResponse } from '../proxy-response.ts';
import type { FromWorker } from './worker-messages.ts';

/**
 * Characters a worker may have sent for one response that the caller's connection has not taken yet; past it the proxy
 * stops reading that request's upstream until the main thread says the caller caught up (`written`).
 */
export const MAX_UNTAKEN_CHARS = 1024 * 1024;

/**
 * Characters of all of a worker's responses sent and not yet handled by the main thread; past it every response of
 * the worker waits. Bounds the queue (memory, and how far the feed and the callers lag behind the monitor) when the
 * main thread is the busy one, whatever the number of requests.
 */
export const MAX_UNDELIVERED_CHARS = 32 * 1024 * 1024;

/** A worker's text on its way to the main thread, over all its responses. */
export class DeliveryBudget {
  private sent = 0;
  private delivered = 0;
  private readonly waiting = new Set<RemoteResponse>();
  private readonly limit: number;

  constructor(limit = MAX_UNDELIVERED_CHARS) {
    this.limit = limit;
  }

  get over(): boolean {
    return this.sent - this.delivered > this.limit;
  }

  add(chars: number): void {
    this.sent += chars;
  }

  /** Waits with the others until the main thread has caught up. */
  wait(res: RemoteResponse): void {
    this.waiting.add(res);
  }

  /** The main thread has handled `chars` characters of this worker's writes in all. */
  deliveredUpTo(chars: number): void {
    this.delivered = Math.max(this.delivered, chars);
    if (this.over) return;
    const ready = [...this.waiting];
    this.waiting.clear();
    for (const r of ready) r.recheck();
  }
}

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
  private readonly budget: DeliveryBudget;
  private readonly stampWrites: boolean;

  /** `stampWrites`: each write carries its sending time (the main thread measures the hop; benchmarks). */
  constructor(id: number, post: (m: FromWorker) => void, budget: DeliveryBudget, stampWrites = false) {
    super();
    this.id = id;
    this.post = post;
    this.budget = budget;
    this.stampWrites = stampWrites;
  }

  /** The caller has not taken this response's last MiB, or the main thread is behind on the worker's writes. */
  get writableNeedDrain(): boolean {
    if (this.sentChars - this.takenChars > MAX_UNTAKEN_CHARS) return true;
    if (!this.budget.over) return false;
    this.budget.wait(this);
    return true;
  }

  writeHead(status: number, headers: Record<string, string> = {}): this {
    this.headersSent = true;
    this.post({ type: 'head', id: this.id, status, headers });
    return this;
  }

  write(text: string): boolean {
    if (!this.headersSent) this.writeHead(200);
    this.sentChars += text.length;
    this.budget.add(text.length);
    this.post(this.stampWrites ? { type: 'write', id: this.id, text, at: performance.timeOrigin + performance.now() } : { type: 'write', id: this.id, text });
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
    this.takenChars = Math.max(this.takenChars, chars);
    this.recheck();
  }

  /** Room again (the caller took some, or the main thread caught up): whoever waits for `drain` goes on. */
  recheck(): void {
    if (!this.writableNeedDrain) this.emit('drain');
  }

  /** The caller's connection closed before the end (or the server is shutting down): the proxy aborts upstream. */
  callerClosed(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('close');
  }
}
