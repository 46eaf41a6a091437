/**
 * A stopped sample's outcome is never observed: the stop ended it. Logged as `correct: 0` (what `failmode sample`
 * wrote before), a model trained on the log learns its own stops, false kills included. The sampler now logs them
 * with `correct: null`, and the table reader of sample logs reads every stopped sample as unlabelled (older logs
 * too), with a note; analyze then leaves them out as rows with no `correct` value.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadTable } from '../../src/offline/load-table.ts';
import { sampleLogLines } from '../fixtures/sample-log-lines.ts';

const BIN = join(import.meta.dirname, '../../bin/failmode');
const QUESTIONS = 30;
const K = 4;
/** Stopped samples: (question, completion) → how the line labels it (0: the old writer, null: the new one). */
const STOPPED = new Map<string, 0 | null>([['q1#0', 0], ['q2#3', 0], ['q5#1', 0], ['q8#2', 0], ['q13#0', 0], ['q21#1', 0], ['q3#3', null], ['q17#2', null], ['q26#0', null]]);

const { rowRecord, sample, question } = sampleLogLines({ n: QUESTIONS * K, seed: 23, k: K });
const lines: string[] = [];
for (let q = 0; q < QUESTIONS; q++) {
  for (let k = 0; k < K; k++) {
    const stop = STOPPED.get(`q${q}#${k}`);
    lines.push(stop === undefined ? sample('r', q, k, rowRecord(q * K + k))
      : sample('r', q, k, rowRecord(q * K + k), { correct: stop, stopped: true, stop_reason: 'committed_failure', stop_T: 128, answer: null, finish_reason: 'failmode_stop' }));
  }
  lines.push(question('r', q));
}
const dir = mkdtempSync(join(tmpdir(), 'failmode-stopped-'));
const path = join(dir, 'run.jsonl');
writeFileSync(path, `${lines.join('\n')}\n`);

test('loadTable reads every stopped sample as unlabelled and says how many carried a label', async () => {
  const notes: string[] = [];
  const frame = await loadTable(path, { note: (l) => notes.push(l) });
  assert.equal(frame.nRows, QUESTIONS * K);
  const correct = frame.numeric('correct')!;
  const q = frame.text('question_id')!;
  const k = frame.numeric('completion_idx')!;
  for (let i = 0; i < frame.nRows; i++) {
    const key = `${q[i]}#${k[i]}`;
    if (STOPPED.has(key)) assert.ok(Number.isNaN(correct[i]!), `${key} is unlabelled`);
    else assert.equal(correct[i], rowRecord(i).correct, `${key} keeps its label`);
  }
  assert.match(notes.join('\n'), /6 stopped sample\(s\) read as unlabelled/);
});

test('CLI: analyze leaves the 9 stopped samples out as unlabelled rows', () => {
  const json = join(dir, 'a.json');
  const r = spawnSync(process.execPath, [BIN, 'analyze', path, '--no-plot', '--n-boot', '50', '--json', json], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(out.excludedMissingCorrect, STOPPED.size);
  assert.equal(out.overview.n, QUESTIONS * K - STOPPED.size);
  assert.match(r.stderr, /6 stopped sample\(s\) read as unlabelled/);
});
