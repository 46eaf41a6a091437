import { strict as assert } from 'node:assert';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { FailmodeError } from '../../src/errors.ts';
import { readInputFile } from '../../src/read-input-file.ts';

it('readInputFile returns the bytes or the text, and says in words why a file cannot be read', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'failmode-read-'));
  const file = join(dir, 'a.txt');
  await writeFile(file, 'héllo');
  assert.equal(await readInputFile(file, { encoding: 'utf8' }), 'héllo');
  assert.deepEqual(await readInputFile(file), Buffer.from('héllo'));

  const expect = async (path: string, opts: { what?: string; code?: string }, message: string, code: string) => {
    await assert.rejects(readInputFile(path, opts), (err: unknown) => {
      assert.ok(err instanceof FailmodeError);
      assert.equal(err.message, message);
      assert.equal(err.code, code);
      assert.equal(err.exitCode, 2);
      return true;
    });
  };
  await expect(join(dir, 'missing'), {}, `cannot read ${join(dir, 'missing')}: no such file`, 'FAILMODE_ERR_INPUT');
  await expect(dir, { what: 'model file', code: 'FAILMODE_ERR_MODEL' }, `cannot read model file ${dir}: it is a directory`, 'FAILMODE_ERR_MODEL');
});
