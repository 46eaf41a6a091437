import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { needsPaper } from '../fixtures/requires.ts';

const BIN = new URL('../../bin/failmode', import.meta.url).pathname;
const GPT4O = new URL('../../../shared/paper/results/gpqa_gpt4o.final.csv', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'failmode-es-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const run = (args: string[]) => spawnSync(process.execPath, [BIN, 'early-stop-eval', ...args], { encoding: 'utf8' });

test('early-stop-eval --help has Usage / Options / Examples', () => {
  const r = run(['--help']);
  assert.equal(r.status, 0);
  for (const part of ['Usage', 'Options', 'Examples', '--alphas', '--confidence', '--all']) assert.ok(r.stdout.includes(part), part);
});

test('early-stop-eval: a bad --alphas value is one line and exit 2', needsPaper('results/gpqa_gpt4o.final.csv'), () => {
  const r = run([GPT4O, '--alphas', '1.5', '--out', dir]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /alphas/);
});

test('early-stop-eval FILE writes the cross-fitted false-kill / tokens-saved table and its JSON', needsPaper('results/gpqa_gpt4o.final.csv'), () => {
  const r = run([GPT4O, '--prefinal', '--alphas', '0.05', '0.1', '--out', dir]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^# Early stopping — gpqa_gpt4o\.final/);
  assert.match(r.stdout, /\| 0\.05 \| learned \|/);
  const j = JSON.parse(readFileSync(join(dir, 'gpqa_gpt4o.final.json'), 'utf8'));
  assert.equal(j.table, 'gpqa_gpt4o.final');
  assert.ok(j.oracle_saved > 0 && j.oracle_saved < 1);
  assert.deepEqual(j.alphas.map((a: { alpha: number }) => a.alpha), [0.05, 0.1]);
  for (const a of j.alphas) {
    for (const m of [a.learned, a.baseline]) {
      assert.ok(m.saved >= 0 && m.saved <= 1 && m.false_kill >= 0 && m.false_kill <= 1, JSON.stringify(m));
      assert.equal(m.chosen.length, 5, 'one choice per outer fold');
    }
  }
});
