/**
 * Stream benchmark: how fast raw SSE bytes of a top-20 logprob stream become token events.
 * Run: node --import tsx bench/stream.ts [baseline] [sdk] [ours] [ours-http] [pipeline]   (names filter the cases; default all)
 *
 * Setup: the simulator generates one streaming response of N_CHOICES × TOKENS_PER_CHOICE tokens (≥ 200,000) with
 * top_logprobs 20, recorded byte for byte into tmp/bench-stream.sse. Then, on those same bytes, in this run:
 *   baseline   — a bare loop: split lines, JSON.parse every `data:` line, count logprob entries (nothing else);
 *   sdk        — the openai SDK iterating the stream (bytes served by a local http server);
 *   ours       — tokenEventsFromSse over the file (eventsource-parser + ChunkDecoder → TokenEvents);
 *   ours-http  — tokenEventsFromOpenAI against the same local server (the full live path: SDK request + our decoder);
 *   pipeline   — the whole monitor path the issue times: tokenEventsFromSse over the file → createSampleMonitor with a
 *                model file (per-token features of all 25 samples, P(failure) at every window, commitment flags).
 * Each case runs REPEATS times; the best run is reported (tokens/s and the ratio to the baseline), plus the
 * heap after a full GC every 50,000 tokens — it must not grow with stream length (no per-token arrays are kept).
 * Run with `node --expose-gc --import tsx bench/stream.ts` for the heap figures.
 *
 * On a field-skipping scanner instead of JSON.parse: a general JSON parser in JS that skips the `bytes` members
 * measured 0.8× JSON.parse on these chunks (V8's native parser wins even while building the unused arrays), so the
 * decoder instead deletes the `bytes` members with one regex before JSON.parse (+15 %), see chunk-decoder.ts.
 */
import { createReadStream, mkdirSync, statSync, createWriteStream } from 'node:fs';
import { benchArgs, recordBench } from './lib/bench-json.ts';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { lastValueFrom, tap, count } from 'rxjs';
import { tokenEventsFromOpenAI } from '../src/stream/openai-source.ts';
import { tokenEventsFromSse } from '../src/stream/sse-source.ts';
import { startSimulator } from '../src/stream/simulator/start-simulator.ts';
import { loadModelFile } from '../src/models/model-io.ts';
import { createSampleMonitor } from '../src/online/monitor.ts';

const N_CHOICES = 25;
const TOKENS_PER_CHOICE = 8200;
const TOP_K = 20;
const REPEATS = 2;
const FILE = new URL('../tmp/bench-stream.sse', import.meta.url).pathname;
const filters = benchArgs().rest;
const want = (name: string): boolean => filters.length === 0 || filters.includes(name);

async function record(): Promise<void> {
  mkdirSync(new URL('../tmp/', import.meta.url), { recursive: true });
  const sim = await startSimulator({ seed: 1 });
  const t0 = performance.now();
  const res = await fetch(`${sim.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'bench', messages: [{ role: 'user', content: 'Compute the sum of the first 100 primes.' }], stream: true,
      logprobs: true, top_logprobs: TOP_K, n: N_CHOICES, stream_options: { include_usage: true },
      failmode_sim: { length: TOKENS_PER_CHOICE },
    }),
  });
  const out = createWriteStream(FILE);
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  await new Promise<void>((r) => out.end(r));
  const s = sim.stats();
  await sim.close();
  const secs = (performance.now() - t0) / 1000;
  console.log(`recorded ${s.tokensGenerated.toLocaleString('en')} tokens (top-${TOP_K}, ${N_CHOICES} choices) into ${FILE}: ${(statSync(FILE).size / 1e6).toFixed(1)} MB; simulator generated ${Math.round(s.tokensGenerated / secs).toLocaleString('en')} tokens/s`);
}

/**
 * Heap checkpoints: at every CHECK_EVERY tokens a full GC runs (with --expose-gc) and heapUsed is recorded, so the
 * values show whether retained memory grows with the number of tokens processed (it must stay flat).
 */
const CHECK_EVERY = 50_000;
function heapTracker(): { sample(tokens: number): void; report(): string } {
  globalThis.gc?.();
  const base = process.memoryUsage().heapUsed;
  const marks: number[] = [];
  return {
    sample(tokens) {
      if (tokens % CHECK_EVERY !== 0) return;
      globalThis.gc?.();
      marks.push((process.memoryUsage().heapUsed - base) / 1e6);
    },
    report: () => (globalThis.gc ? marks.map((m) => `${m >= 0 ? '+' : ''}${m.toFixed(1)}`).join(' / ') + ' MB' : 'run with --expose-gc'),
  };
}

async function baseline(): Promise<number> {
  let tokens = 0;
  let carry = '';
  const decoder = new TextDecoder();
  const onLine = (line: string): void => {
    if (!line.startsWith('data: ')) return;
    const data = line.slice(6);
    if (data === '[DONE]') return;
    const c = JSON.parse(data) as { choices: { logprobs: { content: unknown[] } | null }[] };
    for (const ch of c.choices) tokens += ch.logprobs?.content?.length ?? 0;
  };
  for await (const chunk of createReadStream(FILE, { highWaterMark: 256 * 1024 })) {
    const text = carry + decoder.decode(chunk as Buffer, { stream: true });
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
      onLine(text.slice(start, nl));
      start = nl + 1;
    }
    carry = text.slice(start);
  }
  return tokens;
}

async function withServer<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      createReadStream(FILE, { highWaterMark: 256 * 1024 }).pipe(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    return await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

const body = { model: 'bench', messages: [{ role: 'user' as const, content: 'x' }] };

async function sdk(heap: { sample(tokens: number): void }): Promise<number> {
  return withServer(async (url) => {
    const client = new OpenAI({ baseURL: url, apiKey: 'EMPTY', maxRetries: 0 });
    const stream = await client.chat.completions.create({ ...body, stream: true, logprobs: true, top_logprobs: TOP_K });
    let tokens = 0;
    for await (const chunk of stream) {
      for (const ch of chunk.choices) {
        const n = ch.logprobs?.content?.length ?? 0;
        for (let i = 0; i < n; i++) heap.sample(++tokens);
      }
    }
    return tokens;
  });
}

async function ours(heap: { sample(tokens: number): void }): Promise<number> {
  let tokens = 0;
  await lastValueFrom(tokenEventsFromSse(createReadStream(FILE, { highWaterMark: 256 * 1024 }) as AsyncIterable<Uint8Array>).pipe(
    tap((e) => { if (e.type === 'token') heap.sample(++tokens); }), count()));
  return tokens;
}

async function oursHttp(heap: { sample(tokens: number): void }): Promise<number> {
  return withServer(async (url) => {
    let tokens = 0;
    await lastValueFrom(tokenEventsFromOpenAI({ baseURL: url, model: 'bench', messages: body.messages, topLogprobs: TOP_K, maxRetries: 0 }).pipe(
      tap((e) => { if (e.type === 'token') heap.sample(++tokens); }), count()));
    return tokens;
  });
}

const MODEL = new URL('../results/models/simulator-demo.json', import.meta.url).pathname;

async function pipeline(heap: { sample(tokens: number): void }): Promise<number> {
  const model = await loadModelFile(MODEL);
  let tokens = 0;
  let risks = 0;
  const m = createSampleMonitor({ model }, (ev) => { if (ev.type === 'risk') risks++; });
  await lastValueFrom(tokenEventsFromSse(createReadStream(FILE, { highWaterMark: 256 * 1024 }) as AsyncIterable<Uint8Array>).pipe(
    tap((e) => { m.push(e); if (e.type === 'token') heap.sample(++tokens); }), count()));
  m.end();
  if (risks === 0) throw new Error('pipeline bench: the monitor scored no window');
  return tokens;
}

await record();
const cases: [string, (h: { sample(tokens: number): void }) => Promise<number>][] = [
  ['baseline', () => baseline()],
  ['sdk', sdk],
  ['ours', ours],
  ['ours-http', oursHttp],
  ['pipeline', pipeline],
];
const results: { name: string; tps: number; tokens: number; heap: string }[] = [];
for (const [name, fn] of cases) {
  if (!want(name) && name !== 'baseline') continue;
  let best = { tps: 0, tokens: 0, heap: '' };
  for (let r = 0; r < REPEATS; r++) {
    const heap = heapTracker();
    const t0 = performance.now();
    const tokens = await fn(heap);
    const secs = (performance.now() - t0) / 1000;
    const tps = tokens / secs;
    if (tps > best.tps) best = { tps, tokens, heap: heap.report() };
  }
  results.push({ name, ...best });
}
const base = results.find((r) => r.name === 'baseline')!.tps;
console.log(`\ncase        tokens     tokens/s   vs baseline   heap after GC every ${CHECK_EVERY.toLocaleString('en')} tokens (vs start)`);
for (const r of results) {
  console.log(`${r.name.padEnd(10)} ${r.tokens.toLocaleString('en').padStart(8)} ${Math.round(r.tps).toLocaleString('en').padStart(12)} ${(r.tps / base).toFixed(2).padStart(10)}×   ${r.name === 'baseline' ? '—' : r.heap}`);
}
recordBench('stream', {
  repeats: REPEATS, top_k: TOP_K, check_every_tokens: CHECK_EVERY,
  cases: Object.fromEntries(results.map((r) => [r.name, { tokens: r.tokens, tokens_per_s: r.tps, vs_baseline: r.tps / base, heap: r.name === 'baseline' ? null : r.heap }])),
});
