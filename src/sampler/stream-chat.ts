import { Observable, type Subscription } from 'rxjs';
import { FailmodeError } from '../errors.ts';
import { redactUrl } from '../stream/redact-url.ts';
import { topLogprobsRefusal } from '../stream/top-logprobs-refusal.ts';
import { tokenEventsFromSse } from '../stream/sse-source.ts';
import type { StreamEvent } from '../stream/token-event.ts';

export interface ChatStreamRequest {
  /** OpenAI-compatible base URL, e.g. `http://127.0.0.1:8000/v1`. */
  readonly baseURL: string;
  /** Path of the API under the base URL. @default '/chat/completions' */
  readonly path?: string;
  /** The k asked for with the completions API (its top lists are cut to it; see ChunkDecoderOptions). */
  readonly maxTopLogprobs?: number;
  /** Bearer key; never logged. */
  readonly apiKey?: string | null;
  /** The request body; `stream: true` is forced. */
  readonly body: Readonly<Record<string, unknown>>;
  /** Extra headers (failmode serve reads `x-failmode-*`; other servers ignore them). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Prefix of the sampleIds (`${requestId}:${choice}`). */
  readonly requestId: string;
  /** Retries of a request that failed before its stream started (connection error, 429, 5xx). @default 2 */
  readonly maxRetries?: number;
  /** @default 20 minutes */
  readonly timeoutMs?: number;
  /** Who asks for the top-k (e.g. "model file m.json"), named when the engine refuses it. @default "--top-logprobs" */
  readonly topLogprobsSource?: string;
}

/**
 * One streaming chat completion as StreamEvents, with caller-chosen headers (the reason this exists beside
 * `tokenEventsFromOpenAI`, which takes none): the bytes go through the same `tokenEventsFromSse` decoder.
 * Unsubscribing aborts the HTTP request, so the server stops generating. A failure before the stream starts errors
 * the Observable with a FailmodeError (`FAILMODE_ERR_HTTP`, exit 1) saying what the server answered.
 */
export function chatStreamEvents(req: ChatStreamRequest): Observable<StreamEvent> {
  const url = `${req.baseURL.replace(/\/+$/, '')}${req.path ?? '/chat/completions'}`;
  const shown = redactUrl(req.baseURL);
  const maxRetries = req.maxRetries ?? 2;
  return new Observable<StreamEvent>((subscriber) => {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error('request timeout')), req.timeoutMs ?? 20 * 60_000);
    timer.unref();
    let inner: Subscription | undefined;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream', ...req.headers };
    if (req.apiKey) headers.authorization = `Bearer ${req.apiKey}`;
    const body = JSON.stringify({ ...req.body, stream: true });

    const attempt = async (): Promise<void> => {
      for (let a = 0; ; a++) {
        let res: Response;
        try {
          res = await fetch(url, { method: 'POST', headers, body, signal: abort.signal });
        } catch (err) {
          if (abort.signal.aborted) return;
          if (a < maxRetries) { await sleep(1000 * (a + 1), abort.signal); continue; }
          throw new FailmodeError(`cannot reach ${shown}: ${(err as Error).message}${(err as Error).cause ? ` (${((err as Error).cause as Error).message})` : ''}`, 'FAILMODE_ERR_HTTP', 1);
        }
        if (!res.ok) {
          const text = await res.text().catch(() => '');
          if ((res.status === 429 || res.status >= 500) && a < maxRetries) { await sleep(1000 * (a + 1), abort.signal); continue; }
          throw new FailmodeError(refusalOrStatus(shown, res.status, serverMessage(text), req), 'FAILMODE_ERR_HTTP', 1);
        }
        if (!res.body) throw new FailmodeError(`${shown}: the response to a streaming request had no body`, 'FAILMODE_ERR_HTTP', 1);
        if (subscriber.closed) return;
        inner = tokenEventsFromSse(res.body as unknown as AsyncIterable<Uint8Array>, { requestId: req.requestId, ...(req.maxTopLogprobs !== undefined ? { maxTopLogprobs: req.maxTopLogprobs } : {}) }).subscribe(subscriber);
        return;
      }
    };
    attempt().catch((err: unknown) => {
      if (!subscriber.closed) subscriber.error(err);
    });
    return () => {
      clearTimeout(timer);
      inner?.unsubscribe();
      abort.abort(new Error('unsubscribed'));
    };
  });
}

/** The engine's 4xx refusing the top-k asked for, as one line with the way out; any other error as status and message. */
function refusalOrStatus(shown: string, status: number, message: string, req: ChatStreamRequest): string {
  const k = typeof req.body.top_logprobs === 'number' ? req.body.top_logprobs : typeof req.body.logprobs === 'number' ? req.body.logprobs : null;
  const refusal = status >= 400 && status < 500 && k !== null ? topLogprobsRefusal(message, k, req.topLogprobsSource ?? '--top-logprobs') : null;
  return `${shown} answered HTTP ${status}: ${refusal ?? message}`;
}

function serverMessage(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: { message?: unknown } };
    if (typeof j.error?.message === 'string') return j.error.message;
  } catch {
    // not JSON
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text || '(empty body)';
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}
