import { basename, extname, join } from 'node:path';
import type { Command } from '../main.ts';
import { DEFAULT_OUTPUT_DIR } from '../write-output.ts';
import { choiceOption, numberOption, parseCommandArgs } from '../args.ts';
import { usageError } from '../../errors.ts';
import { INPUT_LIMIT_HELP, INPUT_LIMIT_OPTIONS, inputLimitsFromFlags } from '../../input-limits.ts';

const HELP = `failmode sc-triage — the paper's self-consistency analyses on a multi-completion results file (SPEC-SC)

Usage
  failmode sc-triage FILE [options]

  FILE is a .csv / .xlsx results table or a \`failmode sample\` .jsonl recording with several completions per
  question: a question id (question_id, idx, … or --question-col), completion_idx, correct (0/1), and the answer
  (predicted_answer / boxed_answer) where there is one. Derives the SC columns (majority answer, majority correct,
  agreement rate, p_correct), checks what the data can support, then runs Analyses 1–4: agreement with the SC
  verdict, predicting the SC verdict, the triage operating curve (skip SC on the x % lowest-risk questions), and the
  accuracy proxy. Prints the report and writes CSVs, JSON and figures to --out.

Options
  --early-window T       early window of the prefinal_early signal (default 400)
  --score S              signal of Analyses 1–2 and the triage headline: prefinal-full (default, the paper),
                         prefinal-early, raw-full
  --scorer S             raw (default): u = entropy_mean − margin_mean; cv-lr: out-of-fold CV logistic regression
  --out DIR              output folder (default failmode-out/sc-triage/<file name>)
  --iid                  i.i.d. statistics as the paper (default: bootstrap resamples whole questions and CV folds
                         are grouped by question)
  --question-col COL     question id column
  --n-boot N             bootstrap resamples for the CIs (default 1000; 0 = no CIs)
  --sc-rule R            auto (default), file (the file's majority_correct/agreement_rate), vote (plurality answer,
                         ties to the first seen), pass (p_correct > 0.5; agreement max(p, 1−p))
  --representative R     idx0 (default: completion 0, question dropped if it was cleaned away) or first-kept
  --no-clean             keep completions that hit max tokens, degenerated or gave no answer
  --min-completions K    questions with fewer completions are left out (default 2)
  --min-questions N      smallest analysis set for the 5 % grids (default 20)
  --min-class N          smallest count of each class of a label (default 5)
  --nan-risk R           riskiest (default: an unscorable question ranks riskiest) or drop
  --proxy-mean M         kept (default: mean uncertainty over cleaned completions) or all
  --combine M            cv-lr (default) or zsum: how Analysis 4d combines agreement and uncertainty
  --no-plot              skip the figures
${INPUT_LIMIT_HELP}
  -h, --help             show this help

Examples
  failmode sc-triage ../shared/paper/results/lcb_qwen3_5-9b_sc15_final_prefinal_fixed.csv
  failmode sc-triage gpqa_sc15.xlsx --early-window 512 --out sc-gpqa
  failmode sc-triage samples.jsonl --score prefinal-early --iid
`;

export const command: Command = {
  summary: 'self-consistency analyses of a multi-completion file: SC verdict agreement, triage curve, accuracy proxy',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      ...INPUT_LIMIT_OPTIONS,
      'early-window': { type: 'string' },
      score: { type: 'string' },
      scorer: { type: 'string' },
      out: { type: 'string' },
      iid: { type: 'boolean' },
      'question-col': { type: 'string' },
      'n-boot': { type: 'string' },
      'sc-rule': { type: 'string' },
      representative: { type: 'string' },
      'no-clean': { type: 'boolean' },
      'min-completions': { type: 'string' },
      'min-questions': { type: 'string' },
      'min-class': { type: 'string' },
      'nan-risk': { type: 'string' },
      'proxy-mean': { type: 'string' },
      combine: { type: 'string' },
      'no-plot': { type: 'boolean' },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const limits = inputLimitsFromFlags(values);
    if (positionals.length !== 1) {
      throw usageError(positionals.length === 0
        ? 'Expected a multi-completion results file: failmode sc-triage FILE [options] (see --help)'
        : `Expected one results file, got ${positionals.length}: ${positionals.join(' ')}`);
    }
    const file = positionals[0]!;
    const { SCORE_FLAGS } = await import('../../offline/sc/sc-signals.ts');
    const { SCORERS, DEFAULT_SC_OPTIONS, runScTriage } = await import('../../offline/sc/run-sc-triage.ts');
    const { REPRESENTATIVES } = await import('../../offline/sc/question-table.ts');
    const { NAN_RISKS } = await import('../../offline/sc/triage-curve.ts');
    const { PROXY_MEANS, COMBINE_METHODS } = await import('../../offline/sc/accuracy-proxy.ts');
    const d = DEFAULT_SC_OPTIONS;
    const opts = {
      earlyWindow: numberOption('early-window', values['early-window'], { integer: true, min: 1 }) ?? d.earlyWindow,
      score: choiceOption('score', values.score, SCORE_FLAGS) ?? d.score,
      scorer: choiceOption('scorer', values.scorer, SCORERS) ?? d.scorer,
      iid: values.iid === true,
      questionCol: values['question-col'],
      nBoot: numberOption('n-boot', values['n-boot'], { integer: true, min: 0, max: 1_000_000 }) ?? d.nBoot,
      seed: d.seed,
      scRule: choiceOption('sc-rule', values['sc-rule'], ['auto', 'file', 'vote', 'pass'] as const) ?? d.scRule,
      representative: choiceOption('representative', values.representative, REPRESENTATIVES) ?? d.representative,
      clean: values['no-clean'] !== true,
      minCompletions: numberOption('min-completions', values['min-completions'], { integer: true, min: 1 }) ?? d.minCompletions,
      minQuestions: numberOption('min-questions', values['min-questions'], { integer: true, min: 1 }) ?? d.minQuestions,
      minClass: numberOption('min-class', values['min-class'], { integer: true, min: 1 }) ?? d.minClass,
      nanRisk: choiceOption('nan-risk', values['nan-risk'], NAN_RISKS) ?? d.nanRisk,
      proxyMean: choiceOption('proxy-mean', values['proxy-mean'], PROXY_MEANS) ?? d.proxyMean,
      combine: choiceOption('combine', values.combine, COMBINE_METHODS) ?? d.combine,
    };
    if (opts.questionCol !== undefined && opts.questionCol.trim() === '') throw usageError('Expected --question-col to be a column name');
    const out = values.out ?? join(DEFAULT_OUTPUT_DIR, 'sc-triage', basename(file, extname(file)));

    const { readScTable } = await import('../../offline/sc/read-sc-table.ts');
    const { renderScReport } = await import('../../offline/sc/sc-report.ts');
    const { writeScOutputs } = await import('../../offline/sc/sc-outputs.ts');
    const table = await readScTable(file, limits);
    const result = runScTriage(table.frame, opts, table.notes);
    const report = renderScReport(result);
    process.stdout.write(report);
    const written = await writeScOutputs(result, report, out, { plots: values['no-plot'] !== true });
    process.stdout.write(`\nWrote ${written.length} file(s) to ${out}: ${written.join(', ')}\n`);
    return 0;
  },
};
