import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { startServe } from '../../src/feed/serve-server.ts';
import { FEED_SUBPROTOCOL, type ServerMessage } from '../../src/feed/protocol.ts';
import { loadModelFile } from '../../src/models/model-io.ts';
import { FeedClient } from './feed-helpers.ts';

const MODEL = fileURLToPath(new URL('../fixtures/online-committed-model.json', import.meta.url));

describe('feed: subprotocol and the documented message order', () => {
  it('accepts the feed\'s own subprotocol or none, refuses a handshake offering only others', async () => {
    const serve = await startServe({ port: 0, heartbeatMs: 60_000 });
    const url = `${serve.url.replace('http', 'ws')}/feed`;
    try {
      const ours = await new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(url, [FEED_SUBPROTOCOL, 'other']);
        ws.on('message', () => { resolve(ws.protocol); ws.close(); });
        ws.on('error', reject);
      });
      assert.equal(ours, FEED_SUBPROTOCOL);
      const none = await new FeedClient(url).open();
      assert.equal(none.ws.protocol, '');
      none.close();
      const status = await new Promise<number>((resolve) => {
        const ws = new WebSocket(url, ['graphql-ws']);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
        ws.on('error', () => undefined);
      });
      assert.equal(status, 400);
    } finally {
      await serve.close();
    }
  });

  it('a sample that ends before its last window: the unreached window and the full-trace risk come before sample_finished', async () => {
    const serve = await startServe({ port: 0, heartbeatMs: 60_000, model: await loadModelFile(MODEL) });
    try {
      const client = await new FeedClient(`${serve.url.replace('http', 'ws')}/feed`).open();
      const tokens = Array.from({ length: 200 }, (_, i) => ({ token: ` w${i}`, logprob: -0.3, top: [{ token: ` w${i}`, logprob: -0.3 }, { token: ' x', logprob: -1.5 }] }));
      client.send({ type: 'tokens', sampleId: 's1', run: 'r', tokens, end: { finishReason: 'stop' } });
      await client.waitFor((m) => m.type === 'vote', 60_000, 'vote');
      // (A warning about the pushed top-k differing from the model's is a side note, not part of the order.)
      const seq = client.messages.filter((m) => m.type !== 'warning' && ('sampleId' in m || m.type === 'vote')).map((m) => {
        const x = m as ServerMessage & { T?: number | string };
        return x.type === 'window' || x.type === 'risk' ? `${x.type}(T=${x.T})` : x.type;
      });
      assert.deepEqual(seq, ['sample_started', 'window(T=128)', 'risk(T=128)', 'window(T=256)', 'risk(T=full)', 'sample_finished', 'vote']);
      client.close();
    } finally {
      await serve.close();
    }
  });
});
