import { test } from 'node:test';
import assert from 'node:assert/strict';
import { profileSpec } from '../../src/online/profiles.ts';
import { StreamMatcher } from '../../src/online/stream-pattern.ts';

/** The regexes the pipelines search with (ASCII text, so JS and Python agree). */
const REFERENCE: Record<string, RegExp> = {
  final_answer: /Final\s+Answer\s*:/i,
  final_line: /Final\s*:/i,
  boxed: /\\boxed\{/,
  python_fence: /```python/,
  generic_fence: /```/,
  code_line: /^(def\s+\w+|class\s+Solution|import\s+sys|import\s+os|from\s+\w+\s+import)/m,
};

function streamFirst(m: StreamMatcher, text: string): number {
  m.reset();
  let atLineStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    m.step(c, i, atLineStart);
    atLineStart = c === 0x0a;
  }
  return m.finish();
}

const PIECES = ['Final', 'final', 'FINAL', ' ', '\n', '\t', 'Answer', 'answer', ':', 'x', '\\boxed{', '\\box', '`', '```', 'python', 'def', 'from', 'import', 'sys', 'os', 'class', 'Solution', 'a.b', '_q1'];

test('streaming matcher = the first match of the pipeline regex (leftmost start), on random texts', () => {
  let s = 12345;
  const r = () => { s = (s * 1103515245 + 12345) >>> 0; return s / 4294967296; };
  const markers = [...profileSpec('code').markers, ...profileSpec('final-boxed').markers, ...profileSpec('final-answer').markers];
  let hits = 0;
  for (let trial = 0; trial < 3000; trial++) {
    let text = '';
    const n = 1 + Math.floor(r() * 25);
    for (let i = 0; i < n; i++) text += PIECES[Math.floor(r() * PIECES.length)]!;
    for (const mk of markers) {
      const expected = REFERENCE[mk.name]!.exec(text)?.index ?? -1;
      const got = streamFirst(new StreamMatcher(mk.pattern), text);
      assert.equal(got, expected, `${mk.name} on ${JSON.stringify(text)}`);
      if (expected >= 0) hits++;
    }
  }
  assert.ok(hits > 2000, `matches found: ${hits}`);
});

test('leftmost start wins even when a later-starting match completes first', () => {
  const code = profileSpec('code').markers.find((m) => m.name === 'code_line')!;
  // "from\ndef\nimport": the match at 0 (from\s+\w+\s+import) completes after "def x" at 5 has already matched.
  const text = 'from\ndef\nimport';
  assert.equal(REFERENCE.code_line!.exec(text)!.index, 0);
  assert.equal(streamFirst(new StreamMatcher(code.pattern), text), 0);
});
