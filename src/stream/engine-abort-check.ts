import { redactUrl } from './redact-url.ts';

/**
 * Checks that an engine really stopped a request we aborted by closing its connection — SGLang builds with a known
 * bug keep generating — and, if it did not, asks it explicitly.
 *
 * How: poll the engine's Prometheus `/metrics` (at the server root, the base URL without `/v1`) for the number of
 * requests running — vLLM's `vllm:num_requests_running`, SGLang's `sglang:num_running_reqs` (summed over label sets)
 * — until it is at most `expectedRunning()` (the requests of ours still legitimately running). If it is still higher
 * after `graceMs`, the abort is *unconfirmed*: `onUnconfirmed` is called, SGLang's `POST /abort_request {"rid"}` is
 * sent (vLLM has no abort route: a 404 there is reported as `not_available`), and the count is polled for another
 * `graceMs`.
 *
 * Caveat: the metric counts every client's requests; the check assumes the engine serves only failmode's (otherwise a
 * busy engine looks like an unconfirmed abort, and the explicit abort — harmless for a request that already ended —
 * is sent). Engines without `/metrics` give `unknown`.
 *
 * Time is counted in polls (`sleep(pollMs)` calls), so tests can pass a sleep that returns at once.
 */
export interface EngineAbortCheckOptions {
  /** The engine's OpenAI base URL, e.g. `http://127.0.0.1:8000/v1`. */
  readonly baseURL: string;
  readonly apiKey?: string | null;
  /** How long the engine has to stop on its own, then to obey the explicit abort. */
  readonly graceMs: number;
  /** @default 250 */
  readonly pollMs?: number;
  /** Our requests the engine should still be running (the aborted one excluded). */
  readonly expectedRunning: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly fetch?: typeof fetch;
}

export type AbortCheckStatus = 'confirmed' | 'confirmed_after_explicit_abort' | 'unconfirmed' | 'unknown';

export interface AbortCheckResult {
  readonly status: AbortCheckStatus;
  /** Requests running at the last poll (null: no metric). */
  readonly running: number | null;
  /** What the explicit abort did: `not_needed` when the engine stopped on its own. */
  readonly explicitAbort: 'not_needed' | 'sent' | 'not_available' | 'failed';
  /** Why the check could not be made (status `unknown`), or why the explicit abort failed. */
  readonly detail?: string;
}

/** Metric names of the running-request gauge, per engine. */
const RUNNING_METRICS = ['vllm:num_requests_running', 'sglang:num_running_reqs'];

export async function checkEngineAbort(rid: string, o: EngineAbortCheckOptions, onUnconfirmed?: (running: number) => void): Promise<AbortCheckResult> {
  const pollMs = o.pollMs ?? 250;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref()));
  const doFetch = o.fetch ?? fetch;
  const root = o.baseURL.replace(/\/+$/, '').replace(/\/v1$/, '');
  const headers: Record<string, string> = o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {};
  const polls = Math.max(1, Math.ceil(o.graceMs / pollMs));

  const running = async (): Promise<number | string> => {
    try {
      const res = await doFetch(`${root}/metrics`, { headers, signal: AbortSignal.timeout(10_000) });
      if (!res.ok) return `${redactUrl(root)}/metrics answered HTTP ${res.status}`;
      const n = runningRequests(await res.text());
      return n ?? `${redactUrl(root)}/metrics has no ${RUNNING_METRICS.join(' or ')}`;
    } catch (err) {
      return `cannot read ${redactUrl(root)}/metrics: ${(err as Error).message}`;
    }
  };
  /** Polls until the engine runs no more than expected; returns the last count, or a reason it cannot tell. */
  const waitStopped = async (): Promise<{ stopped: boolean; last: number | string }> => {
    let last: number | string = NaN;
    for (let i = 0; i <= polls; i++) {
      if (i > 0) await sleep(pollMs);
      last = await running();
      if (typeof last === 'string') return { stopped: false, last };
      if (last <= o.expectedRunning()) return { stopped: true, last };
    }
    return { stopped: false, last };
  };

  const first = await waitStopped();
  if (typeof first.last === 'string') return { status: 'unknown', running: null, explicitAbort: 'not_needed', detail: first.last };
  if (first.stopped) return { status: 'confirmed', running: first.last, explicitAbort: 'not_needed' };
  onUnconfirmed?.(first.last);

  let explicitAbort: AbortCheckResult['explicitAbort'] = 'sent';
  let detail: string | undefined;
  try {
    const res = await doFetch(`${root}/abort_request`, {
      method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ rid }), signal: AbortSignal.timeout(10_000),
    });
    if (res.status === 404 || res.status === 405) explicitAbort = 'not_available';
    else if (!res.ok) { explicitAbort = 'failed'; detail = `${redactUrl(root)}/abort_request answered HTTP ${res.status}`; }
    await res.body?.cancel().catch(() => undefined);
  } catch (err) {
    explicitAbort = 'failed';
    detail = `cannot reach ${redactUrl(root)}/abort_request: ${(err as Error).message}`;
  }
  const second = await waitStopped();
  const n = typeof second.last === 'number' ? second.last : null;
  return second.stopped
    ? { status: 'confirmed_after_explicit_abort', running: n, explicitAbort }
    : { status: 'unconfirmed', running: n, explicitAbort, ...(detail ? { detail } : {}) };
}

/** The running-request count of a Prometheus text exposition (summed over label sets), or null without the metric. */
export function runningRequests(text: string): number | null {
  let total: number | null = null;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = RUNNING_METRICS.find((m) => line.startsWith(m) && (line[m.length] === '{' || line[m.length] === ' '));
    if (!name) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) total = (total ?? 0) + value;
  }
  return total;
}
