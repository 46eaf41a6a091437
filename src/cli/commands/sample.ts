import type { Command } from '../main.ts';
import { choiceOption, numberOption, parseCommandArgs } from '../args.ts';
import { ABORT_HELP, ABORT_OPTIONS, ENDPOINT_HELP, ENDPOINT_OPTIONS, MODEL_OPTIONS, readAbortGrace, readEndpoint, readGeneration, readModelFile, readProfile } from '../endpoint-options.ts';
import { FailmodeError, usageError } from '../../errors.ts';

const HELP = `failmode sample — self-consistency with early stopping: N samples per question, failing ones stopped, a vote

Usage
  failmode sample --n N (--prompt TEXT | --dataset FILE.jsonl) --base-url URL --model M [options]

  Launches N streaming requests per question (one per sample, so each can be aborted), extracts each answer by the
  task profile and votes. With --early-stop and --model-file the sampler monitors every stream itself and aborts a
  sample the model flags (the server sees the connection close and stops generating); with --early-stop and no
  model file it asks the server to stop them (header x-failmode-early-stop: 1 — honoured by \`failmode serve\`).
  A stopped sample does not vote. Results are appended to --out as they come (one line per sample, one per
  question); a rerun with the same --out skips the questions already completed.

  The dataset is JSONL, one question per line: {"id": "q1", "prompt": "…", "answer": "B"} ("answer" optional; with
  it the accuracy of the vote is reported).

Options
  --n N                  samples per question (required)
  --prompt TEXT          one question (id "prompt")
  --dataset FILE.jsonl   questions to run
  --base-url URL         OpenAI-compatible base URL, e.g. http://127.0.0.1:8787/v1 (failmode serve) or a vLLM server
                         (default: OPENAI_BASE_URL)
  --model M              model name sent in the requests
  --api-key-env NAME     environment variable holding the API key (default OPENAI_API_KEY; never printed)
${ENDPOINT_HELP.api.slice(1)}
  --early-stop           stop samples flagged as failing
  --model-file M.json    failure model for local monitoring (from \`failmode train\`)
  --stop-on POLICY       any-window (default: the first early window whose risk ≥ its threshold, or a committed
                         failure) | commitment (only a committed failure at the model's commitment point)
  --prune RULES          what may stop samples: risk (= --early-stop: the failure model's stop rule) | vote (stop
                         a question's remaining samples once its vote is decided, see --vote-confidence; needs no
                         model) | vote+risk (both; votes weighted by 1 − risk, and a sample with risk ≥ 0.5 is
                         stopped first when the vote without it is decided) | deepconf (DeepConf-online: stop when
                         a group's confidence falls below the warm-up percentile) | vote+deepconf
  --vote-confidence P    vote pruning: the question is decided when P(the leader stays the plurality after every
                         sample) ≥ P (default 0.95; Dirichlet-multinomial posterior, docs/early-stopping.md)
  --deepconf-group G     DeepConf group size in tokens (default 128)
  --deepconf-warmup W    samples run in full to set the DeepConf threshold (default 16)
  --deepconf-keep PCT    percent of warm-up samples above the threshold (default 90 = DeepConf-high; 10 = -low)
  --shadow               decide every stop as configured (--prune / --early-stop; risk by default) but stop
                         nothing: each decision is written to the sample's line as shadow_stop (see
                         \`failmode shadow-report\`); the risk rule then needs --model-file
  --min-keep K           never stop a sample if fewer than K of its question's samples would be left (default 1)
  --vote METHOD          majority (default; with --prune vote+risk: weighted) | weighted (each vote counts
                         1 − risk; needs --model-file)
  --concurrency C        streams open at once (default 8)
  --profile P            answer extraction: final-answer | boxed | final-boxed | code | none
                         (default: the model file's profile)
  --system TEXT          system prompt
  --max-tokens N         max_tokens per sample
  --temperature T        sampling temperature (default: the server's)
  --top-logprobs K       top_logprobs asked for (default: the model's top-k, else 20)
  --seed S               send seed S + completion index with each sample (reproducible traces where the engine
                         honours it: a run with and one without --early-stop then see the same samples)
${ABORT_HELP}
  --out FILE.jsonl       results file (appended; a rerun resumes)
  --json                 print the final summary as JSON
  -h, --help             show this help

Examples
  failmode sample --n 8 --dataset gpqa.jsonl --base-url http://127.0.0.1:8000/v1 --model Qwen/Qwen3-8B \\
      --early-stop --model-file gpqa-model.json --profile final-answer --out gpqa-sc.jsonl
  failmode sample --n 8 --dataset math.jsonl --base-url http://127.0.0.1:8000/v1 --model m --profile boxed \\
      --prune vote+risk --model-file math-model.json --seed 1 --out math-sc.jsonl
  failmode sample --n 8 --dataset math.jsonl --base-url http://127.0.0.1:8787/v1 --model m --profile boxed \\
      --shadow --model-file math-model.json --out shadow.jsonl && failmode shadow-report shadow.jsonl
  failmode sample --n 5 --prompt "What is 17*23? End with Final: \\\\boxed{N}" --base-url http://127.0.0.1:8787/v1 \\
      --model m --profile final-boxed --early-stop
`;

const PROFILES = ['final-answer', 'boxed', 'final-boxed', 'code', 'none'] as const;

export const command: Command = {
  summary: 'self-consistency sampler that stops failing samples early and votes',
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      ...ENDPOINT_OPTIONS,
      ...MODEL_OPTIONS,
      ...ABORT_OPTIONS,
      n: { type: 'string' },
      prompt: { type: 'string' },
      dataset: { type: 'string' },
      'early-stop': { type: 'boolean' },
      'stop-on': { type: 'string' },
      prune: { type: 'string' },
      'vote-confidence': { type: 'string' },
      'deepconf-group': { type: 'string' },
      'deepconf-warmup': { type: 'string' },
      'deepconf-keep': { type: 'string' },
      shadow: { type: 'boolean' },
      'min-keep': { type: 'string' },
      vote: { type: 'string' },
      concurrency: { type: 'string' },
      system: { type: 'string' },
      'top-logprobs': { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
    }, false);
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const n = numberOption('n', values.n, { integer: true, min: 1, max: 1000 });
    if (n === undefined) throw usageError('Expected --n N: samples per question');
    if ((values.prompt === undefined) === (values.dataset === undefined)) throw usageError('Expected exactly one of --prompt TEXT or --dataset FILE.jsonl');
    if (values.prompt !== undefined && values.prompt.trim() === '') throw usageError(`Expected --prompt to be a non-empty prompt, got ${values.prompt === '' ? 'an empty string' : 'only whitespace'}`);
    const endpoint = readEndpoint(values);
    const abortGraceMs = readAbortGrace(values);
    const prune = choiceOption('prune', values.prune, ['risk', 'vote', 'vote+risk', 'deepconf', 'vote+deepconf'] as const)
      ?? (values['early-stop'] || values.shadow ? 'risk' : null);
    if (values['early-stop'] && prune !== null && !prune.includes('risk')) throw usageError(`--early-stop is --prune risk; it cannot be combined with --prune ${prune} (use --prune vote+risk)`);
    const riskRule = prune !== null && prune.includes('risk');
    const voteRule = prune !== null && prune.includes('vote');
    const deepConfRule = prune !== null && prune.includes('deepconf');
    const voteConfidence = numberOption('vote-confidence', values['vote-confidence'], { min: 0.5, max: 1 }) ?? 0.95;
    if (values['vote-confidence'] !== undefined && !voteRule) throw usageError('--vote-confidence needs --prune vote or vote+risk');
    if (voteConfidence >= 1) throw usageError('Expected --vote-confidence below 1 (at 1 the vote is never decided early)');
    const deepConf = deepConfRule ? {
      groupSize: numberOption('deepconf-group', values['deepconf-group'], { integer: true, min: 1, max: 1 << 20 }) ?? 128,
      warmup: numberOption('deepconf-warmup', values['deepconf-warmup'], { integer: true, min: 1 }) ?? 16,
      keepPercent: numberOption('deepconf-keep', values['deepconf-keep'], { min: 1, max: 100 }) ?? 90,
    } : null;
    for (const f of ['deepconf-group', 'deepconf-warmup', 'deepconf-keep'] as const) if (values[f] !== undefined && !deepConfRule) throw usageError(`--${f} needs --prune deepconf`);
    const voteMethod = choiceOption('vote', values.vote, ['majority', 'weighted'] as const) ?? (prune === 'vote+risk' && values['model-file'] !== undefined ? 'weighted' : 'majority');
    const stopPolicy = choiceOption('stop-on', values['stop-on'], ['any-window', 'commitment'] as const) ?? 'any-window';
    const concurrency = numberOption('concurrency', values.concurrency, { integer: true, min: 1, max: 1024 }) ?? 8;
    const minKeep = numberOption('min-keep', values['min-keep'], { integer: true, min: 0 }) ?? 1;
    const { maxTokens, temperature } = readGeneration(values);
    const topLogprobs = numberOption('top-logprobs', values['top-logprobs'], { integer: true, min: 0, max: 1000 });
    const seed = numberOption('seed', values.seed, { integer: true, min: 0 });
    let profile = readProfile(values);
    const model = await readModelFile(values);
    if (profile === undefined) {
      if (model?.profile && (PROFILES as readonly string[]).includes(model.profile)) profile = model.profile as (typeof PROFILES)[number];
      else throw usageError(`Expected --profile (${PROFILES.join(', ')}): how to read each sample's answer${model ? ' (the model file names none)' : ''}`);
    }
    if (voteMethod === 'weighted' && model === null) throw usageError('--vote weighted needs --model-file (each vote counts 1 − the sample\'s failure risk)');
    if (values.shadow && riskRule && model === null) throw usageError('--shadow with the risk rule needs --model-file: the sampler takes the decisions itself (failmode serve --shadow records its own)');

    const { loadQuestions } = await import('../../sampler/load-questions.ts');
    const { ResultsLog } = await import('../../sampler/results-log.ts');
    const { runSelfConsistency } = await import('../../sampler/self-consistency.ts');
    const questions = values.dataset !== undefined ? await loadQuestions(values.dataset) : [{ id: 'prompt', prompt: values.prompt!, answer: null }];
    const log = await ResultsLog.open(values.out ?? null);
    if (log.skippedLines.length > 0) process.stderr.write(`failmode sample: ${values.out}: skipped ${log.skippedLines.length} unreadable line(s) (${log.skippedLines.slice(0, 5).join(', ')}${log.skippedLines.length > 5 ? ', …' : ''})\n`);
    if (riskRule && model !== null) {
      const { stopRuleShort } = await import('../../models/describe-stop-rule.ts');
      process.stderr.write(`failmode sample: ${values.shadow ? 'risk rule (shadow: recorded, not applied)' : 'early stop'} with ${model.training.name} · stop rule: ${stopRuleShort(model)}\n`);
    }
    if (riskRule && model === null) {
      process.stderr.write('failmode sample: --early-stop without --model-file: asking the server to stop flagged samples (works through failmode serve with a model)\n');
    }

    const tty = process.stderr.isTTY === true;
    const controller = new AbortController();
    const onSigint = (): void => {
      if (controller.signal.aborted) process.exit(130);
      process.stderr.write('\nfailmode sample: stopping (unfinished questions will be redone on the next run; Ctrl-C again to quit now)\n');
      controller.abort();
    };
    process.on('SIGINT', onSigint);
    const out = process.stdout;
    const pct = (x: number | null) => (x === null ? '  n/a' : `${(100 * x).toFixed(1)}%`);
    if (!values.json) out.write(`${'question'.padEnd(20)} ${'answer'.padEnd(12)} ${'agree'.padStart(6)} ${'stopped'.padStart(8)} ${'tokens'.padStart(9)}  correct\n`);
    let summary;
    try {
      summary = await runSelfConsistency(questions, log, {
        baseURL: endpoint.baseURL, apiKey: endpoint.apiKey, model: endpoint.model, api: endpoint.api, n,
        topLogprobsSource: topLogprobs !== undefined ? '--top-logprobs' : model !== null ? `the model file ${values['model-file']}` : 'the default --top-logprobs', earlyStop: riskRule, monitorModel: model,
        shadow: values.shadow === true, votePruning: voteRule ? { confidence: voteConfidence } : null, deepConf,
        profile, vote: voteMethod, concurrency, stopPolicy, minKeep, system: values.system ?? null,
        ...(maxTokens !== undefined ? { maxTokens } : {}), ...(temperature !== undefined ? { temperature } : {}),
        ...(topLogprobs !== undefined ? { topLogprobs } : {}), ...(seed !== undefined ? { seed } : {}),
        signal: controller.signal,
        ...(abortGraceMs !== null ? {
          abortCheck: { graceMs: abortGraceMs },
          onAbortCheck: (id: string, r: { status: string; running: number | null; explicitAbort: string; detail?: string }) => {
            if (r.status === 'confirmed') return;
            if (tty) process.stderr.write('\r\x1b[K');
            process.stderr.write(r.status === 'unknown'
              ? `failmode sample: cannot check that the engine stopped ${id}: ${r.detail}\n`
              : `failmode sample: abort of ${id} unconfirmed after ${abortGraceMs / 1000} s (engine running ${r.running} request(s)); explicit abort ${r.explicitAbort}${r.status === 'confirmed_after_explicit_abort' ? ', then it stopped' : ', still running'}\n`);
          },
        } : {}),
        onQuestion: (q) => {
          if (values.json) return;
          if (tty) process.stderr.write('\r\x1b[K');
          out.write(`${q.question_id.slice(0, 20).padEnd(20)} ${String(q.answer ?? '—').slice(0, 12).padEnd(12)} ${pct(q.agreement).padStart(6)} ${`${q.stopped}/${q.n}`.padStart(8)} ${String(q.tokens).padStart(9)}  ${q.correct === null ? '' : q.correct ? 'yes' : 'no'}\n`);
        },
        onProgress: (p) => {
          if (!tty) return;
          process.stderr.write(`\r\x1b[K[${p.questionsDone}/${p.questionsTotal} questions] ${p.samplesDone}/${p.samplesTotal} samples, ${p.stopped} stopped, ${p.tokens} tokens`);
        },
      });
    } finally {
      process.off('SIGINT', onSigint);
      await log.close();
      if (tty) process.stderr.write('\r\x1b[K');
    }
    if (values.json) {
      out.write(`${JSON.stringify(summary, null, 2)}\n`);
    } else {
      out.write('\n');
      out.write(`questions ${summary.questions}${summary.resumed ? ` (${summary.resumed} from an earlier run)` : ''}${summary.unfinished ? `, ${summary.unfinished} unfinished` : ''}\n`);
      if (summary.failedQuestions > 0) out.write(`${summary.failedQuestions} question(s) had a failed sample and were not recorded as done (a rerun with the same --out retries them); first error: ${summary.firstError}\n`);
      if (summary.accuracy !== null) out.write(`accuracy of the vote ${pct(summary.accuracy)} (${summary.correct}/${summary.withReference})\n`);
      out.write(`mean agreement ${pct(summary.meanAgreement)}\n`);
      if (values.shadow) out.write(`shadow mode: ${summary.shadowStops} sample(s) of this run would have been stopped (shadow_stop in the log; nothing was stopped)\n`);
      out.write(`samples ${summary.samples}, stopped ${summary.stopped} (${pct(summary.samples ? summary.stopped / summary.samples : null)})${summary.errors ? `; ${summary.errors} failed sample(s) in this run` : ''}\n`);
      out.write(`tokens generated ${summary.tokens}${summary.questions ? ` (${Math.round(summary.tokens / summary.questions)} per question)` : ''}\n`);
      if (values.out) out.write(`results: ${values.out}\n`);
    }
    if (summary.failedQuestions > 0 && summary.questions === summary.resumed) throw new FailmodeError(`no question completed: ${summary.firstError}`, 'FAILMODE_ERR_HTTP', 1);
    return controller.signal.aborted ? 130 : 0;
  },
};
