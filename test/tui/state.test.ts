import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MonitorEvent } from '../../src/online/monitor-events.ts';
import { initialWatchState, reduceWatchState, sampleStatus, SAMPLE_LIMIT, TAIL_CHARS, type WatchState } from '../../src/tui/state.ts';
import { scriptSession, SCENE, T0 } from '../fixtures/tui-script.ts';

const reduceAll = (events: readonly MonitorEvent[], from: WatchState = initialWatchState()) => events.reduce(reduceWatchState, from);
const tok = (sampleId: string, index: number, token: string, t = T0 + index): MonitorEvent =>
  ({ type: 'token', sampleId, index, token, entropy: 1, nll: 0.5, channel: 'content', t });

test('tokens build a per-sample count and text tail, in order of first appearance', () => {
  const s = reduceAll([tok('a:0', 0, 'The'), tok('b:0', 0, 'X'), tok('a:0', 1, ' answer')]);
  assert.deepEqual(s.samples.map((x) => x.id), ['a:0', 'b:0']);
  assert.equal(s.samples[0]!.tokens, 2);
  assert.equal(s.samples[0]!.tail, 'The answer');
  assert.equal(s.totalTokens, 3);
  assert.equal(sampleStatus(s.samples[0]!), 'streaming');
});

test('the text tail is bounded and cannot carry terminal escape sequences', () => {
  const events: MonitorEvent[] = [tok('a:0', 0, '\u001b[2J\u001b[31mred\u001b[0m\nnext\tline\u0007')];
  for (let i = 1; i < 2000; i++) events.push(tok('a:0', i, 'abc'));
  const first = reduceAll(events.slice(0, 1)).samples[0]!;
  assert.equal(first.tail, '[2J[31mred[0m ⏎ next line');
  assert.ok(!/[\u0000-\u001f\u007f-\u009f]/.test(first.tail));
  const s = reduceAll(events).samples[0]!;
  assert.equal(s.tail.length, TAIL_CHARS);
  assert.ok(s.tail.endsWith('abcabc'));
  assert.equal(s.tokens, 2000);
});

test('windows, risks, a committed failure and an aborted final make a flagged, then stopped, sample', () => {
  const events = scriptSession([SCENE[1]!]);
  const flaggedAt = events.findIndex((e) => e.type === 'committed_failure');
  const whileFlagged = reduceAll(events.slice(0, flaggedAt + 1)).samples[0]!;
  assert.equal(sampleStatus(whileFlagged), 'flagged');
  assert.deepEqual(whileFlagged.flag, { T: 400, risk: 0.83, threshold: 0.6, regime: 'committed' });
  assert.deepEqual(whileFlagged.windows.map((w) => w.T), [128, 256, 400]);
  assert.deepEqual(whileFlagged.riskHistory.map((r) => [r.T, r.risk]), [[128, 0.45], [256, 0.58], [400, 0.83]]);
  assert.equal(whileFlagged.risk?.risk, 0.83);

  const end = reduceAll(events).samples[0]!;
  assert.equal(sampleStatus(end), 'stopped');
  assert.equal(end.end?.finishReason, 'abort');
  assert.equal(end.tokens, 400);
});

test('a second committed_failure for a sample does not move its flag', () => {
  const cf = (T: number, risk: number): MonitorEvent => ({ type: 'committed_failure', sampleId: 'a:0', T, risk, threshold: 0.5, regime: 'committed', features: {}, t: T0 });
  const s = reduceAll([cf(256, 0.7), cf(400, 0.9)]).samples[0]!;
  assert.equal(s.flag?.T, 256);
  assert.equal(s.flag?.risk, 0.7);
});

test('final records give the answer (predicted_answer or answer), correctness and the prefinal cut', () => {
  const fin = (sampleId: string, record: Record<string, number | string | null>): MonitorEvent => ({ type: 'final', sampleId, record, t: T0 });
  const s = reduceAll([
    fin('a:0', { finish_reason: 'stop', predicted_answer: ' B ', correct: 1, generated_len: 812, prefinal_len: 790 }),
    fin('b:0', { finish_reason: 'length', answer: 'C', correct: 0, generated_len: 4096, prefinal_len: 0 }),
    fin('c:0', { finish_reason: 'stop', predicted_answer: null, generated_len: 50 }),
    fin('d:0', { finish_reason: 'error', generated_len: 10 }),
  ]);
  const [a, b, c, d] = s.samples;
  assert.deepEqual(a!.end, { finishReason: 'stop', answer: 'B', correct: true, generatedLen: 812, prefinalLen: 790, degenerate: false });
  assert.equal(a!.tokens, 812);
  assert.equal(b!.end?.answer, 'C');
  assert.equal(b!.end?.correct, false);
  assert.equal(b!.end?.prefinalLen, null, 'prefinal_len 0 means no cut found');
  assert.equal(c!.end?.answer, null);
  assert.equal(sampleStatus(c!), 'finished');
  assert.equal(sampleStatus(d!), 'failed');
});

test('stream errors and warnings are counted and kept as short notices; the session goes on', () => {
  const s = reduceAll([
    tok('a:0', 0, 'x'),
    { type: 'stream_error', sampleId: 'a:0', position: 'chunk 17', message: 'Expected JSON, got `{oops`', t: T0 + 1 },
    { type: 'warning', message: 'stream top-k 5 differs from the model (20)', t: T0 + 2 },
    tok('a:0', 1, 'y', T0 + 3),
  ]);
  assert.equal(s.streamErrors, 1);
  assert.equal(s.samples[0]!.errors, 1);
  assert.equal(s.samples[0]!.tokens, 2);
  assert.deepEqual(s.warnings, ['stream error at chunk 17: Expected JSON, got `{oops`', 'stream top-k 5 differs from the model (20)']);
});

test('a new state shares unchanged samples with the previous one (cheap snapshots)', () => {
  const s1 = reduceAll([tok('a:0', 0, 'x'), tok('b:0', 0, 'y')]);
  const s2 = reduceWatchState(s1, tok('b:0', 1, 'z'));
  assert.equal(s2.samples[0], s1.samples[0]);
  assert.notEqual(s2.samples[1], s1.samples[1]);
  assert.equal(s1.samples[1]!.tokens, 1, 'the previous state is not mutated');
});

test('samples beyond SAMPLE_LIMIT are counted, not tracked, with one warning', () => {
  const events: MonitorEvent[] = [];
  for (let i = 0; i < SAMPLE_LIMIT + 3; i++) events.push(tok(`r${i}:0`, 0, 'x'));
  const s = reduceAll(events);
  assert.equal(s.samples.length, SAMPLE_LIMIT);
  assert.equal(s.droppedSamples, 3);
  assert.equal(s.warnings.filter((w) => w.includes('later samples are not shown')).length, 1);
});

test('tokens per second follow event time', () => {
  const events: MonitorEvent[] = [];
  // 100 tokens over the first second (10 ms apart), then 50 tokens over the next (20 ms apart).
  for (let i = 0; i <= 100; i++) events.push(tok('a:0', i, 'x', T0 + i * 10));
  let s = reduceAll(events);
  assert.ok(Math.abs(s.tokensPerSecond - 100) < 2, `first second: ${s.tokensPerSecond}`);
  const more: MonitorEvent[] = [];
  for (let i = 1; i <= 50; i++) more.push(tok('a:0', 100 + i, 'x', T0 + 1000 + i * 20));
  s = reduceAll(more, s);
  assert.ok(Math.abs(s.tokensPerSecond - 50) < 2, `second second: ${s.tokensPerSecond}`);
  assert.equal(s.lastT! - s.startT!, 2000);
});
