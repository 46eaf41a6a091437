/**
 * Trains the default model files in results/models/ from the paper's released runs (../shared/paper/results) and
 * writes results/models/README.md. One model per benchmark × model of the paper's tables (shared/paper/README.md),
 * in the table's mode (prefinal / regular) and with its bootstrap count, kept when the training (working) frame has
 * at least MIN_FAILURES failures; plus `general-topk20.json` for top-k-20 API streams.
 *
 *   node --import tsx scripts/train-default-models.ts [--paper DIR] [--out DIR] [--only NAME]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import type { ModelFile } from '../src/models/model-file.ts';
import { saveModelFile } from '../src/models/model-io.ts';
import { concatFrames, trainModel } from '../src/training/train.ts';
import { loadTable } from '../src/offline/load-table.ts';
import { PAPER_TABLES } from '../src/offline/reproduce/manifest.ts';

const MIN_FAILURES = 20;

interface Entry {
  /** Model file name (without .json) = the paper's table name without `.final`. */
  readonly key: string;
  /** The paper's table name (shared/paper/README.md). */
  readonly table: string;
  readonly inputs: readonly string[];
  readonly prefinal: boolean;
  readonly nBoot: number;
  readonly description: string;
  /** Caveats from SPEC §6 that a user of the model should know. */
  readonly caveat?: string;
  readonly profile?: string | null;
}

const MATH = 'MATH-500 correctness is string matching (SPEC §6.1.1): some "failures" are equivalent answers';
const LCB = 'LiveCodeBench LeetCode problems are run as stdin scripts and always fail (SPEC §6.1.2): failure partly means "LeetCode"';
const QWEN_PREFIX = 'its prefinal trace is an early reasoning prefix, not the pre-answer text (SPEC §6.2.6d)';

/** What each default model's file says about it (key = the paper's table name without `.final`); inputs, mode and
 * bootstrap count come from the reproduce manifest, the one list of the paper's tables. */
const ABOUT: Readonly<Record<string, { readonly description: string; readonly caveat?: string }>> = {
  'arlsat_gemma4-31b': { description: 'AR-LSAT / Gemma-4-31B' },
  'arlsat_gpt-oss-20b': { description: 'AR-LSAT / gpt-oss-20b' },
  'arlsat_llama3.1-8b': { description: 'AR-LSAT / Llama-3.1-8B' },
  'arlsat_qwen3.5-2b': { description: 'AR-LSAT / Qwen3.5-2B' },
  'gpqa_gemini2.5': { description: 'GPQA-Diamond / Gemini-2.5-Pro (API, top-k 20)', caveat: '180/198 generations hit the token limit: failure mostly means truncation (SPEC §6.4.25); prefinal columns of rows without an answer line are full-trace copies (§6.2.9)' },
  'gpqa_gemma4-31b': { description: 'GPQA-Diamond / Gemma-4-31B' },
  'gpqa_gpt-oss-20b': { description: 'GPQA-Diamond / gpt-oss-20b' },
  'gpqa_gpt4o': { description: 'GPQA-Diamond / GPT-4o (API, top-k 20)' },
  'gpqa_llama3.1-8b': { description: 'GPQA-Diamond / Llama-3.1-8B' },
  'gpqa_qwen3.5-2b': { description: 'GPQA-Diamond / Qwen3.5-2B' },
  'lcb_gemma4-31b': { description: 'LiveCodeBench / Gemma-4-31B', caveat: LCB },
  'lcb_gpt-oss-20b': { description: 'LiveCodeBench / gpt-oss-20b', caveat: LCB },
  'lcb_llama3.1-8b': { description: 'LiveCodeBench / Llama-3.1-8B', caveat: `no row has a prefinal trace, so the model uses full-list features (as the paper's analysis fell back); ${LCB}` },
  'lcb_qwen3.5-122b': { description: 'LiveCodeBench / Qwen3.5-122B', caveat: `${QWEN_PREFIX}; ${LCB}` },
  'lcb_qwen3.5-2b': { description: 'LiveCodeBench / Qwen3.5-2B', caveat: LCB },
  'lcb_qwen3.5-9b': { description: 'LiveCodeBench / Qwen3.5-9B (regular features, as the paper\'s table)', caveat: `some questions have several completions; ${LCB}` },
  'math500_gemini2.5': { description: 'MATH-500 / Gemini-2.5-Pro (API, top-k 20)', caveat: `189/500 generations hit the token limit; ${MATH}` },
  'math500_gemma4-31b': { description: 'MATH-500 / Gemma-4-31B', caveat: MATH },
  'math500_gpt-oss-20b': { description: 'MATH-500 / gpt-oss-20b', caveat: MATH },
  'math500_gpt4o': { description: 'MATH-500 / GPT-4o (API, top-k 20)', caveat: `only 226/497 rows have a prefinal trace; ${MATH}` },
  'math500_llama3.1-8b': { description: 'MATH-500 / Llama-3.1-8B', caveat: MATH },
  'math500_qwen3.5-122b': { description: 'MATH-500 / Qwen3.5-122B', caveat: `${QWEN_PREFIX}; ${MATH}` },
  'math500_qwen3.5-2b': { description: 'MATH-500 / Qwen3.5-2B', caveat: MATH },
  'math500_qwen3.5-9b': { description: 'MATH-500 / Qwen3.5-9B (file math500_qwen3-9b)', caveat: `${QWEN_PREFIX}; ${MATH}` },
};

/** `easy`/`hard` are splits of lcb_gpt-oss-20b and `gpqa_gemini2.5pro_final` an unfixed duplicate of gpqa_gemini2.5,
 * so they get no model of their own. */
const LEFT_OUT: ReadonlySet<string> = new Set(['easy', 'hard', 'gpqa_gemini2.5pro_final']);

/** The paper's tables (shared/paper/README.md), one per benchmark × model. */
const ENTRIES: readonly Entry[] = PAPER_TABLES.filter((t) => !LEFT_OUT.has(t.table)).map((t) => {
  const key = t.table.replace(/\.final$/, '');
  const about = ABOUT[key];
  if (!about) throw new Error(`scripts/train-default-models.ts: no description for the paper's table ${t.table} (add it to ABOUT or LEFT_OUT)`);
  return { key, table: t.table, inputs: [t.input], prefinal: t.mode === 'prefinal', nBoot: t.nBoot, ...about };
});

/**
 * The general model for top-k-20 streams: the two GPT-4o API runs (GPQA + MATH-500), prefinal. Why these: they are the
 * paper's only top-k-20 runs whose labels are not dominated by truncation (no GPT-4o generation hit the token limit;
 * the Gemini runs have 180/198 and 189/500), and two task types make it less benchmark-specific than either alone.
 */
const GENERAL: Entry = {
  key: 'general-topk20', table: 'gpqa_gpt4o.final + math500_gpt4o.final', inputs: ['gpqa_gpt4o.final.csv', 'math500_gpt4o.final.csv'], prefinal: true, nBoot: 10000,
  profile: null,
  description: 'General model for top-k-20 streams (OpenAI-style APIs): GPT-4o on GPQA-Diamond + MATH-500, prefinal features',
  caveat: `trained on one model (GPT-4o) and two tasks; profile unset (use the task's own); ${MATH}`,
};

interface Row { entry: Entry; model: ModelFile | null; skipped?: string; notes: readonly string[] }

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { paper: { type: 'string' }, out: { type: 'string' }, only: { type: 'string' } } });
  const paperDir = values.paper ?? new URL('../../shared/paper/results/', import.meta.url).pathname;
  const outDir = values.out ?? new URL('../results/models/', import.meta.url).pathname;
  await mkdir(outDir, { recursive: true });
  const rows: Row[] = [];
  for (const entry of [...ENTRIES, GENERAL]) {
    if (values.only !== undefined && entry.key !== values.only) continue;
    const t0 = performance.now();
    const frames = [];
    for (const f of entry.inputs) frames.push(await loadTable(join(paperDir, f)));
    const { model, notes } = trainModel(concatFrames(frames), {
      file: entry.inputs.join(' + '),
      name: entry.table,
      prefinal: entry.prefinal,
      nBoot: entry.nBoot,
      description: entry.caveat ? `${entry.description}. Caveat: ${entry.caveat}.` : entry.description,
      ...(entry.profile !== undefined ? { profile: entry.profile } : {}),
    });
    const ms = (performance.now() - t0).toFixed(0);
    if (model.training.failures < MIN_FAILURES) {
      rows.push({ entry, model: null, skipped: `${model.training.failures} failures in the training frame (< ${MIN_FAILURES})`, notes });
      process.stdout.write(`skip  ${entry.key}: ${model.training.failures} failures (${ms} ms)\n`);
      continue;
    }
    await saveModelFile(join(outDir, `${entry.key}.json`), model);
    rows.push({ entry, model, notes });
    process.stdout.write(`wrote ${relative(process.cwd(), join(outDir, `${entry.key}.json`))}: n=${model.training.n} failures=${model.training.failures} ${model.regime}${model.commitmentPoint ? ` T*=${model.commitmentPoint}` : ''} (${ms} ms)\n`);
    for (const note of notes) process.stdout.write(`      note: ${note}\n`);
  }
  if (values.only === undefined) await writeFile(join(outDir, 'README.md'), readme(rows));
}

function readme(rows: readonly Row[]): string {
  const f3 = (x: number | null) => (x === null ? 'N/A' : x.toFixed(3));
  const line = (r: Row) => {
    const m = r.model!;
    const full = m.classifiers.find((c) => c.window === 'full')!;
    const early = m.classifiers.filter((c) => c.window !== 'full' && c.oof.prauc !== null);
    const best = early.reduce<typeof early[number] | null>((b, c) => (b === null || c.oof.prauc! > b.oof.prauc! ? c : b), null);
    const stops = m.classifiers.filter((c) => c.stop.threshold !== null).map((c) => (c.window === 'full' ? 'full' : String(c.window)));
    return `| \`${r.entry.key}.json\` | ${r.entry.table} | ${m.prefinal ? 'prefinal' : 'regular'} | ${m.signal.topK} | ${m.training.n} | ${m.training.failures} (${(100 * m.training.failureRate).toFixed(1)}%) | ${f3(full.oof.prauc)} / ${best ? `${f3(best.oof.prauc)} (T=${best.window})` : 'N/A'} | ${m.regime} | ${m.commitmentPoint ?? '—'} | ${stops.length ? stops.join(', ') : 'none'} |`;
  };
  const kept = rows.filter((r) => r.model !== null && r.entry !== GENERAL);
  const general = rows.find((r) => r.entry === GENERAL && r.model !== null);
  const skipped = rows.filter((r) => r.model === null);
  const caveats = rows.filter((r) => r.model !== null && r.entry.caveat);
  const header = [
    '| model file | paper table (data) | features | top-k | n | failures | OOF PR-AUC full / best window | regime | T* | windows with a 0.9-precision stop |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  return [
    '# Default models',
    '',
    'Model files (format: [docs/model-format.md](../../docs/model-format.md)) trained with `failmode train` from the',
    'paper\'s released runs in `../shared/paper/results` — one per benchmark × model of the paper\'s tables',
    `(shared/paper/README.md) whose training frame has at least ${MIN_FAILURES} failures, in the table's mode (prefinal or`,
    'regular) and with its bootstrap count, so each model\'s regime and T* are that table\'s verdict. Each classifier is',
    'fitted on all rows; the PR-AUCs below are its 5-fold out-of-fold estimates (seed 42, the paper\'s procedure) —',
    'the analysis\'s Section 2 numbers. Stop thresholds target 0.9 out-of-fold precision; windows that never reach it',
    '(mostly in tables with few failures) have threshold `null`: the monitor then reports risk there but never advises',
    'stopping. A high PR-AUC with a high failure rate (e.g. Gemini GPQA, LCB Llama) is mostly the base rate, not skill.',
    '',
    ...header,
    ...kept.map(line),
    '',
    '## General model for top-k-20 streams',
    '',
    ...(general ? [...header, line(general), ''] : []),
    '`general-topk20.json` is for streams from OpenAI-compatible APIs that return 20 alternatives per token (entropy,',
    'margin and nucleus size depend on k, SPEC §6.2.8, so the vLLM models above — top-k 200 — do not fit them). It is',
    'trained on the two GPT-4o runs (GPQA-Diamond + MATH-500, prefinal features, 424 prefinal-valid rows): these are the',
    'paper\'s only top-k-20 runs whose labels are not dominated by truncation (no GPT-4o generation hit the token limit,',
    'while 180/198 Gemini GPQA and 189/500 Gemini MATH-500 generations did), and two task types make it less tied to one',
    'benchmark than either run alone. Its profile is unset: the monitor uses the task\'s own profile for the prefinal cut.',
    '',
    '## Left out',
    '',
    ...skipped.map((r) => `- \`${r.entry.table}\`: ${r.skipped}.`),
    '- `easy`, `hard`: the easy and medium splits of `lcb_gpt-oss-20b` (covered by `lcb_gpt-oss-20b.json`).',
    '- `gpqa_gemini2.5pro_final`: the unfixed copy of the Gemini GPQA run (its prefinal analysis fell back; covered by `gpqa_gemini2.5.json`).',
    '- GSM8K: only `gsm8k_gpt-oss-20b.final.csv` is here, with no prefinal trace in any row (SPEC §6.2.6b) and no table in the paper\'s list.',
    '',
    '## Caveats (SPEC §6)',
    '',
    ...caveats.map((r) => `- \`${r.entry.key}.json\`: ${r.entry.caveat}.`),
    '',
    '## Remaking them',
    '',
    '```',
    'node --import tsx scripts/train-default-models.ts            # all models + this README (about a minute)',
    'node --import tsx scripts/train-default-models.ts --only gpqa_gpt4o',
    '```',
    '',
    'or one at a time with the CLI, e.g.',
    '',
    '```',
    'failmode train ../shared/paper/results/gpqa_gpt4o.final.csv --prefinal --name gpqa_gpt4o.final --out results/models/gpqa_gpt4o.json',
    'failmode train ../shared/paper/results/gpqa_gpt4o.final.csv ../shared/paper/results/math500_gpt4o.final.csv --prefinal \\',
    '  --profile none --name "gpqa_gpt4o.final + math500_gpt4o.final" --out results/models/general-topk20.json',
    '```',
    '',
    'Only `createdAt` (and `description`) differ between a script-made and a CLI-made model.',
    '',
  ].join('\n');
}

await main();
