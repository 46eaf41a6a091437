/**
 * A `failmode sample` log resumed after kills keeps the killed runs' sample lines (by design, told apart by `run_id`);
 * every reader of it — sc-triage, analyze / train / early-stop-eval / trajectory (through loadTable), shadow-report —
 * counts only each question's completed run. The log below has 30 questions × 4 completions in their completed runs
 * plus 31 sample lines of killed runs: read right it is 120 rows of 4, read naively 151.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadTable } from '../../src/offline/load-table.ts';
import { readScTable } from '../../src/offline/sc/read-sc-table.ts';
import { runScTriage } from '../../src/offline/sc/run-sc-triage.ts';
import { readCompletedRuns } from '../../src/sampler/results-log.ts';
import { sampleLogLines } from '../fixtures/sample-log-lines.ts';

const BIN = join(import.meta.dirname, '../../bin/failmode');
const QUESTIONS = 30;
const K = 4;
/** Killed-run sample lines per question (q20…q29): 31 in all, so 5–11 lines per question if they were counted. */
const KILLED = [1, 7, 2, 3, 5, 1, 4, 2, 3, 3];

interface Log { text: string; completed: Map<string, string>; }

/**
 * Run `a` completes q0…q19 and is killed inside q20 (some of its samples written); run `b` resumes, is killed again
 * part-way through later questions; run `c` completes q20…q29. Killed lines carry `correct` = 0 and large features so
 * that counting them would change every figure.
 */
function resumedLog(): Log {
  const { rowRecord, sample, question } = sampleLogLines({ n: QUESTIONS * K, seed: 11, k: K });
  const killedRec = (q: number, k: number) => ({ ...rowRecord(q * K + (k % K)), correct: 0, entropy_mean: 99, entropy_mean_w128: 99, generated_len: 9999 });
  const lines: string[] = [];
  const completed = new Map<string, string>();
  const complete = (run: string, q: number) => {
    for (let k = 0; k < K; k++) lines.push(sample(run, q, k, rowRecord(q * K + k)));
    lines.push(question(run, q));
    completed.set(`q${q}`, run);
  };
  for (let q = 0; q < 20; q++) complete('a', q);
  KILLED.forEach((m, j) => {
    const q = 20 + j;
    for (let k = 0; k < m; k++) lines.push(sample(k % 2 === 0 ? 'a' : 'b', q, k, killedRec(q, k)));
  });
  for (let q = 20; q < QUESTIONS; q++) complete('c', q);
  return { text: `${lines.join('\n')}\n`, completed };
}

const dir = mkdtempSync(join(tmpdir(), 'failmode-resumed-'));
const log = resumedLog();
const path = join(dir, 'run.jsonl');
writeFileSync(path, log.text);

test('the fixture: 151 sample lines, 31 of them from killed runs', () => {
  const samples = log.text.split('\n').filter((l) => l.includes('"kind":"sample"'));
  assert.equal(samples.length, 151);
  assert.equal(KILLED.reduce((a, b) => a + b, 0), 31);
});

test('loadTable (analyze, train, early-stop-eval, trajectory) reads a resumed sample log as the completed runs: 120 rows of 4', async () => {
  const notes: string[] = [];
  const frame = await loadTable(path, { note: (l) => notes.push(l) });
  assert.equal(frame.nRows, QUESTIONS * K);
  const perQuestion = new Map<string, number>();
  for (const q of frame.text('question_id')!) perQuestion.set(q!, (perQuestion.get(q!) ?? 0) + 1);
  assert.equal(perQuestion.size, QUESTIONS);
  for (const [q, n] of perQuestion) assert.equal(n, K, q);
  // every kept row is its question's completed run, and no killed line's values leaked in
  const runs = frame.text('run_id')!;
  frame.text('question_id')!.forEach((q, i) => assert.equal(runs[i], log.completed.get(q!)));
  assert.ok(!frame.numeric('entropy_mean')!.includes(99));
  assert.match(notes.join('\n'), /31 sample line\(s\) of runs that did not complete their question left out/);
});

test('sc-triage reads it as 30 questions × 4 completions', async () => {
  const t = await readScTable(path);
  assert.equal(t.frame.nRows, 120);
  const r = runScTriage(t.frame, { nBoot: 0 });
  assert.equal(r.data.rows, 120);
  assert.equal(r.data.questions, 30);
  assert.deepEqual(r.data.completionHistogram, { 4: 30 });
});

test('shadow-report\'s reader agrees: 30 completed runs of 4, 31 discarded lines', async () => {
  const runs = await readCompletedRuns(path);
  assert.equal(runs.runs.size, 30);
  for (const run of runs.runs.values()) assert.equal(run.samples.length, 4);
  assert.equal(runs.discardedSamples, 31);
});

test('CLI: analyze and train on the resumed log see n=120', () => {
  const json = join(dir, 'a.json');
  const r = spawnSync(process.execPath, [BIN, 'analyze', path, '--no-plot', '--n-boot', '50', '--json', json], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(readFileSync(json, 'utf8')).overview.n, 120);
  assert.match(r.stderr, /31 sample line\(s\) of runs that did not complete/);
  const model = join(dir, 'm.json');
  const t = spawnSync(process.execPath, [BIN, 'train', path, '--n-boot', '50', '--out', model], { encoding: 'utf8' });
  assert.equal(t.status, 0, t.stderr);
  assert.equal(JSON.parse(readFileSync(model, 'utf8')).training.n, 120);
});
