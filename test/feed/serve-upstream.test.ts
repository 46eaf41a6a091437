import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startServe } from '../../src/feed/serve-server.ts';
import type { SampleFinishedMessage } from '../../src/feed/protocol.ts';
import { startSimulator } from '../../src/stream/simulator/index.ts';
import { constantRiskModel, FeedClient, messages, postChat } from './feed-helpers.ts';

const MCQ = 'Which option is right?\n(A) one\n(B) two\n(C) three\n(D) four';

describe('failmode serve: what the caller sees when the upstream fails or a stop cuts the usage', () => {
  it('the simulator killed mid-stream: the caller\'s stream ends with an upstream_error event and no [DONE]; the feed has the partial record', async () => {
    const sim = await startSimulator({ seed: 3, tokensPerSecond: 400 });
    const serve = await startServe({ port: 0, upstream: sim.url, heartbeatMs: 60_000 });
    try {
      const client = await new FeedClient(`${serve.url.replace('http', 'ws')}/feed`).open();
      await client.subscribe('all');
      const res = await fetch(`${serve.url}/v1/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'sim', messages: messages(MCQ), stream: true, failmode_sim: { length: 1_000_000 } }),
      });
      const reader = res.body!.getReader();
      const td = new TextDecoder();
      let text = '';
      // Paced by tokens: kill the engine once 20 token chunks have reached the caller.
      while ((text.match(/"delta":\{"content"/g) ?? []).length < 20) {
        const r = await reader.read();
        assert.ok(!r.done, 'stream ended before 20 tokens');
        text += td.decode(r.value, { stream: true });
      }
      await sim.close();
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        text += td.decode(r.value, { stream: true });
      }
      const events = text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
      assert.ok(!events.includes('[DONE]'), 'a truncated stream must not end cleanly');
      const last = JSON.parse(events.at(-1)!) as { error: { message: string; type: string } };
      assert.equal(last.error.type, 'upstream_error');
      assert.match(last.error.message, /before finishing choice 0/);
      const fin = await client.waitFor<SampleFinishedMessage>((m) => m.type === 'sample_finished', 60_000, 'sample_finished');
      assert.equal(fin.finishReason, 'error');
      assert.ok(fin.record !== null && (fin.record.generated_len as number) >= 20);
      client.close();
    } finally {
      await serve.close();
      await sim.close();
    }
  });

  it('a non-streaming caller gets 502 with the reason and the partial answer', async () => {
    // An upstream that sends two chunks and closes without finish_reason or [DONE].
    const { createServer } = await import('node:http');
    const up = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (c: string) => `data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"${c}"},"logprobs":{"content":[{"token":"${c}","logprob":-0.1,"top_logprobs":[{"token":"${c}","logprob":-0.1}]}]},"finish_reason":null}]}\n\n`;
      res.end(chunk('Hel') + chunk('lo') + 'data: {not json\n\n');
    });
    await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
    const port = (up.address() as { port: number }).port;
    const serve = await startServe({ port: 0, upstream: `http://127.0.0.1:${port}/v1`, heartbeatMs: 60_000 });
    try {
      const client = await new FeedClient(`${serve.url.replace('http', 'ws')}/feed`).open();
      await client.subscribe('all');
      const r = await postChat(serve.url, { model: 'm', messages: messages('hi') }, { 'x-failmode-early-stop': '1' });
      assert.equal(r.status, 502);
      const err = (r.json as { error: { type: string; message: string; partial: { choices: { message: { content: string } }[] } } }).error;
      assert.equal(err.type, 'upstream_error');
      assert.match(err.message, /closed the stream before finishing choice 0/);
      assert.equal(err.partial.choices[0]!.message.content, 'Hello');
      // The server has no model: the warning header is on the non-streaming answer too.
      assert.equal(r.headers.get('x-failmode-warning'), 'early stop requested but the server has no model');
      // The unparsable chunk is reported on the feed (not forwarded).
      const e = await client.waitFor((m) => m.type === 'error' && (m as { code: string }).code === 'stream_error', 60_000, 'stream_error');
      assert.match((e as { message: string }).message, /unparsable/);
      client.close();
    } finally {
      await serve.close();
      await new Promise<void>((r) => up.close(() => r()));
    }
  });

  it('include_usage: a stopped request still ends with a usage chunk (the counted tokens) before [DONE]', async () => {
    const sim = await startSimulator({ seed: 3 });
    const serve = await startServe({ port: 0, upstream: sim.url, model: constantRiskModel({ T: 128, intercept: 5 }), heartbeatMs: 60_000 });
    try {
      const r = await postChat(serve.url, {
        model: 'sim', messages: messages(MCQ), stream: true, stream_options: { include_usage: true },
        failmode: { early_stop: true }, failmode_sim: { kind: 'committed', length: 8000 },
      });
      const chunks = r.chunks as (string | { choices: { finish_reason: string | null; delta?: { content?: string } }[]; usage?: { completion_tokens: number } })[];
      assert.equal(chunks.at(-1), '[DONE]');
      const usage = chunks.at(-2) as { choices: unknown[]; usage: { completion_tokens: number; prompt_tokens: null } };
      assert.deepEqual(usage.choices, []);
      const tokens = chunks.filter((c) => typeof c === 'object' && c.choices[0]?.delta?.content !== undefined && c.choices[0]?.finish_reason === null).length;
      assert.ok(chunks.some((c) => typeof c === 'object' && c.choices[0]?.finish_reason === 'failmode_stop'));
      assert.equal(usage.usage.completion_tokens, tokens - 1); // minus the role chunk (content "")
      assert.equal(usage.usage.prompt_tokens, null);
    } finally {
      await serve.close();
      await sim.close();
    }
  });

  it('proxies /v1/completions: monitored, stopped with a text_completion failmode_stop chunk, assembled for a non-streaming caller', async () => {
    const sim = await startSimulator({ seed: 3 });
    const serve = await startServe({ port: 0, upstream: sim.url, model: constantRiskModel({ T: 128, intercept: 5 }), heartbeatMs: 60_000 });
    const post = async (body: Record<string, unknown>) => {
      const res = await fetch(`${serve.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, text: await res.text() };
    };
    try {
      const streamed = await post({ model: 'sim', prompt: MCQ, stream: true, logprobs: 2, failmode: { early_stop: true }, failmode_sim: { kind: 'committed', length: 8000 } });
      assert.equal(streamed.status, 200);
      const events = streamed.text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
      assert.equal(events.at(-1), '[DONE]');
      const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { object: string; choices: { text: string; finish_reason: string | null; logprobs: { top_logprobs: Record<string, number>[] } | null }[] });
      assert.ok(chunks.every((c) => c.object === 'text_completion'));
      const stop = chunks.at(-1)!;
      assert.equal(stop.choices[0]!.finish_reason, 'failmode_stop');
      const withLp = chunks.filter((c) => c.choices[0]?.logprobs);
      assert.ok(withLp.length >= 128 && withLp.every((c) => Object.keys(c.choices[0]!.logprobs!.top_logprobs[0]!).length <= 2), 'top lists cut to the caller\'s k');
      const whole = await post({ model: 'sim', prompt: MCQ, failmode_sim: { kind: 'correct', length: 60 } });
      assert.equal(whole.status, 200);
      const body = JSON.parse(whole.text) as { object: string; choices: { text: string; logprobs: unknown; finish_reason: string }[]; usage: { completion_tokens: number } };
      assert.equal(body.object, 'text_completion');
      assert.equal(body.choices[0]!.finish_reason, 'stop');
      assert.equal(body.choices[0]!.logprobs, null);
      assert.ok(body.choices[0]!.text.length > 0);
      assert.equal(body.usage.completion_tokens, 60);
    } finally {
      await serve.close();
      await sim.close();
    }
  });
});
