import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FailmodeError } from '../../src/errors.ts';
import { loadTable } from '../../src/offline/load-table.ts';
import { failureLabels } from '../../src/offline/table/failure-labels.ts';
import { decodeTableText } from '../../src/offline/table/decode-text.ts';
import { tableColumnNames } from '../../src/offline/table/column-names.ts';
import { categoricalCodes } from '../../src/offline/analysis/categorical-codes.ts';
import { needsPaper } from '../fixtures/requires.ts';

const paper = fileURLToPath(new URL('../../../shared/paper/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'failmode-load-'));

function file(name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

async function rejects(path: string, pattern: RegExp): Promise<void> {
  await assert.rejects(loadTable(path), (err: unknown) => {
    assert.ok(err instanceof FailmodeError, `expected a FailmodeError, got ${String(err)}`);
    assert.equal(err.exitCode, 2);
    assert.ok(err.message.includes(path), `message should name the path: ${err.message}`);
    assert.match(err.message, pattern);
    assert.equal(err.message.split('\n').length, 1);
    return true;
  });
}

test('CSV with a UTF-8 BOM: the BOM is not part of the first column name', async () => {
  const p = file('bom.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('correct,entropy_mean\n1,0.5\n0,0.25\n')]));
  const f = await loadTable(p);
  assert.deepEqual(f.columnNames, ['correct', 'entropy_mean']);
  assert.deepEqual(Array.from(f.numeric('entropy_mean')!), [0.5, 0.25]);
});

test('CSV that is not valid UTF-8 is read as Latin-1', async () => {
  const bytes = Buffer.concat([Buffer.from('subject,correct,nll_mean\nCaf'), Buffer.from([0xe9]), Buffer.from(',0,1.5\nna\xefve,1,2\n', 'latin1')]);
  const f = await loadTable(file('latin1.csv', bytes));
  assert.deepEqual(f.text('subject'), ['Café', 'naïve']);
  assert.deepEqual(Array.from(f.numeric('nll_mean')!), [1.5, 2]);
  assert.equal(decodeTableText(Buffer.from('é', 'utf8')).encoding, 'utf-8');
  assert.equal(decodeTableText(Buffer.from([0x80, 0x41])).text, '\u0080A'); // ISO-8859-1, not windows-1252's €
});

test('empty cells, nan strings and non-numeric cells in feature columns are NaN; quoted fields keep commas and newlines', async () => {
  const p = file('nan.csv', 'correct,entropy_mean,note\n1,,"a, b"\n0,nan,"line1\nline2"\n1,abc,x\n0,NaN,y\n1,1e-3,z\n');
  const f = await loadTable(p);
  assert.equal(f.nRows, 5);
  const v = Array.from(f.numeric('entropy_mean')!);
  assert.ok(v.slice(0, 4).every(Number.isNaN));
  assert.equal(v[4], 0.001);
  assert.deepEqual(f.text('note')!.slice(0, 2), ['a, b', 'line1\nline2']);
});

test('duplicate and empty header cells are named as pandas names them', () => {
  assert.deepEqual(tableColumnNames(['a', 'a', '', 'a', null]), ['a', 'a.1', 'Unnamed: 2', 'a.2', 'Unnamed: 4']);
});

test('XLSX: first sheet, header row, numbers as numbers', needsPaper('results/gpqa_gemma4-31b.final.xlsx'), async () => {
  const f = await loadTable(`${paper}results/gpqa_gemma4-31b.final.xlsx`);
  assert.equal(f.nRows, 197);
  assert.equal(f.columnNames[0], 'checkpoint_key');
  const y = failureLabels(f).y;
  assert.equal(y.reduce((a, b) => a + b, 0), 43); // SPEC §5.2: 154 correct / 43 incorrect
  assert.ok(Number.isFinite(f.numeric('entropy_mean_prefinal_w128')![0]!));
});

test('labels: y = 1 − correct (0/1, True/False, 1.0); rows with a missing correct are excluded and counted', async () => {
  const p = file('labels.csv', 'correct,x\n1,1\nFalse,2\n,3\nnan,4\n1.0,5\nTrue,6\n0,7\n');
  const { frame, y, excluded } = failureLabels(await loadTable(p));
  assert.equal(excluded, 2);
  assert.deepEqual(Array.from(y), [0, 1, 0, 0, 1]);
  assert.deepEqual(Array.from(frame.numeric('x')!), [1, 2, 5, 6, 7]);
});

test('labels: a correct value that is not 0/1 is an error naming the row', async () => {
  const p = file('bad-label.csv', 'correct,x\n1,1\nmaybe,2\n');
  const frame = await loadTable(p);
  assert.throws(() => failureLabels(frame), (e: unknown) => e instanceof FailmodeError && /data row 2/.test(e.message) && /maybe/.test(e.message));
  const frame2 = await loadTable(file('bad-label2.csv', 'correct,x\n2,1\n'));
  assert.throws(() => failureLabels(frame2), /expected 0\/1/);
});

test('bad inputs are one-line FailmodeErrors (exit 2) naming the path', needsPaper('results/gpqa_gemma4-31b.final.xlsx'), async () => {
  await rejects(join(dir, 'does-not-exist.csv'), /no such file/);
  mkdirSync(join(dir, 'a-directory.csv'), { recursive: true });
  await rejects(join(dir, 'a-directory.csv'), /directory/);
  await rejects(file('empty.csv', ''), /empty/);
  await rejects(file('blank.csv', '\n\n  \n'), /empty/);
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 1, 0]);
  await rejects(file('image.png', png), /not a text table/);
  await rejects(file('not-really.xlsx', 'correct,x\n1,2\n'), /not an \.xlsx workbook/);
  await rejects(file('header-only.csv', 'correct,entropy_mean\n'), /no data rows/);
  await rejects(file('no-correct.csv', 'accuracy,entropy_mean\n1,0.5\n'), /no `correct` column/);
  await rejects(file('open-quote.csv', 'correct,note\n1,"never closed\n0,x\n'), /truncated/);
  await rejects(file('short-last-row.csv', 'correct,a,b\n1,2,3\n0,4'), /line 3 has 2 fields, the header has 3.*truncated/);
  const xlsx = readFileSync(`${paper}results/gpqa_gemma4-31b.final.xlsx`);
  await rejects(file('truncated.xlsx', xlsx.subarray(0, Math.floor(xlsx.length / 2))), /not a readable XLSX table/);
});

test('requireColumns: [] accepts a table without `correct`', async () => {
  const f = await loadTable(file('any.csv', 'a,b\n1,2\n'), { requireColumns: [] });
  assert.deepEqual(f.columnNames, ['a', 'b']);
});

test('categorical codes: numeric values sort numerically, text by code point, missing → −1 (a cluster of its own)', () => {
  const num = categoricalCodes(['10', '9', '10', null, '9.0', 'nan']);
  assert.deepEqual(Array.from(num.codes), [1, 0, 1, -1, 0, -1]);
  assert.equal(num.nCategories, 2);
  assert.equal(num.nUnique, 3);
  const txt = categoricalCodes(['rec_b', 'rec_a', 'Rec_c', 'rec_b']);
  assert.deepEqual(Array.from(txt.codes), [2, 1, 0, 2]); // 'R' < 'r'
  assert.equal(txt.nUnique, 3);
});
