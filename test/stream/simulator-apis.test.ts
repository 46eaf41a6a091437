import assert from 'node:assert/strict';
import { waitUntil } from '../fixtures/token-gate.ts';
import { after, before, describe, it } from 'node:test';
import { lastValueFrom, toArray } from 'rxjs';
import { tokenEventsFromOpenAI } from '../../src/stream/openai-source.ts';
import { startSimulator, type Simulator } from '../../src/stream/simulator/start-simulator.ts';
import type { StreamEvent } from '../../src/stream/token-event.ts';

const messages = [{ role: 'user', content: 'Which is a noble gas?\n\n(A) N2\n(B) O2\n(C) Ar\n(D) CO2' }];
const tokensOf = (evs: StreamEvent[]) => evs.filter((e) => e.type === 'token').map((e) => e.type === 'token' && [e.token, e.logprob, e.top?.map((a) => [a.token, a.logprob])]);

describe('simulator: the same traces over /chat/completions, /completions and /responses', () => {
  let sim: Simulator;
  before(async () => { sim = await startSimulator({ port: 0, seed: 5 }); });
  after(async () => { await sim.close(); });

  const run = (api: 'chat' | 'completions' | 'responses', maxTokens = 250) => lastValueFrom(tokenEventsFromOpenAI({
    api, baseURL: sim.url, model: 'sim', messages, topLogprobs: 5, requestId: 'q', maxTokens, extraBody: { seed: 11 },
  }).pipe(toArray()));

  it('gives identical token events and ends (finish reason, usage) in the three APIs', async () => {
    const [chat, completions, responses] = [await run('chat'), await run('completions'), await run('responses')];
    assert.deepEqual(chat.filter((e) => e.type === 'stream_error'), []);
    const ends = (evs: StreamEvent[]) => evs.filter((e) => e.type === 'end').map((e) => e.type === 'end' && [e.sampleId, e.finishReason, e.usage?.completionTokens]);
    assert.ok(tokensOf(chat).length > 0);
    // The legacy API's top list is an object token → logprob: alternatives that decode to the same string (the
    // simulator has some, as real vocabularies do) collapse into the first (most likely) one.
    const dedup = (evs: StreamEvent[]) => evs.map((e) => (e.type === 'token' && e.top ? { ...e, top: e.top.filter((a, i) => e.top!.findIndex((b) => b.token === a.token) === i) } : e));
    assert.deepEqual(tokensOf(completions), tokensOf(dedup(chat)));
    assert.deepEqual(tokensOf(responses), tokensOf(chat));
    assert.deepEqual(ends(completions), ends(chat));
    assert.deepEqual(ends(responses), ends(chat));
  });

  it('a trace cut by max tokens ends with length in every API (Responses: response.incomplete)', async () => {
    for (const api of ['chat', 'completions', 'responses'] as const) {
      const evs = await run(api, 7);
      const end = evs.find((e) => e.type === 'end');
      assert.equal(end?.type === 'end' && end.finishReason, 'length', api);
      assert.equal(tokensOf(evs).length, 7, api);
    }
  });
});

describe('simulator: /metrics, zombies and /abort_request', () => {
  it('a zombie keeps running after its client left until /abort_request with its rid; /metrics shows it running', async () => {
    const sim = await startSimulator({ port: 0, seed: 1, zombieRate: 1, tokensPerSecond: 1000 });
    const root = sim.url.replace(/\/v1$/, '');
    const running = async () => Number(/^vllm:num_requests_running\{[^}]*\} (\S+)$/m.exec(await (await fetch(`${root}/metrics`)).text())![1]);
    try {
      const ac = new AbortController();
      const res = await fetch(`${sim.url}/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'rid-7' }, signal: ac.signal,
        body: JSON.stringify({ model: 'm', stream: true, messages, failmode_sim: { length: 1_000_000 } }),
      });
      const reader = res.body!.getReader();
      await reader.read();
      ac.abort();
      await waitFor(() => sim.stats().aborted === 1);
      assert.equal(await running(), 1);
      const tokens = sim.stats().tokensGenerated;
      await waitFor(() => sim.stats().tokensGenerated > tokens + 10); // still generating for nobody
      assert.equal(sim.stats().zombies, 1);
      const r = await fetch(`${root}/abort_request`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rid: 'rid-7' }) });
      assert.equal(r.status, 200);
      await waitFor(() => sim.stats().active === 0);
      assert.equal(await running(), 0);
      assert.equal(sim.stats().explicitAborts, 1);
    } finally {
      await sim.close();
    }
  });
});

/** Polls until `cond` holds; fails after a generous 60 s (the condition is event-driven, not timed). */
async function waitFor(cond: () => boolean): Promise<void> {
  await waitUntil(cond, 60_000, 'condition');
}
