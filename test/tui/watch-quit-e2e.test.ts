/**
 * End to end: `failmode watch --demo` in a real terminal (tmux) with --records-csv; `q` while samples are still
 * streaming must still write their partial records (the live view unsubscribes; the monitor closes what is open).
 * Skipped with a message when tmux is not installed (CI installs it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCsvFrame } from '../../src/offline/table/read-csv.ts';
import { needsTmux } from '../fixtures/requires.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const socket = `failmode-watch-quit-${process.pid}`;
const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('watch live view: q while samples stream still writes their partial records to --records-csv', { ...needsTmux(), timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'failmode-watch-quit-'));
  const csv = join(dir, 'records.csv');
  const rcFile = join(dir, 'rc');
  try {
    // CI=… makes Ink print only the last frame; this test reads the live screen.
    const cmd = `cd ${JSON.stringify(root)} && env -u CI -u CONTINUOUS_INTEGRATION TERM=xterm-256color ${JSON.stringify(process.execPath)} bin/failmode watch --demo --n 4 --tokens-per-second 100 --records-csv ${JSON.stringify(csv)}; echo $? > ${JSON.stringify(rcFile)}`;
    assert.equal(tmux('new-session', '-d', '-s', 'w', '-x', '100', '-y', '30', cmd).status, 0);
    let screen = '';
    const started = Date.now();
    while (Date.now() - started < 240_000 && !(/4 streaming/.test(screen) && /\d{2,} tok/.test(screen))) {
      await sleep(100);
      screen = tmux('capture-pane', '-p', '-t', 'w').stdout ?? '';
    }
    assert.match(screen, /4 streaming/, `samples should be streaming; screen:\n${screen}`);
    tmux('send-keys', '-t', 'w', 'q');
    const quitAt = Date.now();
    while (!existsSync(rcFile) && Date.now() - quitAt < 60_000) await sleep(50);
    assert.equal(readFileSync(rcFile, 'utf8').trim(), '0');
    const frame = readCsvFrame(new Uint8Array(readFileSync(csv)), csv);
    assert.equal(frame.nRows, 4, 'one partial record per sample');
    const len = frame.numeric('generated_len')!;
    for (let i = 0; i < frame.nRows; i++) assert.ok(len[i]! > 0 && len[i]! < 2000, `partial length ${len[i]}`);
  } finally {
    tmux('kill-server');
    rmSync(dir, { recursive: true, force: true });
  }
});
