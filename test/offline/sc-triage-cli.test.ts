import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseScJsonl } from '../../src/offline/sc/read-sc-table.ts';
import { runScTriage } from '../../src/offline/sc/run-sc-triage.ts';
import { main } from '../../src/cli/main.ts';
import { needsPaper } from '../fixtures/requires.ts';

const bin = fileURLToPath(new URL('../../bin/failmode', import.meta.url));
const paper = fileURLToPath(new URL('../../../shared/paper/results/', import.meta.url));
const LCB = join(paper, 'lcb_qwen3_5-9b_sc15_final_prefinal_fixed.csv');

function run(args: string[], cwd = tmpdir()) {
  return spawnSync(process.execPath, [bin, 'sc-triage', ...args], { cwd, encoding: 'utf8', timeout: 600_000 });
}

const work = mkdtempSync(join(tmpdir(), 'sc-triage-'));

test('LCB Qwen3.5-9B sc15 (438×1, 1×5, 3×15): exit 0, says clearly what it cannot support and which analyses were skipped', needsPaper('results/lcb_qwen3_5-9b_sc15_final_prefinal_fixed.csv'), () => {
  const out = join(work, 'lcb');
  const r = run([LCB, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /442 questions, completions per question 438×1, 1×5, 3×15/);
  assert.match(r.stdout, /CANNOT SUPPORT the self-consistency analyses: only 4 question\(s\) have ≥ 2 completions/);
  assert.match(r.stdout, /agreement-based analyses .* are not supportable on this file/);
  assert.match(r.stdout, /unfinished run: only 3 question\(s\) reached 15 completions/);
  assert.match(r.stdout, /Those 4 question\(s\): 4 SC failure\(s\), 0 SC-correct/);
  for (const title of ['Analysis 1', 'Analysis 2', 'Analysis 3', 'Analysis 4a/4c', 'Analysis 4b', 'Analysis 4d']) {
    assert.match(r.stdout, new RegExp(`✗ skipped ${title.replace('/', '\\/')} — .+`), title);
  }
  assert.doesNotMatch(r.stdout, /ANALYSIS 1 —/);
  const json = JSON.parse(readFileSync(join(out, 'sc_triage.json'), 'utf8'));
  assert.equal(json.data.multiCompletionQuestions, 4);
  assert.deepEqual(json.data.completionHistogram, { 1: 438, 5: 1, 15: 3 });
  assert.equal(json.analysis3, null);
  const qcsv = readFileSync(join(out, 'sc_questions_w400.csv'), 'utf8').trim().split('\n');
  assert.equal(qcsv.length, 443);
  assert.equal(qcsv.filter((l) => l.includes(',analysed,')).length, 4);
});

function writeCsv(name: string, header: string[], rows: (string | number)[][]): string {
  const path = join(work, name);
  writeFileSync(path, [header.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n');
  return path;
}

/**
 * Runs the CLI entry in-process (a spawn per case would cost a second each) capturing stderr. stdout is left alone:
 * the test runner reports through it. Bad input never reaches the point where the command prints to stdout.
 */
async function runInProcess(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stderr = '';
  const err = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => { stderr += String(chunk); return true; }) as typeof process.stderr.write;
  try {
    const status = await main(['sc-triage', ...args]);
    return { status, stdout: '', stderr };
  } finally {
    process.stderr.write = err;
  }
}

async function expectBadInput(args: string[], pattern: RegExp) {
  const r = await runInProcess(args);
  assert.equal(r.status, 2, `exit ${r.status}; stdout ${r.stdout}; stderr ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
}

test('bad input → one line on stderr, exit 2', async () => {
  await expectBadInput([writeCsv('noq.csv', ['completion_idx', 'correct'], [[0, 1], [1, 0]])], /no question id column \(expected one of question_id, idx/);
  await expectBadInput([writeCsv('single.csv', ['question_id', 'completion_idx', 'correct'], [['a', 0, 1], ['b', 0, 0], ['c', 0, 1]])], /every question has exactly one completion \(3 questions/);
  await expectBadInput([writeCsv('nocorrect.csv', ['question_id', 'completion_idx'], [['a', 0], ['a', 1]])], /has no `correct` column/);
  await expectBadInput([writeCsv('badcorrect.csv', ['question_id', 'completion_idx', 'correct'], [['a', 0, 1], ['a', 1, 7]])], /`correct` must be 0\/1/);
  await expectBadInput([join(work, 'missing.csv')], /cannot read .*missing\.csv: no such file/);
  await expectBadInput([work], /cannot read .*: it is a directory/);
  const junk = join(work, 'junk.xlsx');
  writeFileSync(junk, 'not a workbook');
  await expectBadInput([junk], /not an \.xlsx workbook/);
  const badJsonl = join(work, 'bad.jsonl');
  writeFileSync(badJsonl, 'hello\nworld\n');
  await expectBadInput([badJsonl], /is not JSONL/);
  await expectBadInput([writeCsv('q.csv', ['question_id', 'correct'], [['a', 1], ['a', 0]]), '--question-col', 'qid'], /no column `qid` \(given by --question-col\)/);
  await expectBadInput([], /Expected a multi-completion results file/);
  await expectBadInput([join(work, 'x.csv'), '--score', 'best'], /--score: `best`. Value must be one of: prefinal-full, prefinal-early, raw-full/);
});

test('--help prints usage, options and examples', () => {
  const r = run(['--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /Usage\n {2}failmode sc-triage FILE/);
  assert.match(r.stdout, /--iid/);
  assert.match(r.stdout, /Examples/);
});

/** A `failmode sample`-style recording: run header, question records, one line per sample (booleans, nested features). */
function sampleJsonl(): string {
  const lines: string[] = [JSON.stringify({ kind: 'run', model: 'synthetic', n_completions: 3 })];
  for (let j = 0; j < 24; j++) {
    const fail = j % 4 === 0 || j === 23;
    lines.push(JSON.stringify({ kind: 'question', question_id: `p${j}`, true_answer: 'A' }));
    for (let k = 0; k < 3; k++) {
      const answer = fail ? (k === 2 ? 'A' : 'B') : k === 2 ? 'C' : 'A';
      lines.push(JSON.stringify({
        kind: 'sample', question_id: `p${j}`, completion_idx: k, predicted_answer: answer, correct: answer === 'A',
        features: { entropy_mean_prefinal: (fail ? 1 : 0.2) + j / 100 + k / 1000, margin_mean_prefinal: 0.1, entropy_mean_prefinal_w400: j / 10, margin_mean_prefinal_w400: 0 },
      }));
    }
  }
  lines.push('{"kind":"sample","question_id":"p0",'); // a cut-off last line of a run in progress
  return lines.join('\n') + '\n';
}

test('a sampler JSONL recording feeds sc-triage unchanged (per-sample lines, question records merged)', () => {
  const t = parseScJsonl(sampleJsonl(), 'samples.jsonl');
  assert.equal(t.frame.nRows, 72);
  assert.ok(t.frame.has('entropy_mean_prefinal_w400'));
  assert.equal(t.frame.text('true_answer')![0], 'A');
  assert.deepEqual([...t.frame.numeric('correct')!.slice(0, 3)], [0, 0, 1]);
  assert.match(t.notes.join(' '), /1 unreadable JSONL line/);
  const res = runScTriage(t.frame, { nBoot: 0 });
  assert.equal(res.data.rule, 'vote');
  assert.equal(res.data.analysisQuestions, 24);
  assert.equal(res.data.scFailures, 7);
  // failures have the highest prefinal-full risk: skipping the lowest-risk half misses none
  assert.equal(res.analysis3!.prefinal_full!.points.find((p) => p.skipPct === 50)!.nMissed, 0);

  const path = join(work, 'samples.jsonl');
  writeFileSync(path, sampleJsonl());
  const out = join(work, 'jsonl-out');
  mkdirSync(out, { recursive: true });
  const r = run([path, '--out', out, '--n-boot', '50']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Supports all four analyses on 24 questions \(7 SC failures, 17 SC-correct\)/);
  for (const f of ['report.txt', 'sc_triage.json', 'sc_questions_w400.csv', 'sc_agreement_sweep_w400.csv', 'sc_selective_curve_all_signals_w400.csv', 'sc_accuracy_proxy_w400.csv', 'sc_triage_curve_w400.svg', 'sc_triage_curve_w400.png']) {
    assert.ok(existsSync(join(out, f)), f);
  }
  const curve = readFileSync(join(out, 'sc_selective_curve_all_signals_w400.csv'), 'utf8').trim().split('\n');
  assert.equal(curve[0], 'skip_pct,skip_precision,recall_sc_fail,n_missed,n_caught,signal,n_skip');
  assert.equal(curve.length, 1 + 2 * 20); // full_trace has no columns in this recording
  assert.ok(readFileSync(join(out, 'sc_triage_curve_w400.svg'), 'utf8').startsWith('<svg'));
});
