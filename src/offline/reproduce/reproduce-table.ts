import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadTable } from '../load-table.ts';
import { runAnalysis } from '../analyze.ts';
import { renderReport, type ReportPlot } from '../report-text.ts';
import { parseReport } from '../parse-report.ts';
import { compareReports, type Check } from '../analysis/compare-reports.ts';
import { commitmentPlotTitle, renderCommitmentPlot } from '../../plots/commitment-plot.ts';
import type { TableEntry } from './manifest.ts';

export interface ReproduceOptions {
  /** Folder holding the paper's result files (the inputs). */
  readonly resultsDir: string;
  /** Folder holding published reports `<table>.txt`, if any. */
  readonly publishedDir?: string;
  readonly outDir: string;
  readonly plot?: boolean;
}

/** One table's outcome: what the summary needs, plain data (it crosses worker threads). */
export interface TableOutcome {
  readonly table: string;
  readonly input: string;
  readonly mode: TableEntry['mode'];
  readonly nBoot: number;
  readonly status: 'ok' | 'missing-input' | 'error';
  readonly error?: string;
  readonly seconds: number;
  readonly n?: number;
  readonly failures?: number;
  readonly verdict?: string;
  readonly commitmentPoint?: number | null;
  readonly bestWindow?: number | null;
  readonly published?: {
    readonly verdict: string | null;
    readonly commitmentPoint: number | null;
    readonly matches: boolean;
    readonly checks: number;
    readonly maxPointDiff: number;
    readonly maxCiDiff: number;
    readonly maxDeltaDiff: number;
    readonly maxPDiff: number;
    /** Checks beyond tolerance (excused boundary cases are listed with `excused`). */
    readonly differences: ReadonlyArray<Pick<Check, 'what' | 'ours' | 'reference' | 'diff' | 'tolerance' | 'excused'>>;
  };
}

const VERDICT_NAMES = { committed: 'TYPE 1 — COMMITTED FAILURE', 'near-committed': 'NEAR-COMMITTED / AMBIGUOUS', persistent: 'TYPE 2 — PERSISTENT UNCERTAINTY', 'insufficient data': 'INSUFFICIENT DATA' } as const;

/** Runs one paper table end to end: report (`<table>.txt`), JSON, plot, and the comparison with its published report. */
export async function reproduceTable(entry: TableEntry, opts: ReproduceOptions): Promise<TableOutcome> {
  const started = performance.now();
  const base = { table: entry.table, input: entry.input, mode: entry.mode, nBoot: entry.nBoot };
  const inputPath = join(opts.resultsDir, entry.input);
  const seconds = () => (performance.now() - started) / 1000;
  let frame;
  try {
    frame = await loadTable(inputPath);
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT' || /no such file|does not exist|cannot read/i.test(String((err as Error).message));
    return { ...base, status: missing ? 'missing-input' : 'error', error: (err as Error).message, seconds: seconds() };
  }
  try {
    const result = runAnalysis(frame, { file: inputPath, prefinal: entry.mode === 'prefinal', nBoot: entry.nBoot });
    let plot: ReportPlot | undefined;
    if (opts.plot !== false) {
      if (result.plot) {
        const suffix = result.plot.source === 'prefinal' ? '_prefinal_ablation' : '_window_ablation';
        const figure = await renderCommitmentPlot(result.plot, { title: commitmentPlotTitle(entry.table, result.plot.source) });
        const svg = `${entry.table}${suffix}.svg`;
        const png = `${entry.table}${suffix}.png`;
        await writeFile(join(opts.outDir, svg), figure.svg);
        await writeFile(join(opts.outDir, png), figure.png);
        plot = { kind: 'saved', svg, png };
      } else {
        plot = { kind: 'no-data' };
      }
    }
    const text = renderReport(result, plot ? { plot } : {});
    await writeFile(join(opts.outDir, `${entry.table}.txt`), text);
    await writeFile(join(opts.outDir, `${entry.table}.json`), `${JSON.stringify(result, null, 2)}\n`);
    const verdict = result.summary.verdict;
    const outcome: TableOutcome = {
      ...base, status: 'ok', seconds: 0,
      n: result.overview.n, failures: result.overview.failures,
      verdict: VERDICT_NAMES[verdict.type],
      commitmentPoint: verdict.T,
      bestWindow: result.ablation.bestWindow?.T ?? null,
    };
    const published = opts.publishedDir ? await readPublished(join(opts.publishedDir, `${entry.table}.txt`)) : null;
    if (!published) return { ...outcome, seconds: seconds() };
    const ref = parseReport(published);
    const cmp = compareReports(parseReport(text), ref);
    const refVerdict = ref.summary?.verdict ?? null;
    return {
      ...outcome,
      seconds: seconds(),
      published: {
        verdict: refVerdict ? VERDICT_NAMES[refVerdict.type] : null,
        commitmentPoint: refVerdict && refVerdict.type !== 'persistent' ? refVerdict.T : null,
        matches: cmp.ok,
        checks: cmp.checks.length,
        maxPointDiff: cmp.maxDiff.point,
        maxCiDiff: cmp.maxDiff.ci,
        maxDeltaDiff: cmp.maxDiff.delta,
        maxPDiff: cmp.maxDiff.p,
        differences: cmp.checks.filter((c) => c.diff > c.tolerance + 1e-12)
          .map(({ what, ours, reference, diff, tolerance, excused }) => ({ what, ours, reference, diff, tolerance, ...(excused ? { excused } : {}) })),
      },
    };
  } catch (err) {
    return { ...base, status: 'error', error: (err as Error).message, seconds: seconds() };
  }
}

async function readPublished(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
