/**
 * End to end on the simulator: K questions × N samples with known answers through `failmode serve` + `failmode sample`,
 * without and with early stopping; prints the accuracy of the vote and the tokens the engine generated.
 *
 * Every piece runs as the real CLI in its own process: `failmode simulate` (the engine, paced at --tps tokens/s per
 * sample so an abort lands within a few tokens as on a real server), `failmode serve` in front of it, and
 * `failmode sample` through the proxy. Tokens are the simulator's own count (GET /stats), so they include what an
 * aborted sample generated before the abort arrived.
 *
 * 1. References: one forced-correct request per question gives its answer (the simulator's per-prompt reference).
 * 2. Training: `failmode sample` (no early stop) on separate training questions; the final records → `trainModel`
 *    (prefinal features, top-k 20), once per target stop precision.
 * 3. Test: the baseline run and one early-stop run per model, all with the same --seed, so the simulator generates the
 *    same trace for the same (question, completion) in every run — a stopped sample's fate is read off the baseline.
 *
 *   node --import tsx scripts/early-stop-sim.ts [--questions 100] [--n 8] [--train-questions 100] [--train-n 4]
 *        [--targets 0.9,0.8,0.7,0.6] [--tps 2000] [--concurrency 32] [--profile math|mc] [--min-keep 1]
 *        [--no-server-side] [--all-rows] [--vote majority|weighted] [--test-split NAME] [--seed S]
 *        [--keep DIR [--reuse-models]]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { trainModel } from '../src/training/train.ts';
import { serializeModelFile } from '../src/models/model-io.ts';
import { loadTable } from '../src/offline/load-table.ts';
import { recordsToCsv } from '../src/online/record-writers.ts';
import type { FeatureRecord } from '../src/online/monitor-events.ts';
import type { QuestionLine, ResultLine, SampleLine } from '../src/sampler/results-log.ts';

const BIN = fileURLToPath(new URL('../bin/failmode', import.meta.url));

const { values } = parseArgs({
  options: {
    questions: { type: 'string', default: '100' },
    n: { type: 'string', default: '8' },
    'train-questions': { type: 'string', default: '100' },
    'train-n': { type: 'string', default: '4' },
    targets: { type: 'string', default: '0.9,0.8,0.7,0.6' },
    tps: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '32' },
    profile: { type: 'string', default: 'math' },
    'min-keep': { type: 'string', default: '1' },
    'no-server-side': { type: 'boolean', default: false },
    'all-rows': { type: 'boolean', default: false },
    vote: { type: 'string', default: 'majority' },
    'test-split': { type: 'string', default: 'test' },
    seed: { type: 'string', default: '1' },
    'reuse-models': { type: 'boolean', default: false },
    keep: { type: 'string' },
  },
});
const K = Number(values.questions);
const N = Number(values.n);
const KT = Number(values['train-questions']);
const NT = Number(values['train-n']);
const targets = values.targets!.split(',').map(Number);
const concurrency = values.concurrency!;
const math = values.profile !== 'mc';
const profile = math ? 'boxed' : 'final-answer';
const dir = values.keep ?? (await mkdtemp(join(tmpdir(), 'failmode-es-sim-')));
await mkdir(dir, { recursive: true });

const children: ChildProcess[] = [];
process.on('exit', () => { for (const c of children) c.kill(); });

function prompt(i: number, split: string): string {
  return math
    ? `[${split} ${i}] Compute the value of expression ${split}-${i} step by step. End with the line Final: \\boxed{N}.`
    : `[${split} ${i}] Which option is correct for item ${split}-${i}?\n(A) first\n(B) second\n(C) third\n(D) fourth\nEnd with "Final Answer: X".`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function start(args: string[], ready: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(ready)).ok) return child;
    } catch { /* not up yet */ }
    if (child.exitCode !== null) throw new Error(`failmode ${args[0]} exited: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`failmode ${args[0]} did not come up: ${err}`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGINT');
  await new Promise((r) => child.once('exit', r));
}

async function run(args: string[]): Promise<void> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`failmode ${args.join(' ')} exited ${code}: ${err}`);
}

async function simTokens(simUrl: string): Promise<number> {
  return ((await (await fetch(`${simUrl.replace(/\/v1$/, '')}/stats`)).json()) as { tokensGenerated: number }).tokensGenerated;
}

/** The simulator's reference answer of a prompt: the answer of a forced-correct, very short sample. */
async function reference(simUrl: string, p: string): Promise<string> {
  const res = await fetch(`${simUrl}/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'sim', messages: [{ role: 'user', content: p }], failmode_sim: { kind: 'correct', length: 16 } }),
  });
  const text = ((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content;
  const m = math ? /\\boxed\{([^}]*)\}/.exec(text) : /Final Answer:\s*([A-D])/.exec(text);
  if (!m) throw new Error(`no answer in the forced-correct sample: ${text.slice(-80)}`);
  return m[1]!;
}

async function readLines(path: string): Promise<ResultLine[]> {
  return (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as ResultLine);
}

const simPort = await freePort();
const simUrl = `http://127.0.0.1:${simPort}/v1`;
console.error(`early-stop-sim: ${K} questions × ${N} samples (${profile}), training on ${KT} × ${NT}; engine ${values.tps} tok/s per sample; work dir ${dir}`);
const sim = await start(['simulate', '--port', String(simPort), '--seed', '5', '--tokens-per-second', values.tps!], `${simUrl}/models`);

// 1. Datasets with references.
const mk = async (split: string, count: number) => {
  const qs = [];
  for (let i = 0; i < count; i++) { const p = prompt(i, split); qs.push({ id: `${split}${i}`, prompt: p, answer: await reference(simUrl, p) }); }
  const path = join(dir, `${split}.jsonl`);
  await writeFile(path, qs.map((q) => JSON.stringify(q)).join('\n') + '\n');
  return path;
};
const trainSet = await mk('train', KT);
const testSet = await mk(values['test-split']!, K);

// 2. Training records and models.
const trainOut = join(dir, 'train-samples.jsonl');
// --reuse-models with --keep DIR: keep the training samples of an earlier run (the models are refitted from them).
if (!values['reuse-models']) await rm(trainOut, { force: true });
await run(['sample', '--n', String(NT), '--dataset', trainSet, '--base-url', simUrl, '--model', 'sim', '--profile', profile, '--top-logprobs', '20', '--seed', '100000', '--concurrency', concurrency, '--out', trainOut]);
const records = (await readLines(trainOut)).filter((l): l is SampleLine => l.kind === 'sample' && l.record !== null)
  .sort((a, b) => a.question_id.localeCompare(b.question_id, 'en', { numeric: true }) || a.completion_idx - b.completion_idx)
  .map((l) => l.record as FeatureRecord);
const csv = join(dir, 'train.csv');
await writeFile(csv, recordsToCsv(records));
const table = await loadTable(csv);
const models: Array<{ target: number; path: string; regime: string; tStar: number | null; thresholds: string }> = [];
const trainOpts = (target: number) => ({
  file: csv, name: `simulator ${profile} (train ${KT}×${NT})`, prefinal: true, profile, topK: 20, nBoot: 1000, targetPrecision: target,
  now: new Date('2026-01-01T00:00:00Z'),
  // The live stop rule scores window T only for samples still running at T (before their final-answer line): unless
  // --all-rows, each window's classifier and threshold are fitted on those rows (the full-trace one on all rows).
  fitOn: values['all-rows'] ? 'all' as const : 'running' as const,
});
for (const target of targets) {
  const trained = trainModel(table, trainOpts(target));
  for (const note of trained.notes) console.error(`  p≥${target}: ${note}`);
  let model = trained.model;
  // Running fit: a regime whose commitment point lost its window is run as persistent (no commitment-point stop).
  if (!values['all-rows'] && model.commitmentPoint === null && model.regime !== 'persistent') model = { ...model, regime: 'persistent' };
  const path = join(dir, `model-p${target}.json`);
  await writeFile(path, serializeModelFile(model));
  models.push({ target, path, regime: model.regime, tStar: model.commitmentPoint, thresholds: model.classifiers.map((c) => `${c.window}:${c.stop.threshold === null ? '—' : c.stop.threshold.toFixed(2)}`).join(' ') });
}

// 3. Test runs through failmode serve.
const servePort = await freePort();
const serveUrl = `http://127.0.0.1:${servePort}`;
let serve = await start(['serve', '--port', String(servePort), '--upstream', simUrl, '--model-file', models[0]!.path], `${serveUrl}/health`);

interface RunResult { label: string; accuracy: number; correct: number; tokens: number; stopped: number; samples: number; seconds: number; lines: ResultLine[] }
const testRun = async (label: string, extra: string[]): Promise<RunResult> => {
  const out = join(dir, `test-${label.replace(/[^a-z0-9.]+/gi, '_')}.jsonl`);
  await rm(out, { force: true });
  const before = await simTokens(simUrl);
  const t0 = performance.now();
  await run(['sample', '--n', String(N), '--dataset', testSet, '--base-url', `${serveUrl}/v1`, '--model', 'sim', '--profile', profile, '--top-logprobs', '20', '--seed', values.seed!, '--concurrency', concurrency, '--min-keep', values['min-keep']!, '--vote', values.vote!, '--out', out, ...extra]);
  const seconds = (performance.now() - t0) / 1000;
  const tokens = (await simTokens(simUrl)) - before;
  const lines = await readLines(out);
  const qs = lines.filter((l): l is QuestionLine => l.kind === 'question');
  const correct = qs.filter((q) => q.correct === 1).length;
  return { label, accuracy: correct / qs.length, correct, tokens, stopped: qs.reduce((s, q) => s + q.stopped, 0), samples: qs.reduce((s, q) => s + q.n, 0), seconds, lines };
};

// A weighted vote needs each sample's risk: the baseline then monitors with a model too (without stopping).
const weighted = values.vote === 'weighted';
const results: RunResult[] = [await testRun('no early stop', weighted ? ['--model-file', models.at(-1)!.path] : [])];
for (const m of models) results.push(await testRun(`early stop, p≥${m.target} (client)`, ['--early-stop', '--model-file', m.path]));
if (!values['no-server-side'] && !weighted) {
  // Server-side: the proxy stops flagged samples (the sampler only asks); serve restarted with the chosen model.
  const chosen = models.at(-1)!;
  await stop(serve);
  serve = await start(['serve', '--port', String(servePort), '--upstream', simUrl, '--model-file', chosen.path], `${serveUrl}/health`);
  results.push(await testRun(`early stop, p≥${chosen.target} (server)`, ['--early-stop']));
}
await stop(serve);
await stop(sim);

// Paired view: the same seed gives the same trace, so a stopped sample's baseline twin says whether it would have failed.
const base = results[0]!;
const baseCorrect = new Map<string, 0 | 1 | null>();
for (const l of base.lines) if (l.kind === 'sample') baseCorrect.set(`${l.question_id}/${l.completion_idx}`, l.correct);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
console.log('');
console.log(`${K} questions (${values['test-split']}) × ${N} samples (seed ${values.seed}), profile ${profile}, engine paced at ${values.tps} tok/s per sample, min-keep ${values['min-keep']}, ${values.vote} vote${values['all-rows'] ? ', classifiers fitted on all rows' : ', window classifiers fitted on samples still running at T'}`);
console.log('');
console.log('| run | vote accuracy | Δ accuracy | tokens generated | Δ tokens | samples stopped | stop precision | wall time |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  const stoppedLines = r.lines.filter((l): l is SampleLine => l.kind === 'sample' && l.stopped);
  const wouldFail = stoppedLines.filter((l) => baseCorrect.get(`${l.question_id}/${l.completion_idx}`) === 0).length;
  const precision = stoppedLines.length ? pct(wouldFail / stoppedLines.length) : '—';
  const dAcc = r === base ? '' : `${((r.accuracy - base.accuracy) * 100) >= 0 ? '+' : ''}${((r.accuracy - base.accuracy) * 100).toFixed(1)} pt`;
  const dTok = r === base ? '' : `${((r.tokens / base.tokens - 1) * 100).toFixed(1)}%`;
  console.log(`| ${r.label} | ${pct(r.accuracy)} (${r.correct}/${K}) | ${dAcc} | ${r.tokens.toLocaleString('en-US')} | ${dTok} | ${r.stopped}/${r.samples} (${pct(r.stopped / r.samples)}) | ${precision} | ${r.seconds.toFixed(0)} s |`);
}
const baseSamples = base.lines.filter((l): l is SampleLine => l.kind === 'sample');
console.log('');
console.log(`Baseline: single-sample accuracy ${pct(baseSamples.filter((l) => l.correct === 1).length / baseSamples.length)}; models (trained on ${records.length} training samples, prefinal, top-k 20):`);
for (const m of models) console.log(`  p≥${m.target}: regime ${m.regime}${m.tStar !== null ? `, T*=${m.tStar}` : ''}; stop thresholds ${m.thresholds}`);
if (!values.keep) await rm(dir, { recursive: true, force: true });
