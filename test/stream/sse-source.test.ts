import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Observable, firstValueFrom, from, lastValueFrom, map, take, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { FailmodeError } from '../../src/errors.ts';
import { readSseFile, tokenEventsFromSse } from '../../src/stream/sse-source.ts';
import type { StreamEvent, TokenEvent } from '../../src/stream/token-event.ts';

const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url).pathname;
const collect = (o: Observable<StreamEvent>) => lastValueFrom(o.pipe(toArray()));
const tokens = (evs: StreamEvent[]) => evs.filter((e): e is TokenEvent => e.type === 'token');
const now = () => 0;

describe('tokenEventsFromSse', () => {
  it('reports a malformed event with its position and keeps decoding the rest of the file', async () => {
    const evs = await collect(readSseFile(fixture('stream-malformed.sse'), { now }));
    const errors = evs.filter((e) => e.type === 'stream_error');
    assert.deepEqual(errors.map((e) => e.type === 'stream_error' && [e.position, e.fatal]), [['event 4', false], ['event 5', false]]);
    assert.match((errors[0] as { message: string }).message, /^Expected a JSON chat\.completion\.chunk, got unparsable data/);
    assert.deepEqual(tokens(evs).map((t) => [t.index, t.token, t.logprob]), [[0, 'Let', -0.01], [1, ' x', -0.7], [2, ' =', -0.05], [3, '\n\nFinal: \\boxed{4}', -9999]]);
    const end = evs.at(-1)!;
    assert.ok(end.type === 'end');
    assert.deepEqual([end.sampleId, end.finishReason, end.usage], ['chatcmpl-fx:0', 'stop', { promptTokens: 9, completionTokens: 5 }]);
  });

  it('says so when the input holds no SSE event at all (a wrong file, an empty body)', async () => {
    for (const input of ['', '\u0089PNG\r\n\u001a\n binary stuff\n', '{"id": "x"}\n{"id": "y"}\n']) {
      const evs = await collect(tokenEventsFromSse(from([input]), { now }));
      assert.equal(evs.length, 1, JSON.stringify(input));
      assert.ok(evs[0]!.type === 'stream_error' && !evs[0]!.fatal && /^No SSE events in the input/.test(evs[0]!.message));
    }
    const ok = await collect(readSseFile(fixture('stream-malformed.sse'), { now }));
    assert.ok(!ok.some((e) => e.type === 'stream_error' && /No SSE events/.test(e.message)));
  });

  it('ends every open sample with finishReason error when the stream is cut off', async () => {
    const evs = await collect(readSseFile(fixture('stream-truncated.sse'), { now, requestId: 'cut' }));
    const ends = evs.filter((e) => e.type === 'end');
    assert.deepEqual(ends.map((e) => e.type === 'end' && [e.sampleId, e.finishReason]), [['cut:1', 'length'], ['cut:0', 'error']]);
    // the cut-off last event is reported, the tokens before it are kept
    assert.ok(evs.some((e) => e.type === 'stream_error' && e.position === 'event 6'));
    assert.deepEqual(tokens(evs).map((t) => [t.sampleId, t.token]), [['cut:0', 'A'], ['cut:1', 'B']]);
  });

  it('gives the same events whatever the chunking, including a UTF-8 character split across chunks', async () => {
    const bytes = readFileSync(fixture('stream-malformed.sse'));
    const withEmoji = Buffer.concat([Buffer.from(bytes.toString('utf8').replaceAll('"Let"', '"L\u00e9t \ud83d\ude00"'))]);
    const whole = await collect(tokenEventsFromSse(from([withEmoji]), { now }));
    const pieces: Uint8Array[] = [];
    for (let i = 0; i < withEmoji.length; i += 7) pieces.push(withEmoji.subarray(i, i + 7));
    async function* gen() { for (const p of pieces) yield p; }
    const split = await collect(tokenEventsFromSse(gen(), { now }));
    assert.deepEqual(split, whole);
    assert.equal(tokens(whole)[0]!.token, 'L\u00e9t \ud83d\ude00');
  });

  it('turns a source failure after some bytes into a fatal stream_error plus end error, and completes', async () => {
    const head = readFileSync(fixture('stream-malformed.sse'), 'utf8').split('\n\n').slice(0, 3).join('\n\n') + '\n\n';
    const source = new Observable<string>((s) => { s.next(head); s.error(new Error('socket hang up')); });
    const evs = await collect(tokenEventsFromSse(source, { now }));
    const fatal = evs.find((e) => e.type === 'stream_error');
    assert.ok(fatal && fatal.type === 'stream_error' && fatal.fatal);
    assert.match(fatal.message, /socket hang up/);
    assert.deepEqual(evs.at(-1), { type: 'end', sampleId: 'chatcmpl-fx:0', finishReason: 'error', t: 0 });
  });

  it('errors the Observable when the source fails before any byte', async () => {
    const source = new Observable<string>((s) => s.error(new Error('ECONNREFUSED')));
    await assert.rejects(collect(tokenEventsFromSse(source)), /ECONNREFUSED/);
  });

  it('errors with a FailmodeError naming a missing file', async () => {
    await assert.rejects(collect(readSseFile('/nonexistent/x.sse')), (err: unknown) => err instanceof FailmodeError && /cannot read \/nonexistent\/x\.sse: ENOENT/.test(err.message));
  });

  it('stops a synchronous source when unsubscribed', async () => {
    let pulled = 0;
    const text = readFileSync(fixture('stream-malformed.sse'), 'utf8');
    const source = new Observable<string>((s) => {
      for (const part of text.split('\n\n')) {
        if (s.closed) return;
        pulled++;
        s.next(`${part}\n\n`);
      }
      s.complete();
    });
    const first = await firstValueFrom(tokenEventsFromSse(source, { now }).pipe(take(2), toArray()));
    assert.deepEqual(first.map((e) => e.type), ['start', 'token']);
    assert.ok(pulled < 4, `pulled ${pulled} parts after unsubscribe`);
  });

  it('gives up on one over-long event with a fatal error and keeps what came before', async () => {
    const head = readFileSync(fixture('stream-malformed.sse'), 'utf8').split('\n\n').slice(0, 2).join('\n\n') + '\n\n';
    const evs = await collect(tokenEventsFromSse(from([head, `data: ${'x'.repeat(5000)}`]), { now, maxEventChars: 1000 }));
    assert.equal(tokens(evs).length, 1);
    const fatal = evs.find((e) => e.type === 'stream_error');
    assert.ok(fatal && fatal.type === 'stream_error' && fatal.fatal && /longer than 1000 characters/.test(fatal.message));
    assert.ok(evs.at(-1)!.type === 'end');
  });

  it('emits each event in the frame its last byte arrives (marble test) and unsubscribes from the source', () => {
    const scheduler = new TestScheduler((actual, expected) => assert.deepEqual(actual, expected));
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const chunk = (content: string, extra = '') => `data: {"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"${content}"},"logprobs":{"content":[{"token":"${content}","logprob":-1,"top_logprobs":[]}]},"finish_reason":${extra || 'null'}}]}\n\n`;
      const whole = chunk('a') + chunk('b', '"stop"') + 'data: [DONE]\n\n';
      const cut = whole.indexOf('"b"');
      const source = cold('-a--b-----c-----|', { a: whole.slice(0, 30), b: whole.slice(30, cut), c: whole.slice(cut) });
      const events = tokenEventsFromSse(source, { now: () => 0 }).pipe(map((e) => (e.type === 'token' ? `${e.type}:${e.token}` : e.type)));
      // a half chunk gives nothing; the first complete chunk gives start + token; the end of an n=1 sample waits for [DONE]
      expectObservable(events).toBe('----(st)--(be)--|', { s: 'start', t: 'token:a', b: 'token:b', e: 'end' });
      expectSubscriptions(source.subscriptions).toBe('^---------------!');
    });
  });
});
