/**
 * `failmode reproduce` end to end: all 27 of the paper's tables with their plots, compared with the published
 * reports, exactly as the README's command runs it (a child process, default worker threads), timed by wall clock.
 * The figure depends on the machine's load, which is recorded with it.
 *
 * Run: node --import tsx bench/reproduce.ts [--json DIR]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordBench } from './lib/bench-json.ts';

const BIN = fileURLToPath(new URL('../bin/failmode', import.meta.url));
const PAPER = fileURLToPath(new URL('../../shared/paper/', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'failmode-bench-reproduce-'));
try {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, 'reproduce', '--results', `${PAPER}results`, '--published', `${PAPER}published`, '--out', out], { encoding: 'utf8' });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`failmode reproduce exited ${r.status}: ${r.stderr.slice(-500)}`);
  const tables = /(\d+)\/(\d+) tables/.exec(r.stderr);
  console.log(`failmode reproduce (27 tables, plots, ${availableParallelism()} worker threads): ${wall.toFixed(1)} s wall; ${r.stderr.trim().split('\n').at(-1)}`);
  recordBench('reproduce', { tables: tables ? Number(tables[2]) : null, tables_ok: tables ? Number(tables[1]) : null, worker_threads: availableParallelism(), wall_s: wall, plots: true });
} finally {
  rmSync(out, { recursive: true, force: true });
}
