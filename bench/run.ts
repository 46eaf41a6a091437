/**
 * Runs the benchmarks, each in its own process so one's heap and JIT state never colour another's figures.
 * `npm run bench` runs all; `npm run bench -- analyze stream` runs those whose file names contain a filter;
 * `npm run bench -- --json results/bench` also writes each one's figures to results/bench/<bench>.json (the README's
 * speed table is rendered from them by scripts/render-readme-figures.ts).
 */
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/bench-json.ts';

const dir = fileURLToPath(new URL('.', import.meta.url));
const { jsonDir, rest } = benchArgs();
const filters = rest.filter((a) => !a.startsWith('-'));
const passThrough = [...rest.filter((a) => a.startsWith('-')), ...(jsonDir !== null ? ['--json', jsonDir] : [])];
const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'run.ts' && (filters.length === 0 || filters.some((x) => f.includes(x)))).sort();
/** Benches run a second time with other settings (each writes its own JSON). */
const EXTRA_RUNS: Record<string, readonly string[]> = { 'feed-load.ts': ['--workers', '1'] };
let failed = 0;
for (const f of files) {
  for (const extra of [[], ...(EXTRA_RUNS[f] ? [EXTRA_RUNS[f]] : [])]) {
    console.log(`\n== bench/${f}${extra.length > 0 ? ` ${extra.join(' ')}` : ''}`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', `${dir}${f}`, ...extra, ...passThrough], { stdio: 'inherit' });
    if (r.status !== 0) failed++;
  }
}
process.exitCode = failed > 0 ? 1 : 0;
