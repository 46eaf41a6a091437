import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextWindow } from '../../src/online/text-window.ts';
import { SampleFeatures } from '../../src/online/sample-features.ts';

/**
 * Naive statement, independent of the implementation's merge: mark every kept position (each region's
 * [start, start + regionChars) before the tail, and the tail), then join the runs of kept characters with '\n'.
 */
function expected(full: string, tail: number, regionChars: number, regions: number[]): string {
  if (full.length <= tail) return full;
  const tailStart = full.length - tail;
  const kept = new Array<boolean>(full.length).fill(false);
  for (let i = tailStart; i < full.length; i++) kept[i] = true;
  for (const s of regions) {
    if (s < 0 || s >= tailStart) continue;
    for (let i = s; i < Math.min(full.length, s + regionChars); i++) kept[i] = true;
  }
  const runs: string[] = [];
  for (let i = 0; i < full.length; i++) {
    if (!kept[i]) continue;
    let j = i;
    while (j < full.length && kept[j]) j++;
    runs.push(full.slice(i, j));
    i = j;
  }
  return runs.join('\n');
}

test('TextWindow keeps the tail and marker regions exactly (random appends, wrap-around, lone surrogates)', () => {
  let s = 7;
  const r = () => { s = (s * 1103515245 + 12345) >>> 0; return s / 4294967296; };
  const alphabet = 'ab\nc😀\ud800x';
  for (let trial = 0; trial < 300; trial++) {
    const tail = 5 + Math.floor(r() * 40);
    const regionChars = 3 + Math.floor(r() * 20);
    const tw = new TextWindow(2, tail, regionChars);
    let full = '';
    const starts = [-1, -1];
    const keys = [-1, -1];
    const steps = Math.floor(r() * 40);
    for (let i = 0; i < steps; i++) {
      let piece = '';
      const len = Math.floor(r() * 8);
      for (let j = 0; j < len; j++) piece += alphabet[Math.floor(r() * alphabet.length)];
      full += piece;
      tw.append(piece);
      const k = Math.floor(r() * 2);
      // A marker seen now starts at a recent position (within this token), like the tracker reports.
      if (r() < 0.15 && full.length > 0) {
        const m = Math.max(0, full.length - 1 - Math.floor(r() * Math.min(full.length, 6)));
        if (keys[k] !== m) { keys[k] = m; starts[k] = Math.max(m, Math.max(0, full.length - tail)); }
        tw.startRegion(k, m); // repeated calls with the same start must not restart the region
      }
      assert.equal(tw.text(), expected(full, tail, regionChars, starts), `trial ${trial} step ${i}`);
    }
  }
});

test('a long trace still extracts the answer after the marker from its region', () => {
  const sf = new SampleFeatures({ profile: 'final-answer', windows: [4], reference: 'C' });
  const push = (token: string, index: number) => sf.push({ type: 'token', sampleId: 'q:0', index, token, logprob: -1, top: null, channel: 'content', t: index });
  push('reasoning\n', 0);
  push('Final Answer: (C)\n', 1);
  for (let i = 0; i < 5000; i++) push('more text that pushes the marker out of the tail ', i + 2);
  sf.end('length');
  const rec = sf.record();
  assert.equal(rec.predicted_answer, 'C');
  assert.equal(rec.extraction_method, 'final_answer');
  assert.equal(rec.correct, 1);
  assert.equal(rec.prefinal_len, 1);
});
