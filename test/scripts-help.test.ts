import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const scriptsDir = fileURLToPath(new URL('../scripts/', import.meta.url));
const scripts = readdirSync(scriptsDir).filter((f) => f.endsWith('.ts') || f.endsWith('.sh')).sort();

function runScript(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, argv] = file.endsWith('.sh') ? ['bash', [scriptsDir + file, ...args]] : [process.execPath, ['--import', 'tsx', scriptsDir + file, ...args]];
  return new Promise((resolve) => {
    execFile(cmd as string, argv as string[], { encoding: 'utf8', timeout: 600_000, cwd: scriptsDir }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as NodeJS.ErrnoException & { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('the scripts folder holds the scripts this test expects to check', () => {
  assert.ok(scripts.includes('sc-sim.ts') && scripts.includes('train-default-models.ts') && scripts.includes('load-test.sh'), scripts.join(' '));
});

for (const file of scripts) {
  test(`scripts/${file} --help prints Usage / Options / Examples and exits 0 without doing anything`, async () => {
    const r = await runScript(file, ['--help']);
    assert.equal(r.code, 0, r.stderr);
    for (const heading of ['Usage', 'Options', 'Examples']) assert.match(r.stdout, new RegExp(`^${heading}$`, 'm'), `${file} --help has no ${heading}`);
    assert.equal(r.stderr, '', `${file} --help wrote to stderr (did it start working?)`);
  });

  test(`scripts/${file} with an unknown option: one line on stderr, exit 2`, async () => {
    const r = await runScript(file, ['--no-such-option']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /no-such-option/);
  });
}
