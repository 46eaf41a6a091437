import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const BIN = new URL('../../bin/failmode', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'failmode-replay-input-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const watch = (file: string) => spawnSync(process.execPath, [BIN, 'watch', '--replay', file, '--no-tui', '--jsonl', join(dir, 'out.jsonl')], { encoding: 'utf8', timeout: 600_000 });

test('watch --replay of a recording it cannot read at all: the reason first, exit 2 (an oversized event, deeply nested JSON)', () => {
  const big = join(dir, 'big.sse');
  writeFileSync(big, `data: {"x":"${'a'.repeat(9 * 1024 * 1024)}"}\n\n`);
  const r = watch(big);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr.split('\n')[0]!, /^failmode watch: .*big\.sse: SSE event longer than \d+ characters/);
  const nested = join(dir, 'nested.sse');
  writeFileSync(nested, `data: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n\n`);
  const n = watch(nested);
  assert.equal(n.status, 2, n.stderr);
  assert.match(n.stderr.split('\n')[0]!, /^failmode watch: .*nested\.sse: /);
});
