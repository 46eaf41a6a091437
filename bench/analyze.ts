/**
 * Whole-report benchmark: `failmode analyze gpqa_gpt4o.final.csv --prefinal` (10,000 resamples) as failmode runs it,
 * against a straightforward implementation of the paper's procedure measured in the same run: every cv_prauc the
 * paper's script calls (Sections 2–5, incl. Section 4's 91 single/aggregate-feature fits, each with its bootstrap CI
 * even where the report never prints it), no reuse of CV fits across sections, and a per-resample bootstrap that
 * draws an index array, copies the resample and sorts it for AP. Both use the same estimators (LR, folds, RNG).
 *
 * Run: node --import tsx bench/analyze.ts [--quick]   (--quick: 1,000 resamples for the baseline, scaled ×10)
 */
import { fileURLToPath } from 'node:url';
import { BASE_FEATURES, MAX_FEATURES, MEAN_FEATURES } from '../src/features/columns.ts';
import { loadTable } from '../src/offline/load-table.ts';
import { runAnalysis } from '../src/offline/analyze.ts';
import { renderReport } from '../src/offline/report-text.ts';
import { crossValidatedScores } from '../src/offline/cv-lr.ts';
import { naiveBootstrap } from './lib/naive-bootstrap.ts';
import { workingFrame } from '../src/training/train.ts';
import type { Frame } from '../src/offline/frame.ts';
import { recordBench } from './lib/bench-json.ts';

const FILE = fileURLToPath(new URL('../../shared/paper/results/gpqa_gpt4o.final.csv', import.meta.url));
const quick = process.argv.includes('--quick');
const N_BOOT = 10_000;
const BASELINE_BOOT = quick ? 1_000 : N_BOOT;

/** The paper's cv_prauc: fit, pool, AP, and always a bootstrap CI. */
function paperCvPrauc(frame: Frame, y: Uint8Array, cols: readonly string[]): Float64Array | null {
  const columns = cols.filter((c) => frame.has(c)).map((c) => frame.numeric(c)!);
  const oof = crossValidatedScores(columns, y);
  if (!oof) return null;
  naiveBootstrap(oof.pooledY, [oof.pooledScores], BASELINE_BOOT);
  return oof.rowScores;
}

function baselineReport(frame: Frame, y: Uint8Array, rawFrame: Frame, rawY: Uint8Array, windows: readonly number[]): void {
  const full = BASE_FEATURES.map((f) => f);
  const win = (T: number, feats: readonly string[]) => feats.map((f) => `${f}_w${T}`);
  for (let pass = 0; pass < 2; pass++) { // Section 2, then Section 5 recomputes the same
    const fullScores = paperCvPrauc(frame, y, full)!;
    crossValidatedScores(full.map((c) => frame.numeric(c)!), y); // cv_oof_scores is a separate fit in the paper
    for (const T of windows) {
      const early = paperCvPrauc(frame, y, win(T, BASE_FEATURES));
      const oofEarly = crossValidatedScores(win(T, BASE_FEATURES).map((c) => frame.numeric(c)!), y);
      if (early && oofEarly) naiveBootstrap(oofEarly.rowY, [oofEarly.rowScores, fullScores], BASELINE_BOOT);
    }
  }
  paperCvPrauc(rawFrame, rawY, full); // Section 3: raw full trace and generated_len
  paperCvPrauc(rawFrame, rawY, ['generated_len']);
  for (const f of BASE_FEATURES) { // Section 4: single features, then max/mean aggregates
    paperCvPrauc(frame, y, [f]);
    for (const T of windows) paperCvPrauc(frame, y, [`${f}_w${T}`]);
  }
  for (const group of [MAX_FEATURES, MEAN_FEATURES]) {
    paperCvPrauc(frame, y, group);
    for (const T of windows) paperCvPrauc(frame, y, win(T, group));
  }
}

const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

const frame0 = await loadTable(FILE);
let t0 = performance.now(), c0 = cpu();
const result = runAnalysis(await loadTable(FILE), { file: FILE, prefinal: true, nBoot: N_BOOT });
renderReport(result);
const oursWall = performance.now() - t0, oursCpu = cpu() - c0;
const oursMem = process.memoryUsage().rss / 2 ** 20;

const { frame, y } = workingFrame(frame0, result);
const raw = (await import('../src/offline/table/failure-labels.ts')).failureLabels(frame0);
t0 = performance.now(); c0 = cpu();
baselineReport(frame, y, raw.frame, raw.y, result.windows);
const scale = N_BOOT / BASELINE_BOOT;
const baseWall = (performance.now() - t0) * scale, baseCpu = (cpu() - c0) * scale;

console.log(`gpqa_gpt4o.final.csv --prefinal, ${N_BOOT} resamples (n=${result.overview.n})`);
console.log(`  failmode analyze (load + analysis + report): ${(oursWall / 1000).toFixed(2)} s wall, ${(oursCpu / 1000).toFixed(2)} s CPU, RSS ${oursMem.toFixed(0)} MB`);
console.log(`  straightforward baseline (paper's call structure, naive bootstrap${quick ? `, ${BASELINE_BOOT} resamples ×${scale}` : ''}): ${(baseWall / 1000).toFixed(1)} s wall, ${(baseCpu / 1000).toFixed(1)} s CPU`);
console.log(`  speed-up: ${(baseCpu / oursCpu).toFixed(0)}× (CPU)`);
recordBench('analyze', {
  table: 'gpqa_gpt4o.final.csv --prefinal', n_boot: N_BOOT, n: result.overview.n,
  ours_wall_s: oursWall / 1000, ours_cpu_s: oursCpu / 1000, ours_rss_mb: oursMem,
  baseline_wall_s: baseWall / 1000, baseline_cpu_s: baseCpu / 1000, baseline_resamples: BASELINE_BOOT, baseline_scaled_by: scale,
  speedup_cpu: baseCpu / oursCpu,
});
