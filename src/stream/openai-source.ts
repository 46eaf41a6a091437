import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { Observable, type Subscription } from 'rxjs';
import { FailmodeError } from '../errors.ts';
import { tokenEventsFromSse } from './sse-source.ts';
import { redactUrl } from './redact-url.ts';
import { streamRequest, type StreamApi } from './stream-request.ts';
import { topLogprobsRefusal } from './top-logprobs-refusal.ts';
import type { StreamEvent } from './token-event.ts';

/** A streaming chat-completion request to an OpenAI-compatible endpoint (vLLM, OpenAI, the simulator). */
export interface OpenAIStreamOptions {
  /** e.g. `http://127.0.0.1:8000/v1`. */
  baseURL: string;
  /** Sent as the bearer token; default `EMPTY` (vLLM). Never logged. */
  apiKey?: string;
  model: string;
  messages: { role: string; content: string }[];
  /**
   * The API: `chat` (default, `/chat/completions`), `completions` (`/completions`: the system messages, a blank line and
   * the user messages make the prompt) or `responses` (`/responses`: system → `instructions`, user → `input`).
   */
  api?: StreamApi;
  /** Choices per request; each is one sample `${requestId}:${index}`. Default 1. */
  n?: number;
  maxTokens?: number;
  /** k alternatives per token (default 20, OpenAI's maximum; vLLM allows up to its `max_logprobs`). 0 = none. */
  topLogprobs?: number;
  temperature?: number;
  /** Merged into the request body, e.g. `{ chat_template_kwargs: { enable_thinking: true } }`. */
  extraBody?: Record<string, unknown>;
  /** Prefix of the sampleIds; default the server's chunk `id`. */
  requestId?: string;
  /**
   * Receives every SSE event as the server sent it: `data: <payload>` without a trailing newline (`[DONE]` included;
   * a multi-line payload gives one `data:` line per line). Write each followed by a blank line (`line + '\n\n'`) to get a `.sse` file that `readSseFile` replays.
   */
  recordSse?: (line: string) => void;
  /** SDK retries of a failed request (before any byte of the stream arrived). Default 2, as the paper's pipelines. */
  maxRetries?: number;
  /** Request timeout in ms. Default 20 minutes (the paper's `timeout_s` 1200). */
  timeoutMs?: number;
  /** Clock for the events' `t`. */
  now?: () => number;
  /** Who asks for `topLogprobs` (e.g. "model file m.json"), named when the engine refuses that k. Default "--top-k". */
  topLogprobsSource?: string;
}

/**
 * Streams one chat completion with `stream: true, logprobs: true, top_logprobs: k` and
 * `stream_options.include_usage`, and turns it into StreamEvents.
 *
 * The `openai` SDK makes the request (auth, base URL, retries, HTTP errors as APIError) and hands back the raw
 * response body (`asResponse()`), which goes through {@link tokenEventsFromSse}: the same decoder as a recorded file,
 * so a live run and its `--record-sse` replay give identical events, and the recording holds the server's exact bytes.
 *
 * Unsubscribing aborts the HTTP request (AbortController), so the server sees the connection close and stops
 * generating. A failure before the stream starts (connection refused, HTTP 4xx/5xx) errors the Observable with a
 * FailmodeError (code `FAILMODE_ERR_HTTP`, exit code 1); a connection that drops mid-stream ends open samples with
 * finishReason 'error' instead.
 */
export function tokenEventsFromOpenAI(opts: OpenAIStreamOptions): Observable<StreamEvent> {
  validate(opts);
  const api = opts.api ?? 'chat';
  const k = opts.topLogprobs ?? 20;
  let path: string;
  let body: Record<string, unknown>;
  if (api === 'chat') {
    // The caller's messages as they are (several turns are fine).
    ({ path, body } = streamRequest('chat', { model: opts.model, prompt: '', topLogprobs: k, n: opts.n, maxTokens: opts.maxTokens, temperature: opts.temperature, extraBody: opts.extraBody }));
    body.messages = opts.messages;
  } else {
    const join = (role: (r: string) => boolean) => opts.messages.filter((m) => role(m.role)).map((m) => m.content).join('\n\n');
    ({ path, body } = streamRequest(api, {
      model: opts.model, prompt: join((r) => r !== 'system'), system: join((r) => r === 'system') || null, topLogprobs: k,
      n: opts.n, maxTokens: opts.maxTokens, temperature: opts.temperature, extraBody: opts.extraBody,
    }));
  }
  return new Observable<StreamEvent>((subscriber) => {
    const abort = new AbortController();
    let inner: Subscription | undefined;
    let closed = false;
    const client = new OpenAI({
      baseURL: opts.baseURL,
      apiKey: opts.apiKey ?? 'EMPTY',
      maxRetries: opts.maxRetries ?? 2,
      timeout: opts.timeoutMs ?? 20 * 60_000,
    });
    const request = client.post(path, { body, signal: abort.signal, stream: true });
    request.asResponse().then(
      (res) => {
        if (closed) {
          void res.body?.cancel().catch(() => undefined);
          return;
        }
        if (!res.body) {
          subscriber.error(new FailmodeError(`${redactUrl(opts.baseURL)}: the response to a streaming request had no body`, 'FAILMODE_ERR_HTTP', 1));
          return;
        }
        const record = opts.recordSse;
        inner = tokenEventsFromSse(res.body as unknown as AsyncIterable<Uint8Array>, {
          ...(opts.requestId !== undefined ? { requestId: opts.requestId } : {}),
          ...(opts.now !== undefined ? { now: opts.now } : {}),
          ...(api === 'completions' && k > 0 ? { maxTopLogprobs: k } : {}),
          ...(record ? { onData: (data: string) => record(data.includes('\n') ? data.split('\n').map((l) => `data: ${l}`).join('\n') : `data: ${data}`) } : {}),
        }).subscribe(subscriber);
      },
      (err: unknown) => {
        if (!closed) subscriber.error(requestError(opts.baseURL, err, k, opts.topLogprobsSource ?? '--top-k'));
      },
    );
    return () => {
      closed = true;
      inner?.unsubscribe();
      abort.abort();
    };
  });
}

function validate(opts: OpenAIStreamOptions): void {
  const int = (name: string, v: number | undefined, min: number): void => {
    if (v !== undefined && !(Number.isInteger(v) && v >= min)) {
      throw new TypeError(`Expected \`${name}\` to be an integer ≥ ${min}, got \`${v}\` (${typeof v})`);
    }
  };
  if (typeof opts.baseURL !== 'string' || opts.baseURL === '') throw new TypeError(`Expected \`baseURL\` to be a URL, got \`${opts.baseURL}\` (${typeof opts.baseURL})`);
  if (typeof opts.model !== 'string' || opts.model === '') throw new TypeError(`Expected \`model\` to be a non-empty string, got \`${opts.model}\` (${typeof opts.model})`);
  if (!Array.isArray(opts.messages) || opts.messages.length === 0) throw new TypeError('Expected `messages` to be a non-empty array of {role, content}');
  int('n', opts.n, 1);
  int('maxTokens', opts.maxTokens, 1);
  int('topLogprobs', opts.topLogprobs, 0);
}

/** The SDK's errors as one clear sentence (status and server message; never the API key). */
function requestError(rawURL: string, err: unknown, k: number, askedBy: string): unknown {
  const baseURL = redactUrl(rawURL);
  if (err instanceof APIUserAbortError) return err;
  if (err instanceof APIConnectionError) {
    const cause = (err.cause as Error | undefined)?.message;
    return new FailmodeError(`cannot reach ${baseURL}: ${err.message}${cause ? ` (${cause})` : ''}`, 'FAILMODE_ERR_HTTP', 1);
  }
  if (err instanceof APIError) {
    const refusal = err.status !== undefined && err.status >= 400 && err.status < 500 ? topLogprobsRefusal(err.message, k, askedBy) : null;
    return new FailmodeError(`${baseURL} answered HTTP ${err.status ?? '?'}: ${refusal ?? err.message}`, 'FAILMODE_ERR_HTTP', 1);
  }
  return err;
}
