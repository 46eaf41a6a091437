import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { filter, firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import OpenAI from 'openai';
import { FailmodeError } from '../../src/errors.ts';
import { ChunkDecoder } from '../../src/stream/chunk-decoder.ts';
import { tokenEventsFromOpenAI } from '../../src/stream/openai-source.ts';
import { startSimulator, type Simulator } from '../../src/stream/simulator/start-simulator.ts';
import { readSseFile } from '../../src/stream/sse-source.ts';
import type { StreamEvent } from '../../src/stream/token-event.ts';
import { tokenGate, waitUntil } from '../fixtures/token-gate.ts';

const messages = [{ role: 'user', content: 'Which is a noble gas?\n\n(A) N2\n(B) O2\n(C) Ar\n(D) CO2' }];
const strip = (evs: StreamEvent[]) => evs.map(({ t: _t, ...rest }) => rest);

describe('tokenEventsFromOpenAI', () => {
  let sim: Simulator;
  before(async () => { sim = await startSimulator({ port: 0, seed: 3 }); });
  after(async () => { await sim.close(); });

  it('streams samples from the endpoint, and replaying the recorded SSE gives the same events token by token', async () => {
    const lines: string[] = [];
    const live = await lastValueFrom(tokenEventsFromOpenAI({
      baseURL: sim.url, model: 'sim', messages, n: 2, topLogprobs: 5, requestId: 'q1',
      extraBody: { failmode_sim: { length: 300 } }, recordSse: (line) => lines.push(line),
    }).pipe(toArray()));
    const tokens = live.filter((e) => e.type === 'token');
    assert.equal(tokens.length, 600);
    assert.ok(tokens.every((e) => e.type === 'token' && e.top!.length === 5 && Number.isFinite(e.logprob)));
    assert.deepEqual(live.filter((e) => e.type === 'end').map((e) => e.type === 'end' && [e.sampleId, e.finishReason]).sort(), [['q1:0', 'stop'], ['q1:1', 'stop']]);
    assert.equal(lines.at(-1), 'data: [DONE]');

    const dir = mkdtempSync(join(tmpdir(), 'failmode-sse-'));
    const path = join(dir, 'rec.sse');
    writeFileSync(path, lines.map((l) => `${l}\n\n`).join(''));
    const replay = await lastValueFrom(readSseFile(path, { requestId: 'q1' }).pipe(toArray()));
    assert.deepEqual(strip(replay), strip(live));
  });

  it('unsubscribing aborts the request, so the server stops generating', async () => {
    // The engine sends 20 tokens, then holds until the test releases it: paced by token counts, not by time.
    const gate = tokenGate(20);
    const slow = await startSimulator({ port: 0, seed: 1, pace: gate.pace });
    try {
      const first = await firstValueFrom(tokenEventsFromOpenAI({ baseURL: slow.url, model: 'sim', messages, topLogprobs: 2, extraBody: { failmode_sim: { length: 5000 } } })
        .pipe(filter((e) => e.type === 'token'), take(10), toArray()));
      assert.equal(first.length, 10);
      await waitUntil(() => slow.stats().aborted === 1, 60_000, 'the request aborted');
      const s = slow.stats();
      assert.equal(s.aborted, 1);
      assert.equal(s.active, 0);
      // The abort lands somewhere between the 10th token read and the hold at 20; releasing the gate adds nothing.
      assert.ok(s.tokensGenerated >= 10 && s.tokensGenerated <= 20, `server generated ${s.tokensGenerated} of 5000 tokens`);
      gate.release();
      await new Promise((r) => setImmediate(r));
      assert.equal(slow.stats().tokensGenerated, s.tokensGenerated, 'nothing generated after the abort');
    } finally {
      gate.release();
      await slow.close();
    }
  });

  it('reports HTTP errors and unreachable servers as FailmodeErrors', async () => {
    await assert.rejects(lastValueFrom(tokenEventsFromOpenAI({ baseURL: sim.url, model: 'sim', messages, topLogprobs: 500, maxRetries: 0 })),
      (err: unknown) => err instanceof FailmodeError && err.code === 'FAILMODE_ERR_HTTP' && /HTTP 400/.test(err.message) && /top_logprobs/.test(err.message));
    const closed = await startSimulator({ port: 0 });
    const url = closed.url;
    await closed.close();
    await assert.rejects(lastValueFrom(tokenEventsFromOpenAI({ baseURL: url, model: 'sim', messages, maxRetries: 0 })),
      (err: unknown) => err instanceof FailmodeError && /cannot reach/.test(err.message));
  });

  it('validates its options up front', () => {
    assert.throws(() => tokenEventsFromOpenAI({ baseURL: sim.url, model: 'sim', messages, n: 0 }), /Expected `n` to be an integer ≥ 1, got `0` \(number\)/);
    assert.throws(() => tokenEventsFromOpenAI({ baseURL: sim.url, model: '', messages }), TypeError);
  });

  it('decodes the openai SDK\'s own chunk objects into the same events as the raw stream', async () => {
    const body = { model: 'sim', messages: [{ role: 'user' as const, content: messages[0]!.content }], n: 2, logprobs: true, top_logprobs: 3, seed: 9, failmode_sim: { length: 80 } };
    const viaSdk: StreamEvent[] = [];
    const decoder = new ChunkDecoder((e) => viaSdk.push(e), { requestId: 's' });
    const client = new OpenAI({ baseURL: sim.url, apiKey: 'EMPTY', maxRetries: 0 });
    let i = 0;
    for await (const chunk of await client.chat.completions.create({ ...body, stream: true } as OpenAI.ChatCompletionCreateParamsStreaming)) decoder.decodeChunk(chunk, `chunk ${++i}`);
    decoder.finish();
    const raw = await lastValueFrom(tokenEventsFromOpenAI({ baseURL: sim.url, model: 'sim', messages, n: 2, topLogprobs: 3, requestId: 's', extraBody: { seed: 9, failmode_sim: { length: 80 } } }).pipe(toArray()));
    assert.equal(viaSdk.filter((e) => e.type === 'token').length, 160);
    assert.deepEqual(strip(viaSdk).map((e) => (e.type === 'token' ? { ...e, top: e.top!.map((a) => ({ token: a.token, logprob: a.logprob })) } : e)), strip(raw));
  });
});
