import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { command, readPrompts } from '../../src/cli/commands/watch.ts';
import { FailmodeError } from '../../src/errors.ts';
import { readCsvFrame } from '../../src/offline/table/read-csv.ts';
import { tokenGate, waitUntil } from '../fixtures/token-gate.ts';

const MODEL = fileURLToPath(new URL('../fixtures/online-committed-model.json', import.meta.url));

async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const write = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try { return await fn(); } finally { process.stderr.write = write; }
}

function lines(text: string): Record<string, unknown>[] {
  return text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('watch --demo headless: JSONL events, records CSV, token recording; --replay-jsonl of the recording gives the same records', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'failmode-watch-'));
  const out1 = join(dir, 'events.jsonl');
  const rec = join(dir, 'tokens.jsonl');
  const csv = join(dir, 'records.csv');
  const code = await quietly(() => command.run(['--demo', '--no-tui', '--n', '3', '--max-tokens', '400', '--model-file', MODEL, '--jsonl', out1, '--record', rec, '--records-csv', csv]));
  assert.equal(code, 0);
  const ev = lines(await readFile(out1, 'utf8'));
  const finals = ev.filter((e) => e.type === 'final');
  assert.equal(finals.length, 3);
  assert.ok(ev.every((e) => ['window', 'risk', 'committed_failure', 'warning', 'stream_error', 'final'].includes(e.type as string)));
  // The hand-made model flags every sample that reaches T* = 256, once.
  const reached = finals.filter((f) => ((f.record as Record<string, number>).generated_len) >= 256).length;
  const flags = ev.filter((e) => e.type === 'committed_failure');
  assert.equal(flags.length, reached);
  assert.equal(new Set(flags.map((f) => f.sampleId)).size, flags.length);
  assert.ok(flags.every((f) => f.T === 256));
  const frame = readCsvFrame(new Uint8Array(await readFile(csv)), csv);
  assert.equal(frame.nRows, 3);
  assert.ok(frame.has('nll_mean_prefinal_w256') && frame.has('correct') && frame.has('entropy_mean_w128'));

  const out2 = join(dir, 'replay.jsonl');
  assert.equal(await quietly(() => command.run(['--replay-jsonl', rec, '--no-tui', '--model-file', MODEL, '--jsonl', out2])), 0);
  const finals2 = lines(await readFile(out2, 'utf8')).filter((e) => e.type === 'final');
  const bySample = (fs: Record<string, unknown>[]) => new Map(fs.map((f) => [f.sampleId, f.record]));
  const a = bySample(finals);
  const b = bySample(finals2);
  assert.equal(b.size, 3);
  for (const [id, r] of a) {
    const r2 = b.get(id) as Record<string, unknown>;
    for (const [k, v] of Object.entries(r as Record<string, unknown>)) {
      if (k === 'correct' || k === 'true_answer') continue; // the replay has no reference answer
      assert.deepEqual(r2[k], v, `${id} ${k}`);
    }
  }
});

test('watch usage errors name the problem', async () => {
  const expectUsage = async (argv: string[], re: RegExp) => {
    await assert.rejects(() => command.run(argv), (err: unknown) => err instanceof FailmodeError && err.exitCode === 2 && re.test(err.message));
  };
  await expectUsage([], /Expected a source/);
  await expectUsage(['--demo', '--replay', 'x.sse'], /only one source/);
  await expectUsage(['--base-url', 'http://127.0.0.1:1/v1', '--prompt', 'hi'], /--model/);
  await expectUsage(['--base-url', 'not a url', '--model', 'm', '--prompt', 'hi'], /URL/);
  await expectUsage(['--demo', '--profile', 'gsm8k'], /--profile.*final-answer/);
  await expectUsage(['--demo', '--windows', '0'], /--windows/);
});

test('--prompts JSONL: fields, defaults and errors with line numbers', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'failmode-prompts-'));
  const good = join(dir, 'p.jsonl');
  await writeFile(good, '{"prompt": "2+2?", "id": "q1", "reference": "4"}\n\n{"question": "3+3?", "answer": 6}\n');
  assert.deepEqual(await readPrompts(good), [{ id: 'q1', prompt: '2+2?', reference: '4' }, { id: 'p1', prompt: '3+3?', reference: '6' }]);
  const bad = join(dir, 'bad.jsonl');
  await writeFile(bad, '{"prompt": "ok"}\n{"prompt": 5}\n');
  await assert.rejects(() => readPrompts(bad), /bad\.jsonl line 2: expected "prompt"/);
  await writeFile(bad, '{"prompt": "a", "id": "x"}\n{"prompt": "b", "id": "x"}\n');
  await assert.rejects(() => readPrompts(bad), /line 2: duplicate id/);
  await writeFile(bad, 'not json\n');
  await assert.rejects(() => readPrompts(bad), /line 1: expected a JSON object/);
});

test('a refused connection ends the run with exit code 1 and a stream_error line, no stack trace', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'failmode-refused-'));
  const out = join(dir, 'e.jsonl');
  const code = await quietly(() => command.run(['--base-url', 'http://127.0.0.1:9/v1', '--model', 'm', '--prompt', 'hi', '--no-tui', '--jsonl', out]));
  assert.equal(code, 1);
  const ev = lines(await readFile(out, 'utf8'));
  assert.ok(ev.some((e) => e.type === 'stream_error' && e.fatal === true));
});

test('--record-sse: the live run\'s raw stream replayed (--replay) gives the same events and records', async () => {
  const { startSimulator } = await import('../../src/stream/simulator/start-simulator.ts');
  const sim = await startSimulator({ port: 0, seed: 11 });
  const dir = await mkdtemp(join(tmpdir(), 'failmode-record-sse-'));
  const sse = join(dir, 'run.sse');
  const liveOut = join(dir, 'live.jsonl');
  try {
    const code = await quietly(() => command.run(['--base-url', sim.url, '--model', 'sim', '--prompt', 'Which is a noble gas?\n\n(A) N2\n(B) O2\n(C) Ar\n(D) CO2', '--n', '3', '--max-tokens', '700',
      '--model-file', MODEL, '--reference', 'C', '--record-sse', sse, '--no-tui', '--jsonl', liveOut]));
    assert.equal(code, 0);
  } finally {
    await sim.close();
  }
  const text = await readFile(sse, 'utf8');
  assert.match(text, /^data: \{"id":/);
  assert.ok(text.endsWith('data: [DONE]\n\n'), 'the recording ends with the server\'s [DONE]');
  const replayOut = join(dir, 'replay.jsonl');
  assert.equal(await quietly(() => command.run(['--replay', sse, '--request-id', 'p0', '--model-file', MODEL, '--reference', 'C', '--no-tui', '--jsonl', replayOut])), 0);
  // latency_s is the arrival time of the first token, which a byte recording cannot carry; t is the wall clock.
  const comparable = (path: string) => readFile(path, 'utf8').then((t) => lines(t).map(({ t: _t, ...e }) => (e.type === 'final' ? { ...e, record: { ...(e.record as object), latency_s: null } } : e)));
  const live = await comparable(liveOut);
  assert.equal(live.filter((e) => e.type === 'final').length, 3);
  assert.ok(live.some((e) => e.type === 'risk'));
  assert.deepEqual(await comparable(replayOut), live);
});

test('--replay - reads the SSE stream from stdin: the same events as the file', async () => {
  const { spawnSync } = await import('node:child_process');
  const fixture = fileURLToPath(new URL('../fixtures/stream-malformed.sse', import.meta.url));
  const bin = fileURLToPath(new URL('../../bin/failmode', import.meta.url));
  const dir = await mkdtemp(join(tmpdir(), 'failmode-stdin-'));
  const fromFile = join(dir, 'file.jsonl');
  assert.equal(await quietly(() => command.run(['--replay', fixture, '--no-tui', '--jsonl', fromFile])), 0);
  const r = spawnSync(process.execPath, [bin, 'watch', '--replay', '-', '--no-tui', '--jsonl', '-'], { input: await readFile(fixture), encoding: 'utf8', timeout: 600_000 });
  assert.equal(r.status, 0, r.stderr);
  const strip = (evs: Record<string, unknown>[]) => evs.map(({ t: _t, ...e }) => (e.type === 'final' ? { ...e, record: { ...(e.record as object), latency_s: null } } : e));
  const expected = strip(lines(await readFile(fromFile, 'utf8')));
  assert.ok(expected.some((e) => e.type === 'stream_error') && expected.some((e) => e.type === 'final'));
  assert.deepEqual(strip(lines(r.stdout)), expected);
});

test('replay inputs that cannot be read and misplaced recording flags are one-line usage errors (exit 2)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'failmode-replay-bad-'));
  const expectError = async (argv: string[], re: RegExp) => {
    await assert.rejects(() => command.run([...argv, '--no-tui', '--jsonl', join(dir, 'e.jsonl')]), (err: unknown) => err instanceof FailmodeError && err.exitCode === 2 && re.test(err.message) && !err.message.includes('\n'));
  };
  await expectError(['--replay', join(dir, 'missing.sse')], /cannot read --replay .*missing\.sse: no such file/);
  await expectError(['--replay', dir], /cannot read --replay .*: it is a directory/);
  await expectError(['--replay-jsonl', join(dir, 'missing.jsonl')], /cannot read --replay-jsonl .*missing\.jsonl: no such file/);
  await expectError(['--replay-jsonl', join(dir, 'missing.jsonl'), '--request-id', 'p0'], /--request-id names the samples of a --replay/);
  await expectError(['--replay', join(dir, 'missing.sse'), '--record-sse', join(dir, 'x.sse')], /--record-sse records a live request/);
  const prompts = join(dir, 'two.jsonl');
  await writeFile(prompts, '{"prompt": "a"}\n{"prompt": "b"}\n');
  await expectError(['--base-url', 'http://127.0.0.1:9/v1', '--model', 'm', '--prompts', prompts, '--record-sse', join(dir, 'x.sse')], /--record-sse records one request's raw stream, but .*two\.jsonl has 2 prompts/);
});

test('Ctrl-C (SIGINT) headless: the request is aborted and the open samples still get their partial records', async () => {
  const { startSimulator } = await import('../../src/stream/simulator/start-simulator.ts');
  // The engine sends 40 tokens (20 per choice), then holds until the test ends: paced by tokens, not by time.
  const gate = tokenGate(40);
  const sim = await startSimulator({ port: 0, seed: 2, pace: gate.pace });
  const dir = await mkdtemp(join(tmpdir(), 'failmode-sigint-'));
  const out = join(dir, 'e.jsonl');
  const csv = join(dir, 'r.csv');
  try {
    const run = quietly(() => command.run(['--base-url', sim.url, '--model', 'sim', '--prompt', 'What is 6*7?', '--n', '2', '--max-tokens', '5000', '--no-tui', '--jsonl', out, '--records-csv', csv]));
    await waitUntil(() => sim.stats().tokensGenerated >= 40, 60_000, 'the simulator streaming');
    process.emit('SIGINT');
    assert.equal(await run, 0);
    const finals = lines(await readFile(out, 'utf8')).filter((e) => e.type === 'final');
    assert.deepEqual(finals.map((f) => f.sampleId).sort(), ['p0:0', 'p0:1']);
    for (const f of finals) {
      const rec = f.record as Record<string, unknown>;
      assert.ok((rec.generated_len as number) > 0 && (rec.generated_len as number) < 5000, `partial record: ${rec.generated_len} tokens`);
      assert.equal(rec.finish_reason, 'abort', 'a sample the user stopped watching ends as aborted');
    }
    assert.equal(readCsvFrame(new Uint8Array(await readFile(csv)), csv).nRows, 2);
    await waitUntil(() => sim.stats().aborted > 0, 60_000, 'the request aborted');
    assert.equal(sim.stats().aborted, 1, 'the request was aborted');
  } finally {
    gate.release();
    await sim.close();
  }
});

test('headless watch with a model says once on stderr what its stop rule guarantees', async () => {
  const { spawnSync } = await import('node:child_process');
  const fixture = fileURLToPath(new URL('../fixtures/stream-malformed.sse', import.meta.url));
  const model = fileURLToPath(new URL('../fixtures/legacy-precision-model.json', import.meta.url));
  const bin = fileURLToPath(new URL('../../bin/failmode', import.meta.url));
  const r = spawnSync(process.execPath, [bin, 'watch', '--replay', fixture, '--model-file', model, '--no-tui', '--jsonl', '-'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const banner = r.stderr.split('\n').filter((l) => l.includes('stop rule:'));
  assert.deepEqual(banner, ['failmode watch: model gpqa_gpt4o.final · stop rule: per-window precision ≥ 0.9 (no whole-rule guarantee)']);
});
