import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkDecoder } from '../../src/stream/chunk-decoder.ts';
import type { StreamEvent, TokenEvent } from '../../src/stream/token-event.ts';

function decode(chunks: unknown[], opts: { done?: boolean; requestId?: string } = {}): StreamEvent[] {
  const out: StreamEvent[] = [];
  const d = new ChunkDecoder((ev) => out.push(ev), { requestId: opts.requestId ?? 'r', now: () => 0 });
  chunks.forEach((c, i) => (typeof c === 'string' ? d.decodeData(c, `event ${i + 1}`) : d.decodeChunk(c, `event ${i + 1}`)));
  if (opts.done) d.done();
  d.finish();
  return out;
}
const tokens = (evs: StreamEvent[]) => evs.filter((e): e is TokenEvent => e.type === 'token');
const entry = (token: string, logprob: number, top: [string, number][] | null = null) => ({
  token, logprob, bytes: [1], top_logprobs: top?.map(([t, l]) => ({ token: t, logprob: l, bytes: null })) ?? [],
});
const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({ id: 'chatcmpl-1', object: 'chat.completion.chunk', model: 'm', choices, ...extra });

describe('ChunkDecoder', () => {
  it('emits one token per logprob entry, several per chunk, with top lists in server order', () => {
    const evs = decode([
      chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]),
      chunk([{ index: 0, delta: { content: 'Hello world' }, logprobs: { content: [entry('Hello', -0.1, [['Hello', -0.1], ['Hi', -2.5]]), entry(' world', -0.5, [[' world', -0.5], [' there', -1]])] }, finish_reason: null }]),
      chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]),
    ], { done: true });
    assert.deepEqual(evs.map((e) => e.type), ['start', 'token', 'token', 'end']);
    const [a, b] = tokens(evs);
    assert.deepEqual([a!.sampleId, a!.index, a!.token, a!.logprob, a!.channel], ['r:0', 0, 'Hello', -0.1, 'content']);
    assert.deepEqual(a!.top!.map((x) => [x.token, x.logprob]), [['Hello', -0.1], ['Hi', -2.5]]);
    assert.deepEqual([b!.index, b!.token], [1, ' world']);
    const end = evs[3]!;
    assert.equal(end.type === 'end' && end.finishReason, 'stop');
    assert.equal(end.type === 'end' && end.tokensWithoutLogprobs, undefined);
    assert.equal((evs[0] as { model?: string }).model, 'm');
  });

  it('reads reasoning from delta.reasoning, delta.reasoning_content and logprobs.reasoning_content / reasoning', () => {
    const evs = tokens(decode([
      chunk([{ index: 0, delta: { reasoning: 'Think' }, logprobs: { content: null, reasoning: [entry('Think', -0.2, [['Think', -0.2]])] } }]),
      chunk([{ index: 0, delta: { reasoning_content: ' more' }, logprobs: { reasoning_content: [entry(' more', -0.3, [[' more', -0.3]])] } }]),
      // gpt-oss on vLLM: reasoning text, its logprobs in logprobs.content
      chunk([{ index: 0, delta: { reasoning_content: ' again' }, logprobs: { content: [entry(' again', -0.4, [[' again', -0.4]])] } }]),
      chunk([{ index: 0, delta: { content: 'Answer' }, logprobs: { content: [entry('Answer', -0.5, [['Answer', -0.5]])] } }]),
    ]));
    assert.deepEqual(evs.map((e) => [e.token, e.channel, e.index, e.logprob]), [
      ['Think', 'reasoning', 0, -0.2], [' more', 'reasoning', 1, -0.3], [' again', 'reasoning', 2, -0.4], ['Answer', 'content', 3, -0.5],
    ]);
  });

  it('keeps the -9999 placeholder and reports top: null for an empty top list', () => {
    const evs = tokens(decode([chunk([{ index: 0, delta: { content: 'x' }, logprobs: { content: [{ token: 'x', logprob: -9999, top_logprobs: [] }] } }])]));
    assert.equal(evs[0]!.logprob, -9999);
    assert.equal(evs[0]!.top, null);
  });

  it('keeps text without logprobs as NaN tokens and counts them in the end event', () => {
    const evs = decode([
      chunk([{ index: 0, delta: { content: 'a' }, logprobs: { content: [entry('a', -1, [['a', -1]])] } }]),
      chunk([{ index: 0, delta: { content: 'bc' } }]),
      chunk([{ index: 0, delta: { reasoning_content: 'r' }, logprobs: null }]),
      chunk([{ index: 0, delta: {}, finish_reason: 'length' }]),
    ], { done: true });
    const t = tokens(evs);
    assert.deepEqual(t.map((e) => [e.token, Number.isNaN(e.logprob), e.top, e.channel]), [['a', false, t[0]!.top, 'content'], ['bc', true, null, 'content'], ['r', true, null, 'reasoning']]);
    const end = evs.at(-1)!;
    assert.ok(end.type === 'end');
    assert.equal(end.finishReason, 'length');
    assert.equal(end.tokensWithoutLogprobs, 2);
  });

  it('splits several choices into samples `${requestId}:${index}` and ends each at its finish_reason', () => {
    const evs = decode([
      chunk([{ index: 0, delta: { content: 'a' }, logprobs: { content: [entry('a', -1)] } }, { index: 1, delta: { content: 'b' }, logprobs: { content: [entry('b', -2)] } }]),
      chunk([{ index: 1, delta: {}, finish_reason: 'stop' }]),
      chunk([{ index: 0, delta: { content: 'c' }, logprobs: { content: [entry('c', -3)] } }]),
      chunk([{ index: 0, delta: {}, finish_reason: 'length' }]),
      chunk([], { usage: { prompt_tokens: 10, completion_tokens: 3 } }),
    ], { requestId: 'q7', done: true });
    assert.deepEqual(evs.map((e) => `${e.type}:${'sampleId' in e ? e.sampleId : ''}`), [
      'start:q7:0', 'token:q7:0', 'start:q7:1', 'token:q7:1', 'end:q7:1', 'token:q7:0', 'end:q7:0',
    ]);
    const t = tokens(evs);
    assert.deepEqual(t.map((e) => [e.sampleId, e.index, e.token]), [['q7:0', 0, 'a'], ['q7:1', 0, 'b'], ['q7:0', 1, 'c']]);
    // usage is per request: not attributed to one of several samples
    assert.ok(evs.every((e) => e.type !== 'end' || e.usage === undefined));
  });

  it('attaches the include_usage chunk to the single sample of an n=1 request', () => {
    const evs = decode([
      chunk([{ index: 0, delta: { content: 'a' }, logprobs: { content: [entry('a', -1)] } }]),
      chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]),
      chunk([], { usage: { prompt_tokens: 12, completion_tokens: 1, total_tokens: 13 } }),
    ]);
    const end = evs.at(-1)!;
    assert.ok(end.type === 'end');
    assert.deepEqual(end.usage, { promptTokens: 12, completionTokens: 1 });
    assert.equal(end.finishReason, 'stop');
  });

  it('uses the chunk id as requestId by default and starts a new request after [DONE]', () => {
    const out: StreamEvent[] = [];
    const d = new ChunkDecoder((e) => out.push(e), { now: () => 0 });
    d.decodeData(JSON.stringify(chunk([{ index: 0, delta: { content: 'a' }, finish_reason: 'stop' }], { id: 'A' })), 'event 1');
    d.decodeData('[DONE]', 'event 2');
    d.decodeData(JSON.stringify(chunk([{ index: 0, delta: { content: 'b' }, finish_reason: 'stop' }], { id: 'B' })), 'event 3');
    d.decodeData('[DONE]', 'event 4');
    assert.deepEqual(out.filter((e) => e.type === 'end').map((e) => 'sampleId' in e && e.sampleId), ['A:0', 'B:0']);
  });

  it('reports a malformed chunk with its position and goes on', () => {
    const evs = decode([
      JSON.stringify(chunk([{ index: 0, delta: { content: 'a' }, logprobs: { content: [entry('a', -1)] } }])),
      '{"id": "chatcmpl-1", "choices": [',
      JSON.stringify(chunk({ not: 'an array' } as unknown as unknown[])),
      JSON.stringify(chunk([{ index: 0, delta: { content: 'b' }, logprobs: { content: [{ token: 7, logprob: -1 }, entry('b', -2)] } }])),
      JSON.stringify(chunk([{ index: 0, delta: { content: 'c' }, logprobs: { content: [entry('c', -3)] } }])),
    ]);
    const errs = evs.filter((e) => e.type === 'stream_error');
    assert.equal(errs.length, 3);
    assert.ok(errs.every((e) => e.type === 'stream_error' && !e.fatal));
    assert.deepEqual(errs.map((e) => e.type === 'stream_error' && e.position), ['event 2', 'event 3', 'event 4 choice 0']);
    assert.match((errs[1] as { message: string }).message, /Expected `choices` to be an array, got `\{"not":"an array"\}` \(object\)/);
    assert.deepEqual(tokens(evs).map((e) => [e.token, e.index]), [['a', 0], ['b', 1], ['c', 2]]);
    // stream ended without finish_reason: the open sample ends with 'error'
    const end = evs.at(-1)!;
    assert.ok(end.type === 'end' && end.finishReason === 'error');
  });

  it('reports a server error object in the stream', () => {
    const evs = decode([{ error: { message: 'CUDA out of memory', code: 500 } }]);
    assert.equal(evs.length, 1);
    assert.ok(evs[0]!.type === 'stream_error');
    assert.match(evs[0]!.message, /CUDA out of memory/);
  });

  it('decodes data lines that a single-newline recording joined into one event', () => {
    const a = JSON.stringify(chunk([{ index: 0, delta: { content: 'a' }, logprobs: { content: [entry('a', -1)] } }]));
    const b = JSON.stringify(chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]));
    const evs = decode([`${a}\n${b}\n[DONE]`]);
    assert.deepEqual(evs.map((e) => e.type), ['start', 'token', 'end']);
    assert.ok(evs[2]!.type === 'end' && evs[2]!.finishReason === 'stop');
  });

  it('drops `bytes` members wherever they stand without touching strings that mention them', () => {
    const data = '{"id":"c","choices":[{"index":0,"delta":{"content":"x,\\"bytes\\":[1]"},"logprobs":{"content":['
      + '{"bytes":[120],"token":"x,\\"bytes\\":[1]","logprob":-0.5,"top_logprobs":[{"token":"a","bytes":null,"logprob":-0.5},{"token":"b","logprob":-1,"bytes":[98]}]}'
      + ']},"finish_reason":null}]}';
    const expected = JSON.parse(data);
    const out: StreamEvent[] = [];
    new ChunkDecoder((e) => out.push(e), { requestId: 'r', now: () => 0 }).decodeData(data, 'event 1');
    const t = tokens(out)[0]!;
    assert.equal(t.token, expected.choices[0].logprobs.content[0].token);
    assert.equal(t.token, 'x,"bytes":[1]');
    assert.deepEqual(t.top!.map((a) => [a.token, a.logprob]), [['a', -0.5], ['b', -1]]);
    assert.equal(out.filter((e) => e.type === 'stream_error').length, 0);
  });

  it('bounds the choices open at once in a request: a further new choice is reported once and not decoded', () => {
    const out: StreamEvent[] = [];
    const d = new ChunkDecoder((e) => out.push(e), { requestId: 'r', now: () => 0, maxOpenChoices: 3 });
    const tok = (i: number) => chunk([{ index: i, delta: { content: 'a' }, logprobs: { content: [entry('a', -0.1, [['a', -0.1]])] }, finish_reason: null }]);
    for (let round = 0; round < 2; round++) for (let i = 0; i < 5; i++) d.decodeChunk(tok(i), `event ${round * 5 + i + 1}`);
    // Choice 0 ends: a new choice fits again.
    d.decodeChunk(chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]), 'event 11');
    d.decodeChunk(tok(7), 'event 12');
    const errors = out.filter((e) => e.type === 'stream_error');
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.type === 'stream_error' ? errors[0]!.message : '', /More than 3 choices open at once in one request: choice 3/);
    assert.deepEqual(out.filter((e) => e.type === 'start').map((e) => e.sampleId), ['r:0', 'r:1', 'r:2', 'r:7']);
    assert.deepEqual(tokens(out).map((t) => t.sampleId), ['r:0', 'r:1', 'r:2', 'r:0', 'r:1', 'r:2', 'r:7']);
    // The next request starts with the bound cleared.
    d.done();
    out.length = 0;
    for (let i = 0; i < 4; i++) d.decodeChunk(tok(i), `event ${i + 13}`);
    assert.equal(out.filter((e) => e.type === 'stream_error').length, 1);
    assert.equal(out.filter((e) => e.type === 'start').length, 3);
  });
});
