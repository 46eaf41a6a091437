/**
 * Trains the default model files in results/models/ from the paper's released runs (../shared/paper/results) and
 * writes results/models/README.md (completely: it also describes the demo model, results/models/simulator-demo.json,
 * made by scripts/train-simulator-demo-model.ts). One model per table of src/offline/reproduce/manifest.ts (the
 * paper's tables; splits and copies of another table left out), in the table's mode and with its bootstrap count,
 * kept when the training frame has at least MIN_FAILURES failures; plus `general-topk20.json` for top-k-20 API streams
 * and `general-pooled.json`, one model pooled over every table, for models outside the paper's.
 *
 * Every model's stop rule is the stop model chosen as `failmode early-stop-eval` chooses it (per-window classifiers or
 * the hazard model, whichever saves more tokens on out-of-fold risks) with the risk-controlled guarantee false-kill
 * rate ≤ 0.05 at 90 % confidence. The README quotes the cross-fitted figures of results/early-stop/summary.json (run
 * `failmode early-stop-eval --all ../shared/paper/results` first).
 *
 *   node --import tsx scripts/train-default-models.ts [--paper DIR] [--out DIR] [--only NAME] [--readme-only]
 *
 * `--readme-only` rewrites README.md from the model files already in DIR (no training).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseScriptArgs } from '../src/cli/script-args.ts';
import type { ModelFile } from '../src/models/model-file.ts';
import { loadModelFile, saveModelFile } from '../src/models/model-io.ts';
import { tableStopData } from '../src/offline/early-stop-eval.ts';
import { loadTable } from '../src/offline/load-table.ts';
import { isDuplicateTable, PAPER_TABLES, type TableEntry } from '../src/offline/reproduce/manifest.ts';
import { concatFrames, trainModel } from '../src/training/train.ts';

const MIN_FAILURES = 20;
/** Fewest rows (running at T) a window's classifier needs to be quoted as the "best window" in the README. */
const BEST_WINDOW_MIN_ROWS = 100;
const ALPHA = 0.05;
const CONFIDENCE = 0.9;

const MATH = 'MATH-500 correctness is string matching (SPEC §6.1.1): some "failures" are equivalent answers';
const LCB = 'LiveCodeBench LeetCode problems are run as stdin scripts and always fail (SPEC §6.1.2): failure partly means "LeetCode"';
const QWEN_PREFIX = 'its prefinal trace is an early reasoning prefix, not the pre-answer text (SPEC §6.2.6d)';

/** What a user should know about each table's model: its name in words and SPEC §6 caveats. */
const ABOUT: Readonly<Record<string, { description: string; caveat?: string }>> = {
  'arlsat_gemma4-31b.final': { description: 'AR-LSAT / Gemma-4-31B' },
  'arlsat_gpt-oss-20b.final': { description: 'AR-LSAT / gpt-oss-20b' },
  'arlsat_llama3.1-8b.final': { description: 'AR-LSAT / Llama-3.1-8B' },
  'arlsat_qwen3.5-2b.final': { description: 'AR-LSAT / Qwen3.5-2B' },
  'gpqa_gemini2.5.final': { description: 'GPQA-Diamond / Gemini-2.5-Pro (API, top-k 20)', caveat: '180/198 generations hit the token limit: failure mostly means truncation (SPEC §6.4.25); prefinal columns of rows without an answer line are full-trace copies (§6.2.9)' },
  'gpqa_gemma4-31b.final': { description: 'GPQA-Diamond / Gemma-4-31B' },
  'gpqa_gpt-oss-20b.final': { description: 'GPQA-Diamond / gpt-oss-20b' },
  'gpqa_gpt4o.final': { description: 'GPQA-Diamond / GPT-4o (API, top-k 20)' },
  'gpqa_llama3.1-8b.final': { description: 'GPQA-Diamond / Llama-3.1-8B' },
  'gpqa_qwen3.5-2b.final': { description: 'GPQA-Diamond / Qwen3.5-2B' },
  'lcb_gemma4-31b.final': { description: 'LiveCodeBench / Gemma-4-31B', caveat: LCB },
  'lcb_gpt-oss-20b.final': { description: 'LiveCodeBench / gpt-oss-20b', caveat: LCB },
  'lcb_llama3.1-8b.final': { description: 'LiveCodeBench / Llama-3.1-8B', caveat: `no row has a prefinal trace, so the model uses full-list features (as the paper's analysis fell back); ${LCB}` },
  'lcb_qwen3.5-122b.final': { description: 'LiveCodeBench / Qwen3.5-122B', caveat: `${QWEN_PREFIX}; ${LCB}` },
  'lcb_qwen3.5-2b.final': { description: 'LiveCodeBench / Qwen3.5-2B', caveat: LCB },
  'lcb_qwen3.5-9b.final': { description: 'LiveCodeBench / Qwen3.5-9B (regular features, as the paper\'s table)', caveat: `some questions have several completions; ${LCB}` },
  'math500_gemini2.5.final': { description: 'MATH-500 / Gemini-2.5-Pro (API, top-k 20)', caveat: `189/500 generations hit the token limit; ${MATH}` },
  'math500_gemma4-31b.final': { description: 'MATH-500 / Gemma-4-31B', caveat: MATH },
  'math500_gpt-oss-20b.final': { description: 'MATH-500 / gpt-oss-20b', caveat: MATH },
  'math500_gpt4o.final': { description: 'MATH-500 / GPT-4o (API, top-k 20)', caveat: `only 226/497 rows have a prefinal trace; ${MATH}` },
  'math500_llama3.1-8b.final': { description: 'MATH-500 / Llama-3.1-8B', caveat: MATH },
  'math500_qwen3.5-122b.final': { description: 'MATH-500 / Qwen3.5-122B', caveat: `${QWEN_PREFIX}; ${MATH}` },
  'math500_qwen3.5-2b.final': { description: 'MATH-500 / Qwen3.5-2B', caveat: MATH },
  'math500_qwen3.5-9b.final': { description: 'MATH-500 / Qwen3.5-9B (file math500_qwen3-9b)', caveat: `${QWEN_PREFIX}; ${MATH}` },
};

interface Entry {
  /** Model file name without .json. */
  readonly key: string;
  /** The paper's table name(s). */
  readonly table: string;
  readonly inputs: readonly string[];
  readonly prefinal: boolean;
  readonly nBoot: number;
  readonly description: string;
  readonly caveat?: string;
  readonly profile?: string | null;
  readonly topK?: number;
}

const tableEntry = (t: TableEntry): Entry => {
  const about = ABOUT[t.table];
  if (!about) throw new Error(`scripts/train-default-models.ts: no description for table ${t.table}; add it to ABOUT`);
  return { key: t.table.replace(/\.final$/, ''), table: t.table, inputs: [t.input], prefinal: t.mode === 'prefinal', nBoot: t.nBoot, ...about };
};

const TABLES: readonly Entry[] = PAPER_TABLES.filter((t) => !isDuplicateTable(t.table)).map(tableEntry);

/**
 * The general model for top-k-20 streams: the two GPT-4o API runs (GPQA + MATH-500), prefinal. Why these: they are the
 * paper's only top-k-20 runs whose labels are not dominated by truncation, and two task types make it less
 * benchmark-specific than either alone.
 */
const GENERAL: Entry = {
  key: 'general-topk20', table: 'gpqa_gpt4o.final + math500_gpt4o.final', inputs: ['gpqa_gpt4o.final.csv', 'math500_gpt4o.final.csv'], prefinal: true, nBoot: 10000,
  profile: null,
  description: 'General model for top-k-20 streams (OpenAI-style APIs): GPT-4o on GPQA-Diamond + MATH-500, prefinal features',
  caveat: `trained on one model (GPT-4o) and two tasks; profile unset (use the task's own); ${MATH}`,
};

/** One model pooled over every table (each once), for a model outside the paper's: its transfer figures are leave-one-table-out. */
const POOLED: Entry = {
  key: 'general-pooled', table: `all ${TABLES.length} tables pooled`, inputs: TABLES.map((e) => e.inputs[0]!), prefinal: true, nBoot: 1000,
  profile: null, topK: 200,
  description: `Pooled model for models outside the paper's tables: every paper table (${TABLES.length}, each once), prefinal features`,
  caveat: 'mixes top-k 200 (vLLM) and top-k 20 (API) runs and eight models; rows without a prefinal trace (e.g. all of lcb_llama3.1-8b) are left out; profile unset (use the task\'s own); its realised false-kill rate on a new model can exceed α — see its leave-one-table-out figures',
};

const HELP = `train-default-models — the default model files in results/models/ and their README, from the paper's runs

Usage
  node --import tsx scripts/train-default-models.ts [--paper DIR] [--out DIR] [--only NAME] [--readme-only]

  One model per paper table (splits and copies left out) with ≥ ${MIN_FAILURES} failures, in the table's mode, plus
  general-topk20.json and general-pooled.json; each with the stop rule early-stop-eval would choose, risk-controlled
  at false-kill rate ≤ ${ALPHA} with ${CONFIDENCE * 100} % confidence. Then writes README.md in --out completely (the demo
  model made by scripts/train-simulator-demo-model.ts included). Quotes results/early-stop/summary.json when present.

Options
  --paper DIR     the paper's results tables (default ../shared/paper/results)
  --out DIR       where the model files and README.md go (default results/models)
  --only NAME     train only this model (e.g. gpqa_gpt4o); README.md is not rewritten
  --readme-only   rewrite README.md from the model files already in --out (no training)
  -h, --help      show this help

Examples
  node --import tsx scripts/train-default-models.ts
  node --import tsx scripts/train-default-models.ts --only gpqa_gpt4o --out /tmp/models
`;

interface Row { entry: Entry; model: ModelFile | null; skipped?: string; notes: readonly string[]; neverStops: string | null }

async function main(): Promise<void> {
  const { values } = parseScriptArgs('train-default-models', HELP, { paper: { type: 'string' }, out: { type: 'string' }, only: { type: 'string' }, 'readme-only': { type: 'boolean' } });
  const paperDir = values.paper ?? new URL('../../shared/paper/results/', import.meta.url).pathname;
  const outDir = values.out ?? new URL('../results/models/', import.meta.url).pathname;
  await mkdir(outDir, { recursive: true });
  const rows: Row[] = [];
  for (const entry of [...TABLES, GENERAL, POOLED]) {
    if (values.only !== undefined && entry.key !== values.only) continue;
    if (values['readme-only']) {
      const path = join(outDir, `${entry.key}.json`);
      rows.push(existsSync(path)
        ? { entry, model: await loadModelFile(path), notes: [], neverStops: null }
        : { entry, model: null, skipped: `${await workingFailures(paperDir, entry)} failures in the training frame (< ${MIN_FAILURES})`, notes: [], neverStops: null });
      continue;
    }
    const t0 = performance.now();
    const frames = [];
    for (const f of entry.inputs) frames.push(await loadTable(join(paperDir, f)));
    const { model, notes, neverStops } = trainModel(concatFrames(frames), {
      file: entry.inputs.join(' + '),
      name: entry.table,
      prefinal: entry.prefinal,
      nBoot: entry.nBoot,
      maxFalseKill: ALPHA,
      confidence: CONFIDENCE,
      stopModel: 'auto',
      description: entry.caveat ? `${entry.description}. Caveat: ${entry.caveat}.` : entry.description,
      ...(entry.profile !== undefined ? { profile: entry.profile } : {}),
      ...(entry.topK !== undefined ? { topK: entry.topK } : {}),
    });
    const ms = (performance.now() - t0).toFixed(0);
    if (model.training.failures < MIN_FAILURES) {
      rows.push({ entry, model: null, skipped: `${model.training.failures} failures in the training frame (< ${MIN_FAILURES})`, notes, neverStops });
      process.stdout.write(`skip  ${entry.key}: ${model.training.failures} failures (${ms} ms)\n`);
      continue;
    }
    await saveModelFile(join(outDir, `${entry.key}.json`), model);
    rows.push({ entry, model, notes, neverStops });
    process.stdout.write(`wrote ${relative(process.cwd(), join(outDir, `${entry.key}.json`))}: n=${model.training.n} failures=${model.training.failures} ${model.regime}${model.commitmentPoint ? ` T*=${model.commitmentPoint}` : ''} stop model ${model.training.stopModel ?? 'window'}, λ=${model.guarantee?.threshold ?? 'never stops'} (${ms} ms)\n`);
    for (const note of notes) process.stdout.write(`      note: ${note}\n`);
    if (neverStops) process.stdout.write(`      ${neverStops}\n`);
  }
  if (values.only === undefined) {
    const demoPath = join(outDir, 'simulator-demo.json');
    const demo = existsSync(demoPath) ? await loadModelFile(demoPath) : null;
    await writeFile(join(outDir, 'README.md'), readme(rows, demo, earlyStopSummary()));
  }
}

/** Failures in an entry's training (working) frame, without training (for --readme-only). */
async function workingFailures(paperDir: string, entry: Entry): Promise<number> {
  const frames = [];
  for (const f of entry.inputs) frames.push(await loadTable(join(paperDir, f)));
  const { data } = tableStopData(concatFrames(frames), { prefinal: entry.prefinal });
  return data.y.reduce((a, b) => a + b, 0);
}

/** results/early-stop/summary.json, if present: the cross-fitted and transfer figures quoted in the README. */
interface SummaryFigures { tables: Map<string, { saved: number | null; falseKill: number | null; oracle: number | null }>; transfer: { learned: number | null; baseline: number | null; oracle: number | null; within: number; tables: number } | null }
function earlyStopSummary(): SummaryFigures | null {
  const path = new URL('../results/early-stop/summary.json', import.meta.url).pathname;
  if (!existsSync(path)) return null;
  type Alpha = { alpha: number; learned: { saved: number | null; false_kill: number | null } };
  const s = JSON.parse(readFileSync(path, 'utf8')) as {
    tables: Array<{ table: string; oracle_saved: number | null; alphas: Alpha[] }>;
    transfer: { means: Array<{ alpha: number; learned_saved: number | null; baseline_saved: number | null; oracle_saved: number | null; learned_within_alpha: number; tables: number }> };
  };
  const tables = new Map<string, { saved: number | null; falseKill: number | null; oracle: number | null }>();
  for (const t of s.tables) {
    const a = t.alphas.find((x) => x.alpha === ALPHA);
    if (a) tables.set(t.table, { saved: a.learned.saved, falseKill: a.learned.false_kill, oracle: t.oracle_saved });
  }
  const m = s.transfer.means.find((x) => x.alpha === ALPHA);
  return { tables, transfer: m ? { learned: m.learned_saved, baseline: m.baseline_saved, oracle: m.oracle_saved, within: m.learned_within_alpha, tables: m.tables } : null };
}

function readme(rows: readonly Row[], demo: ModelFile | null, summary: SummaryFigures | null): string {
  const f3 = (x: number | null | undefined) => (x === null || x === undefined ? 'N/A' : x.toFixed(3));
  const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${(100 * x).toFixed(1)}%`);
  const rule = (m: ModelFile) => {
    const g = m.guarantee;
    if (!g) return 'per-window precision thresholds';
    return g.threshold === null ? `never stops (bound ${f3(g.bound)} > ${g.alpha} on ${g.calibrationN} correct)` : `λ = ${f3(g.threshold)}, bound ${f3(g.bound)} on ${g.calibrationN} correct`;
  };
  const line = (r: Row, figures: string) => {
    const m = r.model!;
    const full = m.classifiers.find((c) => c.window === 'full')!;
    // Windows fitted on few running rows (late windows) have meaningless PR-AUCs: the best among those with ≥ 100 rows.
    const early = m.classifiers.filter((c) => c.window !== 'full' && c.oof.prauc !== null && (c.n ?? m.training.n) >= BEST_WINDOW_MIN_ROWS);
    const best = early.reduce<typeof early[number] | null>((b, c) => (b === null || c.oof.prauc! > b.oof.prauc! ? c : b), null);
    return `| \`${r.entry.key}.json\` | ${r.entry.table} | ${m.prefinal ? 'prefinal' : 'regular'} | ${m.signal.topK} | ${m.training.n} | ${m.training.failures} (${(100 * m.training.failureRate).toFixed(1)}%) | ${f3(full.oof.prauc)} / ${best ? `${f3(best.oof.prauc)} (T=${best.window})` : 'N/A'} | ${m.regime} | ${m.commitmentPoint ?? '—'} | ${m.training.stopModel ?? 'window'} | ${rule(m)} | ${figures} |`;
  };
  const tableFigures = (r: Row) => {
    const t = summary?.tables.get(r.entry.table);
    return t ? `${pct(t.saved)} (${pct(t.falseKill)}) of oracle ${pct(t.oracle)}` : '—';
  };
  const tr = summary?.transfer ?? null;
  const transferFigures = tr ? `leave-one-table-out mean: ${pct(tr.learned)} (baseline ${pct(tr.baseline)}, oracle ${pct(tr.oracle)}); false-kill ≤ ${ALPHA} on ${tr.within}/${tr.tables} held-out tables` : '—';
  const kept = rows.filter((r) => r.model !== null && r.entry !== GENERAL && r.entry !== POOLED);
  const general = rows.find((r) => r.entry === GENERAL && r.model !== null);
  const pooled = rows.find((r) => r.entry === POOLED && r.model !== null);
  const skipped = rows.filter((r) => r.model === null);
  const caveats = rows.filter((r) => r.model !== null && r.entry.caveat);
  const header = [
    `| model file | paper table (data) | features | top-k | n | failures | OOF PR-AUC full / best window | regime | T* | stop model | stop rule (false-kill ≤ ${ALPHA} @ ${CONFIDENCE * 100} %) | cross-fitted tokens saved (false-kill) at α = ${ALPHA} |`,
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  return [
    '# Default models',
    '',
    'Model files (format: [docs/model-format.md](../../docs/model-format.md)) trained with `failmode train` from the',
    'paper\'s released runs in `../shared/paper/results` — one per table of the paper (src/offline/reproduce/manifest.ts)',
    `whose training frame has at least ${MIN_FAILURES} failures, in the table's mode (prefinal or regular) and with its`,
    'bootstrap count, so each model\'s regime and T* are that table\'s verdict. Made by',
    '`scripts/train-default-models.ts` (`--stop-model auto --max-false-kill 0.05 --confidence 0.9`).',
    '',
    'Stop rule: each model\'s early windows are scored by the stop model that saves more tokens on 5-fold out-of-fold',
    'risks (stratified, seed 42): `window` (one classifier per window T, fitted on the rows still running at T) or',
    '`hazard` (one logistic model of P(failure | running at T) from window T\'s features, their change since the previous',
    'window and a window indicator; stored as one classifier per window that also reads the previous window\'s columns).',
    `One common threshold λ for every window is calibrated on those out-of-fold risks so that the whole rule's false-kill`,
    `rate (correct samples stopped / correct samples) is ≤ ${ALPHA} with probability ≥ ${CONFIDENCE} (Clopper–Pearson bound,`,
    'fixed-sequence scan; docs/early-stopping.md); `never stops` means no λ met the bound (too few correct samples, or no',
    'separation). The last column is the cross-fitted figure of `failmode early-stop-eval --all` (results/early-stop/',
    'summary.md: model choice, fit and λ on training folds only, held-out folds pooled): the share of all tokens saved,',
    'the realised false-kill rate, and the oracle\'s saving (every failure stopped at its first running window).',
    `The OOF PR-AUCs are the full-trace classifier's and the best early window's out-of-fold estimates (among windows`,
    `whose classifier was fitted on ≥ ${BEST_WINDOW_MIN_ROWS} rows; under the running-row stop models a late window has few).`,
    '',
    ...header,
    ...kept.map((r) => line(r, tableFigures(r))),
    '',
    '## General model for top-k-20 streams',
    '',
    ...(general ? [...header, line(general, '—'), ''] : []),
    '`general-topk20.json` is for streams from OpenAI-compatible APIs that return 20 alternatives per token (entropy,',
    'margin and nucleus size depend on k, SPEC §6.2.8, so the vLLM models above — top-k 200 — do not fit them). It is',
    'trained on the two GPT-4o runs (GPQA-Diamond + MATH-500, prefinal features): these are the paper\'s only top-k-20',
    'runs whose labels are not dominated by truncation (no GPT-4o generation hit the token limit, while 180/198 Gemini',
    'GPQA and 189/500 Gemini MATH-500 generations did), and two task types make it less tied to one benchmark than',
    'either run alone. Its profile is unset: the monitor uses the task\'s own profile for the prefinal cut.',
    '',
    '## Pooled model for models outside the paper\'s',
    '',
    ...(pooled ? [...header, line(pooled, transferFigures), ''] : []),
    '`general-pooled.json` is fitted on every paper table at once (each table once: `easy`/`hard` and the unfixed Gemini',
    'GPQA copy are left out), prefinal features. Its figures are the transfer figures of results/early-stop/summary.md:',
    'for each table, a pooled model fitted and calibrated on the OTHER tables only, applied to the held-out one — what a',
    'model outside the paper\'s can expect. The guarantee assumes the live samples are exchangeable with the calibration',
    'samples; a new model breaks that, and the held-out false-kill rates show by how much.',
    '',
    '## Left out',
    '',
    ...skipped.map((r) => `- \`${r.entry.table}\`: ${r.skipped}.`),
    '- `easy`, `hard`: the easy and medium splits of `lcb_gpt-oss-20b` (covered by `lcb_gpt-oss-20b.json`).',
    '- `gpqa_gemini2.5pro_final`: the unfixed copy of the Gemini GPQA run (covered by `gpqa_gemini2.5.json`).',
    '- GSM8K: only `gsm8k_gpt-oss-20b.final.csv` is here, with no prefinal trace in any row (SPEC §6.2.6b) and no table in the paper\'s list.',
    '',
    '## Caveats (SPEC §6)',
    '',
    ...caveats.map((r) => `- \`${r.entry.key}.json\`: ${r.entry.caveat}.`),
    '',
    '## Remaking them',
    '',
    '```',
    'failmode early-stop-eval --all ../shared/paper/results           # results/early-stop/summary.json (quoted above)',
    'node --import tsx scripts/train-default-models.ts                 # all models + this README',
    'node --import tsx scripts/train-default-models.ts --only gpqa_gpt4o',
    '```',
    '',
    'or one at a time with the CLI, e.g.',
    '',
    '```',
    'failmode train ../shared/paper/results/gpqa_gpt4o.final.csv --prefinal --stop-model auto --max-false-kill 0.05 \\',
    '  --name gpqa_gpt4o.final --out results/models/gpqa_gpt4o.json',
    '```',
    '',
    'Only `createdAt` (and `description`) differ between a script-made and a CLI-made model.',
    '',
    '## Demo model (simulator traces)',
    '',
    '| model file | data | features | top-k | regime | T* | stop rule |',
    '|---|---|---|---|---|---|---|',
    demo
      ? `| \`simulator-demo.json\` | 400 traces of failmode's own simulator (seed 99, the demo's mix of trace kinds) | ${demo.prefinal ? 'prefinal' : 'regular'} | ${demo.signal.topK} | ${demo.regime} | ${demo.commitmentPoint ?? '—'} | ${demo.guarantee ? rule(demo) : `per-window thresholds at target precision ${demo.classifiers.find((c) => c.stop.targetPrecision !== undefined)?.stop.targetPrecision ?? '?'}`} |`
      : '| `simulator-demo.json` | (missing: run scripts/train-simulator-demo-model.ts) | | | | | |',
    '',
    'Made by `node --import tsx scripts/train-simulator-demo-model.ts` (28 s on this 2-core machine). `failmode demo` prefers it. It exists because',
    'the paper-trained models separate the simulator\'s committed failures as weakly as they separate the paper\'s own data',
    '(their stop rules are almost never triggered in an 8-sample demo), so they cannot show the flagged and stopped states a',
    'first-time user should see. Its figures are measured on the simulator and say nothing about real models; use the',
    'paper-trained files above for real streams.',
    '',
  ].join('\n');
}

await main();
