import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { command as sample } from '../../src/cli/commands/sample.ts';
import { command as watch } from '../../src/cli/commands/watch.ts';
import { FailmodeError } from '../../src/errors.ts';
import { startSimulator } from '../../src/stream/simulator/start-simulator.ts';

async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const write = process.stderr.write;
  const out = process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try { return await fn(); } finally { process.stderr.write = write; process.stdout.write = out; }
}
const lines = (text: string) => text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

for (const api of ['completions', 'responses'] as const) {
  test(`watch --demo --api ${api}: the simulator's traces come back as sample records`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'failmode-api-'));
    const out = join(dir, 'events.jsonl');
    const n = api === 'responses' ? '1' : '2';
    assert.equal(await quietly(() => watch.run(['--demo', '--api', api, '--no-tui', '--n', n, '--max-tokens', '300', '--jsonl', out])), 0);
    const ev = lines(await readFile(out, 'utf8'));
    assert.deepEqual(ev.filter((e) => e.type === 'stream_error'), []);
    const finals = ev.filter((e) => e.type === 'final');
    assert.equal(finals.length, Number(n));
    for (const f of finals) {
      const r = f.record as Record<string, unknown>;
      assert.ok((r.generated_len as number) > 0 && (r.generated_len as number) <= 300);
      assert.equal(r.tokens_without_top_logprobs, 0);
    }
  });
}

test('watch: --api responses with --n 2 and an unknown --api are usage errors; OPENAI_BASE_URL stands in for --base-url', async () => {
  await assert.rejects(watch.run(['--demo', '--api', 'responses', '--n', '2', '--no-tui']), (e: unknown) => e instanceof FailmodeError && e.exitCode === 2 && /one output per request/.test(e.message));
  await assert.rejects(watch.run(['--demo', '--api', 'grpc', '--no-tui']), (e: unknown) => e instanceof FailmodeError && /Value must be one of: chat, completions, responses/.test(e.message));
  await assert.rejects(watch.run(['--model', 'm', '--prompt', 'x', '--base-url', 'ftp://u:hunter2@h/v1']), (e: unknown) => e instanceof FailmodeError && e.exitCode === 2 && !e.message.includes('hunter2') && e.message.includes('u:***@'));
  const sim = await startSimulator({ port: 0, seed: 2 });
  const saved = process.env.OPENAI_BASE_URL;
  try {
    process.env.OPENAI_BASE_URL = sim.url;
    const dir = await mkdtemp(join(tmpdir(), 'failmode-env-'));
    const out = join(dir, 'events.jsonl');
    assert.equal(await quietly(() => watch.run(['--model', 'sim', '--prompt', 'What is 6*7?', '--max-tokens', '50', '--no-tui', '--jsonl', out])), 0);
    assert.equal(lines(await readFile(out, 'utf8')).filter((e) => e.type === 'final').length, 1);
  } finally {
    if (saved === undefined) delete process.env.OPENAI_BASE_URL; else process.env.OPENAI_BASE_URL = saved;
    await sim.close();
  }
});

test('sample --api completions: samples, answers and a vote over the completions API', async () => {
  const sim = await startSimulator({ port: 0, seed: 4 });
  try {
    const dir = await mkdtemp(join(tmpdir(), 'failmode-sample-api-'));
    const out = join(dir, 'log.jsonl');
    const code = await quietly(() => sample.run(['--n', '3', '--prompt', 'Which?\n\n(A) a\n(B) b\n(C) c\n(D) d', '--base-url', sim.url, '--model', 'sim', '--api', 'completions', '--profile', 'final-answer', '--max-tokens', '2000', '--out', out]));
    assert.equal(code, 0);
    const log = lines(await readFile(out, 'utf8'));
    const samples = log.filter((l) => l.kind === 'sample');
    assert.equal(samples.length, 3);
    assert.ok(samples.every((s) => s.error === null && typeof s.answer === 'string' && (s.tokens as number) > 0));
    assert.equal(sim.stats().requests, 3);
  } finally {
    await sim.close();
  }
});
