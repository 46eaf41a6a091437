import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';

const bin = fileURLToPath(new URL('../../bin/failmode', import.meta.url));
const fixtureModel = fileURLToPath(new URL('../../results/models/simulator-demo.json', import.meta.url));

/** Runs `failmode demo ARGS` with stdout/stderr piped (so headless); runs in parallel when awaited together. */
function run(args: readonly string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // A generous outer bound (a hung demo), not a speed requirement: under load a run of the demo takes much longer.
    const child = spawn(process.execPath, [bin, 'demo', ...args], { cwd: tmpdir(), timeout: 600_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += String(d); });
    child.stderr.on('data', (d) => { stderr += String(d); });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('demo --help has Usage, Options and Examples', async () => {
  const r = await run(['--help']);
  assert.equal(r.status, 0, r.stderr);
  for (const part of ['Usage', 'Options', 'Examples', '--samples N', '--no-early-stop', '--model-file']) assert.ok(r.stdout.includes(part), part);
});

test('bad flags are one line on stderr and exit code 2', async () => {
  const cases = [
    [['--samples', '0'], /Expected --samples to be an integer from 1 to 64, got `0`/],
    [['--tokens-per-second', 'fast'], /Expected --tokens-per-second to be a number/],
    [['--seed', '1.5'], /Expected --seed to be an integer/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
    [['--model-file', '/nonexistent/model.json'], /cannot read model file \/nonexistent\/model\.json: no such file/],
  ] as const;
  const results = await Promise.all(cases.map(([args]) => run(args)));
  for (const [i, [args, message]] of cases.entries()) {
    const r = results[i]!;
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, message);
  }
});

test('headless (not a terminal): one line per flag, stop and finish, then the summary; flagged samples are really stopped', async () => {
  // Fast pace so the test takes a couple of seconds; the simulator's counters show the aborted requests.
  const r = await run(['--model-file', fixtureModel, '--samples', '8', '--tokens-per-second', '20000']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^failmode demo: 8 samples from the simulator at http:\/\/127\.0\.0\.1:\d+\/v1, classifier simulator \(demo mix, seed 99\) \(committed, T\*=\d+, .*simulator-demo\.json\), early stop on$/);
  const flagged = lines.filter((l) => /^s\d:0 {2}⚑ committed failure at T=\d+ · risk 0\.\d\d ≥ 0\.\d\d$/.test(l)).map((l) => l.split(' ')[0]);
  const stopped = lines.filter((l) => /^s\d:0 {2}■ stopped early at \d+ tok · ⚑ T=\d+ risk 0\.\d\d$/.test(l)).map((l) => l.split(' ')[0]);
  const finished = lines.filter((l) => /^s\d:0 {2}✓ finished: [A-D] \((correct|wrong)\)/.test(l));
  assert.ok(flagged.length > 0, r.stdout);
  assert.deepEqual(stopped.sort(), flagged.sort(), 'every flagged sample is stopped');
  assert.equal(finished.length + stopped.length, 8);
  assert.match(lines.at(-1)!, new RegExp(`^failmode demo: 8 samples · ${flagged.length} flagged as committed failures · ${stopped.length} stopped · ≈[\\d,]+ tokens saved · answers .* → (majority [A-D] \\(\\d+ of \\d+\\)|tie .*) · reference B$`));
});

test('--no-early-stop flags but lets every sample finish', async () => {
  const r = await run(['--model-file', fixtureModel, '--tokens-per-second', '20000', '--no-early-stop']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /early stop off/);
  assert.match(r.stdout, /⚑ committed failure at T=/);
  assert.doesNotMatch(r.stdout, /■ stopped/);
  assert.match(r.stdout, /· 0 stopped · /);
  assert.match(r.stdout, /was ⚑ at T=\d+/, 'a flagged sample that finished says it was flagged');
});

test('Ctrl+C (SIGINT) in headless mode ends the demo cleanly', async () => {
  const child = spawn(process.execPath, [bin, 'demo', '--model-file', fixtureModel, '--tokens-per-second', '50'], { cwd: tmpdir() });
  let out = '';
  child.stdout.on('data', (d) => { out += String(d); });
  await new Promise<void>((resolve) => {
    const check = setInterval(() => { if (out.includes('failmode demo: 8 samples from')) { clearInterval(check); resolve(); } }, 20);
  });
  child.kill('SIGINT');
  let err = '';
  child.stderr.on('data', (d) => { err += String(d); });
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  assert.equal(code, 0, `exit ${code} (signal ${signal}); stdout:\n${out}\nstderr:\n${err}`);
  assert.match(out, /failmode demo: \d+ samples · /, "the summary is printed");
});
