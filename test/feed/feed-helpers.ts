/** Shared pieces of the feed tests: a tiny model file, a recording WebSocket client, an SSE request helper. */
import { WebSocket, type ClientOptions } from 'ws';
import { validateModelFile } from '../../src/models/model-io.ts';
import type { ModelFile } from '../../src/models/model-file.ts';
import type { ServerMessage } from '../../src/feed/protocol.ts';

/**
 * A one-window committed model whose risk is σ(intercept) whatever the features: intercept 5 → risk 0.993 ≥ the
 * threshold 0.5 (every sample is flagged at T); intercept −5 → 0.007 (never flagged).
 */
export function constantRiskModel(opts: { T?: number; intercept?: number } = {}): ModelFile {
  const T = opts.T ?? 128;
  return validateModelFile({
    format: 'failmode-model', version: 1, createdAt: '2026-01-01T00:00:00Z',
    signal: { topK: 20, nucleusP: 0.7, tieDelta: 0.5 }, prefinal: false, profile: 'final-answer',
    windows: [T],
    classifiers: [{
      window: T, featureNames: [`nll_mean_w${T}`], fill: [1], mean: [0], scale: [1], coef: [0], intercept: opts.intercept ?? 5,
      oof: { prauc: null, auroc: null }, stop: { threshold: 0.5, targetPrecision: 0.9, precision: 0.9, recall: 0.5 },
    }],
    regime: 'committed', commitmentPoint: T, training: { name: 'constant-risk test model', n: 10, failures: 5, failureRate: 0.5 },
  }, 'test model');
}

/** A WebSocket client that records every message. */
export class FeedClient {
  readonly ws: WebSocket;
  readonly messages: ServerMessage[] = [];
  closed: { code: number; reason: string } | null = null;
  private waiters: Array<() => void> = [];

  constructor(url: string, headers: Record<string, string> = {}, options: ClientOptions = {}) {
    this.ws = new WebSocket(url, { ...options, headers });
    this.ws.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()) as ServerMessage);
      this.wake();
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
    this.ws.on('error', () => this.wake());
  }

  send(obj: unknown): void {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  /** Resolves with the first recorded message matching `pred` (waiting for it), rejects after `ms`. */
  async waitFor<T extends ServerMessage = ServerMessage>(pred: (m: ServerMessage) => boolean, ms = 60_000, what = 'message'): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.messages.find(pred);
      if (found) return found as T;
      if (this.closed) throw new Error(`connection closed (${this.closed.code}) while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${this.messages.map((m) => m.type).join(',')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  async waitClosed(ms = 60_000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('timed out waiting for close');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
    return this.closed;
  }

  async open(): Promise<this> {
    await this.waitFor((m) => m.type === 'hello', 60_000, 'hello');
    return this;
  }

  async subscribe(run = 'all', tokens?: boolean): Promise<void> {
    const before = this.messages.length;
    this.send({ type: 'subscribe', run, ...(tokens !== undefined ? { tokens } : {}) });
    await this.waitFor((m) => m.type === 'subscribed' && this.messages.indexOf(m) >= before, 60_000, 'subscribed');
  }

  close(): void {
    this.ws.close();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** POSTs a chat completion and returns the parsed SSE chunks (`[DONE]` as the string) or the JSON body. */
export async function postChat(baseUrl: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<{ status: number; chunks: unknown[]; json: unknown; headers: Headers }> {
  const res = await fetch(`${baseUrl}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    return { status: res.status, chunks: [], json: text === '' ? null : JSON.parse(text), headers: res.headers };
  }
  const chunks = text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => {
    const d = e.slice(6);
    return d === '[DONE]' ? d : JSON.parse(d);
  });
  return { status: res.status, chunks, json: null, headers: res.headers };
}

export const messages = (content: string) => [{ role: 'user', content }];

/** One Prometheus sample's value (summed over label sets matching `labels`). */
export function metric(text: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labels && !line.includes(labels)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
