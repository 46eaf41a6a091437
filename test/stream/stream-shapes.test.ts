import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { firstValueFrom, toArray } from 'rxjs';
import { loadModelFile } from '../../src/models/model-io.ts';
import { monitor } from '../../src/online/monitor.ts';
import type { MonitorEvent } from '../../src/online/monitor-events.ts';
import { ChunkDecoder } from '../../src/stream/chunk-decoder.ts';
import { readSseFile } from '../../src/stream/sse-source.ts';
import type { StreamEvent, TokenEvent } from '../../src/stream/token-event.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/shapes/${name}`, import.meta.url));
const SHAPES = ['sglang-reasoning.sse', 'vllm-held-text.sse', 'completions.sse', 'responses.sse'];
/** The one token sequence every fixture spells (written by generate-shape-fixtures.ts). */
const EXPECTED = JSON.parse(readFileSync(fixture('tokens.json'), 'utf8')) as { token: string; logprob: number; top: { token: string; logprob: number }[] }[];
const MODEL = fileURLToPath(new URL('../fixtures/online-committed-model.json', import.meta.url));

const replay = (name: string) => firstValueFrom(readSseFile(fixture(name), { requestId: 'q', now: () => 0 }).pipe(toArray()));
const tokens = (evs: StreamEvent[]) => evs.filter((e): e is TokenEvent => e.type === 'token');

describe('stream shapes: one token sequence in four engines\' shapes', () => {
  for (const name of SHAPES) {
    it(`${name}: every entry is one token, in order, with its top list sorted as sent; the sample ends with stop and usage`, async () => {
      const evs = await replay(name);
      assert.deepEqual(evs.filter((e) => e.type === 'stream_error'), []);
      const toks = tokens(evs);
      assert.equal(toks.length, EXPECTED.length);
      toks.forEach((t, i) => {
        const e = EXPECTED[i]!;
        assert.equal(t.index, i);
        assert.equal(t.token, e.token, `token ${i}`);
        assert.equal(t.logprob, e.logprob, `logprob ${i}`);
        assert.deepEqual(t.top!.map((a) => [a.token, a.logprob]), e.top.map((a) => [a.token, a.logprob]), `top ${i}`);
      });
      const end = evs.at(-1)!;
      assert.equal(end.type, 'end');
      assert.deepEqual(end.type === 'end' && [end.sampleId, end.finishReason, end.usage, end.tokensWithoutLogprobs],
        ['q:0', 'stop', { promptTokens: 40, completionTokens: EXPECTED.length }, undefined]);
    });
  }

  it('SGLang: channels come from the delta texts, the chunk that crosses </think> included', async () => {
    const toks = tokens(await replay('sglang-reasoning.sse'));
    const end = EXPECTED.findIndex((e) => e.token === '</think>');
    assert.ok(end > 0);
    // `</think>` is in neither text: its channel is the chunk's (it may sit alone in one); every other token's is known.
    assert.deepEqual(toks.map((t, i) => (i === end ? '?' : t.channel)), EXPECTED.map((_, i) => (i === end ? '?' : i < end ? 'reasoning' : 'content')));
  });

  it('gives identical window features (to 1e-12) and identical records in every shape', async () => {
    const model = await loadModelFile(MODEL);
    const runs = await Promise.all(SHAPES.map(async (name) => firstValueFrom(monitor(readSseFile(fixture(name), { requestId: 'q', now: () => 0 }), {
      model, profile: 'final-answer', windows: [16, 64, 128], now: () => 0,
    }).pipe(toArray()))));
    const windows = (evs: MonitorEvent[]) => evs.filter((e) => e.type === 'window') as Extract<MonitorEvent, { type: 'window' }>[];
    const finals = (evs: MonitorEvent[]) => evs.filter((e) => e.type === 'final') as Extract<MonitorEvent, { type: 'final' }>[];
    const ref = runs[0]!;
    assert.equal(windows(ref).length, 4);
    assert.equal(finals(ref)[0]!.record.predicted_answer, 'B');
    for (let r = 1; r < runs.length; r++) {
      const a = windows(ref);
      const b = windows(runs[r]!);
      assert.equal(b.length, a.length, SHAPES[r]);
      a.forEach((w, i) => {
        assert.equal(b[i]!.T, w.T);
        for (const [k, v] of Object.entries(w.features) as [string, number][]) {
          const u = (b[i]!.features as Record<string, number>)[k]!;
          assert.ok(Number.isNaN(v) ? Number.isNaN(u) : Math.abs(u - v) <= 1e-12, `${SHAPES[r]} ${k}: ${u} vs ${v}`);
        }
      });
      assert.deepEqual(finals(runs[r]!).map((f) => f.record), finals(ref).map((f) => f.record), SHAPES[r]);
      assert.deepEqual(runs[r]!.filter((e) => e.type === 'risk'), ref.filter((e) => e.type === 'risk'), SHAPES[r]);
    }
  });
});

describe('stream shapes: edge cases', () => {
  const decode = (chunks: unknown[], opts: { maxTopLogprobs?: number } = {}) => {
    const out: StreamEvent[] = [];
    const d = new ChunkDecoder((ev) => out.push(ev), { requestId: 'r', now: () => 0, ...opts });
    chunks.forEach((c, i) => d.decodeChunk(c, `event ${i + 1}`));
    d.finish();
    return out;
  };
  const e = (token: string, logprob = -0.5) => ({ token, logprob, top_logprobs: [{ token, logprob }] });

  it('vLLM: held-back tokens keep their entries; the released text, with or without entries, adds no token', () => {
    const evs = decode([
      { choices: [{ index: 0, delta: {}, logprobs: { content: [e('<think>')] } }] },
      { choices: [{ index: 0, delta: { reasoning: 'Hmm' }, logprobs: { content: [e('Hmm')] } }] },
      { choices: [{ index: 0, delta: {}, logprobs: { content: [e(' ok')] } }] },
      { choices: [{ index: 0, delta: { reasoning: ' ok' }, logprobs: null }] },
      { choices: [{ index: 0, delta: { content: 'A' }, logprobs: null, finish_reason: 'stop' }] },
    ]);
    const toks = tokens(evs);
    assert.deepEqual(toks.map((t) => [t.token, t.channel, Number.isNaN(t.logprob)]), [
      ['<think>', 'content', false], ['Hmm', 'reasoning', false], [' ok', 'reasoning', false], ['A', 'content', true],
    ]);
    const end = evs.at(-1)!;
    assert.equal(end.type === 'end' && end.tokensWithoutLogprobs, 1);
  });

  it('SGLang: a token in neither text (a stripped special token) stays with reasoning until content starts', () => {
    const toks = tokens(decode([{ choices: [{ index: 0, delta: { reasoning_content: 'a b', content: 'C' }, logprobs: { content: [e('a'), e('<x>'), e(' b'), e('</think>'), e('C'), e('<eos>')] } }] }]));
    assert.deepEqual(toks.map((t) => t.channel), ['reasoning', 'reasoning', 'reasoning', 'content', 'content', 'content']);
  });

  it('/v1/completions: alternatives sorted by logprob and cut to the k asked for (the chosen token may be a k+1-th)', () => {
    const toks = tokens(decode([{ object: 'text_completion', choices: [{ index: 0, text: 'x', logprobs: { tokens: ['x'], token_logprobs: [-3], top_logprobs: [{ y: -1, x: -3, z: -0.5 }], text_offset: [0] } }] }], { maxTopLogprobs: 2 }));
    assert.deepEqual(toks[0]!.top!.map((a) => [a.token, a.logprob]), [['z', -0.5], ['y', -1]]);
    assert.equal(toks[0]!.logprob, -3);
  });

  it('Responses API: incomplete at max_output_tokens ends with length; a failed response is a stream error and ends with error', () => {
    const a = decode([
      { type: 'response.created', response: { id: 'resp_a', model: 'm' } },
      { type: 'response.output_text.delta', delta: 'x', logprobs: [e('x')] },
      { type: 'response.incomplete', response: { id: 'resp_a', incomplete_details: { reason: 'max_output_tokens' }, usage: { input_tokens: 3, output_tokens: 1 } } },
    ]);
    assert.deepEqual(a.map((x) => x.type), ['start', 'token', 'end']);
    assert.deepEqual(a[2]!.type === 'end' && [a[2]!.finishReason, a[2]!.usage], ['length', { promptTokens: 3, completionTokens: 1 }]);
    const b = decode([
      { type: 'response.output_text.delta', delta: 'x', logprobs: [e('x')] },
      { type: 'response.failed', response: { error: { message: 'overloaded' } } },
    ]);
    assert.deepEqual(b.map((x) => x.type), ['start', 'token', 'stream_error', 'end']);
    assert.match((b[2] as { message: string }).message, /overloaded/);
    assert.equal(b[3]!.type === 'end' && b[3]!.finishReason, 'error');
  });
});
