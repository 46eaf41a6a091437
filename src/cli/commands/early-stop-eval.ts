import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import type { Command } from '../main.ts';
import { DEFAULT_OUTPUT_DIR } from '../write-output.ts';
import { expandNumericListFlags, numberListOption, numberOption, parseCommandArgs } from '../args.ts';
import { FailmodeError, usageError } from '../../errors.ts';
import type { EarlyStopSummary, PooledTable, TableStopResult } from '../../offline/early-stop-eval.ts';
import { INPUT_LIMIT_HELP, INPUT_LIMIT_OPTIONS, inputLimitsFromFlags } from '../../input-limits.ts';

const HELP = `failmode early-stop-eval — what a risk-controlled early-stop rule saves on a results table (cross-fitted)

Usage
  failmode early-stop-eval FILE [--prefinal] [--windows T …] [--alphas A …] [--confidence C] [--out DIR] [--json]
  failmode early-stop-eval --all RESULTS_DIR [--alphas A …] [--confidence C] [--out DIR] [--no-transfer] [--no-plot]

  The live rule stops a sample at the first early window T where it is still running and its risk ≥ λ; λ is
  calibrated so that the false-kill rate (correct samples stopped / correct samples) is ≤ α with probability ≥ C
  (Clopper–Pearson, fixed-sequence scan; src/models/risk-control.ts). For each α it reports the share of tokens saved,
  the realised false-kill rate, precision and recall of:
    learned   the per-window classifiers or the hazard model over windows, chosen by nested CV
    baseline  DeepConf-style: the raw window mean NLL or mean entropy, same risk control
    oracle    every failure stopped at the first window where it is still running (the upper limit)
  Every figure is cross-fitted: model choice, fit and λ come from the training folds only (nested 5-fold CV), the
  held-out fold is stopped with them, counts are pooled. --all runs the paper's 27 tables (../shared/paper/README.md)
  in their modes, plus the transfer figures of one pooled model (leave one table out), and writes DIR/summary.md,
  DIR/summary.json and DIR/summary.svg/.png.
  A table below the support rule (≥ 20 rows, ≥ 5 failures, ≥ 5 correct, a usable window feature) is reported as
  insufficient data with the reason (JSON field \`insufficient\`), not cross-fitted.

Options
  --prefinal            the paper's --prefinal working frame (rows with a final-answer line, prefinal features)
  --windows T …         windows (default: every window the table has)
  --alphas A …          maximum false-kill rates (default 0.02 0.05 0.1)
  --confidence C        confidence 1 − δ of the risk control (default 0.9)
  --stop-models K …     the learned candidates the nested CV chooses among: window, hazard (default both)
  --out DIR             output directory (default failmode-out/early-stop)
  --all RESULTS_DIR     every paper table found in RESULTS_DIR
  --no-transfer         skip the leave-one-table-out transfer figures (--all)
  --no-plot             skip the summary plot (--all)
  --json                print the result JSON instead of the table (FILE)
${INPUT_LIMIT_HELP}
  -h, --help            show this help

Examples
  failmode early-stop-eval ../shared/paper/results/gpqa_gpt4o.final.csv --prefinal
  failmode early-stop-eval --all ../shared/paper/results
  failmode early-stop-eval --all ../shared/paper/results --stop-models hazard --no-transfer --out /tmp/hazard-only
`;

export const command: Command = {
  summary: 'what a risk-controlled early-stop rule saves on the paper\'s data (cross-fitted)',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(expandNumericListFlags(argv, ['windows', 'alphas']), {
      ...INPUT_LIMIT_OPTIONS,
      prefinal: { type: 'boolean' },
      windows: { type: 'string', multiple: true },
      alphas: { type: 'string', multiple: true },
      confidence: { type: 'string' },
      'stop-models': { type: 'string', multiple: true },
      out: { type: 'string' },
      all: { type: 'string' },
      'no-transfer': { type: 'boolean' },
      'no-plot': { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const limits = inputLimitsFromFlags(values);
    const windows = numberListOption('windows', values.windows, { integer: true, min: 1 });
    const alphas = numberListOption('alphas', values.alphas) ?? [0.02, 0.05, 0.1];
    for (const a of alphas) if (!(a > 0 && a < 1)) throw usageError(`Expected every --alphas value in (0, 1), got ${a}`);
    const confidence = numberOption('confidence', values.confidence) ?? 0.9;
    if (!(confidence > 0 && confidence < 1)) throw usageError(`Expected --confidence in (0, 1), got ${confidence}`);
    const delta = 1 - confidence;
    const kinds = (values['stop-models'] ?? []).flatMap((v) => v.split(',')).filter((v) => v !== '');
    for (const k of kinds) if (k !== 'window' && k !== 'hazard') throw usageError(`Unknown value for --stop-models: \`${k}\`. Value must be one of: [window, hazard]`);
    const outDir = values.out ?? join(DEFAULT_OUTPUT_DIR, 'early-stop');
    const { evaluateTable, tableStopData, riskControlledCalibrator } = await import('../../offline/early-stop-eval.ts');
    const { loadTable } = await import('../../offline/load-table.ts');
    const { createProgressBar } = await import('../progress-bar.ts');
    const opts = { alphas, delta, calibrate: riskControlledCalibrator, ...(kinds.length > 0 ? { learned: kinds as Array<'window' | 'hazard'> } : {}) };

    if (values.all !== undefined) {
      if (positionals.length > 0) throw usageError('--all takes a results directory, not files');
      const { PAPER_TABLES, sampleGroup, isDuplicateTable } = await import('../../offline/reproduce/manifest.ts');
      const { transferEval } = await import('../../offline/early-stop-eval.ts');
      const { summaryChartSpec, summaryJson, summaryMarkdown } = await import('../../offline/early-stop-report.ts');
      const transfer = values['no-transfer'] !== true;
      const bar = createProgressBar(PAPER_TABLES.length * (5 + (transfer ? 1 : 0)), 'early-stop-eval');
      const tables: TableStopResult[] = [];
      const pooled: PooledTable[] = [];
      for (const t of PAPER_TABLES) {
        let td;
        try {
          td = tableStopData(await loadTable(join(values.all, t.input), { limits }), { prefinal: t.mode === 'prefinal', ...(windows ? { windows } : {}) });
        } catch (err) {
          bar.done();
          throw new FailmodeError(`${t.table} (${join(values.all, t.input)}): ${(err as Error).message}`);
        }
        tables.push(evaluateTable(t.table, t.input, td, opts, () => bar.tick(t.table)));
        pooled.push({ table: t.table, group: sampleGroup(t.table), data: td.data, pooled: !isDuplicateTable(t.table) });
      }
      const summary: EarlyStopSummary = {
        schema: 'failmode-early-stop-summary', version: 2, delta, alphas, tables,
        transfer: transfer ? transferEval(pooled, opts, (name) => bar.tick(`transfer ${name}`)) : [],
      };
      bar.done();
      await mkdir(outDir, { recursive: true });
      const md = summaryMarkdown(summary);
      await writeFile(join(outDir, 'summary.md'), md);
      await writeFile(join(outDir, 'summary.json'), `${JSON.stringify(summaryJson(summary), null, 1)}\n`);
      if (values['no-plot'] !== true) {
        const { renderLineChart } = await import('../../plots/line-chart.ts');
        const fig = await renderLineChart(summaryChartSpec(summary));
        await writeFile(join(outDir, 'summary.svg'), fig.svg);
        await writeFile(join(outDir, 'summary.png'), fig.png);
      }
      process.stdout.write(md);
      process.stderr.write(`wrote summary.md, summary.json${values['no-plot'] === true ? '' : ', summary.svg, summary.png'} to ${resolve(outDir)}\n`);
      return 0;
    }

    if (positionals.length !== 1) throw usageError('Expected one results file: failmode early-stop-eval FILE (or --all RESULTS_DIR)');
    const file = positionals[0]!;
    const td = tableStopData(await loadTable(file, { limits }), { prefinal: values.prefinal === true, ...(windows ? { windows } : {}) });
    const name = basename(file, extname(file));
    const bar = createProgressBar(5, 'early-stop-eval');
    const result = evaluateTable(name, file, td, opts, () => bar.tick());
    bar.done();
    const { tableJson, tableMarkdown } = await import('../../offline/early-stop-report.ts');
    await mkdir(outDir, { recursive: true });
    const md = tableMarkdown(result, delta);
    const json = `${JSON.stringify(tableJson(result, delta), null, 1)}\n`;
    await writeFile(join(outDir, `${name}.md`), md);
    await writeFile(join(outDir, `${name}.json`), json);
    process.stdout.write(values.json ? json : md);
    process.stderr.write(`wrote ${join(outDir, `${name}.md`)} and .json\n`);
    return 0;
  },
};
