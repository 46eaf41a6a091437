/**
 * DeepConf's online stop threshold (Fu et al. 2025, "Deep Think with Confidence", DeepConf-online): the first
 * `warmup` samples of a run are generated in full and never stopped; the threshold s is the (100 − keep)-th
 * percentile of their lowest group confidences (`keep` 90 = DeepConf-high, 10 = DeepConf-low); every later sample
 * is stopped as soon as a full group's confidence falls below s (group confidence: src/features/group-confidence.ts).
 *
 * Deviation from the paper: DeepConf warms up per question (16 of 512 traces); with the 8–64 samples per question of
 * self-consistency that leaves nothing to save, so the warm-up here is per run — the first `warmup` samples started,
 * whatever their question — and the threshold then holds for the whole run. Samples started before the warm-up has
 * finished are checked from the moment the threshold exists.
 */
export interface DeepConfRule {
  /** G: tokens per group. @default 128 */
  readonly groupSize: number;
  /** Samples run in full to set the threshold. @default 16 */
  readonly warmup: number;
  /** Percent of warm-up samples whose lowest group confidence is at or above the threshold. @default 90 */
  readonly keepPercent: number;
}

export const DEFAULT_DEEPCONF_RULE: DeepConfRule = { groupSize: 128, warmup: 16, keepPercent: 90 };

export class DeepConfThreshold {
  readonly rule: DeepConfRule;
  private started = 0;
  private readonly warm: number[] = [];
  private value: number | null = null;

  constructor(rule: DeepConfRule = DEFAULT_DEEPCONF_RULE) {
    if (!(Number.isInteger(rule.warmup) && rule.warmup >= 1)) throw new TypeError(`Expected the DeepConf warm-up to be a whole number ≥ 1, got ${rule.warmup}`);
    if (!(rule.keepPercent > 0 && rule.keepPercent <= 100)) throw new TypeError(`Expected the DeepConf keep percentage in (0, 100], got ${rule.keepPercent}`);
    this.rule = rule;
  }

  /** A sample starts: true when it is one of the warm-up samples (never stopped by this rule). */
  enrol(): boolean {
    return this.started++ < this.rule.warmup;
  }

  /** A warm-up sample finished with this lowest group confidence (NaN — no token had a top-k list — is not counted). */
  addWarmup(lowestGroupConfidence: number): void {
    if (this.value !== null || Number.isNaN(lowestGroupConfidence)) return;
    this.warm.push(lowestGroupConfidence);
    if (this.warm.length >= this.rule.warmup) this.value = percentile(this.warm, 100 - this.rule.keepPercent);
  }

  /** s, once the warm-up is complete; null before. */
  get threshold(): number | null {
    return this.value;
  }
}

/** The q-th percentile (0–100) with linear interpolation between order statistics (numpy's default, as DeepConf). */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const xs = [...values].sort((a, b) => a - b);
  const pos = (q / 100) * (xs.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(xs.length - 1, lo + 1);
  return xs[lo]! + (xs[hi]! - xs[lo]!) * (pos - lo);
}
