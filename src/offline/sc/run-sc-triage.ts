import type { Frame } from '../frame.ts';
import { FailmodeError } from '../../errors.ts';
import { resolveScColumns } from './sc-input.ts';
import { deriveScColumns, type ScRule, type ScRuleChoice } from './sc-columns.ts';
import { buildQuestionTable, type Representative } from './question-table.ts';
import { SC_SIGNALS, signalSources, rawUncertainty, signalOfFlag, type ScSignal, type ScoreFlag } from './sc-signals.ts';
import { cvLrScores } from './cv-lr-scores.ts';
import { agreementSweep, type AgreementSweep } from './agreement-sweep.ts';
import { triageCurve, type NanRisk, type TriageCurve } from './triage-curve.ts';
import { predictScVerdict, type VerdictPrediction } from './verdict-prediction.ts';
import { accuracyProxy, type AccuracyProxy, type CombineMethod, type ProxyMean } from './accuracy-proxy.ts';
import { checkSupport, type SupportItem } from './support.ts';
import { MIN_CLASS, MIN_ROWS, type InsufficientData } from '../support-rule.ts';

/** Scorer for the per-completion risk: the paper's raw u = entropy_mean − margin_mean, or OOF CV-LR (SPEC §5.4). */
export type Scorer = 'raw' | 'cv-lr';
export const SCORERS: readonly Scorer[] = ['raw', 'cv-lr'];

export interface ScTriageOptions {
  /** Early window T of the prefinal_early signal (SPEC-SC §1.3 default 400). */
  readonly earlyWindow: number;
  /** Signal of Analyses 1–2 and of the triage headline (paper: prefinal-full). */
  readonly score: ScoreFlag;
  readonly scorer: Scorer;
  /** i.i.d. rows for bootstrap CIs and CV folds (the paper); default: clusters = questions. */
  readonly iid: boolean;
  readonly questionCol?: string;
  readonly nBoot: number;
  readonly seed: number;
  readonly scRule: ScRuleChoice;
  readonly representative: Representative;
  readonly clean: boolean;
  readonly minCompletions: number;
  /** Smallest analysis set for the 5 %-grid analyses (A1, A3, A4). */
  readonly minQuestions: number;
  /** Smallest count of each class for a PR-AUC / κ / recall to mean anything. */
  readonly minClass: number;
  readonly nanRisk: NanRisk;
  readonly proxyMean: ProxyMean;
  readonly combine: CombineMethod;
}

export const DEFAULT_SC_OPTIONS: ScTriageOptions = {
  earlyWindow: 400,
  score: 'prefinal-full',
  scorer: 'raw',
  iid: false,
  nBoot: 1000,
  seed: 42,
  scRule: 'auto',
  representative: 'idx0',
  clean: true,
  minCompletions: 2,
  minQuestions: MIN_ROWS,
  minClass: MIN_CLASS,
  nanRisk: 'riskiest',
  proxyMean: 'kept',
  combine: 'cv-lr',
};

/** One question of the file, as written to sc_questions_w{T}.csv. */
export interface QuestionRecord {
  readonly questionId: string;
  readonly nCompletions: number;
  readonly nScored: number;
  readonly pCorrect: number;
  readonly majorityAnswer: string | null;
  readonly majorityCorrect: number;
  readonly agreement: number;
  /** 'analysed' or why not. */
  readonly status: 'analysed' | 'too-few-completions' | 'no-representative' | 'undecided';
  readonly repCompletion: number | null;
  readonly repCorrect: number | null;
  readonly repScore: Readonly<Record<ScSignal, number | null>>;
}

export interface SignalInfo {
  readonly signal: ScSignal;
  readonly available: boolean;
  readonly missing: string | null;
  readonly remark: string | null;
  /** Analysis questions whose representative completion has no score for this signal. */
  readonly nanQuestions: number;
}

export interface ScTriageResult {
  readonly schema: 'failmode-sc-triage';
  readonly version: 1;
  readonly file: string;
  readonly options: ScTriageOptions;
  readonly headlineSignal: ScSignal;
  readonly data: {
    readonly rows: number;
    readonly questions: number;
    /** n completions → number of questions with that many. */
    readonly completionHistogram: Readonly<Record<string, number>>;
    readonly multiCompletionQuestions: number;
    readonly rule: ScRule;
    readonly counts: ReturnType<typeof buildQuestionTable>['counts'];
    /** The analysis set (question level) and its SC verdicts. */
    readonly analysisQuestions: number;
    readonly scFailures: number;
    readonly scCorrect: number;
    /** Completion-level table (cleaned completions of the analysis questions with a correctness value). */
    readonly completionRows: number;
    readonly completionFailures: number;
    readonly notes: readonly string[];
  };
  readonly signals: readonly SignalInfo[];
  readonly support: readonly SupportItem[];
  /**
   * Present only when no analysis is supported (every item of `support` skipped): the shared "insufficient data"
   * shape (src/offline/support-rule.ts) at question level — n = analysis questions, failures = SC failures,
   * usableFeatures = available signals.
   */
  readonly insufficient?: InsufficientData;
  /** One paragraph: what this file can and cannot support. */
  readonly supportStatement: string;
  readonly analysis1: AgreementSweep | null;
  readonly analysis2: VerdictPrediction | null;
  readonly analysis3: Readonly<Partial<Record<ScSignal, TriageCurve>>> | null;
  readonly analysis4: AccuracyProxy | null;
  readonly questions: readonly QuestionRecord[];
}

/** Runs the self-consistency analyses (SPEC-SC §1–§5) on a loaded multi-completion table. */
export function runScTriage(frame: Frame, options: Partial<ScTriageOptions> = {}, readNotes: readonly string[] = []): ScTriageResult {
  const opts: ScTriageOptions = { ...DEFAULT_SC_OPTIONS, ...options };
  const cols = resolveScColumns(frame, opts.questionCol);
  const sc = deriveScColumns(frame, cols, opts.scRule);
  const nq = sc.ids.length;
  if (nq === 0) throw new FailmodeError(`${frame.source}: no row has a question id in \`${cols.question}\``);
  const histogram = new Map<number, number>();
  let multi = 0;
  for (let q = 0; q < nq; q++) {
    const k = sc.nCompletions[q]!;
    histogram.set(k, (histogram.get(k) ?? 0) + 1);
    if (k >= 2) multi++;
  }
  if (multi === 0) {
    throw new FailmodeError(`${frame.source}: every question has exactly one completion (${nq} questions in \`${cols.question}\`); self-consistency needs several completions per question`);
  }
  const notes = [...readNotes, ...sc.notes];
  if (!cols.completion) notes.push('no completion_idx column: completion index = order of the row within its question');

  const table = buildQuestionTable(frame, cols, sc, { clean: opts.clean, representative: opts.representative, minCompletions: opts.minCompletions });
  const correct = frame.numeric(cols.correct)!;
  const clusters = opts.iid ? null : sc.rowQuestion;

  // Per-completion risk of every signal.
  const sources = signalSources(frame, opts.earlyWindow);
  const rowScores = {} as Record<ScSignal, Float64Array>;
  const featureCounts: string[] = [];
  for (const s of SC_SIGNALS) {
    if (opts.scorer === 'raw') rowScores[s] = rawUncertainty(frame, sources[s]);
    else {
      const cv = cvLrScores(frame, sources[s], table.keptRows, correct, clusters, opts.seed);
      rowScores[s] = cv.scores;
      featureCounts.push(`${s} ${cv.features}`);
    }
  }
  if (opts.scorer === 'cv-lr') {
    notes.push(`scorer: out-of-fold CV-LR P(failure) on the base features of each span present in the file (of 11: ${featureCounts.join(', ')}), ${opts.iid ? 'stratified i.i.d. folds (--iid)' : 'folds grouped by question'}`);
  }

  const N = table.questions.length;
  const scFail = new Uint8Array(N);
  const repCorrect = new Float64Array(N);
  const pCorrect = new Float64Array(N);
  const agreement = new Float64Array(N);
  const repScore = {} as Record<ScSignal, Float64Array>;
  for (const s of SC_SIGNALS) repScore[s] = new Float64Array(N);
  let scFailures = 0;
  for (let j = 0; j < N; j++) {
    const q = table.questions[j]!;
    const r = table.repRow[j]!;
    scFail[j] = sc.majorityCorrect[q] === 0 ? 1 : 0;
    scFailures += scFail[j]!;
    repCorrect[j] = correct[r]!;
    pCorrect[j] = sc.pCorrect[q]!;
    agreement[j] = sc.agreement[q]!;
    for (const s of SC_SIGNALS) repScore[s][j] = rowScores[s][r]!;
  }
  const signals: SignalInfo[] = SC_SIGNALS.map((s) => {
    let nan = 0;
    for (let j = 0; j < N; j++) if (Number.isNaN(repScore[s][j]!)) nan++;
    const src = sources[s];
    const allNan = N > 0 && nan === N;
    return {
      signal: s,
      available: src.missing === null && !allNan,
      missing: src.missing ?? (allNan ? 'no analysis question has a score' : null),
      remark: src.remark,
      nanQuestions: nan,
    };
  });
  let completionRows = 0;
  let completionFailures = 0;
  for (const r of table.keptRows) {
    if (Number.isNaN(correct[r]!)) continue;
    completionRows++;
    if (correct[r] === 0) completionFailures++;
  }
  let pLow = 0;
  for (let j = 0; j < N; j++) if (pCorrect[j]! < 0.5) pLow++;
  let repFail = 0;
  let repScored = 0;
  for (let j = 0; j < N; j++) if (!Number.isNaN(repCorrect[j]!)) { repScored++; if (repCorrect[j] === 0) repFail++; }

  const headline = signalOfFlag(opts.score);
  const fullSignal: ScSignal = headline === 'prefinal_early' ? 'prefinal_full' : headline;
  const signalOk = (s: ScSignal) => signals.find((x) => x.signal === s)!.available;
  const { items: support, statement } = checkSupport({
    questions: nq,
    multi,
    histogram,
    minCompletions: opts.minCompletions,
    N,
    singleInSet: table.questions.reduce((n, q) => n + (sc.nCompletions[q] === 1 ? 1 : 0), 0),
    scFailures,
    pLow,
    repScored,
    repFailures: repFail,
    completionRows,
    completionFailures,
    minQuestions: opts.minQuestions,
    minClass: opts.minClass,
    headline,
    headlineAvailable: signalOk(headline),
    anySignalAvailable: SC_SIGNALS.some(signalOk),
    proxySignalAvailable: signalOk(fullSignal) || signalOk('prefinal_early'),
  });
  const ok = (id: SupportItem['id']) => support.find((x) => x.id === id)!.supported;

  // Analysis 1 — on the headline signal.
  let analysis1: AgreementSweep | null = null;
  if (ok('A1')) {
    const keep = selectFinite(repScore[headline], opts.nanRisk);
    analysis1 = agreementSweep(pick(repScore[headline], keep), pick(scFail, keep));
  }

  // Analysis 2 — SC verdict vs true failure (question level: clusters are the questions themselves).
  let analysis2: VerdictPrediction | null = null;
  if (ok('A2')) {
    analysis2 = predictScVerdict({
      score: repScore[headline],
      scFail,
      repCorrect,
      pCorrect,
      nanRisk: opts.nanRisk,
      nBoot: opts.nBoot,
      seed: opts.seed,
      trueFailureSupported: ok('A2-true'),
    });
  }

  // Analysis 3 — one curve per available signal.
  let analysis3: Partial<Record<ScSignal, TriageCurve>> | null = null;
  if (ok('A3')) {
    analysis3 = {};
    for (const s of SC_SIGNALS) if (signalOk(s)) analysis3[s] = triageCurve(repScore[s], scFail, opts.nanRisk);
  }

  // Analysis 4 — accuracy proxy.
  let analysis4: AccuracyProxy | null = null;
  if (ok('A4a') || ok('A4b')) {
    analysis4 = accuracyProxy({
      questionRows: table.questions,
      keptRows: table.keptRows,
      rowQuestion: sc.rowQuestion,
      nCompletionsOf: sc.nCompletions,
      pCorrectOf: sc.pCorrect,
      agreementOf: sc.agreement,
      correct,
      uFull: signalOk(fullSignal) ? rowScores[fullSignal] : null,
      uEarly: signalOk('prefinal_early') ? rowScores.prefinal_early : null,
      fullSignal,
      proxyMean: opts.proxyMean,
      nanRisk: opts.nanRisk,
      combine: opts.combine,
      nBoot: opts.nBoot,
      seed: opts.seed,
      clusters: opts.iid ? null : sc.rowQuestion,
      problemSupported: ok('A4a'),
      completionSupported: ok('A4b'),
      combinedSupported: ok('A4d'),
    });
  }

  // Per-question records (every question of the file, with its status).
  const analysedAt = new Int32Array(nq).fill(-1);
  for (let j = 0; j < N; j++) analysedAt[table.questions[j]!] = j;
  const repOf = new Int32Array(nq).fill(-1);
  for (let j = 0; j < N; j++) repOf[table.questions[j]!] = table.repRow[j]!;
  const questions: QuestionRecord[] = [];
  for (let q = 0; q < nq; q++) {
    const r = repOf[q]!;
    const status: QuestionRecord['status'] = analysedAt[q]! >= 0 ? 'analysed'
      : sc.nCompletions[q]! < opts.minCompletions ? 'too-few-completions'
      : Number.isNaN(sc.majorityCorrect[q]!) ? 'undecided' : 'no-representative';
    const score = {} as Record<ScSignal, number | null>;
    for (const s of SC_SIGNALS) score[s] = r >= 0 && !Number.isNaN(rowScores[s][r]!) ? rowScores[s][r]! : null;
    questions.push({
      questionId: sc.ids[q]!,
      nCompletions: sc.nCompletions[q]!,
      nScored: sc.nScored[q]!,
      pCorrect: sc.pCorrect[q]!,
      majorityAnswer: sc.majorityAnswer[q]!,
      majorityCorrect: sc.majorityCorrect[q]!,
      agreement: sc.agreement[q]!,
      status,
      repCompletion: r >= 0 ? sc.rowCompletion[r]! : null,
      repCorrect: r >= 0 && !Number.isNaN(correct[r]!) ? correct[r]! : null,
      repScore: score,
    });
  }

  return {
    schema: 'failmode-sc-triage',
    version: 1,
    file: frame.source,
    options: opts,
    headlineSignal: headline,
    data: {
      rows: frame.nRows,
      questions: nq,
      completionHistogram: Object.fromEntries([...histogram].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v])),
      multiCompletionQuestions: multi,
      rule: sc.rule,
      counts: table.counts,
      analysisQuestions: N,
      scFailures,
      scCorrect: N - scFailures,
      completionRows,
      completionFailures,
      notes,
    },
    signals,
    support,
    ...(support.every((x) => !x.supported) ? {
      insufficient: {
        reason: [...new Set(support.flatMap((x) => x.reason?.split('; ') ?? []))].filter((r) => r !== 'Analysis 2 is not supported').join('; '),
        n: N, failures: scFailures, correct: N - scFailures, usableFeatures: SC_SIGNALS.filter(signalOk).length,
        minRows: opts.minQuestions, minClass: opts.minClass,
      },
    } : {}),
    supportStatement: statement,
    analysis1,
    analysis2,
    analysis3,
    analysis4,
    questions,
  };
}

/** Rows to keep for an analysis: all under `riskiest`, the finite-score ones under `drop`. */
function selectFinite(score: Float64Array, nanRisk: NanRisk): Int32Array | null {
  if (nanRisk === 'riskiest') return null;
  const keep: number[] = [];
  for (let i = 0; i < score.length; i++) if (!Number.isNaN(score[i]!)) keep.push(i);
  return Int32Array.from(keep);
}

function pick<T extends Float64Array | Uint8Array>(a: T, keep: Int32Array | null): T {
  if (keep === null) return a;
  const out = new (a.constructor as new (n: number) => T)(keep.length);
  for (let k = 0; k < keep.length; k++) out[k] = a[keep[k]!]!;
  return out;
}
