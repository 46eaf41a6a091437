import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { DEFAULT_INPUT_LIMITS, inputLimitsFromFlags, type InputLimits } from '../../src/input-limits.ts';
import { loadTable } from '../../src/offline/load-table.ts';
import { readScTable } from '../../src/offline/sc/read-sc-table.ts';
import { readInputFile } from '../../src/read-input-file.ts';

const BIN = new URL('../../bin/failmode', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'failmode-limits-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const limits = (o: Partial<InputLimits>): InputLimits => ({ ...DEFAULT_INPUT_LIMITS, ...o });
const failmode = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 600_000 });
const header = 'correct,entropy_mean,nll_mean';
const rows = (n: number) => Array.from({ length: n }, (_, i) => `${i % 2},${(i * 0.37) % 1},${(i * 0.11) % 1}`).join('\n');

/** A one-entry ZIP archive (local header, data, central directory, end record), sizes as given (they may lie). */
function zip(name: string, data: Buffer, declaredSize: number, method = 8): Buffer {
  const body = method === 8 ? deflateRawSync(data) : data;
  const n = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(method, 8);
  local.writeUInt32LE(body.length, 18); local.writeUInt32LE(declaredSize, 22); local.writeUInt16LE(n.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 6); central.writeUInt16LE(method, 10);
  central.writeUInt32LE(body.length, 20); central.writeUInt32LE(declaredSize, 24); central.writeUInt16LE(n.length, 28); central.writeUInt32LE(0, 42);
  const cdOffset = 30 + n.length + body.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(1, 8); end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + n.length, 12); end.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([local, n, body, central, n, end]);
}

test('a file over --max-input-bytes: one line naming the size, the limit and the flag, exit 2 (CLI)', () => {
  const path = join(dir, 'big.csv');
  writeFileSync(path, `${header}\n${rows(5000)}\n`);
  const r = failmode(['analyze', path, '--no-plot', '--max-input-bytes', '10k']);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /big\.csv: the file is [\d.]+ KiB, over the limit of 10 KiB \(raise it with --max-input-bytes\)/);
  const bad = failmode(['analyze', path, '--max-rows', 'many']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /Expected --max-rows to be a size ≥ 1/);
});

test('a device that never ends is read up to the limit, then refused', async () => {
  await assert.rejects(readInputFile('/dev/zero', { maxBytes: 1 << 20 }), /\/dev\/zero: the input is over the limit of 1 MiB \(raise it with --max-input-bytes\)/);
});

test('a named pipe that nothing writes to is refused after the wait, not waited on forever; one with a writer is read', async () => {
  const fifo = join(dir, 'pipe');
  execFileSync('mkfifo', [fifo]);
  await assert.rejects(readInputFile(fifo, { fifoWaitMs: 300 }), /pipe is a named pipe that nothing writes to \(waited 0\.3 s\)/);
  // A writer (a child process) that opens the pipe, writes in two parts and closes it.
  const writer = spawn('sh', ['-c', `(printf 'a,b\\n' ; sleep 0.2 ; printf '1,2\\n') > '${fifo}'`], { stdio: 'ignore' });
  assert.equal(await readInputFile(fifo, { encoding: 'utf8', fifoWaitMs: 60_000 }), 'a,b\n1,2\n');
  await new Promise((resolve) => writer.on('exit', resolve));
});

test('CSV: a line over --max-line-bytes, more rows than --max-rows, more cells than --max-cells', async () => {
  const path = join(dir, 'rows.csv');
  writeFileSync(path, `${header}\n${rows(100)}\n`);
  await assert.rejects(loadTable(path, { limits: limits({ maxRows: 99 }) }), /rows\.csv: more than 99 data rows: over the limit of 99 \(raise it with --max-rows\)/);
  assert.equal((await loadTable(path, { limits: limits({ maxRows: 100 }) })).nRows, 100);
  await assert.rejects(loadTable(path, { limits: limits({ maxCells: 200 }) }), /over the limit of 200 \(raise it with --max-cells\)/);
  const long = join(dir, 'long.csv');
  writeFileSync(long, `${header}\n1,0.5,0.5\n0,"${'x'.repeat(5000)}",1\n`);
  await assert.rejects(loadTable(long, { limits: limits({ maxLineBytes: 1024 }) }), /long\.csv: line 3 is longer than the limit; over the limit of 1 KiB \(raise it with --max-line-bytes\)/);
});

test('XLSX zip bomb: refused by its real inflated size, even when its headers claim a small one', async () => {
  const bomb = zip('xl/worksheets/sheet1.xml', Buffer.alloc(8 * 1024 * 1024, 0x20), 100);
  const path = join(dir, 'bomb.xlsx');
  writeFileSync(path, bomb);
  assert.ok(bomb.length < 64 * 1024, `the bomb is ${bomb.length} bytes on disk`);
  await assert.rejects(loadTable(path, { limits: limits({ maxDecompressedBytes: 1 << 20 }) }),
    /bomb\.xlsx: the workbook unpacks to more than the limit; over the limit of 1 MiB \(raise it with --max-decompressed-bytes\)/);
});

test('a `;`- or tab-separated table is read with its delimiter, and a note says so', async () => {
  for (const [name, d, word] of [['semi.csv', ';', 'semicolon'], ['tab.csv', '\t', 'tab']] as const) {
    const path = join(dir, name);
    writeFileSync(path, `${header.replaceAll(',', d)}\n${rows(10).replaceAll(',', d)}\n`);
    const notes: string[] = [];
    const f = await loadTable(path, { note: (l) => notes.push(l) });
    assert.deepEqual(f.columnNames, ['correct', 'entropy_mean', 'nll_mean']);
    assert.equal(f.nRows, 10);
    assert.equal(notes.length, 1);
    assert.match(notes[0]!, new RegExp(`${name}: fields are separated by ${word}`));
  }
});

test('sample-log JSONL: a line over --max-line-bytes and too many lines are refused', async () => {
  const path = join(dir, 'log.jsonl');
  writeFileSync(path, `${JSON.stringify({ question_id: 'q1', correct: 1, entropy_mean: 0.5 })}\n${JSON.stringify({ question_id: 'q2', note: 'x'.repeat(3000) })}\n`);
  await assert.rejects(readScTable(path, limits({ maxLineBytes: 1024 })), /log\.jsonl: line 2 is longer than the limit; over the limit of 1 KiB \(raise it with --max-line-bytes\)/);
  await assert.rejects(readScTable(path, limits({ maxRows: 1 })), /over the limit of 1 \(raise it with --max-rows\)/);
});

test('limit flags: sizes with k/M/G suffixes, defaults for the rest', () => {
  const l = inputLimitsFromFlags({ 'max-input-bytes': '64M', 'max-line-bytes': '512k', 'max-rows': '1000' });
  assert.equal(l.maxBytes, 64 * 1024 * 1024);
  assert.equal(l.maxLineBytes, 512 * 1024);
  assert.equal(l.maxRows, 1000);
  assert.equal(l.maxCells, DEFAULT_INPUT_LIMITS.maxCells);
});
