import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServe, type ServeHandle } from '../../src/feed/serve-server.ts';
import type { SampleFinishedMessage, ServerMessage, StopMessage, VoteMessage } from '../../src/feed/protocol.ts';
import { startSimulator, type Simulator } from '../../src/stream/simulator/index.ts';
import { constantRiskModel, FeedClient, messages, postChat } from './feed-helpers.ts';
import { tokenGate, waitUntil } from '../fixtures/token-gate.ts';

const MCQ = 'Which option is right?\n(A) one\n(B) two\n(C) three\n(D) four';

describe('failmode serve: proxy + WebSocket feed on the simulator', () => {
  let sim: Simulator;
  let serve: ServeHandle;
  let feedUrl: string;

  before(async () => {
    sim = await startSimulator({ seed: 3 });
    serve = await startServe({ port: 0, upstream: sim.url, model: constantRiskModel({ T: 128, intercept: 5 }), heartbeatMs: 60_000 });
    feedUrl = `${serve.url.replace('http', 'ws')}/feed`;
  });
  after(async () => {
    await serve.close();
    await sim.close();
  });

  it('sends the documented messages in order for an early-stopped sample, ends its stream with failmode_stop and aborts the engine', async () => {
    const client = await new FeedClient(feedUrl).open();
    const hello = client.messages[0]!;
    assert.equal(hello.type, 'hello');
    assert.equal((hello as Extract<ServerMessage, { type: 'hello' }>).protocol, 1);
    assert.equal((hello as Extract<ServerMessage, { type: 'hello' }>).model?.commitmentPoint, 128);
    await client.subscribe('all');
    const statsBefore = sim.stats();

    const r = await postChat(serve.url, {
      model: 'sim', messages: messages(MCQ), stream: true, failmode: { early_stop: true, run: 'run-1', question: 'q1' },
      failmode_sim: { kind: 'committed', length: 8000 },
    });
    assert.equal(r.status, 200);
    const vote = await client.waitFor<VoteMessage>((m) => m.type === 'vote', 60_000, 'vote');
    const types = client.messages.map((m) => m.type);
    assert.deepEqual(types, ['hello', 'subscribed', 'sample_started', 'window', 'risk', 'committed_failure', 'stop', 'sample_finished', 'vote']);
    const stop = client.messages.find((m) => m.type === 'stop') as StopMessage;
    assert.equal(stop.reason, 'committed_failure');
    assert.equal(stop.T, 128);
    assert.equal(stop.tokens, 128);
    assert.equal(stop.run, 'run-1');
    const finished = client.messages.find((m) => m.type === 'sample_finished') as SampleFinishedMessage;
    assert.equal(finished.stopped, true);
    assert.equal(finished.finishReason, 'failmode_stop');
    assert.equal(finished.answer, null);
    assert.equal(finished.record?.finish_reason, 'failmode_stop');
    assert.equal(vote.question, 'q1');
    assert.equal(vote.samples, 1);
    assert.equal(vote.stopped, 1);
    assert.equal(vote.majority, null);

    // The caller's stream: 128 content tokens (logprobs stripped: it did not ask), then failmode_stop, then [DONE].
    assert.equal(r.chunks.at(-1), '[DONE]');
    const last = r.chunks.at(-2) as { choices: Array<{ finish_reason: string }> };
    assert.equal(last.choices[0]!.finish_reason, 'failmode_stop');
    const content = r.chunks.slice(0, -2) as Array<{ choices: Array<{ delta: { content?: string }; logprobs: unknown }> }>;
    const tokenChunks = content.filter((c) => c.choices[0]?.delta.content);
    assert.equal(tokenChunks.length, 128);
    assert.ok(content.every((c) => c.choices.every((ch) => ch.logprobs === null || ch.logprobs === undefined)));

    // The engine stopped: one aborted stream, far fewer than 8000 tokens generated.
    await waitUntil(() => sim.stats().aborted > statsBefore.aborted);
    const s = sim.stats();
    assert.equal(s.aborted - statsBefore.aborted, 1);
    assert.ok(s.tokensGenerated - statsBefore.tokensGenerated < 8000, `generated ${s.tokensGenerated - statsBefore.tokensGenerated}`);
    client.close();
  });

  it('without early stopping only reports, and keeps logprobs the caller asked for (trimmed to its top_logprobs)', async () => {
    const client = await new FeedClient(feedUrl).open();
    await client.subscribe('run-2');
    const r = await postChat(serve.url, {
      model: 'sim', messages: messages(MCQ), stream: true, logprobs: true, top_logprobs: 3,
      failmode_sim: { kind: 'correct', length: 300 },
    }, { 'x-failmode-run': 'run-2', 'x-failmode-question': 'q2' });
    const vote = await client.waitFor<VoteMessage>((m) => m.type === 'vote');
    // The model flags it (committed_failure is reported) but nobody asked to stop it: it runs to the end.
    assert.deepEqual(client.messages.map((m) => m.type), ['hello', 'subscribed', 'sample_started', 'window', 'risk', 'committed_failure', 'sample_finished', 'vote']);
    const finished = client.messages.find((m) => m.type === 'sample_finished') as SampleFinishedMessage;
    assert.equal(finished.stopped, false);
    assert.equal(finished.finishReason, 'stop');
    assert.equal(finished.tokens, 300);
    assert.match(finished.answer ?? '', /^[ABCD]$/);
    assert.deepEqual(vote.counts, { [finished.answer!]: 1 });
    assert.equal(vote.majority, finished.answer);
    const withLp = (r.chunks as Array<{ choices?: Array<{ logprobs?: { content?: Array<{ top_logprobs: unknown[] }> } }> }>)
      .filter((c) => typeof c === 'object' && c.choices?.[0]?.logprobs?.content);
    assert.equal(withLp.length, 300);
    assert.ok(withLp.every((c) => c.choices![0]!.logprobs!.content![0]!.top_logprobs.length === 3));
    assert.equal((r.chunks.at(-2) as { choices: Array<{ finish_reason: string }> }).choices[0]!.finish_reason, 'stop');
    client.close();
  });

  it('a client `stop` stops that sample: its stream ends, the simulator aborts it and generates fewer tokens', async () => {
    const client = await new FeedClient(feedUrl).open();
    await client.subscribe('all');
    const statsBefore = sim.stats();
    const request = postChat(serve.url, {
      model: 'sim', messages: messages(MCQ), stream: true, failmode_sim: { kind: 'correct', length: 200_000 },
    }, { 'x-failmode-run': 'run-3' });
    const started = await client.waitFor((m) => m.type === 'sample_started');
    const sampleId = (started as Extract<ServerMessage, { type: 'sample_started' }>).sampleId;
    client.send({ type: 'stop', sampleId });
    const stop = await client.waitFor<StopMessage>((m) => m.type === 'stop');
    assert.equal(stop.reason, 'client');
    assert.equal(stop.sampleId, sampleId);
    const r = await request;
    assert.equal((r.chunks.at(-2) as { choices: Array<{ finish_reason: string }> }).choices[0]!.finish_reason, 'failmode_stop');
    const finished = await client.waitFor<SampleFinishedMessage>((m) => m.type === 'sample_finished');
    assert.equal(finished.stopped, true);
    await waitUntil(() => sim.stats().aborted > statsBefore.aborted);
    const s = sim.stats();
    assert.equal(s.aborted - statsBefore.aborted, 1);
    assert.ok(s.tokensGenerated - statsBefore.tokensGenerated < 200_000, `generated ${s.tokensGenerated - statsBefore.tokensGenerated}`);
    // Stopping it again, or an unknown sample: an error reply, the connection stays.
    client.send({ type: 'stop', sampleId });
    const err = await client.waitFor((m) => m.type === 'error');
    assert.equal((err as Extract<ServerMessage, { type: 'error' }>).code, 'unknown_sample');
    assert.equal(client.closed, null);
    client.close();
  });

  it('a client `stop` ends the caller\'s stream at once, without waiting for the next upstream chunk', async () => {
    // The engine sends 3 tokens and then holds: the next upstream chunk never comes until the test releases it.
    const gate = tokenGate(3);
    const slow = await startSimulator({ seed: 4, pace: gate.pace });
    const proxy = await startServe({ port: 0, upstream: slow.url, model: constantRiskModel(), heartbeatMs: 60_000 });
    try {
      const client = await new FeedClient(`${proxy.url.replace('http', 'ws')}/feed`).open();
      await client.subscribe('all');
      const request = postChat(proxy.url, { model: 'sim', messages: messages(MCQ), stream: true, failmode_sim: { length: 1000 } });
      const started = await client.waitFor((m) => m.type === 'sample_started');
      await waitUntil(() => slow.stats().tokensGenerated === 3, 60_000, 'the engine holding after 3 tokens');
      client.send({ type: 'stop', sampleId: (started as Extract<ServerMessage, { type: 'sample_started' }>).sampleId });
      const r = await request;
      assert.equal(slow.stats().tokensGenerated, 3, 'the caller\'s stream ended while the engine was still holding its 4th token');
      assert.equal((r.chunks.at(-2) as { choices: Array<{ finish_reason: string }> }).choices[0]!.finish_reason, 'failmode_stop');
      await waitUntil(() => slow.stats().aborted === 1, 60_000, 'the upstream request aborted');
      client.close();
    } finally {
      gate.release();
      await proxy.close();
      await slow.close();
    }
  });

  it('answers non-streaming callers with one assembled chat.completion (failmode_stop when stopped)', async () => {
    const r = await postChat(serve.url, {
      model: 'sim', messages: messages(MCQ), failmode: { early_stop: true }, failmode_sim: { kind: 'committed', length: 2000 },
    });
    assert.equal(r.status, 200);
    const j = r.json as { object: string; choices: Array<{ finish_reason: string; message: { content: string }; logprobs: unknown }> };
    assert.equal(j.object, 'chat.completion');
    assert.equal(j.choices[0]!.finish_reason, 'failmode_stop');
    assert.equal(j.choices[0]!.logprobs, null);
    assert.ok(j.choices[0]!.message.content.length > 0);
    const done = await postChat(serve.url, { model: 'sim', messages: messages(MCQ), failmode_sim: { kind: 'correct', length: 50 } });
    const d = done.json as { choices: Array<{ finish_reason: string; message: { content: string } }>; usage: { completion_tokens: number } };
    assert.equal(d.choices[0]!.finish_reason, 'stop');
    assert.match(d.choices[0]!.message.content, /Final Answer: [ABCD]$/);
    assert.equal(d.usage.completion_tokens, 50);
  });

  it('stops each flagged choice of an n > 1 request on its own', async () => {
    const r = await postChat(serve.url, {
      model: 'sim', messages: messages(MCQ), stream: true, n: 3, failmode: { early_stop: true }, failmode_sim: { length: 5000 },
    });
    const finals = (r.chunks.filter((c) => typeof c === 'object') as Array<{ choices: Array<{ index: number; finish_reason: string | null }> }>)
      .flatMap((c) => c.choices).filter((c) => c.finish_reason);
    assert.deepEqual(finals.map((c) => c.finish_reason), ['failmode_stop', 'failmode_stop', 'failmode_stop']);
    assert.deepEqual(finals.map((c) => c.index).sort(), [0, 1, 2]);
    assert.equal(r.chunks.at(-1), '[DONE]');
  });

  it('passes GET /v1/models through and answers GET /health', async () => {
    const models = await (await fetch(`${serve.url}/v1/models`)).json() as { data: Array<{ id: string }> };
    assert.equal(models.data[0]!.id, 'failmode-sim');
    const health = await (await fetch(`${serve.url}/health`)).json() as { status: string; samples: { started: number } };
    assert.equal(health.status, 'ok');
    assert.ok(health.samples.started >= 4);
  });

  it('pushed tokens from a client get risk and stop back (no subscription needed)', async () => {
    const client = await new FeedClient(feedUrl).open();
    // Top-20 lists, as the model's signal.topK (another k would add a `warning`).
    const top = (i: number) => Array.from({ length: 20 }, (_, j) => ({ token: j === 0 ? ` w${i}` : ` x${j}`, logprob: -0.5 - j }));
    const tokens = Array.from({ length: 130 }, (_, i) => ({ token: ` w${i}`, logprob: -0.5, top: top(i) }));
    client.send({ type: 'tokens', sampleId: 'mine-1', run: 'pushed', earlyStop: true, tokens: tokens.slice(0, 100) });
    client.send({ type: 'tokens', sampleId: 'mine-1', tokens: tokens.slice(100) });
    const stop = await client.waitFor<StopMessage>((m) => m.type === 'stop');
    assert.equal(stop.sampleId, 'mine-1');
    assert.equal(stop.T, 128);
    const finished = await client.waitFor<SampleFinishedMessage>((m) => m.type === 'sample_finished');
    assert.equal(finished.tokens, 128);
    assert.deepEqual(client.messages.slice(1).map((m) => m.type), ['sample_started', 'window', 'risk', 'committed_failure', 'stop', 'sample_finished', 'vote']);
    // Late tokens of the stopped sample are dropped silently; a finished, unstopped id is an error.
    client.send({ type: 'tokens', sampleId: 'mine-1', tokens: tokens.slice(0, 1) });
    client.send({ type: 'tokens', sampleId: 'mine-2', tokens: tokens.slice(0, 3), end: { finishReason: 'stop' } });
    await client.waitFor((m) => m.type === 'sample_finished' && m.sampleId === 'mine-2');
    client.send({ type: 'tokens', sampleId: 'mine-2', tokens: tokens.slice(0, 1) });
    const err = await client.waitFor((m) => m.type === 'error');
    assert.equal((err as Extract<ServerMessage, { type: 'error' }>).code, 'sample_finished');
    assert.equal(client.messages.filter((m) => m.type === 'error').length, 1);
    client.close();
  });
});
