import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';

const bin = fileURLToPath(new URL('../bin/failmode', import.meta.url));

function run(args: string[], cwd = tmpdir()) {
  return spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 600_000 });
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

test('every command\'s --help has Usage, Options and Examples and exits 0', async () => {
  const names = [...run(['--help']).stdout.matchAll(/^ {2}([a-z][a-z-]*) {2,}/gm)].map((m) => m[1]!);
  assert.ok(names.length >= 8 && names.includes('watch') && names.includes('analyze'), names.join(' '));
  // In child processes: the test runner reports through this process's stdout, which must not be intercepted.
  const { execFile } = await import('node:child_process');
  const helps = await Promise.all(names.map((name) => new Promise<{ name: string; code: number; text: string }>((resolve) => {
    execFile(process.execPath, [bin, name, '--help'], { encoding: 'utf8', timeout: 600_000 }, (err, stdout) => resolve({ name, code: err ? Number(err.code ?? 1) : 0, text: stdout }));
  })));
  for (const { name, code, text } of helps) {
    assert.equal(code, 0, name);
    for (const heading of ['Usage', 'Options', 'Examples']) assert.match(text, new RegExp(`^${heading}`, 'm'), `failmode ${name} --help has no ${heading} section`);
  }
});

test('failmode help CMD prints exactly what failmode CMD --help prints; the top-level help names --version', async () => {
  const top = run(['--help']);
  assert.match(top.stdout, /^ {2}-v, --version +print the version$/m);
  assert.equal(run(['help']).stdout, top.stdout);
  const names = [...top.stdout.matchAll(/^ {2}([a-z][a-z-]*) {2,}/gm)].map((m) => m[1]!);
  const { execFile } = await import('node:child_process');
  const out = (args: string[]) => new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 600_000 }, (err, stdout) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout }));
  });
  for (const name of ['analyze', 'watch', 'sc-triage', names[names.length - 1]!]) {
    const [viaHelp, viaFlag] = await Promise.all([out(['help', name]), out([name, '--help'])]);
    assert.equal(viaHelp.code, 0, name);
    assert.ok(viaHelp.stdout.length > 100, name);
    assert.equal(viaHelp.stdout, viaFlag.stdout, `failmode help ${name} differs from failmode ${name} --help`);
  }
  const unknown = run(['help', 'frobnicate']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command `frobnicate`/);
});

test('serve --workers: a one-line usage error without --upstream or with a bad count, and a banner line when started', async () => {
  for (const args of [['--workers', '2'], ['--workers', '1.5', '--upstream', 'http://127.0.0.1:9/v1'], ['--workers', '300', '--upstream', 'http://127.0.0.1:9/v1']]) {
    const r = run(['serve', '--port', '0', ...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /--workers/);
  }
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--upstream', 'http://127.0.0.1:9/v1', '--workers', '2'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no banner: ${log}`)), 60_000);
    child.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('Ctrl-C')) { clearTimeout(t); resolve(); }
    });
    child.once('exit', (code) => { clearTimeout(t); reject(new Error(`exited ${code}: ${log}`)); });
  });
  const url = /listening on (http:\/\/\S+)/.exec(log)![1]!;
  const health = await (await fetch(`${url}/health`)).json() as { workers: Array<{ alive: boolean }> };
  assert.match(log, /workers 2 threads run the proxy/);
  assert.equal(health.workers.length, 2);
  assert.ok(health.workers.every((w) => w.alive));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  assert.equal(await exited, 0, log);
});
