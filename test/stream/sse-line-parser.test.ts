import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createParser } from 'eventsource-parser';
import { SseLineParser } from '../../src/stream/sse-line-parser.ts';

/** Events as eventsource-parser (an independent, general implementation) reads them. */
function reference(text: string): Array<[string, string | undefined]> {
  const out: Array<[string, string | undefined]> = [];
  const p = createParser({ onEvent: (m) => out.push([m.data, m.event]) });
  p.feed(text);
  return out;
}

function ours(pieces: string[], max = 1 << 20): { events: Array<[string, string | undefined]>; tooLong: boolean } {
  const events: Array<[string, string | undefined]> = [];
  let tooLong = false;
  const p = new SseLineParser({ onEvent: (d, e) => events.push([d, e]), onTooLong: () => { tooLong = true; } }, max);
  for (const x of pieces) p.feed(x);
  return { events, tooLong };
}

/** A deterministic pseudo-random generator (xorshift) so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
}

describe('SseLineParser', () => {
  it('reads what eventsource-parser reads, however the text is cut (random streams, every line ending)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const eol = ['\n', '\r\n', '\r'][Math.floor(r() * 3)]!;
      const lines: string[] = [];
      const n = 1 + Math.floor(r() * 12);
      for (let i = 0; i < n; i++) {
        const kind = r();
        if (kind < 0.5) lines.push(`data: {"i":${i},"s":"a:b c"}`);
        else if (kind < 0.6) lines.push(`data:${i}`, `data: second ${i}`);
        else if (kind < 0.7) lines.push(`event: e${i}`, `data: x${i}`);
        else if (kind < 0.8) lines.push(`: comment ${i}`);
        else if (kind < 0.85) lines.push('data');
        else if (kind < 0.9) lines.push(`id: ${i}`, 'retry: 10', `data:  two spaces ${i}`);
        else lines.push(`unknown: ${i}`, `data: [DONE]`);
        if (r() < 0.8) lines.push('');
      }
      lines.push('', '');
      const text = lines.join(eol);
      const pieces: string[] = [];
      for (let i = 0; i < text.length;) {
        const k = 1 + Math.floor(r() * 9);
        pieces.push(text.slice(i, i + k));
        i += k;
      }
      assert.deepEqual(ours(pieces).events, reference(text), `seed ${seed}: ${JSON.stringify(text)}`);
      assert.deepEqual(ours([text]).events, reference(text), `seed ${seed} (one piece)`);
    }
  });

  it('skips one leading byte-order mark, as the standard says', () => {
    assert.deepEqual(ours(['\ufeffdata: a\n\n']).events, [['a', undefined]]);
    assert.deepEqual(ours(['\ufeff', 'data: a\n\n']).events, [['a', undefined]]);
  });

  it('dispatches only on a blank line and drops an event without data', () => {
    assert.deepEqual(ours(['data: a\n', 'data: b\n']).events, []);
    assert.deepEqual(ours(['data: a\ndata: b\n\n']).events, [['a\nb', undefined]]);
    assert.deepEqual(ours(['event: x\n\ndata: y\n\n']).events, [['y', undefined]]);
  });

  it('stops with onTooLong when one event (or an unfinished line) passes the bound', () => {
    const long = ours([`data: ${'x'.repeat(100)}\n\n`], 50);
    assert.equal(long.tooLong, true);
    assert.deepEqual(long.events, []);
    const endless = ours(['data: ', 'x'.repeat(40), 'x'.repeat(40)], 50);
    assert.equal(endless.tooLong, true);
    assert.deepEqual(ours([`data: ${'x'.repeat(40)}\n\n`], 50), { events: [['x'.repeat(40), undefined]], tooLong: false });
  });
});
