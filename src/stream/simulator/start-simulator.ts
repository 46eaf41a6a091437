import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadCalibration, type Calibration } from './calibration.ts';
import { Rng, mixSeed } from './rng.ts';
import { SamplePlan } from './sample-plan.ts';
import { readBody } from '../../read-body.ts';
import { methodNotAllowed, sendError, sendJson } from './sim-http.ts';
import { simMetricsText } from './sim-metrics.ts';
import { parseRequest, type ParsedRequest, type SimApi } from './sim-request.ts';
import { streamPlans } from './sim-stream.ts';
import { simStreamFormat, usageJson } from './sim-stream-format.ts';
import type { SimKind } from './trace-model.ts';
import { detectProfile } from './trace-text.ts';

/** Options of {@link startSimulator}; every one has a default. */
export interface SimulatorOptions {
  /** 0 = an ephemeral port. Default 0. */
  port?: number;
  /** Default '127.0.0.1' (loopback only). */
  host?: string;
  /** Seed of every trace (with prompt, choice index and request counter / request `seed`). Default 0. */
  seed?: number;
  /** Tokens per second per sample; 0 = as fast as the client reads. Default 0. */
  tokensPerSecond?: number;
  /**
   * An injected clock for streaming responses (tests): when set, every round of tokens (one per open choice) is written
   * at once and the stream then awaits `pace(produced)`, `produced` being the tokens this response generated so far.
   * A test paces the stream by token counts (e.g. let 10 through, then hold) instead of wall-clock time. A client
   * that closes the connection ends the wait. Takes the place of `tokensPerSecond`.
   */
  pace?: (produced: number) => Promise<void> | void;
  /** Largest request body accepted; larger → 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Largest `n`. Default 64. */
  maxChoices?: number;
  /** Largest `top_logprobs` (vLLM's `max_logprobs`). Default 200. */
  maxTopLogprobs?: number;
  /**
   * Share (0…1) of requests that, once their client has gone, keep generating until they end or an explicit abort
   * (`POST /abort_request`) arrives — what SGLang builds with the known abort bug do. Default 0.
   */
  zombieRate?: number;
  /** Override the committed calibration (tests). */
  calibration?: Calibration;
}

/** What `GET /stats` answers. */
export interface SimulatorStats {
  /** Chat-completion requests received (valid or not). */
  requests: number;
  /** Streaming responses started. */
  streams: number;
  /** Responses (streaming or not) that ran to the end. */
  completed: number;
  /** Streams whose client closed the connection before the end (generation stopped there). */
  aborted: number;
  /** Requests answered with 4xx. */
  rejected: number;
  /** Generations running now (streams, zombies included): what `/metrics` reports as `vllm:num_requests_running`. */
  active: number;
  /** Aborted streams that kept generating after their client left (see `zombieRate`). */
  zombies: number;
  /** `POST /abort_request` calls that stopped a running generation. */
  explicitAborts: number;
  /** Tokens actually generated (an aborted stream counts only what it produced). */
  tokensGenerated: number;
  tokensPerKind: Record<SimKind, number>;
  samplesPerKind: Record<SimKind, number>;
}

export interface Simulator {
  /** `http://HOST:PORT/v1` — the OpenAI base URL. */
  readonly url: string;
  readonly port: number;
  stats(): SimulatorStats;
  /** Stops accepting, cuts open connections, resolves when closed. */
  close(): Promise<void>;
}

/** Most tokens (all choices) a non-streaming response may hold: it is built in memory. */
const MAX_JSON_TOKENS = 200_000;

/**
 * Starts the simulated OpenAI-compatible server (node:http, no framework):
 * `POST /v1/chat/completions` (streaming SSE or one JSON response; logprobs / top_logprobs as asked; `n`, `max_tokens`
 * → finish_reason 'length', `stream_options.include_usage`; temperature ignored; any model name),
 * `POST /v1/completions` and `POST /v1/responses` (streaming only, the same traces in those APIs' shapes),
 * `GET /v1/models`, `GET /stats`, `GET /metrics` (Prometheus text in vLLM's metric names) and SGLang's
 * `POST /abort_request {"rid"}` (the request id is the body's `rid` or the `x-request-id` header). Each choice is a synthetic reasoning trace of kind correct / committed failure / persistent failure
 * whose per-token top-k logprobs follow the calibrated window statistics (see docs/simulator.md), ending with
 * `Final Answer: X` for a multiple-choice prompt or `Final: \boxed{…}` otherwise. Body field
 * `failmode_sim: {profile, kind, answer, reference, length}` or header `x-failmode-sim-profile` (a profile name, JSON,
 * or `kind=committed;answer=C`) forces them. A trace is a function of (seed, prompt, choice index, request key), the
 * request key being the body's integer `seed` if given, else the server's request counter.
 * A client that closes the connection stops its generation at once (counted in `aborted`), except for the
 * `zombieRate` share of requests, which go on until the end or an explicit abort.
 */
export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const o = validateOptions(opts);
  const cal = o.calibration ?? loadCalibration();
  const zero = (): Record<SimKind, number> => ({ correct: 0, committed: 0, persistent: 0 });
  const stats: SimulatorStats = {
    requests: 0, streams: 0, completed: 0, aborted: 0, rejected: 0, active: 0, zombies: 0, explicitAborts: 0,
    tokensGenerated: 0, tokensPerKind: zero(), samplesPerKind: zero(),
  };
  const created = Math.floor(Date.now() / 1000);
  /** Running generations by request id, for `/abort_request`. */
  const running = new Map<string, Set<() => void>>();

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, `simulator error: ${(err as Error)?.message ?? String(err)}`, 'server_error');
      else res.destroy();
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/stats' || path === '/v1/stats') {
      if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
      return sendJson(res, 200, stats);
    }
    if (path === '/metrics') {
      if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(simMetricsText(stats, 'failmode-sim'));
      return;
    }
    if (path === '/abort_request') {
      if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
      return abortRequest(req, res);
    }
    if (path === '/v1/models' || path === '/models') {
      if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
      return sendJson(res, 200, { object: 'list', data: [{ id: 'failmode-sim', object: 'model', created, owned_by: 'failmode' }] });
    }
    const api = API_PATHS.get(path);
    if (api !== undefined) {
      if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
      return generate(api, req, res);
    }
    return sendError(res, 404, `No route ${req.method} ${path}; the simulator serves POST /v1/chat/completions, /v1/completions, /v1/responses, /abort_request, GET /v1/models, /stats, /metrics`, 'not_found');
  }

  /** One completion request: read and check the body, plan every choice, answer as a stream or one JSON. */
  async function generate(api: SimApi, req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests++;
    const requestNo = stats.requests - 1;
    const parsed = await readRequest(api, req, res);
    if (parsed === 'gone') return;
    if (parsed === null) {
      stats.rejected++;
      return;
    }
    const requestKey = parsed.seed ?? requestNo;
    const profile = parsed.overrides.profile ?? detectProfile(parsed.prompt);
    const plans: SamplePlan[] = [];
    for (let i = 0; i < parsed.n; i++) plans.push(new SamplePlan(cal, o.seed, parsed.prompt, i, requestKey, profile, parsed.overrides, parsed.maxTokens));
    const total = plans.reduce((a, p) => a + p.length, 0);
    if (!parsed.stream && (api !== 'chat' || total > MAX_JSON_TOKENS)) {
      stats.rejected++;
      return sendError(res, 400, api !== 'chat'
        ? `The simulator answers ${api} requests as streams only: send stream: true`
        : `A non-streaming response is limited to ${MAX_JSON_TOKENS} tokens (this one would have ${total}); use stream: true or a smaller max_tokens / n`, 'invalid_request_error');
    }
    for (const p of plans) stats.samplesPerKind[p.kind]++;
    const id = `${api === 'completions' ? 'cmpl' : 'chatcmpl'}-sim-${o.seed}-${requestNo}`;
    if (!parsed.stream) return completeJson(res, id, parsed, plans);
    stats.streams++;
    stats.active++;
    const zombie = o.zombieRate > 0 && new Rng(mixSeed(o.seed, requestNo, 0x7a6d)).next() < o.zombieRate;
    const k = parsed.logprobs ? parsed.topLogprobs : -1;
    try {
      const end = await streamPlans(res, plans, k, simStreamFormat(api, id, created, parsed), {
        tokensPerSecond: o.tokensPerSecond, zombie, ...(o.pace ? { pace: o.pace } : {}),
        onToken: (kind) => { stats.tokensGenerated++; stats.tokensPerKind[kind]++; },
        onClientGone: () => { stats.aborted++; if (zombie) stats.zombies++; },
        registerAbort: (abort) => registerRunning(parsed.rid, abort),
      });
      if (end === 'completed') stats.completed++;
      if (end === 'aborted') stats.explicitAborts++;
    } finally {
      stats.active--;
    }
  }

  /** The body of a completion request, checked; null after answering 4xx, 'gone' when the client left while sending it. */
  async function readRequest(api: SimApi, req: IncomingMessage, res: ServerResponse): Promise<ParsedRequest | null | 'gone'> {
    const read = await readBody(req, o.maxBodyBytes);
    if (read.kind === 'closed') return 'gone'; // the client went away: nothing to answer
    if (read.kind === 'too-large') {
      res.setHeader('connection', 'close');
      sendError(res, 413, `Request body larger than ${o.maxBodyBytes} bytes`, 'invalid_request_error');
      return null;
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(read.text) as Record<string, unknown>;
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
    } catch (err) {
      sendError(res, 400, `Expected a JSON object body, got unparsable JSON (${(err as Error).message})`, 'invalid_request_error');
      return null;
    }
    const parsed = parseRequest(api, body, req.headers['x-failmode-sim-profile'], o.maxChoices, o.maxTopLogprobs, req.headers['x-request-id']);
    if (typeof parsed === 'string') {
      sendError(res, 400, parsed, 'invalid_request_error');
      return null;
    }
    return parsed;
  }

  function registerRunning(rid: string | null, abort: () => void): () => void {
    if (rid === null) return () => {};
    let set = running.get(rid);
    if (!set) { set = new Set(); running.set(rid, set); }
    set.add(abort);
    return () => {
      set.delete(abort);
      if (set.size === 0 && running.get(rid) === set) running.delete(rid);
    };
  }

  /** SGLang's `POST /abort_request {"rid": "…"}` (or `{"abort_all": true}`): stops those generations. Answers 200. */
  async function abortRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const read = await readBody(req, 64 * 1024);
    if (read.kind === 'closed') return;
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(read.kind === 'ok' ? read.text : '') as Record<string, unknown>;
    } catch {
      return sendError(res, 400, 'Expected a JSON body like {"rid": "…"}', 'invalid_request_error');
    }
    const targets = body.abort_all === true ? [...running.values()] : typeof body.rid === 'string' ? [running.get(body.rid) ?? new Set()] : null;
    if (targets === null) return sendError(res, 400, `Expected \`rid\` to be a string, got ${JSON.stringify(body.rid)}`, 'invalid_request_error');
    for (const set of targets) for (const abort of [...set]) abort();
    sendJson(res, 200, {});
  }

  function completeJson(res: ServerResponse, id: string, r: ParsedRequest, plans: SamplePlan[]): void {
    const entry = { json: '', text: '' };
    const k = r.logprobs ? r.topLogprobs : -1;
    let produced = 0;
    const choices: string[] = [];
    for (let i = 0; i < plans.length; i++) {
      const p = plans[i]!;
      let text = '';
      const entries: string[] = [];
      while (!p.done) {
        p.step(k, entry);
        text += entry.text;
        if (k >= 0) entries.push(entry.json);
        produced++;
        stats.tokensPerKind[p.kind]++;
      }
      const lp = k < 0 ? 'null' : `{"content":[${entries.join(',')}]}`;
      choices.push(`{"index":${i},"message":{"role":"assistant","content":${JSON.stringify(text)}},"logprobs":${lp},"finish_reason":"${p.finishReason}"}`);
    }
    stats.tokensGenerated += produced;
    stats.completed++;
    const body = `{"id":"${id}","object":"chat.completion","created":${created},"model":${JSON.stringify(r.model)},"choices":[${choices.join(',')}],"usage":${usageJson(r.promptTokens, produced)}}`;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  }

  // Idle keep-alive connections live long: with node's 5 s, a client that reuses one just as the server drops it (a
  // stalled event loop on a loaded machine) gets "fetch failed"; clients time idle sockets out before this.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${hostForUrl}:${port}/v1`,
    port,
    stats: () => structuredClone(stats),
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

const API_PATHS = new Map<string, SimApi>([
  ['/v1/chat/completions', 'chat'], ['/chat/completions', 'chat'],
  ['/v1/completions', 'completions'], ['/completions', 'completions'],
  ['/v1/responses', 'responses'], ['/responses', 'responses'],
]);

function validateOptions(opts: SimulatorOptions): Required<Omit<SimulatorOptions, 'calibration' | 'pace'>> & Pick<SimulatorOptions, 'calibration' | 'pace'> {
  const o = { port: 0, host: '127.0.0.1', seed: 0, tokensPerSecond: 0, maxBodyBytes: 1024 * 1024, maxChoices: 64, maxTopLogprobs: 200, zombieRate: 0, ...opts };
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new TypeError(`Expected \`port\` to be an integer from 0 to 65535, got \`${o.port}\` (${typeof o.port})`);
  if (!Number.isInteger(o.seed)) throw new TypeError(`Expected \`seed\` to be an integer, got \`${o.seed}\` (${typeof o.seed})`);
  if (!(typeof o.tokensPerSecond === 'number' && o.tokensPerSecond >= 0 && Number.isFinite(o.tokensPerSecond))) {
    throw new TypeError(`Expected \`tokensPerSecond\` to be a number ≥ 0, got \`${o.tokensPerSecond}\` (${typeof o.tokensPerSecond})`);
  }
  if (o.pace !== undefined && typeof o.pace !== 'function') throw new TypeError(`Expected \`pace\` to be a function, got \`${String(o.pace)}\` (${typeof o.pace})`);
  if (!(typeof o.zombieRate === 'number' && o.zombieRate >= 0 && o.zombieRate <= 1)) throw new TypeError(`Expected \`zombieRate\` to be a number from 0 to 1, got \`${o.zombieRate}\` (${typeof o.zombieRate})`);
  return o;
}
