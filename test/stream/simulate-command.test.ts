import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

const bin = new URL('../../bin/failmode', import.meta.url).pathname;

describe('failmode simulate', () => {
  it('prints its URL, serves requests, and stops cleanly on SIGINT', async () => {
    const child = spawn(process.execPath, [bin, 'simulate', '--port', '0', '--seed', '5'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: string) => {
        out += d;
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    const res = await fetch(`${url}/chat/completions`, { method: 'POST', body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], failmode_sim: { length: 10 } }) });
    assert.equal(res.status, 200);
    const body = await res.json() as { choices: { message: { content: string } }[] };
    assert.match(body.choices[0]!.message.content, /\\boxed\{/);
    const code = await new Promise<number | null>((resolve) => { child.on('exit', resolve); child.kill('SIGINT'); });
    assert.equal(code, 0);
    assert.match(out, /stopped: 1 requests, 1 completed, 0 aborted, 10 tokens/);
  });

  it('rejects a bad flag value with exit code 2 and one line', () => {
    const r = spawnSync(process.execPath, [bin, 'simulate', '--tokens-per-second=-3'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim(), 'failmode simulate: Expected --tokens-per-second to be a number ≥ 0, got `-3`');
  });
});
