import { cvPrAuc } from '../cv-lr.ts';
import { prEstimate, nanAsRiskiest, type PrEstimate } from './pr-estimate.ts';
import type { NanRisk } from './triage-curve.ts';
import type { ScSignal } from './sc-signals.ts';

/**
 * Analysis 4 — accuracy proxy without ground truth (SPEC-SC §5): does the agreement rate or the token-level
 * uncertainty better flag what the model gets wrong, and do they add up?
 *
 * Choices where SPEC-SC is [U] (documented in docs/sc-triage.md):
 * - `ProxyMean`: the problem-level uncertainty is the mean over the question's cleaned completions (`kept`,
 *   default) or over all of them (`all`);
 * - `CombineMethod`: 4d combines agreement and mean uncertainty by CV logistic regression (`cv-lr`, default; 5
 *   stratified folds, seed 42 — one row per question, so grouping by question changes nothing) or by the sum of
 *   their z-scores (`zsum`).
 */
export type ProxyMean = 'kept' | 'all';
export const PROXY_MEANS: readonly ProxyMean[] = ['kept', 'all'];
export type CombineMethod = 'cv-lr' | 'zsum';
export const COMBINE_METHODS: readonly CombineMethod[] = ['cv-lr', 'zsum'];

export type ProxyAnalysis = '4a_problem' | '4b_completion' | '4d_combined';
export type ProxySignal = 'agreement_rate' | 'uncertainty_full' | 'uncertainty_early' | 'combined_full' | 'combined_early';

export interface ProxyRow {
  readonly analysis: ProxyAnalysis;
  readonly signal: ProxySignal;
  readonly estimate: PrEstimate;
}

export interface AccuracyProxy {
  readonly rows: readonly ProxyRow[];
  /** Span behind "uncertainty_full" (prefinal_full, or full_trace with --score raw-full). */
  readonly fullSignal: ScSignal;
  /** 4b: uncertainty_full − agreement_rate PR-AUC. */
  readonly completionGap: number;
  /** 4d: combined_full − agreement_rate and − uncertainty_full (problem level). */
  readonly liftOverAgreement: number;
  readonly liftOverUncertainty: number;
  /** Lift over agreement > 0 (null when 4d did not run). */
  readonly complementary: boolean | null;
  /** Median completions per analysed question (4c's "k"). */
  readonly medianK: number;
  readonly combine: CombineMethod;
}

export interface AccuracyProxyInput {
  /** Question codes of the analysis set. */
  readonly questionRows: Int32Array;
  /** Cleaned completion rows of the analysis questions. */
  readonly keptRows: Int32Array;
  readonly rowQuestion: Int32Array;
  readonly nCompletionsOf: Int32Array;
  readonly pCorrectOf: Float64Array;
  readonly agreementOf: Float64Array;
  readonly correct: Float64Array;
  /** Per-row uncertainty of the full and the early span (null = unavailable). */
  readonly uFull: Float64Array | null;
  readonly uEarly: Float64Array | null;
  readonly fullSignal: ScSignal;
  readonly proxyMean: ProxyMean;
  readonly nanRisk: NanRisk;
  readonly combine: CombineMethod;
  readonly nBoot: number;
  readonly seed: number;
  /** Cluster id per frame row for the completion-level CI (null = i.i.d. rows, `--iid`). */
  readonly clusters: Int32Array | null;
  readonly problemSupported: boolean;
  readonly completionSupported: boolean;
  readonly combinedSupported: boolean;
}

export function accuracyProxy(x: AccuracyProxyInput): AccuracyProxy {
  const rows: ProxyRow[] = [];
  const N = x.questionRows.length;
  const posOf = new Map<number, number>();
  x.questionRows.forEach((q, j) => posOf.set(q, j));

  // Problem level (4a / 4c / 4d): label = p_correct < 0.5.
  const yProblem = Uint8Array.from(x.questionRows, (q) => (x.pCorrectOf[q]! < 0.5 ? 1 : 0));
  const agreementRisk = Float64Array.from(x.questionRows, (q) => 1 - x.agreementOf[q]!);
  const meanOf = (u: Float64Array | null): Float64Array | null => {
    if (u === null) return null;
    const sum = new Float64Array(N);
    const cnt = new Int32Array(N);
    const add = (r: number) => {
      const j = posOf.get(x.rowQuestion[r]!);
      if (j === undefined || !Number.isFinite(u[r]!)) return;
      sum[j] += u[r]!;
      cnt[j]!++;
    };
    if (x.proxyMean === 'kept') for (const r of x.keptRows) add(r);
    else for (let r = 0; r < x.rowQuestion.length; r++) add(r);
    return Float64Array.from(sum, (v, j) => (cnt[j]! > 0 ? v / cnt[j]! : NaN));
  };
  const meanFull = meanOf(x.uFull);
  const meanEarly = meanOf(x.uEarly);

  /** Applies the NaN rule to a problem-level score and returns the estimate (null if the score is absent). */
  const problemEstimate = (score: Float64Array | null): PrEstimate | null => {
    if (score === null) return null;
    const keep = x.nanRisk === 'drop' ? [...score.keys()].filter((j) => !Number.isNaN(score[j]!)) : [...score.keys()];
    return prEstimate(Uint8Array.from(keep, (j) => yProblem[j]!), nanAsRiskiest(keep.map((j) => score[j]!)), { nBoot: x.nBoot, seed: x.seed });
  };
  let agreementProblem: PrEstimate | null = null;
  let fullProblem: PrEstimate | null = null;
  if (x.problemSupported) {
    agreementProblem = problemEstimate(agreementRisk);
    fullProblem = problemEstimate(meanFull);
    const earlyProblem = problemEstimate(meanEarly);
    rows.push({ analysis: '4a_problem', signal: 'agreement_rate', estimate: agreementProblem! });
    if (fullProblem) rows.push({ analysis: '4a_problem', signal: 'uncertainty_full', estimate: fullProblem });
    if (earlyProblem) rows.push({ analysis: '4a_problem', signal: 'uncertainty_early', estimate: earlyProblem });
  }

  // Completion level (4b): label = 1 − correct of each cleaned completion; CI resamples whole questions.
  let completionGap = NaN;
  if (x.completionSupported) {
    const cr = [...x.keptRows].filter((r) => !Number.isNaN(x.correct[r]!));
    const y = Uint8Array.from(cr, (r) => (x.correct[r] === 0 ? 1 : 0));
    const clusters = x.clusters ? Int32Array.from(cr, (r) => x.clusters![r]!) : null;
    const est = (perRow: (r: number) => number): PrEstimate => {
      const keep = x.nanRisk === 'drop' ? cr.map((_, k) => k).filter((k) => !Number.isNaN(perRow(cr[k]!))) : cr.map((_, k) => k);
      return prEstimate(
        Uint8Array.from(keep, (k) => y[k]!),
        nanAsRiskiest(keep.map((k) => perRow(cr[k]!))),
        { nBoot: x.nBoot, seed: x.seed, clusters: clusters ? Int32Array.from(keep, (k) => clusters[k]!) : null },
      );
    };
    const agr = est((r) => 1 - x.agreementOf[x.rowQuestion[r]!]!);
    rows.push({ analysis: '4b_completion', signal: 'agreement_rate', estimate: agr });
    if (x.uFull) {
      const u = x.uFull;
      const full = est((r) => u[r]!);
      rows.push({ analysis: '4b_completion', signal: 'uncertainty_full', estimate: full });
      completionGap = full.prauc - agr.prauc;
    }
    if (x.uEarly) {
      const u = x.uEarly;
      rows.push({ analysis: '4b_completion', signal: 'uncertainty_early', estimate: est((r) => u[r]!) });
    }
  }

  // 4d: agreement + mean uncertainty.
  let liftOverAgreement = NaN;
  let liftOverUncertainty = NaN;
  let complementary: boolean | null = null;
  if (x.combinedSupported && agreementProblem) {
    rows.push({ analysis: '4d_combined', signal: 'agreement_rate', estimate: agreementProblem });
    if (fullProblem) rows.push({ analysis: '4d_combined', signal: 'uncertainty_full', estimate: fullProblem });
    const combine = (mean: Float64Array | null): PrEstimate | null => (mean === null ? null : combined(agreementRisk, mean, yProblem, x));
    const cFull = combine(meanFull);
    const cEarly = combine(meanEarly);
    if (cFull) {
      rows.push({ analysis: '4d_combined', signal: 'combined_full', estimate: cFull });
      liftOverAgreement = cFull.prauc - agreementProblem.prauc;
      liftOverUncertainty = fullProblem ? cFull.prauc - fullProblem.prauc : NaN;
      complementary = liftOverAgreement > 0;
    }
    if (cEarly) rows.push({ analysis: '4d_combined', signal: 'combined_early', estimate: cEarly });
  }

  const ks = Array.from(x.questionRows, (q) => x.nCompletionsOf[q]!).sort((a, b) => a - b);
  const medianK = ks.length === 0 ? NaN : ks.length % 2 ? ks[(ks.length - 1) / 2]! : (ks[ks.length / 2 - 1]! + ks[ks.length / 2]!) / 2;
  return { rows, fullSignal: x.fullSignal, completionGap, liftOverAgreement, liftOverUncertainty, complementary, medianK, combine: x.combine };
}

/** The 4d combined score's PR-AUC: OOF CV-LR on [1 − agreement, mean u], or the z-score sum. */
function combined(agreementRisk: Float64Array, mean: Float64Array, y: Uint8Array, x: AccuracyProxyInput): PrEstimate | null {
  const keep = x.nanRisk === 'drop' ? [...mean.keys()].filter((j) => !Number.isNaN(mean[j]!) && !Number.isNaN(agreementRisk[j]!)) : [...mean.keys()];
  const yk = Uint8Array.from(keep, (j) => y[j]!);
  const a = nanAsRiskiest(keep.map((j) => agreementRisk[j]!));
  const m = nanAsRiskiest(keep.map((j) => mean[j]!));
  if (x.combine === 'zsum') return prEstimate(yk, zsum(a, m), { nBoot: x.nBoot, seed: x.seed });
  const cv = cvPrAuc([a, m], yk, { nSplits: 5, seed: x.seed, nBoot: x.nBoot, ci: x.nBoot > 0, bootSeed: x.seed });
  if (cv === null || Number.isNaN(cv.prauc)) return null;
  let positives = 0;
  for (const v of yk) positives += v;
  const baseline = positives / yk.length;
  return { n: yk.length, positives, prauc: cv.prauc, auroc: cv.auroc, baseline, lift: cv.prauc - baseline, lo: x.nBoot > 0 ? cv.lo : NaN, hi: x.nBoot > 0 ? cv.hi : NaN, clustered: false };
}

/** z(a) + z(b) with population standard deviations (a constant column contributes 0). */
export function zsum(a: Float64Array, b: Float64Array): Float64Array {
  const z = (v: Float64Array) => {
    let mean = 0;
    for (const x of v) mean += x;
    mean /= v.length;
    let ss = 0;
    for (const x of v) ss += (x - mean) ** 2;
    const sd = Math.sqrt(ss / v.length);
    return Float64Array.from(v, (x) => (sd > 0 ? (x - mean) / sd : 0));
  };
  const za = z(a);
  const zb = z(b);
  return Float64Array.from(za, (v, i) => v + zb[i]!);
}
