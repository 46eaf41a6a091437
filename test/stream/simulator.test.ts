import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startSimulator, type Simulator } from '../../src/stream/simulator/start-simulator.ts';
import { tokenGate, waitUntil } from '../fixtures/token-gate.ts';

type Json = Record<string, any>;

async function post(sim: Simulator, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(`${sim.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

/** Parses an SSE body into its data payloads. */
function dataLines(text: string): string[] {
  return text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
}

function chunks(text: string): Json[] {
  return dataLines(text).filter((d) => d !== '[DONE]').map((d) => JSON.parse(d) as Json);
}

const MC = 'Which gas is noble?\n\n(A) N2\n(B) O2\n(C) Ar\n(D) CO2';
const MATH = 'Compute 6 * 7.';
const msg = (content: string) => [{ role: 'user', content }];

describe('simulator', () => {
  let sim: Simulator;
  before(async () => { sim = await startSimulator({ port: 0, seed: 11 }); });
  after(async () => { await sim.close(); });

  it('binds 127.0.0.1 on an ephemeral port and lists a model', async () => {
    assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    assert.ok(sim.port > 0);
    const models = await (await fetch(`${sim.url}/models`)).json() as Json;
    assert.equal(models.object, 'list');
    assert.equal(models.data[0].object, 'model');
  });

  it('streams n choices with k alternatives per token, usage, [DONE], and a final-answer line per profile', async () => {
    const r = await post(sim, { model: 'any-name', messages: msg(MC), stream: true, logprobs: true, top_logprobs: 5, n: 3, stream_options: { include_usage: true }, failmode_sim: { length: 60 } });
    assert.equal(r.status, 200);
    assert.equal(dataLines(r.text).at(-1), '[DONE]');
    const cs = chunks(r.text);
    const text: string[] = ['', '', ''];
    const finish: string[] = [];
    let tokens = 0;
    for (const c of cs) {
      assert.equal(c.model, 'any-name');
      for (const ch of c.choices) {
        if (ch.delta.content) text[ch.index] += ch.delta.content;
        if (ch.finish_reason) finish[ch.index] = ch.finish_reason;
        for (const e of ch.logprobs?.content ?? []) {
          tokens++;
          assert.equal(e.top_logprobs.length, 5);
          assert.ok(e.top_logprobs.every((a: Json, i: number) => i === 0 || a.logprob <= e.top_logprobs[i - 1].logprob), 'alternatives sorted');
        }
      }
    }
    assert.equal(tokens, 180);
    assert.deepEqual(finish, ['stop', 'stop', 'stop']);
    for (const t of text) assert.match(t, /\n\nFinal Answer: [A-D]$/);
    assert.deepEqual(cs.at(-1)!.usage.completion_tokens, 180);
  });

  it('ends math traces with \\boxed{…}, honours failmode_sim kind/answer/reference and the header', async () => {
    const a = chunks((await post(sim, { messages: msg(MATH), stream: true, failmode_sim: { kind: 'committed', reference: '42', length: 40 } })).text);
    const textA = a.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    assert.match(textA, /\n\nFinal: \\boxed\{(\d+)\}$/);
    assert.notEqual(/boxed\{(\d+)\}/.exec(textA)![1], '42', 'a failure answers something else');
    const b = chunks((await post(sim, { messages: msg(MATH), stream: true, failmode_sim: { kind: 'correct', reference: '42', length: 40 } })).text);
    assert.match(b.map((c) => c.choices[0]?.delta?.content ?? '').join(''), /\\boxed\{42\}$/);
    const c = chunks((await post(sim, { messages: msg(MATH), stream: true }, { 'x-failmode-sim-profile': 'profile=final-answer;answer=D;length=30' })).text);
    assert.match(c.map((x) => x.choices[0]?.delta?.content ?? '').join(''), /Final Answer: D$/);
    const before = sim.stats().samplesPerKind.persistent;
    await post(sim, { messages: msg(MATH), failmode_sim: { kind: 'persistent', length: 20 } });
    assert.equal(sim.stats().samplesPerKind.persistent, before + 1);
  });

  it('a list of kinds is cycled over the choices of one request (watch --demo\'s mix)', async () => {
    const kinds = ['committed', 'correct', 'persistent'];
    const before = { ...sim.stats().samplesPerKind };
    const cs = chunks((await post(sim, { messages: msg(MATH), stream: true, n: 7, failmode_sim: { kind: kinds, reference: '42', length: 40 } })).text);
    const text = new Map<number, string>();
    for (const c of cs) for (const ch of c.choices as Json[]) text.set(ch.index, (text.get(ch.index) ?? '') + (ch.delta?.content ?? ''));
    const answers = [...text.keys()].sort((a, b) => a - b).map((i) => /boxed\{(\d+)\}$/.exec(text.get(i)!)![1]);
    // correct choices (1 and 4) answer the reference; the failures (committed 0, 3, 6; persistent 2, 5) something else
    answers.forEach((a, i) => (kinds[i % 3] === 'correct' ? assert.equal(a, '42', `choice ${i}`) : assert.notEqual(a, '42', `choice ${i}`)));
    const after = sim.stats().samplesPerKind;
    assert.deepEqual([after.committed - before.committed, after.correct - before.correct, after.persistent - before.persistent], [3, 2, 2]);
    assert.equal((await post(sim, { messages: msg(MATH), failmode_sim: { kind: ['correct', 'weird'] } })).status, 400);
    assert.equal((await post(sim, { messages: msg(MATH), failmode_sim: { kind: [] } })).status, 400);
  });

  it('stops at max_tokens with finish_reason length; no logprobs when not asked; empty top list for top_logprobs 0', async () => {
    const cut = chunks((await post(sim, { messages: msg(MATH), stream: true, logprobs: true, max_tokens: 7, failmode_sim: { length: 100 } })).text);
    const entries = cut.flatMap((c) => c.choices.flatMap((ch: Json) => ch.logprobs?.content ?? []));
    assert.equal(entries.length, 7);
    assert.ok(entries.every((e: Json) => Array.isArray(e.top_logprobs) && e.top_logprobs.length === 0));
    assert.equal(cut.flatMap((c) => c.choices).find((ch: Json) => ch.finish_reason)?.finish_reason, 'length');
    const none = chunks((await post(sim, { messages: msg(MATH), stream: true, max_tokens: 5 })).text);
    assert.ok(none.every((c) => c.choices.every((ch: Json) => ch.logprobs === null)));
  });

  it('answers non-streaming requests with one JSON completion including logprobs', async () => {
    const r = await post(sim, { messages: msg(MC), logprobs: true, top_logprobs: 3, n: 2, failmode_sim: { length: 25 } });
    const body = JSON.parse(r.text) as Json;
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.choices.length, 2);
    for (const ch of body.choices) {
      assert.equal(ch.logprobs.content.length, 25);
      assert.equal(ch.logprobs.content.map((e: Json) => e.token).join(''), ch.message.content);
      assert.equal(ch.finish_reason, 'stop');
    }
    assert.equal(body.usage.completion_tokens, 50);
  });

  it('is deterministic per seed (and per request seed), and differs across seeds', async () => {
    const other = await startSimulator({ port: 0, seed: 11 });
    const third = await startSimulator({ port: 0, seed: 12 });
    try {
      const body = { messages: msg(MATH), logprobs: true, top_logprobs: 4, seed: 5, failmode_sim: { length: 50 } };
      const strip = (t: string) => t.replace(/"id":"[^"]*","object":"chat.completion","created":\d+/, '');
      const x = strip((await post(sim, body)).text);
      const y = strip((await post(other, body)).text);
      const z = strip((await post(third, body)).text);
      assert.equal(x, y);
      assert.notEqual(x, z);
    } finally {
      await other.close();
      await third.close();
    }
  });

  it('rejects bad requests with OpenAI-shaped errors: 400, 404, 405, 413', async () => {
    const bad = await post(sim, { messages: [] });
    assert.equal(bad.status, 400);
    assert.match((JSON.parse(bad.text) as Json).error.message, /Expected `messages` to be a non-empty array/);
    assert.equal((await post(sim, { messages: msg('x'), top_logprobs: 201 })).status, 400);
    assert.equal((await post(sim, { messages: msg('x'), failmode_sim: { kind: 'weird' } })).status, 400);
    assert.equal((await fetch(`${sim.url}/nope`)).status, 404);
    assert.equal((await fetch(`${sim.url}/chat/completions`)).status, 405);
    const big = await post(sim, { messages: msg('x'.repeat(1024 * 1024 + 10)) });
    assert.equal(big.status, 413);
    const huge = await post(sim, { messages: msg('x'), n: 3, failmode_sim: { length: 100_000 } });
    assert.equal(huge.status, 400);
    assert.match((JSON.parse(huge.text) as Json).error.message, /non-streaming response is limited to 200000 tokens/);
  });

  it('stops generating when the client closes the stream early, and /stats shows the abort', async () => {
    // Paced by token counts: 5 tokens go out at once, the 6th waits until the test releases the gate.
    const gate = tokenGate(5);
    const slow = await startSimulator({ port: 0, seed: 1, pace: gate.pace });
    try {
      const full = 2000;
      await new Promise<void>((resolve, reject) => {
        const req = request(`${slow.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
          let seen = 0;
          res.on('data', (c: Buffer) => {
            seen += c.toString().split('"logprobs":{').length - 1;
            if (seen >= 5) { req.destroy(); resolve(); }
          });
          res.on('error', () => undefined);
        });
        req.on('error', (e) => { if (!(e as NodeJS.ErrnoException).code?.includes('RESET') && e.message !== 'socket hang up') reject(e); });
        req.end(JSON.stringify({ messages: msg(MATH), stream: true, logprobs: true, top_logprobs: 2, failmode_sim: { length: full } }));
      });
      await waitUntil(() => slow.stats().aborted === 1, 60_000, 'the abort counted');
      gate.release();
      const s = slow.stats();
      assert.equal(s.aborted, 1);
      assert.equal(s.completed, 0);
      assert.equal(s.active, 0);
      assert.equal(s.tokensGenerated, 5, `generated ${s.tokensGenerated} of ${full}`);
      await new Promise((r) => setImmediate(r));
      assert.equal(slow.stats().tokensGenerated, 5, 'nothing generated after the abort, even once released');
      const stats = await (await fetch(`${slow.url.replace(/\/v1$/, '')}/stats`)).json() as Json;
      assert.equal(stats.aborted, 1);
      assert.equal(stats.streams, 1);
    } finally {
      gate.release();
      await slow.close();
    }
  });
});
