import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { lastValueFrom, toArray } from 'rxjs';
import { DEFAULT_MAX_SAMPLES, createSampleMonitor, monitor } from '../../src/online/monitor.ts';
import type { MonitorEvent } from '../../src/online/monitor-events.ts';
import { RecentIds } from '../../src/online/recent-ids.ts';
import { readSseFile } from '../../src/stream/sse-source.ts';

const dir = mkdtempSync(join(tmpdir(), 'failmode-eviction-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * One request with `n` choices, interleaved as an engine sends them: `rounds` rounds of one token for every choice,
 * then every choice's finish_reason, then [DONE].
 */
function manyChoicesSse(n: number, rounds: number): string {
  const out: string[] = [];
  const entry = { token: 'a', logprob: -0.1, top_logprobs: [{ token: 'a', logprob: -0.1 }, { token: 'b', logprob: -2.4 }] };
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < n; i++) out.push(`data: ${JSON.stringify({ id: 'big', object: 'chat.completion.chunk', choices: [{ index: i, delta: { content: 'a' }, logprobs: { content: [entry] }, finish_reason: null }] })}\n\n`);
  }
  for (let i = 0; i < n; i++) out.push(`data: ${JSON.stringify({ id: 'big', object: 'chat.completion.chunk', choices: [{ index: i, delta: {}, finish_reason: 'stop' }] })}\n\n`);
  out.push('data: [DONE]\n\n');
  return out.join('');
}

/** Per sample id: its finals' finish reasons, in order. */
function finalsBySample(events: readonly MonitorEvent[]): Map<string, string[]> {
  const finals = new Map<string, string[]>();
  for (const ev of events) {
    if (ev.type !== 'final') continue;
    const list = finals.get(ev.sampleId) ?? [];
    list.push(ev.record.finish_reason as string);
    finals.set(ev.sampleId, list);
  }
  return finals;
}

test('20,000 choices in one replay: exactly one final per sample; an evicted sample\'s final is its eviction', { timeout: 600_000 }, async () => {
  const n = 20_000;
  const file = join(dir, 'many.sse');
  writeFileSync(file, manyChoicesSse(n, 2));
  const events = await lastValueFrom(monitor(readSseFile(file)).pipe(toArray()));
  const finals = finalsBySample(events);
  // Independent count: the choice indexes written into the file.
  assert.equal(finals.size, n);
  let total = 0;
  for (const list of finals.values()) total += list.length;
  assert.equal(total, n, 'one final per sample');
  // Choices 0 … n − 4097 were evicted when later ones opened (the first round opens them in index order); the last
  // 4,096 stay open and end with the server's finish_reason.
  const evicted = n - DEFAULT_MAX_SAMPLES;
  for (let i = 0; i < n; i++) assert.deepEqual(finals.get(`big:${i}`), [i < evicted ? 'evicted' : 'stop'], `big:${i}`);
  assert.equal(events.filter((e) => e.type === 'warning' && /closing the oldest/.test(e.message)).length, evicted);
});

test('late tokens and the end of an evicted sample are dropped, not a second sample (small bound, brute-force order)', () => {
  const events: MonitorEvent[] = [];
  const m = createSampleMonitor({ maxSamples: 3 }, (ev) => events.push(ev));
  const tok = (id: string, index: number) => ({ type: 'token' as const, sampleId: id, index, token: 'x', logprob: -0.5, top: [{ token: 'x', logprob: -0.5 }, { token: 'y', logprob: -1 }], channel: 'content' as const, t: 0 });
  // 50 samples, 5 rounds of one token each, in a shuffled but fixed order, then their ends.
  const ids = Array.from({ length: 50 }, (_, i) => `s${i}`);
  for (let r = 0; r < 5; r++) for (let i = 0; i < ids.length; i++) m.push(tok(ids[(i * 7 + r) % ids.length]!, r));
  for (const id of ids) m.push({ type: 'end', sampleId: id, finishReason: 'stop', t: 0 });
  m.end();
  const finals = finalsBySample(events);
  assert.equal(finals.size, 50);
  for (const id of ids) assert.equal(finals.get(id)!.length, 1, id);
  assert.equal(m.openSamples, 0);
});

test('RecentIds keeps at least the last `capacity` ids and at most twice that', () => {
  const ids = new RecentIds(100);
  for (let i = 0; i < 1000; i++) {
    ids.add(`id${i}`);
    for (let j = Math.max(0, i - 99); j <= i; j++) assert.ok(ids.has(`id${j}`), `id${j} after adding id${i}`);
    assert.ok(ids.size <= 200);
  }
  assert.ok(!ids.has('id0'));
  assert.throws(() => new RecentIds(0), /positive integer, got `0`/);
});
