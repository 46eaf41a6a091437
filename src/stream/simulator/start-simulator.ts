import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { readBody } from '../../read-body.ts';
import { loadCalibration, type Calibration } from './calibration.ts';
import { SamplePlan, type SimOverrides } from './sample-plan.ts';
import { SIM_KINDS, type SimKind } from './trace-model.ts';
import { detectProfile, type SimProfile } from './trace-text.ts';

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
  /** Streams being generated now. */
  active: number;
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

/** Bytes gathered before a write when streaming as fast as possible (fewer syscalls; an abort stops within one batch). */
const WRITE_BATCH = 32 * 1024;

/**
 * Starts the simulated OpenAI-compatible server (node:http, no framework):
 * `POST /v1/chat/completions` (streaming SSE or one JSON response; logprobs / top_logprobs as asked; `n`, `max_tokens`
 * → finish_reason 'length', `stream_options.include_usage`; temperature ignored; any model name), `GET /v1/models`,
 * `GET /stats`. Each choice is a synthetic reasoning trace of kind correct / committed failure / persistent failure
 * whose per-token top-k logprobs follow the calibrated window statistics (see docs/simulator.md), ending with
 * `Final Answer: X` for a multiple-choice prompt or `Final: \boxed{…}` otherwise. Body field
 * `failmode_sim: {profile, kind, answer, reference, length}` or header `x-failmode-sim-profile` (a profile name, JSON,
 * or `kind=committed;answer=C`) forces them. A trace is a function of (seed, prompt, choice index, request key), the
 * request key being the body's integer `seed` if given, else the server's request counter.
 * A client that closes the connection stops its generation at once (counted in `aborted`).
 */
export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const o = { port: 0, host: '127.0.0.1', seed: 0, tokensPerSecond: 0, maxBodyBytes: 1024 * 1024, maxChoices: 64, maxTopLogprobs: 200, ...opts };
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new TypeError(`Expected \`port\` to be an integer from 0 to 65535, got \`${o.port}\` (${typeof o.port})`);
  if (!Number.isInteger(o.seed)) throw new TypeError(`Expected \`seed\` to be an integer, got \`${o.seed}\` (${typeof o.seed})`);
  if (!(typeof o.tokensPerSecond === 'number' && o.tokensPerSecond >= 0 && Number.isFinite(o.tokensPerSecond))) {
    throw new TypeError(`Expected \`tokensPerSecond\` to be a number ≥ 0, got \`${o.tokensPerSecond}\` (${typeof o.tokensPerSecond})`);
  }
  if (o.pace !== undefined && typeof o.pace !== 'function') throw new TypeError(`Expected \`pace\` to be a function, got \`${String(o.pace)}\` (${typeof o.pace})`);
  const cal = o.calibration ?? loadCalibration();
  const zero = (): Record<SimKind, number> => ({ correct: 0, committed: 0, persistent: 0 });
  const stats: SimulatorStats = { requests: 0, streams: 0, completed: 0, aborted: 0, rejected: 0, active: 0, tokensGenerated: 0, tokensPerKind: zero(), samplesPerKind: zero() };
  const created = Math.floor(Date.now() / 1000);

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, `simulator error: ${(err as Error)?.message ?? String(err)}`, 'server_error');
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/stats' || path === '/v1/stats') {
      if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
      return sendJson(res, 200, stats);
    }
    if (path === '/v1/models' || path === '/models') {
      if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
      return sendJson(res, 200, { object: 'list', data: [{ id: 'failmode-sim', object: 'model', created, owned_by: 'failmode' }] });
    }
    if (path === '/v1/chat/completions' || path === '/chat/completions') {
      if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
      stats.requests++;
      const requestNo = stats.requests - 1;
      const read = await readBody(req, o.maxBodyBytes);
      if (read.kind === 'closed') return; // the client went away: nothing to answer
      if (read.kind === 'too-large') {
        stats.rejected++;
        res.setHeader('connection', 'close');
        return sendError(res, 413, `Request body larger than ${o.maxBodyBytes} bytes`, 'invalid_request_error');
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(read.text) as Record<string, unknown>;
        if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
      } catch (err) {
        stats.rejected++;
        return sendError(res, 400, `Expected a JSON object body, got unparsable JSON (${(err as Error).message})`, 'invalid_request_error');
      }
      const parsed = parseRequest(body, req.headers['x-failmode-sim-profile'], o.maxChoices, o.maxTopLogprobs);
      if (typeof parsed === 'string') {
        stats.rejected++;
        return sendError(res, 400, parsed, 'invalid_request_error');
      }
      const requestKey = parsed.seed ?? requestNo;
      const profile = parsed.overrides.profile ?? detectProfile(parsed.prompt);
      const plans: SamplePlan[] = [];
      for (let i = 0; i < parsed.n; i++) {
        plans.push(new SamplePlan(cal, o.seed, parsed.prompt, i, requestKey, profile, parsed.overrides, parsed.maxTokens));
      }
      const total = plans.reduce((a, p) => a + p.length, 0);
      if (!parsed.stream && total > MAX_JSON_TOKENS) {
        stats.rejected++;
        return sendError(res, 400, `A non-streaming response is limited to ${MAX_JSON_TOKENS} tokens (this one would have ${total}); use stream: true or a smaller max_tokens / n`, 'invalid_request_error');
      }
      for (const p of plans) stats.samplesPerKind[p.kind]++;
      const id = `chatcmpl-sim-${o.seed}-${requestNo}`;
      if (parsed.stream) return streamCompletion(res, id, parsed, plans);
      return completeJson(res, id, parsed, plans);
    }
    return sendError(res, 404, `No route ${req.method} ${path}; the simulator serves POST /v1/chat/completions, GET /v1/models, GET /stats`, 'not_found');
  }

  async function streamCompletion(res: ServerResponse, id: string, r: ParsedRequest, plans: SamplePlan[]): Promise<void> {
    stats.streams++;
    stats.active++;
    let closed = false;
    let finished = false;
    const waiters = new Set<() => void>();
    res.on('close', () => {
      if (!finished) closed = true;
      for (const w of waiters) w();
    });
    const wait = (event: 'drain' | null, ms: number): Promise<void> => new Promise((resolve) => {
      const done = (): void => {
        waiters.delete(done);
        if (event) res.off(event, done);
        if (timer) clearTimeout(timer);
        resolve();
      };
      waiters.add(done);
      if (event) res.once(event, done);
      const timer = ms > 0 ? setTimeout(done, ms) : undefined;
    });
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const head = `{"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(r.model)},"choices":[{"index":`;
    let buf = '';
    for (let i = 0; i < plans.length; i++) buf += `data: ${head}${i},"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n`;
    const entry = { json: '', text: '' };
    const k = r.logprobs ? r.topLogprobs : -1;
    const active = plans.map((p, i) => ({ p, i }));
    const interval = o.tokensPerSecond > 0 ? 1000 / o.tokensPerSecond : 0;
    const closedOrDone = new Promise<void>((resolve) => res.once('close', resolve));
    let due = performance.now();
    let produced = 0;
    try {
      while (active.length > 0 && !closed) {
        for (let a = 0; a < active.length; a++) {
          const { p, i } = active[a]!;
          p.step(k, entry);
          stats.tokensGenerated++;
          stats.tokensPerKind[p.kind]++;
          produced++;
          const lp = k < 0 ? 'null' : `{"content":[${entry.json}]}`;
          buf += `data: ${head}${i},"delta":{"content":${JSON.stringify(entry.text)}},"logprobs":${lp},"finish_reason":null}]}\n\n`;
          if (p.done) {
            buf += `data: ${head}${i},"delta":{},"logprobs":null,"finish_reason":"${p.finishReason}"}]}\n\n`;
            active.splice(a--, 1);
          }
        }
        if (o.pace) {
          res.write(buf);
          buf = '';
          await Promise.race([o.pace(produced), closedOrDone]);
          await nextTurn(); // let a 'close' from the client be seen
        } else if (interval > 0) {
          res.write(buf);
          buf = '';
          due += interval;
          const ms = due - performance.now();
          if (ms > 0) await wait(null, ms);
          else await nextTurn();
        } else if (buf.length >= WRITE_BATCH) {
          const ok = res.write(buf);
          buf = '';
          if (!ok) await wait('drain', 0);
          else await nextTurn(); // let a 'close' from the client be seen
        }
      }
      if (closed) {
        stats.aborted++;
        return;
      }
      if (r.includeUsage) {
        buf += `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(r.model)},"choices":[],"usage":${usageJson(r.promptTokens, produced)}}\n\n`;
      }
      buf += 'data: [DONE]\n\n';
      finished = true;
      res.end(buf);
      stats.completed++;
    } finally {
      stats.active--;
    }
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

interface ParsedRequest {
  model: string;
  prompt: string;
  promptTokens: number;
  n: number;
  maxTokens: number;
  stream: boolean;
  includeUsage: boolean;
  logprobs: boolean;
  topLogprobs: number;
  seed: number | undefined;
  overrides: SimOverrides;
}

/** Validates the request body; returns a message (→ 400) on the first problem. */
function parseRequest(b: Record<string, unknown>, header: string | string[] | undefined, maxChoices: number, maxTop: number): ParsedRequest | string {
  const got = (v: unknown): string => `\`${JSON.stringify(v)}\` (${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v})`;
  if (!Array.isArray(b.messages) || b.messages.length === 0) return `Expected \`messages\` to be a non-empty array, got ${got(b.messages)}`;
  let prompt = '';
  for (const m of b.messages as unknown[]) {
    const c = (m as Record<string, unknown> | null)?.content;
    if (typeof c === 'string') prompt += `${c}\n`;
    else if (Array.isArray(c)) for (const part of c) prompt += `${typeof (part as { text?: unknown })?.text === 'string' ? (part as { text: string }).text : ''}\n`;
    else if (c !== null && c !== undefined) return `Expected each message's \`content\` to be a string or an array of parts, got ${got(c)}`;
  }
  const int = (name: string, v: unknown, def: number, min: number, max: number): number | string => {
    if (v === undefined || v === null) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) return `Expected \`${name}\` to be an integer from ${min} to ${max}, got ${got(v)}`;
    return v;
  };
  const n = int('n', b.n, 1, 1, maxChoices);
  if (typeof n === 'string') return n;
  const maxTokens = int('max_tokens', b.max_tokens ?? b.max_completion_tokens, 1_000_000, 1, 1_000_000);
  if (typeof maxTokens === 'string') return maxTokens;
  const topLogprobs = int('top_logprobs', b.top_logprobs, 0, 0, maxTop);
  if (typeof topLogprobs === 'string') return topLogprobs;
  if (b.logprobs !== undefined && b.logprobs !== null && typeof b.logprobs !== 'boolean') return `Expected \`logprobs\` to be a boolean, got ${got(b.logprobs)}`;
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean') return `Expected \`stream\` to be a boolean, got ${got(b.stream)}`;
  if (b.seed !== undefined && b.seed !== null && !(typeof b.seed === 'number' && Number.isInteger(b.seed))) return `Expected \`seed\` to be an integer, got ${got(b.seed)}`;
  const so = b.stream_options as Record<string, unknown> | null | undefined;
  const overrides = parseOverrides(b.failmode_sim, Array.isArray(header) ? header[0] : header);
  if (typeof overrides === 'string') return overrides;
  return {
    model: typeof b.model === 'string' ? b.model : 'failmode-sim',
    prompt,
    promptTokens: Math.max(1, Math.round(prompt.length / 4)),
    n,
    maxTokens,
    stream: b.stream === true,
    includeUsage: so?.include_usage === true,
    logprobs: b.logprobs === true,
    topLogprobs,
    seed: typeof b.seed === 'number' ? b.seed : undefined,
    overrides,
  };
}

const PROFILES: readonly SimProfile[] = ['final-answer', 'boxed'];

/** `failmode_sim` body field merged over the `x-failmode-sim-profile` header. */
function parseOverrides(field: unknown, header: string | undefined): SimOverrides | string {
  let fromHeader: Record<string, unknown> = {};
  if (header !== undefined && header.trim() !== '') {
    const h = header.trim();
    if (h.startsWith('{')) {
      try {
        fromHeader = JSON.parse(h) as Record<string, unknown>;
      } catch {
        return `Expected header x-failmode-sim-profile to be a profile name, JSON or key=value pairs, got \`${h.slice(0, 80)}\``;
      }
    } else if (h.includes('=')) {
      for (const pair of h.split(/[;,]/)) {
        const [key, ...rest] = pair.split('=');
        if (key?.trim()) fromHeader[key.trim()] = rest.join('=').trim();
      }
    } else fromHeader = { profile: h };
  }
  if (field !== undefined && field !== null && (typeof field !== 'object' || Array.isArray(field))) return `Expected \`failmode_sim\` to be an object, got \`${JSON.stringify(field)}\``;
  const f = { ...fromHeader, ...(field as Record<string, unknown> | undefined) };
  const out: SimOverrides = {};
  if (f.profile !== undefined) {
    if (!PROFILES.includes(f.profile as SimProfile)) return `Unknown value for failmode_sim.profile: \`${String(f.profile)}\`. Value must be one of: ${PROFILES.join(', ')}`;
    out.profile = f.profile as SimProfile;
  }
  if (f.kind !== undefined) {
    if (!SIM_KINDS.includes(f.kind as SimKind)) return `Unknown value for failmode_sim.kind: \`${String(f.kind)}\`. Value must be one of: ${SIM_KINDS.join(', ')}`;
    out.kind = f.kind as SimKind;
  }
  for (const key of ['answer', 'reference'] as const) {
    const v = f[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' && typeof v !== 'number') return `Expected failmode_sim.${key} to be a string or number, got \`${JSON.stringify(v)}\``;
    out[key] = String(v);
  }
  if (f.length !== undefined) {
    const len = Number(f.length);
    if (!Number.isInteger(len) || len < 1 || len > 1_000_000) return `Expected failmode_sim.length to be an integer from 1 to 1000000, got \`${String(f.length)}\``;
    out.length = len;
  }
  return out;
}

function usageJson(prompt: number, completion: number): string {
  return `{"prompt_tokens":${prompt},"completion_tokens":${completion},"total_tokens":${prompt + completion}}`;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Errors in the OpenAI shape, so the SDK reports them with status and message. */
function sendError(res: ServerResponse, status: number, message: string, type: string): void {
  sendJson(res, status, { error: { message, type, param: null, code: status } });
}

function methodNotAllowed(res: ServerResponse, allowed: string): void {
  res.setHeader('allow', allowed);
  sendError(res, 405, `Method not allowed; use ${allowed}`, 'invalid_request_error');
}
