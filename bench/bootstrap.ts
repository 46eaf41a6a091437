/**
 * Bootstrap benchmark: our bootstrapPrAuc + deltaCi (cached resample counts, one weighted walk per resample) against the
 * straightforward implementation (per-resample index array, copy, sort, AP), both measured here on the same data.
 * Run: node --import tsx bench/bootstrap.ts
 */
import { bootstrapPrAuc, deltaCi } from '../src/offline/bootstrap.ts';
import { naiveBootstrap } from './lib/naive-bootstrap.ts';
import { recordBench } from './lib/bench-json.ts';

const N = 198;
const N_BOOT = 10_000;

// GPQA-like data: 198 rows, ~45% failures, scores on a coarse grid (ties).
let x = 20240601;
const rnd = (): number => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
const y = Uint8Array.from({ length: N }, () => (rnd() < 0.45 ? 1 : 0));
const sFull = Float64Array.from(y, (v) => Math.round((rnd() + 0.4 * v) * 200) / 200);
const sEarly = Float64Array.from(y, (v) => Math.round((rnd() + 0.3 * v) * 200) / 200);

/** CPU milliseconds of this process (robust to other processes competing for the cores, unlike wall time). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function time<T>(fn: () => T, reps: number): { ms: number; result: T } {
  let result = fn(); // warm-up
  const t0 = cpuMs();
  for (let i = 0; i < reps; i++) result = fn();
  return { ms: (cpuMs() - t0) / reps, result };
}

// First call pays for drawing the 10 000 resamples once (the count table is then cached for this n).
const t0 = cpuMs();
bootstrapPrAuc(y, sFull, { nBoot: N_BOOT });
const firstMs = cpuMs() - t0;

const ours = time(() => bootstrapPrAuc(y, sFull, { nBoot: N_BOOT }), 20);
const oursDelta = time(() => deltaCi(y, sEarly, sFull, { nBoot: N_BOOT }), 20);
const base = time(() => naiveBootstrap(y, [sFull], N_BOOT), 2);
const baseDelta = time(() => naiveBootstrap(y, [sEarly, sFull], N_BOOT), 2);

const same = (a: { lo: number; hi: number; mean: number }, b: { lo: number; hi: number; mean: number }): boolean =>
  a.lo === b.lo && a.hi === b.hi && Math.abs(a.mean - b.mean) < 1e-12;

console.log(`bootstrap, n=${N}, ${N_BOOT} resamples (node ${process.version}; CPU time per call)`);
console.log(`  first bootstrapPrAuc call (draws + caches the resample counts): ${firstMs.toFixed(1)} ms`);
console.log(`  bootstrapPrAuc  ours ${ours.ms.toFixed(2)} ms   baseline ${base.ms.toFixed(1)} ms   speed-up ×${(base.ms / ours.ms).toFixed(1)}   same result: ${same(ours.result, base.result)}`);
console.log(`  deltaCi         ours ${oursDelta.ms.toFixed(2)} ms   baseline ${baseDelta.ms.toFixed(1)} ms   speed-up ×${(baseDelta.ms / oursDelta.ms).toFixed(1)}   same result: ${same(oursDelta.result, baseDelta.result)}`);
console.log(`  CI [${ours.result.lo.toFixed(4)}, ${ours.result.hi.toFixed(4)}]   Δ CI [${oursDelta.result.lo.toFixed(4)}, ${oursDelta.result.hi.toFixed(4)}]`);
recordBench('bootstrap', {
  n: N, n_boot: N_BOOT, first_call_ms: firstMs,
  prauc_ci_ms: ours.ms, prauc_ci_baseline_ms: base.ms, prauc_ci_same_result: same(ours.result, base.result),
  delta_ci_ms: oursDelta.ms, delta_ci_baseline_ms: baseDelta.ms, delta_ci_same_result: same(oursDelta.result, baseDelta.result),
});
