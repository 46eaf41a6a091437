import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer } from 'node:http';
import { WebSocket } from 'ws';
import { createFeedServer } from '../../src/feed/feed-server.ts';
import { isLoopbackHost } from '../../src/feed/is-loopback-host.ts';
import { FeedProtocolError, parseClientMessage } from '../../src/feed/protocol.ts';
import { startServe, type ServeHandle } from '../../src/feed/serve-server.ts';
import type { ServerMessage } from '../../src/feed/protocol.ts';
import { startSimulator, type Simulator } from '../../src/stream/simulator/index.ts';
import { constantRiskModel, FeedClient, messages, postChat } from './feed-helpers.ts';

const TOKEN = 'test-secret-token';

describe('bad WebSocket input gets an error reply or a refusal, and the server stays up', () => {
  let serve: ServeHandle;
  let feedUrl: string;
  before(async () => {
    serve = await startServe({ port: 0, token: TOKEN, model: constantRiskModel(), maxMessageBytes: 4096, heartbeatMs: 60_000 });
    feedUrl = `${serve.url.replace('http', 'ws')}/feed`;
  });
  after(async () => serve.close());

  const auth = { authorization: `Bearer ${TOKEN}` };
  const errorOf = (m: ServerMessage) => m as Extract<ServerMessage, { type: 'error' }>;

  it('replies `error` to text that is not JSON, a non-object, an unknown type and invalid fields; the connection stays', async () => {
    const c = await new FeedClient(feedUrl, auth).open();
    c.send('this is not json');
    c.send('[1, 2]');
    c.send({ type: 'dance' });
    c.send({ type: 'subscribe' });
    c.send({ type: 'tokens', sampleId: 's', tokens: [{ token: 7 }] });
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await c.waitFor(() => c.messages.filter((m) => m.type === 'error').length === 6, 60_000, '6 errors');
    const errors = c.messages.filter((m) => m.type === 'error').map(errorOf);
    assert.deepEqual(errors.map((e) => e.code), ['bad_json', 'bad_message', 'unknown_type', 'bad_message', 'bad_message', 'binary_not_supported']);
    assert.match(errors[1]!.message, /Expected a JSON object with a `type`, got `\[1,2\]` \(array\)/);
    assert.equal(errors[2]!.message, 'Unknown message type `dance`. Type must be one of: subscribe, unsubscribe, stop, tokens');
    assert.match(errors[3]!.message, /Expected `run` to be a non-empty string/);
    assert.match(errors[4]!.message, /tokens\[0\]\.token to be a string, got `7` \(number\)/);
    // Still up and working.
    await c.subscribe('all');
    assert.equal(c.closed, null);
    c.close();
  });

  it('refuses a frame over the message limit (close 1009) and keeps serving others', async () => {
    const c = await new FeedClient(feedUrl, auth).open();
    c.send({ type: 'subscribe', run: 'x'.repeat(5000) });
    const closed = await c.waitClosed();
    assert.equal(closed.code, 1009);
    const d = await new FeedClient(feedUrl, auth).open();
    await d.subscribe('all');
    d.close();
  });

  it('refuses a wrong or missing token (401) and a foreign browser origin (403) at the upgrade', async () => {
    assert.equal(await upgradeStatus(feedUrl, {}), 401);
    assert.equal(await upgradeStatus(feedUrl, { authorization: 'Bearer wrong' }), 401);
    assert.equal(await upgradeStatus(`${feedUrl}?token=wrong`, {}), 401);
    assert.equal(await upgradeStatus(feedUrl, { ...auth, origin: 'https://evil.example' }), 403);
    assert.equal(await upgradeStatus(`${feedUrl}?token=${TOKEN}`, {}), 101);
    assert.equal(await upgradeStatus(feedUrl.replace('/feed', '/other'), auth), 404);
  });

  it('protects the proxy with the same token', async () => {
    const noAuth = await postChat(serve.url, { model: 'm', messages: messages('hi') });
    assert.equal(noAuth.status, 401);
    assert.equal((noAuth.json as { error: { type: string } }).error.type, 'authentication_error');
    // No upstream configured: authorised requests get a clear 503.
    const noUpstream = await postChat(serve.url, { model: 'm', messages: messages('hi') }, auth);
    assert.equal(noUpstream.status, 503);
    const health = await (await fetch(`${serve.url}/health`)).json() as Record<string, unknown>;
    assert.deepEqual(Object.keys(health).sort(), ['protocol', 'status', 'uptimeSeconds']); // no details without the token
  });
});

describe('proxy request limits', () => {
  let sim: Simulator;
  let serve: ServeHandle;
  before(async () => {
    sim = await startSimulator();
    serve = await startServe({ port: 0, upstream: sim.url, maxBodyBytes: 1024 });
  });
  after(async () => {
    await serve.close();
    await sim.close();
  });

  it('answers 413 over the body limit, 415 for a non-JSON content type, 400 for bad JSON or bad failmode controls', async () => {
    const big = await postChat(serve.url, { model: 'm', messages: messages('x'.repeat(2000)) });
    assert.equal(big.status, 413);
    assert.match((big.json as { error: { message: string } }).error.message, /over the limit of 1024 bytes/);
    const text = await fetch(`${serve.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    assert.equal(text.status, 415);
    const bad = await fetch(`${serve.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
    assert.equal(bad.status, 400);
    const ctl = await postChat(serve.url, { model: 'm', messages: messages('x'), failmode: { early_stop: 'yes' } });
    assert.equal(ctl.status, 400);
    assert.match((ctl.json as { error: { message: string } }).error.message, /failmode\.early_stop/);
    // Upstream errors come back as the upstream sent them.
    const up = await postChat(serve.url, { model: 'm', messages: [] });
    assert.equal(up.status, 400);
    assert.match((up.json as { error: { message: string } }).error.message, /messages/);
    // And the server is still fine.
    const ok = await postChat(serve.url, { model: 'm', messages: messages('2+2?'), stream: true, failmode_sim: { length: 20 } });
    assert.equal(ok.status, 200);
    assert.equal(ok.chunks.at(-1), '[DONE]');
  });
});

describe('heartbeat', () => {
  it('terminates a peer that stops answering pings and keeps one that answers', async () => {
    const serve = await startServe({ port: 0, heartbeatMs: 1000 });
    try {
      const url = `${serve.url.replace('http', 'ws')}/feed`;
      const alive = await new FeedClient(url).open();
      // A peer whose pongs never come (ws answers pings itself unless told not to).
      const dead = await new FeedClient(url, {}, { autoPong: false }).open();
      const closed = await dead.waitClosed(60_000);
      assert.equal(closed.code, 1006); // terminated, no close frame
      assert.equal(alive.closed, null);
      await alive.subscribe('all');
      alive.close();
    } finally {
      await serve.close();
    }
  });
});

describe('safe defaults', () => {
  it('refuses a non-loopback host without a token', async () => {
    await assert.rejects(startServe({ host: '0.0.0.0', port: 0 }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'FAILMODE_ERR_USAGE');
      assert.match(err.message, /Refusing to listen on 0\.0\.0\.0 without --token/);
      return true;
    });
  });

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) assert.equal(isLoopbackHost(h), true, h);
    for (const h of ['0.0.0.0', '::', '192.168.1.5', '10.0.0.1', 'example.com', '::ffff:10.0.0.1']) assert.equal(isLoopbackHost(h), false, h);
  });

  it('rejects contradictory feed options with a TypeError sentence', () => {
    assert.throws(() => createFeedServer({ hello: () => ({ server: { name: 'failmode', version: '0', stopPolicy: 'x' }, model: null }) }),
      { name: 'TypeError', message: 'One and only one of the "server" or "noServer" options must be specified' });
    assert.throws(() => createFeedServer({ noServer: true, server: createServer(), hello: () => ({ server: { name: 'failmode', version: '0', stopPolicy: 'x' }, model: null }) }), TypeError);
    assert.throws(() => createFeedServer({ noServer: true, maxPayload: 0, hello: () => ({ server: { name: 'failmode', version: '0', stopPolicy: 'x' }, model: null }) }),
      { message: 'Expected `maxPayload` to be a positive integer, got `0` (number)' });
  });

  it('parses client messages strictly', () => {
    const limits = { maxTokensPerMessage: 2 };
    assert.deepEqual(parseClientMessage('{"type":"subscribe","run":"all","tokens":true}', limits), { type: 'subscribe', run: 'all', tokens: true });
    assert.deepEqual(parseClientMessage('{"type":"stop","sampleId":"a:0"}', limits), { type: 'stop', sampleId: 'a:0' });
    const t = parseClientMessage('{"type":"tokens","sampleId":"s","tokens":[{"token":"a","logprob":null,"top":null}],"end":{"finishReason":"stop"}}', limits);
    assert.deepEqual(t, { type: 'tokens', sampleId: 's', tokens: [{ token: 'a', logprob: null, top: null, channel: 'content' }], end: { finishReason: 'stop' } });
    assert.throws(() => parseClientMessage('{"type":"tokens","sampleId":"s","tokens":[{"token":"a"},{"token":"b"},{"token":"c"}]}', limits),
      (e: FeedProtocolError) => e.code === 'bad_message' && e.message === 'Expected at most 2 tokens per message, got 3');
    assert.throws(() => parseClientMessage('{"type":"stop","sampleId":""}', limits), (e: FeedProtocolError) => e.code === 'bad_message');
  });
});

/** The HTTP status of a WebSocket upgrade attempt (101 = accepted). */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.on('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}
