import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runFeedLoad } from '../../bench/feed-load.ts';

// The bench's scenario at a smaller scale (bench/feed-load.ts runs 64 × 2000 tokens with 8 subscribers).
describe('feed under load (bounded)', () => {
  it('loses nothing for subscribers that keep up, lags the slow one, keeps every buffer under its bound', async () => {
    await loadAndCheck(0);
  });

  it('the same with the proxy in 2 worker threads (ticks cross as batches, the main thread sends them per token)', async () => {
    await loadAndCheck(2);
  });
});

async function loadAndCheck(workers: number): Promise<void> {
  const queueBytes = 256 * 1024;
  // Per-token ticks: the heaviest stream a subscriber can ask for, so the slow one overflows its bound.
  const r = await runFeedLoad({ samples: 16, tokens: 1500, subscribers: 4, queueBytes, tickMode: 'each', workers });
  const fast = r.subscribers.filter((s) => !s.slow);
  const slow = r.subscribers.find((s) => s.slow)!;
  assert.equal(fast.length, 3);
  for (const s of fast) {
    assert.equal(s.lagged, 0);
    assert.equal(s.dropped, 0);
    assert.equal(s.ticks, 16 * 1500);
    assert.equal(s.incompleteSamples, 0);
  }
  // Same message count for every fast subscriber: nothing lost or duplicated.
  assert.equal(new Set(fast.map((s) => s.messages)).size, 1);
  assert.equal(slow.lagged, 1);
  assert.ok(slow.dropped > 0);
  assert.equal(slow.dropped, r.framesDropped);
  assert.equal(slow.messages + slow.dropped - slow.lagged, fast[0]!.messages, 'received + dropped = what the others got');
  for (const b of r.maxBuffered) assert.ok(b <= queueBytes + r.maxFrameBytes, `buffer ${b} over the bound`);
}
