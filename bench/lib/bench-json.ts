/**
 * `--json DIR` on any benchmark: its figures also go to DIR/<bench>.json, with when and where they were measured, so
 * the README's speed table is rendered from files a command regenerates (`npm run bench -- --json results/bench`,
 * then `node --import tsx scripts/render-readme-figures.ts`) instead of typed by hand.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';

/** The bench's own arguments with `--json DIR` taken out, and DIR (null without the flag). */
export function benchArgs(argv: readonly string[] = process.argv.slice(2)): { jsonDir: string | null; rest: string[] } {
  const rest: string[] = [];
  let jsonDir: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--json') {
      jsonDir = argv[++i] ?? null;
      if (jsonDir === null) throw new Error('--json needs a directory');
    } else rest.push(argv[i]!);
  }
  return { jsonDir, rest };
}

/** The machine and moment of a measurement (recorded next to every figure). */
export function measuredOn(): Record<string, unknown> {
  return {
    measured_at: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    load_average_1min: Number(loadavg()[0]!.toFixed(2)),
  };
}

/** Writes DIR/<bench>.json when --json DIR was given; no-op otherwise. */
export function recordBench(bench: string, figures: Record<string, unknown>, argv: readonly string[] = process.argv.slice(2)): void {
  const { jsonDir } = benchArgs(argv);
  if (jsonDir === null) return;
  mkdirSync(jsonDir, { recursive: true });
  const path = join(jsonDir, `${bench}.json`);
  writeFileSync(path, `${JSON.stringify({ schema: 'failmode-bench', version: 1, bench, ...measuredOn(), figures }, null, 1)}\n`);
  console.log(`  → ${path}`);
}
