import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';

const bin = fileURLToPath(new URL('../bin/failmode', import.meta.url));

function run(args: string[], cwd = tmpdir()) {
  return spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
}

test('bin/failmode --help lists the commands, from any working directory', () => {
  const r = run(['--help']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Usage/);
  assert.match(r.stdout, /Commands/);
});

test('an unknown command is one line on stderr and exit code 2', () => {
  const r = run(['frobnicate']);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /unknown command `frobnicate`/);
});

test('--version prints the package version', () => {
  const r = run(['--version']);
  assert.equal(r.status, 0);
  assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+$/);
});

test('a flag value that starts with a dash is a one-line usage error (node\'s parseArgs says it in three lines)', async () => {
  const { parseCommandArgs } = await import('../src/cli/args.ts');
  assert.throws(() => parseCommandArgs(['--n-boot', '-5'], { 'n-boot': { type: 'string' } }),
    (err: Error & { exitCode?: number }) => err.exitCode === 2 && /--n-boot.*ambiguous.*'--n-boot=-XYZ'/.test(err.message) && !err.message.includes('\n'));
  const r = run(['simulate', '--tokens-per-second', '-1']);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});
