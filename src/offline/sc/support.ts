import type { ScSignal } from './sc-signals.ts';
import { classShortfalls } from '../support-rule.ts';

/**
 * What a multi-completion file can support. Every SC analysis needs questions with several completions (one
 * completion has no majority or agreement — its "SC verdict" is just its own correctness), enough of them for the
 * 5 % grids, and both classes of each label it scores — the shared support rule of src/offline/support-rule.ts
 * (MIN_ROWS questions, MIN_CLASS of each class) applied per analysis.
 */
export type SupportId = 'A1' | 'A2' | 'A2-true' | 'A3' | 'A4a' | 'A4b' | 'A4d';

export interface SupportItem {
  readonly id: SupportId;
  readonly title: string;
  readonly supported: boolean;
  /** Why not (null when supported). */
  readonly reason: string | null;
}

export interface SupportInput {
  readonly questions: number;
  readonly multi: number;
  readonly histogram: ReadonlyMap<number, number>;
  readonly minCompletions: number;
  /** Analysis set: questions with ≥ minCompletions completions, a decidable verdict and a representative. */
  readonly N: number;
  /** Analysis-set questions with a single completion (only with --min-completions 1). */
  readonly singleInSet: number;
  readonly scFailures: number;
  /** Questions with p_correct < 0.5 (the 4a label). */
  readonly pLow: number;
  readonly repScored: number;
  readonly repFailures: number;
  readonly completionRows: number;
  readonly completionFailures: number;
  readonly minQuestions: number;
  readonly minClass: number;
  readonly headline: ScSignal;
  readonly headlineAvailable: boolean;
  readonly anySignalAvailable: boolean;
  readonly proxySignalAvailable: boolean;
}

export const ANALYSIS_TITLES: Record<SupportId, string> = {
  A1: 'Analysis 1 — direct agreement with the SC verdict',
  A2: 'Analysis 2 — predicting the SC verdict',
  'A2-true': 'Analysis 2 — true single-completion failure (comparison)',
  A3: 'Analysis 3 — selective SC / triage curve',
  A4a: 'Analysis 4a/4c — problem-level accuracy proxy',
  A4b: 'Analysis 4b — completion-level accuracy proxy',
  A4d: 'Analysis 4d — agreement + uncertainty combined',
};

/** Formats a completion histogram as "438×1, 1×5, 3×15" (questions × completions). */
export function histogramText(h: ReadonlyMap<number, number>): string {
  return [...h].sort((a, b) => a[0] - b[0]).map(([k, n]) => `${n}×${k}`).join(', ');
}

export function checkSupport(x: SupportInput): { items: SupportItem[]; statement: string } {
  const C = x.N - x.scFailures;
  const setReasons: string[] = [];
  if (x.N < x.minQuestions) {
    setReasons.push(`only ${x.N} question(s) have ≥ ${x.minCompletions} completions, a decidable SC verdict and a usable representative completion (need ≥ ${x.minQuestions} for the 5 % grids)`);
  }
  // The shared support rule (src/offline/support-rule.ts), with this run's --min-class.
  const classReasons = (pos: number, neg: number, posName: string, negName: string): string[] => classShortfalls(pos, neg, posName, negName, x.minClass);
  const scClasses = classReasons(x.scFailures, C, 'SC failure(s)', 'SC-correct question(s)');
  const headlineReason = x.headlineAvailable ? [] : [`the ${x.headline} score is unavailable (see signals)`];
  const item = (id: SupportId, reasons: string[]): SupportItem => ({ id, title: ANALYSIS_TITLES[id], supported: reasons.length === 0, reason: reasons.length ? reasons.join('; ') : null });

  const a1 = item('A1', [...setReasons, ...scClasses, ...headlineReason]);
  const a2 = item('A2', [...setReasons, ...scClasses, ...headlineReason]);
  const a2t = item('A2-true', a2.supported ? classReasons(x.repFailures, x.repScored - x.repFailures, 'failing representative completion(s)', 'correct representative completion(s)') : ['Analysis 2 is not supported']);
  const a3 = item('A3', [...setReasons, ...scClasses, ...(x.anySignalAvailable ? [] : ['no uncertainty signal is available'])]);
  const pLowClasses = classReasons(x.pLow, x.N - x.pLow, 'question(s) with p_correct < 0.5', 'question(s) with p_correct ≥ 0.5');
  const a4a = item('A4a', [...setReasons, ...pLowClasses]);
  const a4b = item('A4b', [...setReasons, ...classReasons(x.completionFailures, x.completionRows - x.completionFailures, 'failing completion(s)', 'correct completion(s)')]);
  const a4d = item('A4d', [...setReasons, ...pLowClasses, ...(x.proxySignalAvailable ? [] : ['no uncertainty signal to combine with agreement'])]);
  const items = [a1, a2, a2t, a3, a4a, a4b, a4d];

  const single = x.histogram.get(1) ?? 0;
  const maxK = Math.max(...x.histogram.keys());
  const atMax = x.histogram.get(maxK) ?? 0;
  const parts: string[] = [];
  parts.push(`${x.questions} questions, completions per question ${histogramText(x.histogram)} (questions×completions); ${x.multi} question(s) have several completions.`);
  if (items.every((i) => !i.supported)) {
    parts.push(`CANNOT SUPPORT the self-consistency analyses: ${setReasons.length ? setReasons[0] : scClasses.join('; ') || 'see the reasons below'}.`);
    if (x.N > 0) parts.push(`Those ${x.N} question(s): ${x.scFailures} SC failure(s), ${C} SC-correct.`);
    if (single > 0) {
      parts.push(`A question with one completion has no majority vote or agreement rate — its "SC verdict" is just that completion's correctness — so the ${single} single-completion question(s) cannot stand in for self-consistency; agreement-based analyses (agreement sweep, SC-verdict prediction, triage, accuracy proxy) are not supportable on this file.`);
    }
    if (single > x.multi && atMax < x.questions) {
      parts.push(`It looks like an unfinished run: only ${atMax} question(s) reached ${maxK} completions.`);
    }
    parts.push(`What it can support: single-completion failure prediction on its rows (\`failmode analyze\`).`);
  } else if (x.singleInSet > 0 && x.singleInSet * 2 >= x.N) {
    parts.push(`WARNING: ${x.singleInSet} of the ${x.N} analysed questions have a single completion (--min-completions ${x.minCompletions}); for them the SC verdict is that completion's own correctness and the agreement rate is 1, so these results measure single-completion failure prediction, NOT self-consistency. Only ${x.N - x.singleInSet} analysed question(s) have several completions.`);
    const no = items.filter((i) => !i.supported).map((i) => i.id);
    if (no.length) parts.push(`Skipped: ${no.join(', ')} (reasons below).`);
  } else if (items.every((i) => i.supported)) {
    parts.push(`Supports all four analyses on ${x.N} questions (${x.scFailures} SC failures, ${C} SC-correct).`);
    if (x.singleInSet > 0) parts.push(`Note: ${x.singleInSet} of them have a single completion (their SC verdict is their own correctness).`);
  } else {
    const yes = items.filter((i) => i.supported).map((i) => i.id);
    const no = items.filter((i) => !i.supported).map((i) => i.id);
    parts.push(`Partly supported: ${yes.join(', ')} run; ${no.join(', ')} skipped (reasons below).`);
  }
  return { items, statement: parts.join(' ') };
}
