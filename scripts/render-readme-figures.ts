/**
 * The README's measured figures, rendered from the files the commands write — never typed by hand:
 * - `speed`: the speed table, from results/bench/*.json (`npm run bench -- --json results/bench`);
 * - `early-stop`: the paper-data early-stopping paragraph, from results/early-stop/summary.json
 *   (`failmode early-stop-eval --all ../shared/paper/results --out results/early-stop`);
 * - `sc-sim`: the simulator's self-consistency paragraph, from results/early-stop/sc-sim.json (`scripts/sc-sim.ts`).
 * Each block sits in README.md between `<!-- figures:NAME … -->` and `<!-- /figures:NAME -->`; this script rewrites
 * the blocks in place, `--check` only compares (exit 1 when the README differs from its files). The test suite runs
 * the check, so a hand edit of a figure fails it.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseScriptArgs } from '../src/cli/script-args.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

const HELP = `render-readme-figures — the README's measured figures, rendered from the result files

Usage
  node --import tsx scripts/render-readme-figures.ts [--check] [--readme FILE] [--results DIR]

  Rewrites the blocks between <!-- figures:NAME --> and <!-- /figures:NAME --> in the README from
  results/bench/*.json (speed), results/early-stop/summary.json (early-stop) and results/early-stop/sc-sim.json
  (sc-sim). Regenerate those first: npm run bench -- --json results/bench; failmode early-stop-eval --all
  ../shared/paper/results --out results/early-stop; node --import tsx scripts/sc-sim.ts.

Options
  --check          compare only: exit 1 and name the blocks that differ from the files
  --readme FILE    the README to render (default README.md)
  --results DIR    the results folder (default results)
  -h, --help       show this help

Examples
  node --import tsx scripts/render-readme-figures.ts
  node --import tsx scripts/render-readme-figures.ts --check
`;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const pct = (x: number, d = 1) => `${(100 * x).toFixed(d)} %`;
const int = (x: number) => Math.round(x).toLocaleString('en');
const fixed = (x: number, d: number) => x.toFixed(d);
const day = (iso: string) => iso.slice(0, 10);

/** The machine line under a figure: when, on what, how loaded. */
function where(b: Json): string {
  return `${day(b.measured_at)}, ${b.cores} cores (${b.cpu}), Node ${b.node}, 1-min load ${fixed(b.load_average_1min, 1)}`;
}

export function speedBlock(bench: Record<string, Json>): string {
  const a = bench.analyze?.figures;
  const bs = bench.bootstrap?.figures;
  const st = bench.stream?.figures;
  const on = bench.online?.figures;
  const rp = bench.reproduce?.figures;
  const rows: string[] = ['| what | failmode | baseline measured in the same run |', '|---|---|---|'];
  if (a) rows.push(`| \`failmode analyze gpqa_gpt4o.final.csv --prefinal\`, ${int(a.n_boot)} resamples, all sections (\`bench/analyze.ts\`) | ${fixed(a.ours_cpu_s, 2)} s CPU (${fixed(a.ours_wall_s, 2)} s wall), ${int(a.ours_rss_mb)} MB RSS | straightforward implementation of the paper's call structure: ${fixed(a.baseline_cpu_s, 1)} s CPU${a.baseline_scaled_by !== 1 ? ` (${int(a.baseline_resamples)} resamples ×${a.baseline_scaled_by})` : ''} → **${int(a.speedup_cpu)}×** |`);
  if (bs) {
    rows.push(`| bootstrap PR-AUC CI, n=${bs.n}, ${int(bs.n_boot)} resamples (\`bench/bootstrap.ts\`, CPU per call) | ${fixed(bs.prauc_ci_ms, 1)} ms | per-resample index/copy/sort: ${int(bs.prauc_ci_baseline_ms)} ms (×${int(bs.prauc_ci_baseline_ms / bs.prauc_ci_ms)})${bs.prauc_ci_same_result ? ', same CI' : ''} |`);
    rows.push(`| paired ΔPR-AUC CI, same | ${fixed(bs.delta_ci_ms, 1)} ms | ${int(bs.delta_ci_baseline_ms)} ms (×${int(bs.delta_ci_baseline_ms / bs.delta_ci_ms)})${bs.delta_ci_same_result ? ', same CI' : ''} |`);
  }
  if (rp) rows.push(`| all ${rp.tables} paper tables with plots (\`failmode reproduce\`, \`bench/reproduce.ts\`, ${rp.worker_threads} worker threads) | ${fixed(rp.wall_s, 1)} s wall | — |`);
  if (st) {
    const c = st.cases;
    const tokens = int(c.baseline.tokens);
    if (c.ours) rows.push(`| SSE stream → token events, ${tokens} tokens, top-${st.top_k} (\`bench/stream.ts\`, best of ${st.repeats}) | ${int(c.ours.tokens_per_s)} tokens/s | bare \`split\` + \`JSON.parse\` loop: ${int(c.baseline.tokens_per_s)} tok/s (ours ${fixed(c.ours.vs_baseline, 2)}×)${c.sdk ? `; \`openai\` SDK iterating: ${int(c.sdk.tokens_per_s)} tok/s` : ''} |`);
    if (c.pipeline) rows.push(`| whole pipeline: SSE file → token events → features → risk at every window, same tokens | ${int(c.pipeline.tokens_per_s)} tokens/s; heap after GC every ${int(st.check_every_tokens)} tokens: ${c.pipeline.heap} | the bare loop: ${int(c.baseline.tokens_per_s)} tok/s (ours ${fixed(c.pipeline.vs_baseline, 2)}×) |`);
  }
  if (on) {
    const u = on.update_top20_ns;
    if (u) rows.push(`| per-token feature update, top-20 (\`bench/online.ts\`) | ${fixed(u.sample_features_push / 1000, 2)} µs (\`SampleFeatures.push\`); ${fixed(u.monitor_64_samples_with_model / 1000, 2)} µs with risk scoring, 64 samples | signal computation + one accumulator push: ${fixed(u.baseline / 1000, 2)} µs |`);
    const l = on.latency_64_samples_top20_ns;
    if (l) rows.push(`| per-token latency, 64 concurrent streams | p50 ${fixed(l.p50 / 1000, 1)} µs, **p99 ${fixed(l.p99 / 1000, 1)} µs**, p99.9 ${fixed(l.p999 / 1000, 1)} µs | target p99 ≤ 200 µs |`);
    const m = on.memory_per_sample_bytes;
    if (m) rows.push(`| memory per sample (${m.live_samples} live samples, heap + array buffers after GC) | ${fixed(m.after_1k_tokens / 1024, 0)} KiB after 1k tokens, ${fixed(m.after_1m_tokens / 1024, 0)} KiB after 1M tokens | a bare accumulator: ${fixed(m.bare_accumulator / 1024, 1)} KiB |`);
  }
  const reads = (r: Json | null) => (r ? `p50 ${fixed(r.p50, 2)} ms, p99 ${fixed(r.p99, 1)} ms` : 'n/a');
  const fl = bench['feed-load']?.figures;
  if (fl) {
    rows.push(`| \`failmode serve\` proxy + monitor, ${fl.samples} streams × ${int(fl.tokens_per_sample)} tokens, callers ask top-${fl.caller_top}, from our simulator in the same process (\`bench/feed-load.ts\`, docs/scale-out.md) | **${pct(fl.serve_share_of_direct)}** of direct without subscribers (median of ${fl.rounds} rounds; round by round ${fl.serve_share_by_round.map((x: number) => pct(x, 0)).join(', ')}), ${pct(fl.loaded_share_of_direct)} with ${fl.subscribers} tick subscribers; the proxy's work per upstream read ${reads(fl.read_ms_no_subscriber)} | the simulator read directly by the same callers: ${int(fl.direct_tokens_per_s)} tok/s (${fixed(fl.direct_cpu_us_per_token, 1)} µs CPU/token; serve ${fixed(fl.serve_cpu_us_per_token, 1)}) |`);
  }
  const fw = bench['feed-load-workers']?.figures;
  if (fw) {
    rows.push(`| the same with \`failmode serve --workers ${fw.workers}\` (the proxy in ${fw.workers === 1 ? 'a worker thread' : `${fw.workers} worker threads`}; sockets, feed and metrics on the main thread) | **${pct(fw.serve_share_of_direct)}** of direct without subscribers (median of ${fw.rounds} rounds; round by round ${fw.serve_share_by_round.map((x: number) => pct(x, 0)).join(', ')}), ${pct(fw.loaded_share_of_direct)} with ${fw.subscribers} tick subscribers; per upstream read ${reads(fw.read_ms_no_subscriber)} in the worker, then ${reads(fw.worker_hop_ms_no_subscriber ?? null)} to the caller's write (queued behind the simulator and the callers, which share the main thread here) | direct in that run: ${int(fw.direct_tokens_per_s)} tok/s; CPU per token through serve ${fixed(fw.serve_cpu_us_per_token, 1)} µs, now on two cores |`);
  }
  const measured = Object.entries(bench).sort(([x], [y]) => x.localeCompare(y)).map(([name, b]) => `\`${name}\` ${where(b)}`);
  return [
    ...rows,
    '',
    `Measured by \`npm run bench -- --json results/bench\` (results/bench/*.json): ${measured.join('; ')}. Wall times depend`,
    'on the load of this shared machine; CPU times are the stabler figures.',
  ].join('\n');
}

export function earlyStopBlock(s: Json): string {
  const at = (list: Json[], alpha: number) => list.find((m) => m.alpha === alpha)!;
  const m = at(s.means, 0.05);
  const t = at(s.transfer.means, 0.05);
  const v = s.validity;
  return [
    'On the paper\'s own data (`failmode early-stop-eval --all ../shared/paper/results --out results/early-stop`,',
    `\`results/early-stop/summary.md\`), with the stop rule's false-kill rate (correct samples stopped / correct samples)`,
    `risk-controlled at α = 0.05 (${Math.round(100 * (1 - s.delta))} % confidence) and every figure cross-fitted (model choice, fit and threshold from`,
    `training folds only, nested 5-fold CV): the learned rule (per-window classifiers or a hazard model over windows,`,
    `chosen per fold) saves **${pct(m.learned_saved, 2)}** of tokens on average over the ${m.tables} tables, the DeepConf-style one-feature`,
    `baseline under the same control ${pct(m.baseline_saved, 2)}, and an oracle that stops every failure at its first window`,
    `${pct(m.oracle_saved, 2)}. The realised false-kill rate stays ≤ α in ${v.learned_within_alpha} of ${v.cells} table × α cells (α ∈`,
    `{${s.alphas.join(', ')}}). The goal of 1.5 × the baseline and 30 % of the oracle is ${m.learned_saved >= 1.5 * m.baseline_saved && m.learned_saved >= 0.3 * m.oracle_saved ? 'reached' : 'not reached'} on these data`,
    `(${fixed(m.learned_saved / m.baseline_saved, 2)} ×, ${pct(m.learned_saved / m.oracle_saved)} at α = 0.05). A pooled model evaluated leave-one-table-out saves ${pct(t.learned_saved, 2)} but exceeds α on ${t.tables - t.learned_within_alpha} of ${t.tables}`,
    'held-out tables: calibrate on your own model\'s samples.',
  ].join('\n');
}

export function scSimBlock(rows: Json[]): string {
  const find = (profile: string, policy: string) => rows.find((r) => r.profile === profile && r.policy === policy)!;
  const dpt = (profile: string, policy: string) => {
    const d = 100 * (find(profile, policy).accuracy - find(profile, 'none').accuracy);
    const r = Math.round(d * 10) / 10;
    return r === 0 ? '±0' : `${r > 0 ? '+' : '−'}${Math.abs(r)} pt`;
  };
  const saved = (profile: string, policy: string) => pct(find(profile, policy).tokens_saved_share);
  const n = find('math', 'none');
  return [
    `All five self-consistency stop policies on the same seeded questions of **our simulator** (${n.questions} questions ×`,
    `${n.samples / n.questions} samples, \`scripts/sc-sim.ts\`, [results/early-stop/sc-sim.md](results/early-stop/sc-sim.md)): on the math profile vote +`,
    `risk saves ${saved('math', 'vote+risk')} of tokens at ${dpt('math', 'vote+risk')} (vote alone ${saved('math', 'vote')} at ${dpt('math', 'vote')}, risk alone ${saved('math', 'risk')} at`,
    `${dpt('math', 'risk')}, DeepConf-online ${saved('math', 'deepconf')} at ${dpt('math', 'deepconf')}); on multiple choice ${saved('mc', 'vote+risk')} at ${dpt('mc', 'vote+risk')} (vote`,
    `${saved('mc', 'vote')}, risk ${saved('mc', 'risk')}, DeepConf-online ${saved('mc', 'deepconf')} at ${dpt('mc', 'deepconf')}). Simulator figures, not a real model.`,
  ].join('\n');
}

/** Every block, from the files under `results`. */
export function renderBlocks(results: string): Record<string, string> {
  const benchDir = join(results, 'bench');
  const bench: Record<string, Json> = {};
  if (existsSync(benchDir)) {
    for (const f of readdirSync(benchDir).filter((x) => x.endsWith('.json')).sort()) bench[f.replace(/\.json$/, '')] = JSON.parse(readFileSync(join(benchDir, f), 'utf8'));
  }
  return {
    speed: speedBlock(bench),
    'early-stop': earlyStopBlock(JSON.parse(readFileSync(join(results, 'early-stop', 'summary.json'), 'utf8'))),
    'sc-sim': scSimBlock(JSON.parse(readFileSync(join(results, 'early-stop', 'sc-sim.json'), 'utf8'))),
  };
}

/** The README with every `<!-- figures:NAME … -->` block replaced; throws on a block it has no renderer for. */
export function renderReadme(readme: string, blocks: Record<string, string>): string {
  return readme.replace(/(<!-- figures:([a-z-]+)[^>]*-->\n)([\s\S]*?)(<!-- \/figures:\2 -->)/g, (_all, open: string, name: string, _body: string, close: string) => {
    const body = blocks[name];
    if (body === undefined) throw new Error(`README block figures:${name} has no renderer`);
    return `${open}${body}\n${close}`;
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseScriptArgs('render-readme-figures', HELP, { check: { type: 'boolean' }, readme: { type: 'string' }, results: { type: 'string' } });
  const readmePath = values.readme ?? join(ROOT, 'README.md');
  const before = readFileSync(readmePath, 'utf8');
  const after = renderReadme(before, renderBlocks(values.results ?? join(ROOT, 'results')));
  if (values.check) {
    if (after !== before) {
      process.stderr.write(`render-readme-figures: ${readmePath} differs from the result files (run scripts/render-readme-figures.ts)\n`);
      process.exit(1);
    }
    process.stdout.write('README figures match the result files\n');
  } else {
    writeFileSync(readmePath, after);
    process.stdout.write(`rendered the figures of ${readmePath}\n`);
  }
}
