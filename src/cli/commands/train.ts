import type { Command } from '../main.ts';
import { choiceOption, expandNumericListFlags, numberListOption, numberOption, parseCommandArgs } from '../args.ts';
import { usageError } from '../../errors.ts';
import type { ModelFile } from '../../models/model-file.ts';
import { stopRuleLines } from '../../models/describe-stop-rule.ts';
import { INPUT_LIMIT_HELP, INPUT_LIMIT_OPTIONS, inputLimitsFromFlags } from '../../input-limits.ts';

const HELP = `failmode train — fit a model file for the live monitor from one results table

Usage
  failmode train FILE … --out MODEL.json [options]
  failmode train --show MODEL.json        validate a model file and print its summary and stop-rule guarantee

  FILE is a .csv or .xlsx results table (a \`correct\` column and the feature columns, as \`failmode analyze\` reads),
  or a \`failmode sample\` .jsonl log (each question's completed run). Data below the support rule (≥ 20 rows, ≥ 5
  failures, ≥ 5 correct, a usable feature column) is refused with exit code 2 unless --force.
  Fits one classifier per early window T and one for the full trace — the analysis's estimator: median fill →
  standardiser → balanced L2 logistic regression — and records per window its out-of-fold PR-AUC/AUROC (5-fold
  stratified CV, seed 42); the regime and commitment point come from the analysis's verdict.
  Stop rule: the live monitor stops a sample at the first early window whose P(failure) ≥ the threshold. The
  threshold (one for every window) is calibrated on the out-of-fold risks so that the WHOLE rule's false-kill rate
  (correct samples stopped / correct samples) is ≤ α with confidence 1 − δ — a Clopper–Pearson bound, scanned from
  the most conservative threshold down (fixed-sequence testing); the model file records the guarantee. When no
  threshold meets it, the model never stops (one line on stderr). Assumes the live samples are exchangeable with the
  training ones; see docs/early-stopping.md.
  By default every classifier is fitted on ALL rows; --fit-on running fits each window T's on the rows still running
  at T (the samples the live stop rule scores there). Several FILEs are trained on as one table (their common
  columns, rows appended). Format: docs/model-format.md.

Options
  --out MODEL.json        where to write the model (required)
  --prefinal              prefinal features (tokens before the final-answer line), as \`analyze --prefinal\`
  --windows T …           early windows (default: every T found in \`_w{T}\` column names)
  --max-false-kill A      largest false-kill rate of the whole stop rule, 0 < A < 1 (default 0.05)
  --confidence C          confidence 1 − δ of the guarantee, 0 < C < 1 (default 0.9)
  --target-precision P    instead of --max-false-kill: the stops' precision ≥ P with that confidence (the same
                          procedure on 1 − precision; conditional on how many samples the rule stops)
  --top-k K               top-k of the streams the model will watch (default: the table's top_logprobs_k, else 200;
                          the paper's API runs used 20)
  --nucleus-p P           nucleus mass of the signals (default 0.7; GSM8K 0.9)
  --tie-delta D           near-tie window in nats (default 0.5; GSM8K 0.1)
  --profile NAME          task profile: final-answer | boxed | final-boxed | code | none
                          (default: from the file name — gpqa/arlsat, math500, gsm8k, lcb; none if the files differ)
  --name NAME             training data name recorded in the model (default: the file name(s), joined by +)
  --description TEXT      free text recorded in the model
  --n-boot N              bootstrap resamples of the verdict (default 10000)
  --fit-on all|running    rows of each early window's classifier (fill, scaler, LR, OOF figures):
                          all rows (default), or those still running at T — length > T; under --prefinal, prefinal
                          length > T (not yet at the final-answer line). Windows with < 5 running failures get no
                          classifier. The full-trace classifier always uses all rows.
  --stop-model KIND       window (default: one classifier per early window) | hazard (one model over windows:
                          P(failure | running at T) from window T's features and their change since the previous
                          window, fitted on the running rows) | auto (the one whose risk-controlled rule saves more
                          tokens on 5-fold out-of-fold risks, as early-stop-eval chooses; what the default models use)
  --corrected             training-fold medians in the out-of-fold estimates and the verdict (SPEC §6.3)
  --force                 train even on data below the support rule (fewer than 20 rows, fewer than 5 failures
                          or 5 correct rows, or no usable feature column); the model file then says so
                          (training.insufficient). Without it such data is refused with exit code 2
  --show MODEL.json       validate an existing model file and print its summary and stop-rule guarantee (no training)
${INPUT_LIMIT_HELP}
  -h, --help              show this help

Examples
  failmode train ../shared/paper/results/gpqa_gpt4o.final.csv --prefinal --out gpqa-gpt4o.json
  failmode train runs.xlsx --prefinal --windows 128 256 512 --max-false-kill 0.1 --confidence 0.95 --top-k 20 --out model.json
  failmode train runs.xlsx --prefinal --target-precision 0.8 --out model-p08.json
  failmode train --show results/models/gpqa_gpt4o.json
  failmode train gpqa_gpt4o.final.csv math500_gpt4o.final.csv --prefinal --out general-topk20.json
  failmode train gpqa_gpt4o.final.csv --prefinal --fit-on running --out gpqa-gpt4o-running.json
  failmode train lcb_qwen3_5-122b_fixed.xlsx --prefinal --stop-model auto --max-false-kill 0.05 --out lcb-122b.json
`;

const PROFILES = ['final-answer', 'boxed', 'final-boxed', 'code', 'none'] as const;

export const command: Command = {
  summary: 'fit a model file (per-window classifiers, stop thresholds, regime) for the live monitor',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(expandNumericListFlags(argv, ['windows']), {
      ...INPUT_LIMIT_OPTIONS,
      out: { type: 'string', short: 'o' },
      prefinal: { type: 'boolean' },
      windows: { type: 'string', multiple: true },
      'target-precision': { type: 'string' },
      'max-false-kill': { type: 'string' },
      confidence: { type: 'string' },
      'top-k': { type: 'string' },
      'nucleus-p': { type: 'string' },
      'tie-delta': { type: 'string' },
      profile: { type: 'string' },
      name: { type: 'string' },
      description: { type: 'string' },
      'n-boot': { type: 'string' },
      corrected: { type: 'boolean' },
      'fit-on': { type: 'string' },
      'stop-model': { type: 'string' },
      show: { type: 'string' },
      force: { type: 'boolean' },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const limits = inputLimitsFromFlags(values);
    if (values.show !== undefined) {
      if (positionals.length > 0 || values.out !== undefined) throw usageError('--show takes only a model file: failmode train --show MODEL.json');
      const { loadModelFile } = await import('../../models/model-io.ts');
      process.stdout.write(trainSummary(await loadModelFile(values.show), values.show, 'Model'));
      return 0;
    }
    if (positionals.length === 0) throw usageError('Expected a results file: failmode train FILE … --out MODEL.json (see --help)');
    if (values.out === undefined || values.out.trim() === '') throw usageError('Expected --out MODEL.json: where to write the model');
    if (values.name !== undefined && values.name.trim() === '') throw usageError('Expected --name to be a non-empty name');
    if (values.profile !== undefined && !(PROFILES as readonly string[]).includes(values.profile)) {
      throw usageError(`Unknown value for --profile: \`${values.profile}\`. Value must be one of: ${PROFILES.join(', ')}`);
    }
    const files = positionals;
    const windows = numberListOption('windows', values.windows, { integer: true, min: 1 });
    const targetPrecision = openUnit('target-precision', values['target-precision']);
    const maxFalseKill = openUnit('max-false-kill', values['max-false-kill']);
    const confidence = openUnit('confidence', values.confidence);
    if (targetPrecision !== undefined && maxFalseKill !== undefined) throw usageError('Give either --max-false-kill or --target-precision, not both');
    const topK = numberOption('top-k', values['top-k'], { integer: true, min: 1, max: 100_000 });
    const nucleusP = numberOption('nucleus-p', values['nucleus-p'], { min: 0.01, max: 1 });
    const tieDelta = numberOption('tie-delta', values['tie-delta'], { min: 0, max: 100 });
    const nBoot = numberOption('n-boot', values['n-boot'], { integer: true, min: 1, max: 10_000_000 });
    const fitOn = choiceOption('fit-on', values['fit-on'], ['all', 'running'] as const);
    const stopModel = choiceOption('stop-model', values['stop-model'], ['window', 'hazard', 'auto'] as const);

    const { loadTable } = await import('../../offline/load-table.ts');
    const { concatFrames, guessProfile, trainModel } = await import('../../training/train.ts');
    const { saveModelFile } = await import('../../models/model-io.ts');
    const { basename, extname } = await import('node:path');

    const frames = [];
    for (const f of files) frames.push(await loadTable(f, { limits }));
    const guesses = new Set(files.map(guessProfile));
    const { model, notes, neverStops } = trainModel(concatFrames(frames), {
      file: files.join(' + '),
      name: values.name ?? files.map((f) => basename(f, extname(f))).join('+'),
      prefinal: values.prefinal === true,
      windows,
      targetPrecision,
      maxFalseKill,
      confidence,
      topK,
      nucleusP,
      tieDelta,
      profile: values.profile === undefined ? (guesses.size === 1 ? [...guesses][0]! : null) : values.profile === 'none' ? null : values.profile,
      nBoot,
      mode: values.corrected ? 'corrected' : 'paper',
      fitOn,
      ...(stopModel !== undefined ? { stopModel } : {}),
      description: values.description,
      force: values.force === true,
    });
    await saveModelFile(values.out, model);
    for (const note of notes) process.stderr.write(`failmode train: note: ${note}\n`);
    if (neverStops !== null) process.stderr.write(`failmode train: ${neverStops}\n`);
    process.stdout.write(trainSummary(model, values.out));
    return 0;
  },
};

/** What was trained, as a short table (also used by scripts that train several models). */
export function trainSummary(model: ModelFile, path: string, verb = 'Trained'): string {
  const t = model.training;
  const f = (x: number | null, d = 4) => (x === null ? 'N/A' : x.toFixed(d));
  const lines = [
    `${verb} ${path}${verb === 'Trained' ? ' on' : ': trained on'} ${t.name}${model.prefinal ? ' (prefinal features)' : ''}: n=${t.n}  failures=${t.failures} (${(100 * t.failureRate).toFixed(1)}%)${t.stopModel === 'hazard' ? '; stop model: hazard over windows (running rows)' : t.fitOn === 'running' ? '; window classifiers fitted on the rows still running at T' : ''}`,
    `  regime: ${model.regime}${model.commitmentPoint !== null ? `  T*=${model.commitmentPoint}` : ''}   signal: top-k ${model.signal.topK}, nucleus_p ${model.signal.nucleusP}, tie_delta ${model.signal.tieDelta}   profile: ${model.profile ?? 'unknown'}`,
    ...(t.insufficient ? [`  ⚠ forced on insufficient data: ${t.insufficient.reason} (a model needs ≥ ${t.insufficient.minRows} rows, ≥ ${t.insufficient.minClass} failures and correct rows, a usable feature column)`] : []),
    '',
  ];
  const g = model.guarantee;
  if (g) {
    // the whole rule's calibration stops at each window (its thresholds are one number: see below)
    lines.push(`  ${'Window'.padEnd(8)} ${'Rows'.padStart(6)} ${'Features'.padStart(8)} ${'OOF PR-AUC'.padStart(11)} ${'OOF AUROC'.padStart(10)} ${'Stop at P≥'.padStart(11)} ${'Rule stops'.padStart(11)} ${'of them correct'.padStart(16)}`);
  } else {
    lines.push(`  ${'Window'.padEnd(8)} ${'Rows'.padStart(6)} ${'Features'.padStart(8)} ${'OOF PR-AUC'.padStart(11)} ${'OOF AUROC'.padStart(10)} ${'Stop at P≥'.padStart(11)} ${'Precision'.padStart(10)} ${'Recall'.padStart(8)}`);
  }
  for (const c of model.classifiers) {
    const w = c.window === 'full' ? 'full' : `T=${c.window}`;
    const head = `  ${w.padEnd(8)} ${(c.n === undefined ? '—' : String(c.n)).padStart(6)} ${String(c.featureNames.length).padStart(8)} ${f(c.oof.prauc).padStart(11)} ${f(c.oof.auroc).padStart(10)} ${f(c.stop.threshold).padStart(11)}`;
    if (g) {
      const pw = g.perWindow.find((p) => p.window === c.window);
      lines.push(`${head} ${(pw ? String(pw.stops) : '—').padStart(11)} ${(pw ? String(pw.falseKills) : '—').padStart(16)}`);
    } else {
      lines.push(`${head} ${f(c.stop.precision).padStart(10)} ${f(c.stop.recall).padStart(8)}`);
    }
  }
  lines.push('', ...stopRuleLines(model), '');
  return lines.join('\n');
}

/** A number strictly between 0 and 1 (a rate, a confidence, a precision). */
function openUnit(name: string, raw: string | undefined): number | undefined {
  const x = numberOption(name, raw, { min: 0, max: 1 });
  if (x !== undefined && !(x > 0 && x < 1)) throw usageError(`Expected --${name} to be a number strictly between 0 and 1, got \`${raw}\``);
  return x;
}
