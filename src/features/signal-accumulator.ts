import { STAT_NAMES, type StatName } from './columns.ts';
import type { TopKSignals } from './token-signals.ts';

/**
 * Running aggregation of the 14 statistics of SPEC §1.3 over a token list, O(1) per token, in one Float64Array so a
 * state can be copied (window freeze, prefinal line-start checkpoint) without allocating.
 *
 * NLL counts every token; the five top-k signals count only tokens that had a non-empty top-k list, so the two groups
 * can have different denominators — exactly as the paper's code. Means and population std use Welford's update
 * (agrees with numpy's two-pass result to ~1e-12 relative). An empty list gives NaN for every statistic.
 */
export class SignalAccumulator {
  /** Layout: see the I_* offsets. */
  readonly state = new Float64Array(STATE_SIZE);

  constructor() {
    this.reset();
  }

  reset(): void {
    this.state.fill(0);
    this.state[I_ENT + 3] = -Infinity;
    this.state[I_MAR + 3] = -Infinity;
    this.state[I_NLL + 3] = -Infinity;
    this.state[I_NUC_MAX] = -Infinity;
    this.state[I_TIE_MAX] = -Infinity;
  }

  /** Number of tokens seen (the list length). */
  get length(): number {
    return this.state[I_NLL]!;
  }

  /** Number of tokens that had top-k signals. */
  get topKCount(): number {
    return this.state[I_ENT]!;
  }

  copyFrom(other: SignalAccumulator): void {
    this.state.set(other.state);
  }

  /** Adds one token. `signals` is null when the token had no (or an empty) top-k list. */
  push(nll: number, signals: TopKSignals | null): void {
    const s = this.state;
    welford(s, I_NLL, nll);
    if (signals === null) return;
    welford(s, I_ENT, signals.entropy);
    welford(s, I_MAR, signals.margin);
    s[I_FORK_SUM] += signals.fork;
    s[I_NUC_SUM] += signals.nucleusSize;
    if (signals.nucleusSize > s[I_NUC_MAX]!) s[I_NUC_MAX] = signals.nucleusSize;
    s[I_TIE_SUM] += signals.nearTie;
    if (signals.nearTie > s[I_TIE_MAX]!) s[I_TIE_MAX] = signals.nearTie;
  }

  /** The value of one statistic (NaN when its denominator is 0). */
  stat(name: StatName): number {
    const s = this.state;
    const nTop = s[I_ENT]!;
    switch (name) {
      case 'entropy_mean': return mean(s, I_ENT);
      case 'entropy_max': return max(s, I_ENT);
      case 'entropy_std': return std(s, I_ENT);
      case 'margin_mean': return mean(s, I_MAR);
      case 'margin_max': return max(s, I_MAR);
      case 'margin_std': return std(s, I_MAR);
      case 'nll_mean': return mean(s, I_NLL);
      case 'nll_max': return max(s, I_NLL);
      case 'nll_std': return std(s, I_NLL);
      case 'fork_rate': return nTop > 0 ? s[I_FORK_SUM]! / nTop : NaN;
      case 'nucleus_size_mean': return nTop > 0 ? s[I_NUC_SUM]! / nTop : NaN;
      case 'nucleus_size_max': return nTop > 0 ? s[I_NUC_MAX]! : NaN;
      case 'near_tie_mean': return nTop > 0 ? s[I_TIE_SUM]! / nTop : NaN;
      case 'near_tie_max': return nTop > 0 ? s[I_TIE_MAX]! : NaN;
    }
  }

  /** Writes the 14 statistics into `out` under `{stat}{suffix}` (suffix e.g. '', '_w128', '_prefinal_w128'). */
  writeStats(out: Record<string, number>, suffix: string): void {
    for (const name of STAT_NAMES) out[`${name}${suffix}`] = this.stat(name);
  }
}

// Welford blocks are [n, mean, m2, max].
const I_ENT = 0;
const I_MAR = 4;
const I_NLL = 8;
const I_FORK_SUM = 12;
const I_NUC_SUM = 13;
const I_NUC_MAX = 14;
const I_TIE_SUM = 15;
const I_TIE_MAX = 16;
const STATE_SIZE = 17;

function welford(s: Float64Array, i: number, x: number): void {
  const n = s[i]! + 1;
  const delta = x - s[i + 1]!;
  const meanNew = s[i + 1]! + delta / n;
  s[i] = n;
  s[i + 1] = meanNew;
  s[i + 2] += delta * (x - meanNew);
  if (x > s[i + 3]! || Number.isNaN(x)) s[i + 3] = x;
}
function mean(s: Float64Array, i: number): number {
  return s[i]! > 0 ? s[i + 1]! : NaN;
}
function max(s: Float64Array, i: number): number {
  return s[i]! > 0 ? s[i + 3]! : NaN;
}
function std(s: Float64Array, i: number): number {
  return s[i]! > 0 ? Math.sqrt(Math.max(0, s[i + 2]!) / s[i]!) : NaN;
}
