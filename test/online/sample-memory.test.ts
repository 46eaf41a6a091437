/**
 * Per-sample state must not grow with the trace: walk the SampleFeatures object graph and add up every array,
 * typed array and string length. (The real heap measurement at 1k vs 1M tokens is in bench/online.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SampleFeatures, TAIL_CHARS, REGION_CHARS } from '../../src/online/sample-features.ts';
import type { TokenEvent } from '../../src/stream/token-event.ts';

function footprint(root: unknown): number {
  const seen = new Set<unknown>();
  let total = 0;
  const stack: unknown[] = [root];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') { total += v.length; continue; }
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    if (ArrayBuffer.isView(v)) { total += (v as ArrayBufferView).byteLength; continue; }
    if (Array.isArray(v)) { total += v.length; stack.push(...v); continue; }
    if (v instanceof Map || v instanceof Set) { total += v.size; stack.push(...v.values()); continue; }
    for (const k of Object.keys(v)) stack.push((v as Record<string, unknown>)[k]);
  }
  return total;
}

const WORDS = ['so ', 'the ', 'value ', 'is ', '\n', 'Final', ' Answer', ': ', 'B', '\\boxed{', '7}', '```'];
function feed(sf: SampleFeatures, n: number): void {
  const top = Array.from({ length: 20 }, (_, j) => ({ token: `t${j}`, logprob: -0.05 - j * 0.3 }));
  for (let i = 0; i < n; i++) {
    const ev: TokenEvent = { type: 'token', sampleId: 's:0', index: i, token: WORDS[(i * 7) % WORDS.length]!, logprob: -0.2 - (i % 5) * 0.1, top: i % 11 === 0 ? null : top, channel: 'content', t: i };
    sf.push(ev);
  }
}

for (const profile of ['final-answer', 'code'] as const) {
  test(`per-sample state is bounded independently of trace length (${profile})`, () => {
    const small = new SampleFeatures({ profile });
    feed(small, 100_000);
    const large = new SampleFeatures({ profile });
    feed(large, 400_000);
    const a = footprint(small);
    const b = footprint(large);
    // Fixed buffers only: the text ring (TAIL_CHARS units) and one REGION_CHARS buffer per marker seen.
    const cap = 2 * TAIL_CHARS + 3 * 2 * REGION_CHARS + 64 * 1024;
    assert.ok(a <= cap && b <= cap, `footprints ${a} and ${b} exceed the cap ${cap}`);
    assert.equal(b, a, `footprint grew from ${a} (100k tokens) to ${b} (400k tokens)`);
    assert.equal(large.length, 400_000);
  });
}

test('without text retention the state size is exactly constant', () => {
  const a = new SampleFeatures({ profile: 'final-answer', keepText: false });
  feed(a, 1_000);
  const b = new SampleFeatures({ profile: 'final-answer', keepText: false });
  feed(b, 200_000);
  assert.equal(footprint(b), footprint(a));
});
