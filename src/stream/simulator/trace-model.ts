import type { Calibration, CalibrationProfile, ClassCurve, Segment } from './calibration.ts';
import type { Rng } from './rng.ts';

/** The three kinds of synthetic trace. */
export const SIM_KINDS = ['correct', 'committed', 'persistent'] as const;
export type SimKind = (typeof SIM_KINDS)[number];

/**
 * The latent per-token uncertainty of one trace: `ln tau_t = mu(t) + u + sigma(t)·z_t`, z_t ~ N(0,1), with the
 * per-trace offset u ~ N(0, traceSd²) and (mu, sigma) taken from the calibrated segment containing token t:
 * - correct: the 'correct' class curve throughout;
 * - committed failure: the 'failure' curve (more uncertain early) until `commitAt` tokens (at most 40 % of the trace),
 *   then the 'correct' curve — confident on a wrong path;
 * - persistent failure: the 'failure' curve with mu rising linearly by `persistentRamp` over the trace —
 *   uncertainty accumulating to the end.
 */
export class TraceModel {
  private readonly early: readonly Segment[];
  private readonly late: readonly Segment[];
  private readonly switchAt: number;
  private readonly ramp: number;
  private readonly offset: number;
  private readonly length: number;
  private seg = 0;
  private segs: readonly Segment[];

  constructor(cal: Calibration, profile: CalibrationProfile, kind: SimKind, length: number, rng: Rng) {
    const curve: ClassCurve = kind === 'correct' ? profile.correct : profile.failure;
    this.early = curve.segments;
    this.late = kind === 'committed' ? profile.correct.segments : curve.segments;
    this.switchAt = kind === 'committed' ? Math.min(cal.commitAt, Math.floor(0.4 * length)) : Infinity;
    this.ramp = kind === 'persistent' ? cal.persistentRamp : 0;
    this.offset = curve.traceSd * rng.normal();
    this.length = Math.max(1, length);
    this.segs = this.early;
  }

  /** tau of token `t`; tokens must be asked for in order 0, 1, 2, … */
  tau(t: number, rng: Rng): number {
    if (t === this.switchAt) {
      this.segs = this.late;
      this.seg = 0;
    }
    const segs = this.segs;
    while (this.seg < segs.length - 1 && t >= segs[this.seg]!.end) this.seg++;
    const s = segs[this.seg]!;
    return Math.exp(s.mu + this.offset + this.ramp * (t / this.length) + s.sigma * rng.normal());
  }
}

/** A trace length drawn from the class's length quantiles (inverse CDF, linear between the 5 % steps). */
export function sampleLength(curve: ClassCurve, rng: Rng): number {
  const q = curve.lengthQuantiles;
  const x = rng.next() * (q.length - 1);
  const i = Math.floor(x);
  const lo = q[i]!;
  const hi = q[Math.min(i + 1, q.length - 1)]!;
  return Math.max(16, Math.round(lo + (hi - lo) * (x - i)));
}
