/**
 * The straightforward bootstrap the benchmarks compare against: per resample draw an index array (the paper's
 * default_rng(42) stream), copy the resample, let averagePrecision sort it; skip one-class resamples.
 * `statistic` is AP of one score vector, or AP(early) − AP(full) for the paired Δ.
 */
import { averagePrecision, percentileLinear } from '../../src/offline/metrics.ts';
import { NumpyGenerator } from '../../src/offline/rng/numpy-generator.ts';

export interface NaiveCi { mean: number; lo: number; hi: number }

export function naiveBootstrap(y: ArrayLike<number>, scores: readonly ArrayLike<number>[], nBoot: number): NaiveCi {
  const rng = NumpyGenerator.fromSeed(42);
  const vals: number[] = [];
  for (let r = 0; r < nBoot; r++) {
    const idx = rng.integers(0, y.length, y.length);
    const yt = Array.from(idx, (i) => y[i]!);
    const pos = yt.reduce((a, b) => a + b, 0);
    if (pos === 0 || pos === yt.length) continue;
    const ap = scores.map((s) => averagePrecision(yt, Array.from(idx, (i) => s[i]!)));
    vals.push(ap.length === 1 ? ap[0]! : ap[0]! - ap[1]!);
  }
  const sorted = [...vals].sort((a, b) => a - b);
  return { mean: vals.reduce((a, b) => a + b, 0) / vals.length, lo: percentileLinear(sorted, 2.5), hi: percentileLinear(sorted, 97.5) };
}
