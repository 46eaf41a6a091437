import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { from, lastValueFrom, toArray, type Observable } from 'rxjs';
import { readTokenJsonl, streamEventToJsonl, tokenEventsFromJsonl } from '../../src/stream/jsonl-source.ts';
import type { StreamEvent } from '../../src/stream/token-event.ts';

const collect = (o: Observable<StreamEvent>) => lastValueFrom(o.pipe(toArray()));
const now = () => 0;

const events: StreamEvent[] = [
  { type: 'start', sampleId: 'r:0', model: 'm', t: 1 },
  { type: 'token', sampleId: 'r:0', index: 0, token: 'Hi "there"\n', logprob: -0.25, top: [{ token: 'Hi', logprob: -0.25 }, { token: 'Yo', logprob: -Infinity }], channel: 'reasoning', t: 2 },
  { type: 'token', sampleId: 'r:0', index: 1, token: 'x', logprob: NaN, top: null, channel: 'content', t: 3 },
  { type: 'token', sampleId: 'r:0', index: 2, token: 'y', logprob: -9999, top: [{ token: 'y', logprob: -9999 }], channel: 'content', t: 4 },
  { type: 'stream_error', position: 'event 9', message: 'bad', fatal: false, t: 5 },
  { type: 'end', sampleId: 'r:0', finishReason: 'stop', usage: { promptTokens: 3, completionTokens: 3 }, tokensWithoutLogprobs: 1, t: 6 },
];

describe('JSONL recordings', () => {
  it('round-trips every event type, NaN logprobs and −∞ alternatives included', async () => {
    const text = events.map((e) => `${streamEventToJsonl(e)}\n`).join('');
    for (const line of text.trim().split('\n')) JSON.parse(line); // every line is plain JSON
    const back = await collect(tokenEventsFromJsonl(from([text]), { now }));
    assert.deepEqual(back, events);
  });

  it('reads a file, reports malformed lines by number and goes on; a truncated recording ends open samples with error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'failmode-jsonl-'));
    const path = join(dir, 'rec.jsonl');
    const lines = events.slice(0, 3).map(streamEventToJsonl);
    lines.splice(2, 0, '{"type":"token","sampleId":"r:0"', '{"type":"tokn","sampleId":"r:0","t":1}', '');
    writeFileSync(path, `${lines.join('\n')}\n${streamEventToJsonl({ type: 'start', sampleId: 'r:1', t: 9 })}`);
    const back = await collect(readTokenJsonl(path, { now }));
    const errs = back.filter((e) => e.type === 'stream_error');
    assert.deepEqual(errs.map((e) => e.type === 'stream_error' && e.position), ['line 3', 'line 4']);
    assert.match((errs[1] as { message: string }).message, /Expected `type` to be one of: token, start, end, stream_error, got `"tokn"` \(string\)/);
    assert.deepEqual(back.filter((e) => e.type === 'token').map((e) => e.type === 'token' && e.index), [0, 1]);
    assert.deepEqual(back.filter((e) => e.type === 'end'), [
      { type: 'end', sampleId: 'r:0', finishReason: 'error', t: 0 },
      { type: 'end', sampleId: 'r:1', finishReason: 'error', t: 0 },
    ]);
  });

  it('skips an over-long line and keeps reading', async () => {
    const good = streamEventToJsonl(events[0]!);
    const back = await collect(tokenEventsFromJsonl(from([`${'x'.repeat(300)}`, `${'y'.repeat(300)}\n${good}\n`]), { now, maxLineChars: 200 }));
    assert.equal(back[0]!.type, 'stream_error');
    assert.equal(back[1]!.type, 'start');
  });
});
