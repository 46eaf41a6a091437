import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { syntheticCsv } from '../fixtures/analyze-synthetic.ts';
import { parseReport } from '../../src/offline/parse-report.ts';
import { needsPaper } from '../fixtures/requires.ts';

const bin = fileURLToPath(new URL('../../bin/failmode', import.meta.url));
const paper = fileURLToPath(new URL('../../../shared/paper/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'failmode-analyze-cli-'));
const table = join(dir, 'run_model.final.csv');
writeFileSync(table, syntheticCsv());

function run(args: string[], cwd = dir) {
  return spawnSync(process.execPath, [bin, 'analyze', ...args], { cwd, encoding: 'utf8', timeout: 600_000 });
}

/** bin/failmode analyze, asynchronously (so several runs can overlap). */
function runAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, 'analyze', ...args], { cwd: dir });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += String(d); });
    child.stderr.on('data', (d) => { stderr += String(d); });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Exit 2, exactly one line on stderr, no stack trace, nothing on stdout. */
async function badInput(args: string[], pattern: RegExp): Promise<void> {
  const r = await runAsync(args);
  assert.equal(r.status, 2, `exit code for ${args.join(' ')}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one stderr line expected, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^failmode analyze: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.equal(r.stdout, '');
}

test('--help: Usage, Options, Examples', () => {
  const r = run(['--help']);
  assert.equal(r.status, 0);
  for (const part of ['Usage', 'Options', 'Examples', '--prefinal', '--windows', '--cluster-col', '--n-boot', '--json', '--no-plot', '--corrected']) assert.ok(r.stdout.includes(part), part);
});

test('bad input: one clear stderr line and exit code 2', async () => {
  const noCorrect = join(dir, 'no-correct.csv');
  writeFileSync(noCorrect, 'accuracy,entropy_mean,entropy_mean_w128\n1,0.5,0.4\n');
  const png = join(dir, 'figure.png');
  writeFileSync(png, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]));
  await Promise.all([
    badInput([join(dir, 'missing.csv')], /cannot read .*missing\.csv: no such file/),
    badInput([png], /figure\.png is not a text table/),
    badInput([noCorrect], /no `correct` column/),
    badInput([table, '--windows', '999', '--no-plot'], /--windows 999: .* no feature columns for window T=999/),
    badInput([table, '--n-boot', '0'], /Expected --n-boot to be an integer/),
    badInput([table, '--frobnicate'], /frobnicate/),
    badInput([table, '--plot', 'x', '--no-plot'], /--plot and --no-plot/),
    badInput([], /Expected a results file/),
    badInput([table, '--cluster-col', 'nope', '--no-plot'], /--cluster-col `nope` is not a column/),
    badInput([table, '--json', join(dir, 'no-such-dir', 'out.json'), '--no-plot'], /cannot write .*out\.json/),
  ]);
});

test('a full run: report on stdout, --json, plot files in failmode-out/ of the cwd named after the input', () => {
  const jsonPath = join(dir, 'analysis.json');
  const r = run([table, '--prefinal', '--windows', '128', '256', '--n-boot', '300', '--json', jsonPath, '--model-name', 'Synth 1']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'no progress output when stderr is not a terminal');
  const report = parseReport(r.stdout);
  assert.equal(report.modelName, 'Synth 1');
  assert.equal(report.nBoot, 300);
  assert.deepEqual(report.windows, [128, 256]);
  assert.equal(report.complete, true);
  assert.match(r.stdout, /\n {2}Plot saved \(prefinal\):\n {4}SVG → failmode-out\/run_model\.final_prefinal_ablation\.svg\n {4}PNG → failmode-out\/run_model\.final_prefinal_ablation\.png\n/);
  assert.ok(existsSync(join(dir, 'failmode-out', 'run_model.final_prefinal_ablation.svg')));
  assert.ok(readFileSync(join(dir, 'failmode-out', 'run_model.final_prefinal_ablation.png')).subarray(1, 4).toString() === 'PNG');
  const json = JSON.parse(readFileSync(jsonPath, 'utf8'));
  assert.equal(json.schema, 'failmode-analysis');
  assert.equal(json.version, 1);
  assert.equal(json.nBoot, 300);
  assert.equal(json.ablation.full.prauc.toFixed(4), report.ablation.full!.prauc!.toFixed(4));
});

test('--json - writes the JSON to stdout (nothing else there) and the text report to stderr; no file named -', () => {
  const r = run([table, '--prefinal', '--windows', '128', '--n-boot', '100', '--no-plot', '--json', '-']);
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.equal(json.schema, 'failmode-analysis');
  assert.equal(json.nBoot, 100);
  assert.equal(parseReport(r.stderr).nBoot, 100);
  assert.equal(existsSync(join(dir, '-')), false);
});

test('--plot PREFIX and --corrected', async () => {
  const r = await runAsync([table, '--plot', join(dir, 'fig'), '--n-boot', '100', '--corrected']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Procedure: corrected/);
  assert.ok(existsSync(join(dir, 'fig_prefinal_ablation.svg')), 'regular mode with prefinal columns plots the prefinal ablation');
});

test('runs on a real input of the paper (gpqa_gpt4o.final.csv --prefinal, 10,000 resamples)', needsPaper('results/gpqa_gpt4o.final.csv'), () => {
  const r = run([`${paper}results/gpqa_gpt4o.final.csv`, '--prefinal', '--no-plot']);
  assert.equal(r.status, 0, r.stderr);
  const report = parseReport(r.stdout);
  assert.equal(report.overview.n, 198);
  assert.equal(report.overview.failures, 90);
  assert.equal(report.summary.verdict?.type, 'near-committed');
});
