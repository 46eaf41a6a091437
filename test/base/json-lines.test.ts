import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonLines } from '../../src/json-lines.ts';

test('jsonLines: trimmed lines (CRLF too), blank ones skipped, bad ones with their number and the parse error', () => {
  const text = '{"a":1}\r\n\n  [2]  \nnot json\r\n{"b":\n\n"x"';
  const got = [...jsonLines(text)].map((l) => (l.ok ? { n: l.lineNo, v: l.value } : { n: l.lineNo, bad: l.error instanceof SyntaxError }));
  assert.deepEqual(got, [{ n: 1, v: { a: 1 } }, { n: 3, v: [2] }, { n: 4, bad: true }, { n: 5, bad: true }, { n: 7, v: 'x' }]);
  assert.deepEqual([...jsonLines('')], []);
  assert.deepEqual([...jsonLines('\n\n')], []);
});

test('jsonLines: with limits, an over-long line or too many lines end the reading naming the limit and its flag', () => {
  const limits = { maxLineBytes: 10, maxRows: 2 };
  assert.throws(() => [...jsonLines('{"a":1}\n{"long":"........"}', { source: 'f.jsonl', limits })], /f\.jsonl: line 2 is longer than the limit;.*--max-line-bytes/s);
  assert.throws(() => [...jsonLines('1\n\n2\n3', { source: 'f.jsonl', limits })], /f\.jsonl: more than 2 lines:.*--max-rows/s);
  assert.equal([...jsonLines('1\n\n2\n', { source: 'f.jsonl', limits })].length, 2);
});
