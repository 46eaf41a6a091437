import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const BIN = new URL('../../bin/failmode', import.meta.url).pathname;
const DEMO_MODEL = new URL('../../results/models/simulator-demo.json', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'failmode-watch-conv-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const failmode = (args: string[], input?: string) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 600_000, cwd: dir, ...(input !== undefined ? { input } : {}) });

const TOKEN_JSONL = `${JSON.stringify({ type: 'start', sampleId: 'r:0', t: 0 })}\n${JSON.stringify({ type: 'token', sampleId: 'r:0', index: 0, token: 'a', logprob: -0.1, top: [{ token: 'a', logprob: -0.1 }], channel: 'content', t: 1 })}\n`;
const SSE = 'data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"},"logprobs":null,"finish_reason":null}]}\n\ndata: [DONE]\n\n';

test('watch --replay given a token-event JSONL recording: exit 2, one line first naming --replay-jsonl', () => {
  const rec = join(dir, 'run.jsonl');
  writeFileSync(rec, TOKEN_JSONL);
  const r = failmode(['watch', '--replay', rec, '--no-tui']);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr.split('\n')[0]!, /^failmode watch: --replay .*run\.jsonl is JSON lines, not an SSE stream: .*--replay-jsonl$/);
  // The same recording on stdin: found at its end, still exit 2 naming the flag.
  const piped = failmode(['watch', '--replay', '-', '--no-tui', '--jsonl', join(dir, 'ev.jsonl')], TOKEN_JSONL);
  assert.equal(piped.status, 2, piped.stderr);
  assert.match(piped.stderr.split('\n')[0]!, /^failmode watch: -: No SSE events in the input.*--replay-jsonl/);
});

test('watch --replay-jsonl given an SSE stream, and either flag given a CSV or an empty file: exit 2 naming the right flag', () => {
  const sse = join(dir, 'run.sse');
  writeFileSync(sse, SSE);
  const a = failmode(['watch', '--replay-jsonl', sse, '--no-tui']);
  assert.equal(a.status, 2, a.stderr);
  assert.match(a.stderr, /^failmode watch: --replay-jsonl .*run\.sse is an SSE stream, not a token-event recording: .*replayed with --replay\n$/);
  const csv = join(dir, 'table.csv');
  writeFileSync(csv, 'correct,entropy_mean\n1,0.5\n');
  for (const flag of ['--replay', '--replay-jsonl']) {
    const r = failmode(['watch', flag, csv, '--no-tui']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^failmode watch: ${flag} .*table\\.csv is neither kind of recording: .*--replay reads SSE streams, --replay-jsonl token-event JSON lines\\n$`));
  }
  const empty = join(dir, 'empty.sse');
  writeFileSync(empty, '');
  const e = failmode(['watch', '--replay', empty, '--no-tui']);
  assert.equal(e.status, 2, e.stderr);
  assert.match(e.stderr, /is empty: expected a raw SSE stream/);
  // The right flag still replays it.
  const ok = failmode(['watch', '--replay', sse, '--no-tui', '--jsonl', join(dir, 'ok.jsonl')]);
  assert.equal(ok.status, 0, ok.stderr);
});

test('an empty or blank --prompt is a usage error (watch and sample): one line, exit 2, nothing sent', () => {
  for (const [args, what] of [
    [['watch', '--base-url', 'http://127.0.0.1:9/v1', '--model', 'm', '--prompt', '', '--no-tui'], 'an empty string'],
    [['watch', '--base-url', 'http://127.0.0.1:9/v1', '--model', 'm', '  \n', '--no-tui'], 'only whitespace'],
    [['sample', '--n', '2', '--prompt', '', '--base-url', 'http://127.0.0.1:9/v1', '--model', 'm', '--profile', 'none'], 'an empty string'],
  ] as const) {
    const r = failmode([...args]);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`Expected --prompt to be a non-empty prompt, got ${what}`));
  }
});

test('a replayed stream without logprobs: no risk line, one warning that says why', () => {
  const choices = (i: number) => `data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":${i},"delta":{"content":"word "},"logprobs":null,"finish_reason":null}]}\n\n`;
  let sse = '';
  for (let k = 0; k < 300; k++) sse += choices(0) + choices(1);
  sse += 'data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"},{"index":1,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n';
  const file = join(dir, 'nolp.sse');
  writeFileSync(file, sse);
  const out = join(dir, 'nolp-events.jsonl');
  const r = failmode(['watch', '--replay', file, '--model-file', DEMO_MODEL, '--no-tui', '--jsonl', out]);
  assert.equal(r.status, 0, r.stderr);
  const events = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; message?: string });
  assert.equal(events.filter((e) => e.type === 'final').length, 2);
  assert.deepEqual(events.filter((e) => e.type === 'risk' || e.type === 'committed_failure'), []);
  const warnings = events.filter((e) => e.type === 'warning');
  assert.equal(warnings.length, 1, JSON.stringify(warnings));
  assert.match(warnings[0]!.message!, /arrived without logprobs: .*no risk is scored/);
});

test('watch --demo (headless) scores with the demo\'s classifier, as failmode demo does', () => {
  const out = join(dir, 'demo-events.jsonl');
  const r = failmode(['watch', '--demo', '--n', '2', '--no-tui', '--jsonl', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^failmode watch: model simulator \(demo mix, seed 99\) · /m);
  const events = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
  assert.ok(events.some((e) => e.type === 'risk'), 'risk events: a classifier is loaded');
});
