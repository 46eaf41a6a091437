import { FailmodeError } from '../errors.ts';
import { clopperPearsonInterval, clopperPearsonLower } from '../models/clopper-pearson.ts';
import { isCorrect } from '../online/extract-answer.ts';
import { isProfile, type Profile } from '../online/profiles.ts';
import { vote, type VoteMethod } from '../policy/vote.ts';
import type { CompletedRuns, SampleLine } from './results-log.ts';

/**
 * What a stop rule recorded in shadow mode (`failmode sample --shadow`) would have done on that traffic — the numbers
 * to look at before switching early stopping on. Pure: takes the completed runs of a log (only each question's
 * completed run counts, see `completedRuns`).
 *
 * Per sample: would-stop = it has a `shadow_stop`; correct = its `correct` (1/0), or its answer checked against the
 * question's reference by the task profile. Then
 *   false-kill rate   = correct samples that would have been stopped / correct samples  (Clopper–Pearson 95 %)
 *   stop precision    = failures among the would-be stopped / would-be stopped
 *   failure recall    = failures that would have been stopped / failures
 *   tokens saved      = Σ over would-be stopped of (tokens − tokens_at_stop) / Σ tokens
 *   accuracy full     = the vote of every sample (the run's own vote method) vs the reference
 *   accuracy w/ stops = the same vote without the would-be stopped samples (a stopped sample does not vote)
 * overall and per window: the window T of a risk stop, `deepconf`, `vote` (vote pruning) — each row applies only that
 * window's stops. Samples that a non-shadow run really stopped have no known outcome and are left out (counted).
 */
export interface ShadowFigures {
  readonly samples: number;
  readonly correct_samples: number;
  readonly failures: number;
  readonly would_stop: number;
  readonly false_kills: number;
  /** NaN (null in JSON) without correct samples. */
  readonly false_kill: number;
  readonly false_kill_ci: readonly [number, number];
  readonly stop_precision: number;
  readonly failure_recall: number;
  readonly tokens: number;
  readonly tokens_saved: number;
  readonly tokens_saved_share: number;
  readonly accuracy_full: number;
  readonly accuracy_with_stops: number;
}

export interface GuaranteeCheck {
  /** What the model file states: P(true rate ≤ alpha) ≥ 1 − delta over its calibration data. */
  readonly control: 'false-kill' | 'precision';
  readonly alpha: number;
  readonly delta: number;
  /** The controlled rate on this traffic: false-kill rate, or 1 − stop precision. */
  readonly realised: number;
  readonly events: number;
  readonly trials: number;
  /** One-sided 95 % Clopper–Pearson lower bound of the realised rate. */
  readonly lower95: number;
  /**
   * `holds`: realised ≤ alpha; `violated`: even the 95 % lower bound is above alpha; `inconclusive`: above alpha but
   * not significantly (more traffic decides); `no-data`: no trial to judge by.
   */
  readonly verdict: 'holds' | 'violated' | 'inconclusive' | 'no-data';
}

export interface ShadowReport extends ShadowFigures {
  readonly questions: number;
  readonly windows: ReadonlyArray<{ readonly window: string } & ShadowFigures>;
  /** Null when no model file was given or it states no guarantee (`guarantee_note` says which). */
  readonly guarantee: GuaranteeCheck | null;
  readonly guarantee_note: string | null;
  /** Sample lines of unfinished runs left out (see completedRuns). */
  readonly discarded_samples: number;
  /** Samples the run really stopped (no shadow): outcome unknown, left out. */
  readonly excluded_stopped: number;
}

export interface ShadowReportOptions {
  /** Reference answers by question id (a dataset's `answer`), for samples without `correct`. */
  readonly references?: ReadonlyMap<string, string>;
  /** Task profile to check answers against references (default: each record's `profile`). */
  readonly profile?: Profile;
  /** The guarantee the model file states, if any. */
  readonly guarantee?: { readonly control: 'false-kill' | 'precision'; readonly alpha: number; readonly delta: number } | null;
  readonly guaranteeNote?: string | null;
  /** Name of the log, for messages. */
  readonly source?: string;
}

interface Row {
  readonly correct: 0 | 1;
  readonly answer: string | null;
  readonly risk: number | null;
  readonly tokens: number;
  readonly stop: { readonly window: string; readonly saved: number } | null;
}

interface QuestionRows {
  readonly rows: Row[];
  readonly method: VoteMethod;
  /** Is an answer correct: by the reference, or by the correctness of the samples that gave it. */
  readonly answerCorrect: (answer: string | null) => boolean;
}

export function shadowReport(runs: CompletedRuns, o: ShadowReportOptions = {}): ShadowReport {
  const source = o.source ?? 'the log';
  if (runs.runs.size === 0) throw new FailmodeError(`${source}: no completed question (no \`kind: "question"\` line): is it a \`failmode sample --out\` log?`);
  let hasShadow = false;
  for (const run of runs.runs.values()) for (const s of run.samples) if ('shadow_stop' in s) hasShadow = true;
  if (!hasShadow) throw new FailmodeError(`${source}: no sample line has a \`shadow_stop\` field: record the run with \`failmode sample --shadow\``);

  const questions: QuestionRows[] = [];
  let missing = 0;
  let excludedStopped = 0;
  let firstMissing: string | null = null;
  for (const [qid, run] of runs.runs) {
    const reference = o.references?.get(qid) ?? run.question.reference ?? null;
    const rows: Row[] = [];
    const byAnswer = new Map<string, 0 | 1>();
    for (const s of run.samples) {
      if (s.stopped) { excludedStopped++; continue; }
      const c = sampleCorrect(s, reference, o.profile);
      if (c === null) { missing++; firstMissing ??= `${qid}#${s.completion_idx}`; continue; }
      if (s.answer !== null) byAnswer.set(s.answer, c);
      const st = s.shadow_stop ?? null;
      rows.push({
        correct: c, answer: s.answer, risk: s.risk, tokens: s.tokens,
        stop: st === null ? null : { window: windowOf(st.reason, st.T), saved: Math.max(0, s.tokens - st.tokens_at_stop) },
      });
    }
    const profile = o.profile ?? recordProfile(run.samples[0]);
    const answerCorrect = (answer: string | null): boolean => {
      if (answer === null) return false;
      const r = reference !== null && profile !== null ? isCorrect(profile, answer, reference) : null;
      return r !== null ? r === 1 : byAnswer.get(answer) === 1;
    };
    questions.push({ rows, method: run.question.vote === 'weighted' ? 'weighted' : 'majority', answerCorrect });
  }
  if (missing > 0) {
    throw new FailmodeError(`${source}: ${missing} sample(s) (first: ${firstMissing}) have no \`correct\` and their question no reference answer: give the references with --dataset FILE.jsonl ("answer" fields) and --profile, or record the run with them`);
  }

  const overall = figures(questions, () => true);
  const windowNames = new Set<string>();
  for (const q of questions) for (const r of q.rows) if (r.stop) windowNames.add(r.stop.window);
  const windows = [...windowNames].sort(windowOrder).map((w) => ({ window: w, ...figures(questions, (win) => win === w) }));

  let guarantee: GuaranteeCheck | null = null;
  let note = o.guaranteeNote ?? null;
  if (o.guarantee) {
    const g = o.guarantee;
    const events = overall.false_kills;
    const trials = g.control === 'false-kill' ? overall.correct_samples : overall.would_stop;
    // precision control: the rate is 1 − precision = stopped correct / stopped = false kills / would-stop.
    const realised = trials > 0 ? events / trials : NaN;
    const lower95 = trials > 0 ? clopperPearsonLower(events, trials, 0.05) : NaN;
    const verdict = trials === 0 ? 'no-data' : realised <= g.alpha ? 'holds' : lower95 > g.alpha ? 'violated' : 'inconclusive';
    guarantee = { control: g.control, alpha: g.alpha, delta: g.delta, realised, events, trials, lower95, verdict };
  } else note ??= 'no model file given (--model-file): the guarantee was not checked';
  return {
    questions: questions.length, ...overall, windows, guarantee, guarantee_note: note,
    discarded_samples: runs.discardedSamples, excluded_stopped: excludedStopped,
  };
}

function figures(questions: readonly QuestionRows[], applies: (window: string) => boolean): ShadowFigures {
  let samples = 0, correct = 0, failures = 0, stops = 0, falseKills = 0, stoppedFailures = 0, tokens = 0, saved = 0;
  let accFull = 0, accStops = 0;
  for (const q of questions) {
    for (const r of q.rows) {
      samples++;
      tokens += r.tokens;
      if (r.correct) correct++;
      else failures++;
      if (r.stop && applies(r.stop.window)) {
        stops++;
        saved += r.stop.saved;
        if (r.correct) falseKills++;
        else stoppedFailures++;
      }
    }
    const full = vote(q.rows.map((r) => ({ answer: r.answer, risk: r.risk })), q.method);
    const cut = vote(q.rows.map((r) => ({ answer: r.answer, risk: r.risk, stopped: r.stop !== null && applies(r.stop.window) })), q.method);
    if (q.answerCorrect(full.majority)) accFull++;
    if (q.answerCorrect(cut.majority)) accStops++;
  }
  const nq = questions.length;
  return {
    samples, correct_samples: correct, failures, would_stop: stops, false_kills: falseKills,
    false_kill: correct > 0 ? falseKills / correct : NaN,
    false_kill_ci: correct > 0 ? clopperPearsonInterval(falseKills, correct, 0.95) : [NaN, NaN],
    stop_precision: stops > 0 ? stoppedFailures / stops : NaN,
    failure_recall: failures > 0 ? stoppedFailures / failures : NaN,
    tokens, tokens_saved: saved, tokens_saved_share: tokens > 0 ? saved / tokens : NaN,
    accuracy_full: nq > 0 ? accFull / nq : NaN, accuracy_with_stops: nq > 0 ? accStops / nq : NaN,
  };
}

function sampleCorrect(s: SampleLine, reference: string | null, profile: Profile | undefined): 0 | 1 | null {
  if (s.correct === 0 || s.correct === 1) return s.correct;
  const p = profile ?? recordProfile(s);
  if (reference === null || p === null) return null;
  return isCorrect(p, s.answer, reference) ?? null;
}

function recordProfile(s: SampleLine | undefined): Profile | null {
  const p = s?.record?.profile;
  return typeof p === 'string' && isProfile(p) ? p : null;
}

/** The row a stop belongs to: its window T for a risk stop, else its rule. */
function windowOf(reason: string, T: number | null): string {
  return (reason === 'risk' || reason === 'committed_failure') && T !== null ? String(T) : reason;
}

function windowOrder(a: string, b: string): number {
  const na = Number(a), nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  if (Number.isFinite(na)) return -1;
  if (Number.isFinite(nb)) return 1;
  return a.localeCompare(b);
}
