import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DETAIL_KEYS, fitKeyHints, GRID_KEYS } from '../../src/tui/key-hints.ts';

const len = (s: string) => Array.from(s).length;

test('fitKeyHints: everything at 80 columns; narrower drops e, then p, then s, then ⏎, then the arrows; q quit always stays', () => {
  assert.deepEqual(fitKeyHints('', GRID_KEYS, 80), { status: '', keys: '←→↑↓ select  ⏎ details  s stop  e H/NLL  p pause  q quit' });
  // 'all 8 ended · ' is 14 columns; without e the keys are 47, without p too 38, without s too 30.
  assert.equal(fitKeyHints('all 8 ended · ', GRID_KEYS, 61).keys, '←→↑↓ select  ⏎ details  s stop  p pause  q quit');
  assert.equal(fitKeyHints('all 8 ended · ', GRID_KEYS, 60).keys, '←→↑↓ select  ⏎ details  s stop  q quit');
  assert.equal(fitKeyHints('all 8 ended · ', GRID_KEYS, 51).keys, '←→↑↓ select  ⏎ details  q quit');
  assert.equal(fitKeyHints('', GRID_KEYS, 20).keys, '←→↑↓ select  q quit');
  assert.equal(fitKeyHints('', GRID_KEYS, 10).keys, 'q quit');
  assert.equal(fitKeyHints('', DETAIL_KEYS, 30).keys, 'Esc/⏎ back  s stop  q quit');
  for (let columns = 6; columns <= 90; columns++) {
    for (const status of ['', '⏸ paused · ', 'stream failed · ', 'all 128 ended · ']) {
      const f = fitKeyHints(status, GRID_KEYS, columns);
      assert.ok(f.keys.endsWith('q quit'), `${columns}: ${f.keys}`);
      assert.ok(len(f.status) + len(f.keys) <= columns, `${columns} columns: "${f.status}${f.keys}"`);
    }
  }
  // Too narrow for the status: it is cut, the keys are not.
  assert.deepEqual(fitKeyHints('stream failed · ', GRID_KEYS, 12), { status: 'strea…', keys: 'q quit' });
});
