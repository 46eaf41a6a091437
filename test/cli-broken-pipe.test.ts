import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { needsPaper, PAPER_DIR } from './fixtures/requires.ts';

const bin = fileURLToPath(new URL('../bin/failmode', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'failmode-epipe-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Runs failmode with its stdout a pipe whose reading end is closed before the command writes (`… | head -0`). */
function runWithClosedStdout(args: string[]): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

function assertQuiet(r: { code: number | null; signal: string | null; stderr: string }, what: string): void {
  assert.equal(r.signal, null, what);
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /EPIPE|Unhandled 'error' event|^\s+at /m, `${what} printed a stack on a closed stdout:\n${r.stderr}`);
}

test('failmode --help on a closed stdout ends quietly with exit 0', async () => {
  assertQuiet(await runWithClosedStdout(['--help']), '--help');
});

test('early-stop-eval | head: a closed stdout ends quietly, the files are still written', needsPaper('results/gpqa_gpt4o.final.csv'), async () => {
  const out = join(work, 'es');
  const r = await runWithClosedStdout(['early-stop-eval', `${PAPER_DIR}results/gpqa_gpt4o.final.csv`, '--alphas', '0.1', '--out', out]);
  assertQuiet(r, 'early-stop-eval');
  const { existsSync } = await import('node:fs');
  assert.ok(existsSync(join(out, 'gpqa_gpt4o.final.json')), 'the report JSON is written although stdout closed');
});

test('sc-triage | head: a closed stdout ends quietly', needsPaper('results/lcb_qwen3_5-9b_sc15_final_prefinal_fixed.csv'), async () => {
  const r = await runWithClosedStdout(['sc-triage', `${PAPER_DIR}results/lcb_qwen3_5-9b_sc15_final_prefinal_fixed.csv`, '--no-plot', '--n-boot', '0', '--out', join(work, 'sc')]);
  assertQuiet(r, 'sc-triage');
});

test('analyze | head: a closed stdout ends quietly', needsPaper('results/gpqa_gpt4o.final.csv'), async () => {
  const r = await runWithClosedStdout(['analyze', `${PAPER_DIR}results/gpqa_gpt4o.final.csv`, '--no-plot', '--n-boot', '200']);
  assertQuiet(r, 'analyze');
});
