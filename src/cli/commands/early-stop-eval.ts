import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import type { Command } from '../main.ts';
import { choiceOption, expandNumericListFlags, numberListOption, numberOption, parseCommandArgs } from '../args.ts';
import { FailmodeError, usageError } from '../../errors.ts';
import type { EarlyStopEvalResult } from '../../offline/early-stop-eval.ts';
import { INPUT_LIMIT_HELP, INPUT_LIMIT_OPTIONS, inputLimitsFromFlags } from '../../input-limits.ts';

const HELP = `failmode early-stop-eval — what early stopping would have saved on a results table (out-of-fold)

Usage
  failmode early-stop-eval FILE [--prefinal] [--windows T …] [--out DIR]
  failmode early-stop-eval --all RESULTS_DIR [--out DIR]

  For each window T and threshold: the share of samples stopped at token T, the stop precision (stopped samples that
  were failures), the recall of failures, and the share of tokens saved (Σ over stopped samples of (full length − T)
  / Σ full length; a sample that ended by T cannot be stopped). Scores are out-of-fold: the paper's CV logistic
  regression on the window features (a row is never scored by a model that saw it), compared with one-feature
  DeepConf-style baselines (the window's mean NLL / mean entropy, thresholded at a percentile).
  Writes DIR/NAME.md, NAME.json and a plot NAME.svg/.png (tokens saved at precision ≥ P by window).
  --all runs every table of the paper (../shared/paper/README.md) in its mode, plus DIR/summary.md.

Options
  --prefinal            the paper's --prefinal working frame (rows with a final-answer line, prefinal features)
  --windows T …         windows (default: every window the table has)
  --min-precision P     target stop precision of the summary (default 0.9)
  --fit-on ROWS         all (default: the classifier is cross-validated on every row, as the paper and
                        \`failmode train\` fit it) | running (window T's classifier on the rows still running at T only —
                        the population the live stop rule scores). --all writes both (NAME.md, NAME.running.md)
  --out DIR             output directory (default results/early-stop)
  --all RESULTS_DIR     every paper table found in RESULTS_DIR
  --no-plot             skip the plots
  --json                print the result JSON instead of the table
${INPUT_LIMIT_HELP}
  -h, --help            show this help

Examples
  failmode early-stop-eval ../shared/paper/results/gpqa_gpt4o.final.csv --prefinal
  failmode early-stop-eval --all ../shared/paper/results
`;

export const command: Command = {
  summary: "what early stopping saves on the paper's data (out-of-fold)",
  async run(argv) {
    const { values, positionals } = parseCommandArgs(expandNumericListFlags(argv, ['windows']), {
      ...INPUT_LIMIT_OPTIONS,
      prefinal: { type: 'boolean' },
      windows: { type: 'string', multiple: true },
      'min-precision': { type: 'string' },
      'fit-on': { type: 'string' },
      out: { type: 'string' },
      all: { type: 'string' },
      'no-plot': { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const limits = inputLimitsFromFlags(values);
    const windows = numberListOption('windows', values.windows, { integer: true, min: 1 });
    const minPrecision = numberOption('min-precision', values['min-precision'], { min: 0.01, max: 1 }) ?? 0.9;
    const fitOn = choiceOption('fit-on', values['fit-on'], ['all', 'running'] as const) ?? 'all';
    const outDir = values.out ?? 'results/early-stop';
    const plot = values['no-plot'] !== true;
    const { earlyStopEval } = await import('../../offline/early-stop-eval.ts');
    const { crossValidatedScores } = await import('../../offline/cv-lr.ts');
    const { loadTable } = await import('../../offline/load-table.ts');

    if (values.all !== undefined) {
      if (positionals.length > 0) throw usageError('--all takes a results directory, not files');
      const { PAPER_TABLES } = await import('../../offline/reproduce/manifest.ts');
      await mkdir(outDir, { recursive: true });
      const rows: Array<{ table: string; result: EarlyStopEvalResult; running: EarlyStopEvalResult }> = [];
      for (const t of PAPER_TABLES) {
        const path = join(values.all, t.input);
        process.stderr.write(`early-stop-eval: ${t.table} (${t.input}, ${t.mode})\n`);
        let frame;
        try {
          frame = await loadTable(path, { limits });
        } catch (err) {
          process.stderr.write(`  skipped: ${(err as Error).message}\n`);
          continue;
        }
        const opts = { prefinal: t.mode === 'prefinal', ...(windows ? { windows } : {}), minPrecision };
        const result = earlyStopEval(frame, crossValidatedScores, opts);
        const running = earlyStopEval(frame, crossValidatedScores, { ...opts, fitOn: 'running' });
        await writeOutputs(outDir, t.table, result, plot);
        await writeOutputs(outDir, `${t.table}.running`, running, plot);
        rows.push({ table: t.table, result, running });
      }
      const { summaryMarkdown } = await import('../../offline/early-stop-eval.ts');
      await writeFile(join(outDir, 'summary.md'), summaryMarkdown(rows, minPrecision));
      process.stdout.write(summaryMarkdown(rows, minPrecision));
      process.stderr.write(`wrote ${rows.length} tables and summary.md to ${resolve(outDir)}\n`);
      return 0;
    }

    if (positionals.length !== 1) throw usageError('Expected one results file: failmode early-stop-eval FILE (or --all RESULTS_DIR)');
    const file = positionals[0]!;
    const frame = await loadTable(file, { limits });
    const result = earlyStopEval(frame, crossValidatedScores, { prefinal: values.prefinal === true, ...(windows ? { windows } : {}), minPrecision, fitOn });
    if (result.windows.length === 0) throw new FailmodeError(`${file}: no window could be scored (need window feature columns like entropy_mean_w128 and ≥ 5 failures)`);
    const name = basename(file, extname(file)) + (fitOn === 'running' ? '.running' : '');
    await writeOutputs(outDir, name, result, plot);
    if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      const { earlyStopMarkdown } = await import('../../offline/early-stop-eval.ts');
      process.stdout.write(earlyStopMarkdown(result, name));
      process.stderr.write(`wrote ${join(outDir, `${name}.md`)}, .json${plot ? ', .svg, .png' : ''}\n`);
    }
    return 0;
  },
};

async function writeOutputs(dir: string, name: string, result: EarlyStopEvalResult, plot: boolean): Promise<void> {
  const { earlyStopMarkdown, earlyStopChartSpec } = await import('../../offline/early-stop-eval.ts');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${name}.md`), earlyStopMarkdown(result, name));
  await writeFile(join(dir, `${name}.json`), `${JSON.stringify(result, null, 1)}\n`);
  if (plot && result.windows.length > 0) {
    const { renderLineChart } = await import('../../plots/line-chart.ts');
    const fig = await renderLineChart(earlyStopChartSpec(result, name));
    await writeFile(join(dir, `${name}.svg`), fig.svg);
    await writeFile(join(dir, `${name}.png`), fig.png);
  }
}
