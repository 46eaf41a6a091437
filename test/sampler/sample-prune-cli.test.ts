import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const bin = fileURLToPath(new URL('../../bin/failmode', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
const base = ['sample', '--n', '4', '--prompt', 'x', '--base-url', 'http://127.0.0.1:9/v1', '--model', 'm', '--profile', 'boxed'];

describe('failmode sample: --prune / --shadow / --vote-confidence usage', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--prune', 'vote', '--early-stop'], /--early-stop is --prune risk; it cannot be combined with --prune vote/],
    [['--prune', 'fast'], /Unknown value for flag `--prune`|must be one of/],
    [['--vote-confidence', '0.9'], /--vote-confidence needs --prune vote/],
    [['--prune', 'vote', '--vote-confidence', '1'], /below 1/],
    [['--deepconf-warmup', '4'], /--deepconf-warmup needs --prune deepconf/],
    [['--shadow'], /--shadow with the risk rule needs --model-file/],
  ];
  for (const [args, message] of cases) {
    it(`${args.join(' ')} → exit 2, one line`, () => {
      const r = run([...base, ...args]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    });
  }
  it('--help documents the rules', () => {
    const r = run(['sample', '--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /--prune RULES[\s\S]*--vote-confidence P[\s\S]*--shadow/);
  });
});
