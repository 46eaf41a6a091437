import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PAPER_TABLES } from '../../src/offline/reproduce/manifest.ts';
import { needsPaper } from '../fixtures/requires.ts';

const bin = fileURLToPath(new URL('../../bin/failmode', import.meta.url));
const paper = fileURLToPath(new URL('../../../shared/paper/', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, [bin, 'reproduce', ...args], { encoding: 'utf8', timeout: 600_000 });

test('the manifest lists the 27 tables of the paper README with their inputs, modes and n_boot', needsPaper(), () => {
  const readme = readFileSync(join(paper, 'README.md'), 'utf8');
  const rows = [...readme.matchAll(/^\| ([^|]+?) \| ([^|]+?) \| (prefinal|regular) \| (\d+) \| (yes|no) \|$/gm)];
  assert.equal(rows.length, 27);
  assert.equal(PAPER_TABLES.length, 27);
  for (const [, table, input, mode, nBoot] of rows) {
    const e = PAPER_TABLES.find((t) => t.table === table);
    assert.ok(e, `manifest has ${table}`);
    assert.deepEqual([e.input, e.mode, e.nBoot], [input, mode, Number(nBoot)]);
  }
});

test('reproduce runs selected tables in workers, writes report/json/plot and compares with the published report', needsPaper(), () => {
  const out = mkdtempSync(join(tmpdir(), 'repro-'));
  const r = run(['--results', join(paper, 'results'), '--published', join(paper, 'published'), '--out', out, '--only', 'gpqa_gpt4o.final', '--only', 'easy', '--jobs', '2']);
  assert.equal(r.status, 0, r.stderr);
  for (const f of ['gpqa_gpt4o.final.txt', 'gpqa_gpt4o.final.json', 'gpqa_gpt4o.final_prefinal_ablation.png', 'easy.txt', 'summary.md']) assert.ok(existsSync(join(out, f)), f);
  const summary = readFileSync(join(out, 'summary.md'), 'utf8');
  assert.match(summary, /\| gpqa_gpt4o\.final \| gpqa_gpt4o\.final\.csv \| prefinal \| 10000 \| 198 \| 90 \| near-committed \| T=1024 \| near-committed \| T=1024 \|.*\| match \|/);
  assert.match(summary, /\| easy \| lcb_gpt-oss-20b_easy\.csv \| prefinal \| 1000 \| 208 \| 86 \|.*\| not published \|/);
  const json = JSON.parse(readFileSync(join(out, 'gpqa_gpt4o.final.json'), 'utf8'));
  assert.equal(json.nBoot, 10000);
});

test('a missing input file is reported in the summary and the rest goes on', needsPaper(), () => {
  const results = mkdtempSync(join(tmpdir(), 'repro-in-'));
  writeFileSync(join(results, 'gpqa_gpt4o.final.csv'), readFileSync(join(paper, 'results', 'gpqa_gpt4o.final.csv')));
  const out = join(results, 'out');
  mkdirSync(out);
  const r = run(['--results', results, '--out', out, '--only', 'gpqa_gpt4o.final', '--only', 'easy', '--no-plot']);
  assert.equal(r.status, 1, 'exit 1: a table could not be run');
  const summary = readFileSync(join(out, 'summary.md'), 'utf8');
  assert.match(summary, /\| easy \|.*input missing/);
  assert.match(summary, /\| gpqa_gpt4o\.final \|.*\| 198 \| 90 \|/);
});

test('bad input: unknown table, unreadable directory → one line, exit 2', needsPaper(), () => {
  const a = run(['--results', join(paper, 'results'), '--only', 'nope.final']);
  assert.equal(a.status, 2);
  assert.equal(a.stderr.trim().split('\n').length, 1);
  assert.match(a.stderr, /Unknown table in --only: `nope\.final`/);
  const b = run(['--results', '/definitely/not/here']);
  assert.equal(b.status, 2);
  assert.match(b.stderr, /cannot read --results directory \/definitely\/not\/here: it does not exist/);
  const c = run([]);
  assert.equal(c.status, 2);
  assert.match(c.stderr, /Expected --results DIR/);
});
