import { access, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Command } from '../main.ts';
import { DEFAULT_OUTPUT_DIR } from '../write-output.ts';
import { numberOption, parseCommandArgs } from '../args.ts';
import { FailmodeError, usageError } from '../../errors.ts';
import { PAPER_TABLES, selectTables, type TableEntry } from '../../offline/reproduce/manifest.ts';
import { runTablesInPool } from '../../offline/reproduce/run-pool.ts';
import { renderSummary } from '../../offline/reproduce/summary.ts';
import { createProgressBar } from '../progress-bar.ts';

const HELP = `failmode reproduce — reproduce all ${PAPER_TABLES.length} of the paper's failure-mode tables and compare them with its published reports

Usage
  failmode reproduce --results DIR [--published DIR] [--out DIR] [--jobs N] [--only TABLE …] [--no-plot]

  For each table of the built-in manifest (../shared/paper/README.md: table, input file, mode, n_boot) it writes
  OUT/<table>.txt (the paper's report layout), OUT/<table>.json and the plot, then OUT/summary.md: n, failures, our
  verdict and commitment point, the published ones, the largest differences, match or differs.

Options
  --results DIR     folder with the paper's result files (CSV/XLSX)                      (required)
  --published DIR   folder with published reports <table>.txt to compare with
  --out DIR         output folder (default failmode-out/paper)
  --jobs N          worker threads (default: the number of cores, ${availableParallelism()} here)
  --only TABLE      only this table (repeatable; names as in the manifest, e.g. gpqa_gpt4o.final)
  --no-plot         skip the plots
  -h, --help        show this help

Examples
  failmode reproduce --results ../shared/paper/results --published ../shared/paper/published --out results/paper
  failmode reproduce --results ../shared/paper/results --only gpqa_gpt4o.final --only easy --out /tmp/repro
`;

export const command: Command = {
  summary: "reproduce all the paper's tables and compare with its published reports",
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      results: { type: 'string' },
      published: { type: 'string' },
      out: { type: 'string' },
      jobs: { type: 'string' },
      only: { type: 'string', multiple: true },
      'no-plot': { type: 'boolean' },
    }, true);
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (positionals.length > 0) throw usageError(`Unexpected argument \`${positionals[0]}\` (see --help)`);
    if (!values.results) throw usageError('Expected --results DIR: the folder with the paper\'s result files');
    const jobs = numberOption('jobs', values.jobs, { integer: true, min: 1, max: 64 }) ?? availableParallelism();
    const only = values.only?.flatMap((s) => s.split(',')).filter(Boolean);
    const { tables, unknown } = selectTables(only);
    if (unknown.length > 0) {
      throw usageError(`Unknown table${unknown.length > 1 ? 's' : ''} in --only: ${unknown.map((u) => `\`${u}\``).join(', ')}. Tables: ${PAPER_TABLES.map((t) => t.table).join(', ')}`);
    }
    await requireDirectory(values.results, '--results');
    if (values.published) await requireDirectory(values.published, '--published');
    const outDir = values.out ?? join(DEFAULT_OUTPUT_DIR, 'paper');
    try {
      await mkdir(outDir, { recursive: true });
    } catch (err) {
      throw new FailmodeError(`cannot create --out ${outDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }

    const sizes = await inputSizes(values.results);
    const bar = createProgressBar(tables.length, 'reproducing');
    const started = performance.now();
    const outcomes = await runTablesInPool(tables, {
      resultsDir: values.results, outDir, plot: !values['no-plot'], ...(values.published ? { publishedDir: values.published } : {}),
    }, jobs, (o) => bar.tick(`${o.table} ${o.status === 'ok' ? `${o.seconds.toFixed(1)}s` : o.status}`), (e: TableEntry) => (sizes.get(e.input) ?? 0) * (e.nBoot >= 10_000 ? 2 : 1));
    bar.done();
    const seconds = (performance.now() - started) / 1000;
    const summary = renderSummary(outcomes, { resultsDir: values.results, ...(values.published ? { publishedDir: values.published } : {}) });
    await writeFile(join(outDir, 'summary.md'), summary);
    process.stdout.write(summary);
    const errors = outcomes.filter((o) => o.status !== 'ok');
    const differs = outcomes.filter((o) => o.published && !o.published.matches);
    process.stderr.write(`${outcomes.length - errors.length}/${outcomes.length} tables in ${seconds.toFixed(1)} s → ${join(outDir, 'summary.md')}`
      + `${differs.length ? `; ${differs.length} differ from their published report` : ''}${errors.length ? `; ${errors.length} could not be run` : ''}\n`);
    return errors.length > 0 || differs.length > 0 ? 1 : 0;
  },
};

async function requireDirectory(path: string, flag: string): Promise<void> {
  try {
    const s = await stat(path);
    if (!s.isDirectory()) throw new FailmodeError(`${flag} ${path} is not a directory`);
    await access(path);
    await readdir(path);
  } catch (err) {
    if (err instanceof FailmodeError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new FailmodeError(`cannot read ${flag} directory ${path}: ${code === 'ENOENT' ? 'it does not exist' : code ?? (err as Error).message}`);
  }
}

async function inputSizes(dir: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const name of await readdir(dir)) {
    try {
      sizes.set(name, (await stat(join(dir, name))).size);
    } catch { /* unreadable entries are reported per table */ }
  }
  return sizes;
}
