import { basename, extname, join } from 'node:path';
import type { Command } from '../main.ts';
import { choiceOption, expandNumericListFlags, numberListOption, numberOption, parseCommandArgs } from '../args.ts';
import { usageError } from '../../errors.ts';
import { DEFAULT_OUTPUT_DIR, isStdoutPath, writeOutput } from '../write-output.ts';
import type { AnalysisResult } from '../../offline/analysis-result.ts';
import { LR_SOLVERS } from '../../offline/cv-lr.ts';
import type { ReportPlot } from '../../offline/report-text.ts';
import { INPUT_LIMIT_HELP, INPUT_LIMIT_OPTIONS, inputLimitsFromFlags } from '../../input-limits.ts';

const HELP = `failmode analyze — the paper's failure-mode analysis of one results table (SPEC §3)

Usage
  failmode analyze FILE [options]

  FILE is a .csv or .xlsx results table with a \`correct\` column and the uncertainty feature columns
  (\`entropy_mean\`, \`entropy_mean_w128\`, \`entropy_mean_prefinal_w128\`, …). Prints the paper's text report on stdout.
  A \`failmode sample\` .jsonl log is read as each question's completed run (lines of killed runs left out).
  A verdict needs ≥ 20 rows with ≥ 5 failures and ≥ 5 correct, and a usable feature column; below that the report
  says INSUFFICIENT DATA with the reason (and --json has \`insufficient\`), exit code 0.

Options
  --prefinal            analyse prefinal features only (tokens before the final-answer line); the paper's primary mode
  --windows T …         early windows to analyse (default: every T found in \`_w{T}\` column names)
  --cluster-col COL     cluster-robust CIs: GroupKFold and bootstrap over COL's values (e.g. question_id)
  --n-boot N            bootstrap resamples (default 10000)
  --model-name NAME     name shown in the report (default Model)
  --json OUT.json       also write every figure as JSON (schema: docs/analysis-json.md); \`-\` writes it to
                        stdout and the text report to stderr
  --plot PREFIX         write the commitment plot to PREFIX_prefinal_ablation.svg/.png (or _window_ablation)
                        (default PREFIX: failmode-out/ and the input file name without extension)
  --no-plot             skip the plot
  --corrected           fixed procedure (SPEC §6.3): training-fold medians, cluster ids aligned with the pooled
                        predictions, Section 5 and the plot honouring clusters. Default: the paper's procedure
  --solver S            logistic-regression solver: lbfgs-sklearn (stopped where sklearn ≥1.4's lbfgs stops, as
                        in the published reports) or newton (the exact optimum, as sklearn 1.2.1). Default:
                        lbfgs-sklearn in the paper's procedure, newton with --corrected
${INPUT_LIMIT_HELP}
  -h, --help            show this help

Examples
  failmode analyze ../shared/paper/results/gpqa_gpt4o.final.csv --prefinal
  failmode analyze results.xlsx --prefinal --windows 128 256 512 --no-plot --json analysis.json
  failmode analyze multi.csv --cluster-col question_id --corrected --n-boot 2000
`;

export const command: Command = {
  summary: "the paper's failure-mode analysis of a results file (CV PR-AUC, bootstrap CIs, verdict, plot)",
  async run(argv) {
    const { values, positionals } = parseCommandArgs(expandNumericListFlags(argv, ['windows']), {
      ...INPUT_LIMIT_OPTIONS,
      prefinal: { type: 'boolean' },
      windows: { type: 'string', multiple: true },
      'cluster-col': { type: 'string' },
      'n-boot': { type: 'string' },
      'model-name': { type: 'string' },
      json: { type: 'string' },
      plot: { type: 'string' },
      'no-plot': { type: 'boolean' },
      corrected: { type: 'boolean' },
      solver: { type: 'string' },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const limits = inputLimitsFromFlags(values);
    if (positionals.length !== 1) {
      throw usageError(positionals.length === 0
        ? 'Expected a results file: failmode analyze FILE [options] (see --help)'
        : `Expected one results file, got ${positionals.length}: ${positionals.join(' ')}`);
    }
    if (values.plot !== undefined && values['no-plot']) throw usageError('--plot and --no-plot cannot be used together');
    if (values['model-name'] !== undefined && values['model-name'].trim() === '') throw usageError('Expected --model-name to be a non-empty name');
    const file = positionals[0]!;
    const windows = numberListOption('windows', values.windows, { integer: true, min: 1 });
    const nBoot = numberOption('n-boot', values['n-boot'], { integer: true, min: 1, max: 10_000_000 });
    const solver = choiceOption('solver', values.solver, LR_SOLVERS);

    const { loadTable } = await import('../../offline/load-table.ts');
    const { runAnalysis } = await import('../../offline/analyze.ts');
    const { renderReport } = await import('../../offline/report-text.ts');

    const progress = createProgress();
    let result: AnalysisResult;
    try {
      progress('loading');
      const frame = await loadTable(file, { limits });
      result = runAnalysis(frame, {
        file,
        modelName: values['model-name'],
        prefinal: values.prefinal === true,
        windows,
        clusterCol: values['cluster-col'],
        nBoot,
        mode: values.corrected ? 'corrected' : 'paper',
        solver,
        onProgress: progress,
      });
    } finally {
      progress(null);
    }

    let plot: ReportPlot | undefined;
    if (!values['no-plot']) {
      if (!result.plot) {
        plot = { kind: 'no-data' };
      } else {
        const prefix = values.plot ?? join(DEFAULT_OUTPUT_DIR, defaultPlotPrefix(file));
        const suffix = result.plot.source === 'prefinal' ? '_prefinal_ablation' : '_window_ablation';
        const svgPath = `${prefix}${suffix}.svg`;
        const pngPath = `${prefix}${suffix}.png`;
        const { commitmentPlotTitle, renderCommitmentPlot } = await import('../../plots/commitment-plot.ts');
        const figure = await renderCommitmentPlot(result.plot, { title: commitmentPlotTitle(values['model-name'] ?? defaultPlotPrefix(file), result.plot.source) });
        await writeOutput(svgPath, figure.svg, { createDir: values.plot === undefined });
        await writeOutput(pngPath, figure.png);
        plot = { kind: 'saved', svg: svgPath, png: pngPath };
      }
    }

    if (values.json !== undefined) await writeOutput(values.json, `${JSON.stringify(result, null, 2)}\n`);
    // With --json - stdout carries the JSON alone; the text report moves to stderr.
    (isStdoutPath(values.json) ? process.stderr : process.stdout).write(renderReport(result, plot === undefined ? {} : { plot }));
    return 0;
  },
};

/** `gpqa_gpt4o.final.csv` → `gpqa_gpt4o.final` (in the current directory), not the paper's shared `model_gsm8k`. */
export function defaultPlotPrefix(file: string): string {
  const base = basename(file);
  const ext = extname(base);
  return ext ? base.slice(0, -ext.length) : base;
}


/** A one-line progress indicator on stderr, only when stderr is a terminal; `null` clears it. */
function createProgress(): (stage: string | null) => void {
  if (!process.stderr.isTTY) return () => {};
  let last = 0;
  return (stage) => {
    if (stage === null) {
      process.stderr.write('\r\u001b[2K');
      return;
    }
    const now = Date.now();
    if (now - last < 50) return;
    last = now;
    process.stderr.write(`\r\u001b[2K  analyzing… ${stage}`);
  };
}
