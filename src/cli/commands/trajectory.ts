import type { Command } from '../main.ts';
import { expandNumericListFlags, numberListOption, numberOption, parseCommandArgs } from '../args.ts';
import { usageError } from '../../errors.ts';
import { isStdoutPath, toJsonText, writeOutput } from '../write-output.ts';
import { INPUT_LIMIT_HELP, INPUT_LIMIT_OPTIONS, inputLimitsFromFlags } from '../../input-limits.ts';

const HELP = `failmode trajectory — does the trajectory of uncertainty over early windows predict failure? (SPEC §4)

Usage
  failmode trajectory FILE [options]

  FILE is a .csv or .xlsx results table with the 14 signals (std included) at each window, \`{signal}_w{T}\`
  (\`{signal}_prefinal_w{T}\` with --prefinal). The paper's script read one file per window with \`{signal}_early\`
  columns; here one file gives all steps. Rows are cleaned as the paper does (hit_max_tokens = 0, degenerate = 0,
  an extracted boxed_answer — each when the column exists). Four cross-validated logistic regressions:
  (1) one step (T=256), (2) the flattened steps, (3) the step differences, (4) magnitude + differences.
  The paper's GRU (model 5) is not run. Below the support rule (≥ 20 clean traces, ≥ 5 failures and ≥ 5 correct,
  at least one per CV fold) the report says INSUFFICIENT DATA with the reason (JSON field \`insufficient\`).

Options
  --windows T …      trajectory steps (default 128 256 400 512)
  --prefinal         prefinal signals (tokens before the final-answer line)
  --seed N           StratifiedKFold random_state (default 0, as the paper's script)
  --n-splits K       CV folds (default 5)
  --json OUT.json    also write every figure as JSON (\`-\`: to stdout, the text report to stderr)
${INPUT_LIMIT_HELP}
  -h, --help         show this help

Examples
  failmode trajectory ../shared/paper/results/math500_qwen3.5-2b.final.xlsx
  failmode trajectory ../shared/paper/results/gpqa_gemma4-31b.final.xlsx --prefinal --windows 128 256 512 1024
`;

export const command: Command = {
  summary: "the paper's trajectory classifiers: LR on the 4-step uncertainty trajectory and its differences",
  async run(argv) {
    const { values, positionals } = parseCommandArgs(expandNumericListFlags(argv, ['windows']), {
      ...INPUT_LIMIT_OPTIONS,
      windows: { type: 'string', multiple: true },
      prefinal: { type: 'boolean' },
      seed: { type: 'string' },
      'n-splits': { type: 'string' },
      json: { type: 'string' },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const limits = inputLimitsFromFlags(values);
    if (positionals.length !== 1) {
      throw usageError(positionals.length === 0
        ? 'Expected a results file: failmode trajectory FILE [options] (see --help)'
        : `Expected one results file, got ${positionals.length}: ${positionals.join(' ')}`);
    }
    const file = positionals[0]!;
    const windows = numberListOption('windows', values.windows, { integer: true, min: 1 });
    const seed = numberOption('seed', values.seed, { integer: true, min: 0, max: 2 ** 32 - 1 });
    const nSplits = numberOption('n-splits', values['n-splits'], { integer: true, min: 2, max: 100 });

    const { loadTable } = await import('../../offline/load-table.ts');
    const { runTrajectoryModels, renderTrajectoryReport } = await import('../../offline/trajectory.ts');
    const frame = await loadTable(file, { limits });
    const result = runTrajectoryModels(frame, { file, windows, prefinal: values.prefinal === true, seed, nSplits });
    if (values.json !== undefined) await writeOutput(values.json, toJsonText(result));
    // With --json - stdout carries the JSON alone; the text report moves to stderr.
    (isStdoutPath(values.json) ? process.stderr : process.stdout).write(renderTrajectoryReport(result));
    return 0;
  },
};
