import { randomUUID } from 'node:crypto';
import { sharedMonitorFactory, type MonitorFactory } from '../online/shared-monitor.ts';
import { recordAnswer } from '../policy/record-answer.ts';
import type { ModelFile } from '../models/model-file.ts';
import type { MonitorEvent } from '../online/monitor-events.ts';
import { isCorrect } from '../online/extract-answer.ts';
import type { Profile } from '../online/profiles.ts';
import { checkEngineAbort } from '../stream/engine-abort-check.ts';
import { streamRequest, type StreamApi } from '../stream/stream-request.ts';
import type { StreamEvent } from '../stream/token-event.ts';
import type { Question } from './load-questions.ts';
import { FailmodeError } from '../errors.ts';
import { GroupConfidence, topListConfidence } from '../features/group-confidence.ts';
import { DeepConfThreshold, type DeepConfRule } from '../policy/deepconf-threshold.ts';
import { votePosterior } from '../policy/vote-posterior.ts';
import type { QuestionLine, ResultsLog, SampleLine, ShadowStop } from './results-log.ts';
import { stopSignal, type StopPolicy, type StopSignal } from '../policy/stop-policy.ts';
import { chatStreamEvents } from './stream-chat.ts';
import { vote, type VoteMethod } from '../policy/vote.ts';

export interface SamplerOptions {
  /** OpenAI-compatible base URL (an engine, or `failmode serve`'s `…/v1`). */
  readonly baseURL: string;
  readonly apiKey?: string | null;
  /** Model name sent in the request. */
  readonly model: string;
  /** Who asks for the top-k (named when the engine refuses it). @default '--top-logprobs' */
  readonly topLogprobsSource?: string;
  /** The API the samples are requested with. @default 'chat' */
  readonly api?: StreamApi;
  /** Samples per question. */
  readonly n: number;
  /**
   * Stop flagged samples. With `monitorModel` the sampler monitors each stream itself and aborts flagged ones; without
   * one it asks the server to (`x-failmode-early-stop: 1`, honoured by `failmode serve`).
   */
  readonly earlyStop: boolean;
  readonly monitorModel: ModelFile | null;
  readonly profile: Profile;
  readonly vote: VoteMethod;
  /** Streams open at once (over all questions). */
  readonly concurrency: number;
  readonly maxTokens?: number;
  readonly temperature?: number;
  /** top_logprobs asked for (default: the model's top-k, else 20). */
  readonly topLogprobs?: number;
  readonly system?: string | null;
  /** @default 'any-window' */
  readonly stopPolicy?: StopPolicy;
  /** Never stop a sample if that would leave fewer than this many unstopped samples of its question. @default 1 */
  readonly minKeep?: number;
  /** Run tag for failmode serve's feed (`x-failmode-run`). Default: the run id. */
  readonly runTag?: string;
  readonly extraBody?: Readonly<Record<string, unknown>>;
  /**
   * Sends `seed: seed + completion_idx` with each sample (engines that honour it, vLLM and the simulator, then give the
   * same traces on a rerun: runs with and without early stopping can be compared sample by sample).
   */
  readonly seed?: number;
  /**
   * Decide every stop exactly as configured but stop nothing: each decision goes into the sample line's
   * `shadow_stop`. The risk rule then needs `monitorModel` (the decisions are taken here, not by a server).
   */
  readonly shadow?: boolean;
  /** Vote pruning: stop a question's remaining samples once P(the leader stays the plurality) ≥ `confidence`. */
  readonly votePruning?: { readonly confidence: number; readonly prior?: number } | null;
  /** DeepConf-style stop rule (group confidence below a warm-up percentile). */
  readonly deepConf?: DeepConfRule | null;
  /** Each completed question with its samples. */
  readonly onQuestion?: (q: QuestionLine, samples: readonly SampleLine[]) => void;
  readonly onProgress?: (p: SamplerProgress) => void;
  /** Aborts the run: running streams are cut, unfinished questions get no question line (a rerun redoes them). */
  readonly signal?: AbortSignal;
  /** Override the monitor (tests). */
  readonly createMonitor?: MonitorFactory;
  /**
   * Check that the engine stopped each sample this sampler aborts (see engine-abort-check.ts): after `graceMs` of
   * still running, the explicit abort is sent and the sample line gets `abort_unconfirmed: true`. Each request then
   * carries `rid` (SGLang) besides the `x-request-id` header. Default: no check.
   */
  readonly abortCheck?: { readonly graceMs: number; readonly pollMs?: number; readonly sleep?: (ms: number) => Promise<void> };
  /** Called with each abort check's result (the CLI reports them). */
  readonly onAbortCheck?: (sampleId: string, result: import('../stream/engine-abort-check.ts').AbortCheckResult) => void;
}

export interface SamplerProgress {
  readonly questionsDone: number;
  readonly questionsTotal: number;
  readonly samplesDone: number;
  readonly samplesTotal: number;
  readonly stopped: number;
  readonly tokens: number;
}

export interface SamplerSummary {
  readonly runId: string;
  /** Questions with a question line (this run and resumed ones), in dataset order. */
  readonly questions: number;
  readonly resumed: number;
  /** Not completed (aborted run). */
  readonly unfinished: number;
  readonly withReference: number;
  readonly correct: number;
  /** correct / withReference; null without references. */
  readonly accuracy: number | null;
  readonly meanAgreement: number | null;
  readonly samples: number;
  readonly stopped: number;
  /** Samples of this run that failed (HTTP error, dropped stream). */
  readonly errors: number;
  readonly tokens: number;
  /** Questions of this run with a failed sample (HTTP error, dropped stream): not recorded as done, a rerun retries them. */
  readonly failedQuestions: number;
  /** The first sample error of this run, for the message. */
  readonly firstError: string | null;
  /** Shadow mode: samples of this run with a recorded (not executed) stop. */
  readonly shadowStops: number;
}

/** One sample of a question, as the pruning rules see it. */
interface Slot {
  status: 'pending' | 'running' | 'done';
  /** Stopped — really, or in shadow mode virtually: it does not vote. */
  stopped: boolean;
  answer: string | null;
  risk: number | null;
  /** Stops the running sample (or records the stop in shadow mode). */
  stop: ((d: StopDecision) => void) | null;
}

interface QuestionState {
  readonly q: Question;
  readonly lines: SampleLine[];
  readonly slots: Slot[];
  /** Samples stopped so far by a per-sample rule (for minKeep); shadow stops count as in a real run. */
  stopped: number;
  done: number;
  /** The vote rule decided the question: running samples were stopped, pending ones are not started. */
  decided: boolean;
  posterior: number | null;
  votePruned: number;
}

/** A decision to stop one sample. */
interface StopDecision {
  readonly reason: 'committed_failure' | 'risk' | 'deepconf' | 'vote' | 'vote+risk';
  readonly T: number | null;
  readonly risk: number | null;
  readonly confidence?: number;
  readonly posterior?: number;
}

/** Risk at which a sample is stopped first under `vote+risk` when the vote without it is decided (see docs). */
export const VOTE_RISK_FLOOR = 0.5;

/**
 * Self-consistency over a list of questions: N samples per question, one request each (so each can be aborted on
 * its own), answers extracted by the task profile, a vote per question. Sample lines are appended as samples end,
 * the question line when its last sample ends; completed questions found in the log are skipped (resume).
 *
 * Pruning (each optional, all decided by the sampler itself unless the risk rule is left to the server):
 * - risk (`earlyStop`): a sample the failure model flags is stopped (the shared stop policy);
 * - DeepConf (`deepConf`): a sample whose group confidence falls below the warm-up threshold is stopped;
 * - vote (`votePruning`): once P(the leader stays the plurality) ≥ the confidence (src/policy/vote-posterior.ts),
 *   the question's running samples are stopped and its pending ones never started; with the risk rule too
 *   (`vote+risk`), a running sample with risk ≥ 0.5 is stopped first when the vote without it is decided.
 * `minKeep` guards the per-sample rules. With `shadow` every decision is taken exactly as above but nothing is
 * stopped: the decision goes into the sample line's `shadow_stop`.
 */
export async function runSelfConsistency(questions: readonly Question[], log: ResultsLog, o: SamplerOptions): Promise<SamplerSummary> {
  const runId = randomUUID().slice(0, 8);
  const minKeep = o.minKeep ?? 1;
  const shadow = o.shadow === true;
  const stopPolicy = o.stopPolicy ?? 'any-window';
  const topLogprobs = o.topLogprobs ?? o.monitorModel?.signal.topK ?? 20;
  const localStop = o.earlyStop && o.monitorModel !== null;
  if (shadow && o.earlyStop && !localStop) throw new FailmodeError('Shadow mode needs the risk decisions locally: give the sampler the model file (--model-file)', 'FAILMODE_ERR_USAGE', 2);
  const votePruning = o.votePruning ?? null;
  const voteRisk = votePruning !== null && o.earlyStop;
  const deepConf = o.deepConf ? new DeepConfThreshold(o.deepConf) : null;
  const pruneName = [votePruning ? 'vote' : null, o.earlyStop ? 'risk' : null, deepConf ? 'deepconf' : null].filter((x) => x !== null).join('+') || null;
  const createMonitor = o.createMonitor ?? sharedMonitorFactory({ model: o.monitorModel, profile: o.profile, topK: topLogprobs }, () => undefined).factory;
  const todo = questions.filter((q) => !log.completed.has(q.id));
  const resumed = questions.length - todo.length;
  const progress = { questionsDone: resumed, questionsTotal: questions.length, samplesDone: 0, samplesTotal: todo.length * o.n, stopped: 0, tokens: 0 };
  let seq = 0;
  /** This sampler's streams open now: what the engine should still be running besides an aborted one. */
  let openStreams = 0;
  let shadowStops = 0;

  const jobs = (function* () {
    for (const q of todo) {
      const state: QuestionState = {
        q, lines: [], stopped: 0, done: 0, decided: false, posterior: null, votePruned: 0,
        slots: Array.from({ length: o.n }, (): Slot => ({ status: 'pending', stopped: false, answer: null, risk: null, stop: null })),
      };
      for (let k = 0; k < o.n; k++) yield { state, k };
    }
  })();

  /** The vote rule's posterior for a question, optionally as if one running sample were stopped. */
  const posteriorOf = (st: QuestionState, without: Slot | null = null): number | null => {
    const tallies = new Map<string, number>();
    let abstained = 0;
    let remaining = 0;
    for (const s of st.slots) {
      if (s.stopped || s === without) continue;
      if (s.status !== 'done') { remaining++; continue; }
      if (s.answer === null) { abstained++; continue; }
      const w = o.vote === 'weighted' ? 1 - Math.min(1, Math.max(0, s.risk ?? 0)) : 1;
      tallies.set(s.answer, (tallies.get(s.answer) ?? 0) + w);
    }
    if (remaining === 0) return null;
    return votePosterior({ tallies: [...tallies.values()], abstained, remaining, prior: votePruning?.prior ?? 1 }).probability;
  };

  /** Applies the vote rule to a question (after a sample finished or was stopped, or a risk changed). */
  const checkVote = (st: QuestionState): void => {
    if (votePruning === null || st.decided) return;
    const p = posteriorOf(st);
    if (p === null) return;
    st.posterior = p;
    if (p >= votePruning.confidence) {
      st.decided = true;
      for (const s of st.slots) {
        if (s.stopped || s.status === 'done') continue;
        s.stopped = true;
        st.votePruned++;
        if (s.status === 'running') s.stop?.({ reason: 'vote', T: null, risk: null, posterior: p });
        // Pending samples are skipped by the workers (shadow: started, with a shadow stop at 0 tokens).
      }
      return;
    }
    if (!voteRisk) return;
    // vote+risk: the riskiest running sample with risk ≥ the floor goes first when the vote without it is decided.
    let worst: Slot | null = null;
    for (const s of st.slots) {
      if (s.status === 'running' && !s.stopped && s.risk !== null && s.risk >= VOTE_RISK_FLOOR && (worst === null || s.risk > worst.risk!)) worst = s;
    }
    if (worst === null || st.stopped >= o.n - minKeep) return;
    const pw = posteriorOf(st, worst);
    if (pw !== null && pw >= votePruning.confidence) {
      worst.stopped = true;
      st.stopped++;
      worst.stop?.({ reason: 'vote+risk', T: null, risk: worst.risk, posterior: pw });
    }
  };

  let failedQuestions = 0;
  let firstError: string | null = null;
  let sampleErrors = 0;
  const finishQuestion = (st: QuestionState): void => {
    const lines = [...st.lines].sort((a, b) => a.completion_idx - b.completion_idx);
    const failed = lines.find((l) => l.error !== null);
    if (failed) {
      // A vote over fewer samples than asked is not this question's result: leave it for a rerun.
      failedQuestions++;
      firstError ??= failed.error;
      progress.questionsDone++;
      return;
    }
    const v = vote(lines.map((l) => ({ answer: l.answer, risk: l.risk, stopped: l.stopped })), o.vote);
    const reference = st.q.answer;
    const line: QuestionLine = {
      kind: 'question', run_id: runId, question_id: st.q.id, n: o.n, vote: o.vote, answer: v.majority, counts: v.counts,
      agreement: v.agreement, voters: v.voters, reference,
      correct: reference === null ? null : isCorrect(o.profile, v.majority, reference),
      stopped: lines.filter((l) => l.stopped).length, tokens: lines.reduce((s, l) => s + l.tokens, 0), early_stop: o.earlyStop,
      ...(pruneName !== null ? { prune: pruneName } : {}),
      ...(shadow ? { shadow: true } : {}),
      ...(votePruning !== null ? { vote_decided: st.decided, vote_posterior: st.posterior, vote_pruned: st.votePruned } : {}),
    };
    log.write(line);
    progress.questionsDone++;
    o.onQuestion?.(line, lines);
  };

  /** A sample the vote rule decided never to start: its line, without a request. */
  const notStarted = (st: QuestionState, k: number): SampleLine => ({
    kind: 'sample', run_id: runId, question_id: st.q.id, completion_idx: k, sample_id: `${runId}.not-started.${st.q.id}.${k}`, answer: null,
    correct: null, stopped: true, stop_reason: 'vote', stop_T: null, stop_risk: null, risk: null, tokens: 0,
    finish_reason: 'not_started', latency_s: 0, error: null, record: null,
  });

  const runOne = (st: QuestionState, k: number): Promise<SampleLine> => new Promise<SampleLine>((resolve) => {
    const slot = st.slots[k]!;
    slot.status = 'running';
    const requestId = `${runId}.${++seq}`;
    const sampleId = `${requestId}:0`;
    const started = performance.now();
    let tokens = 0;
    let risk: number | null = null;
    let stopped = false;
    let stopInfo: StopDecision | null = null;
    let shadowStop: ShadowStop | null = null;
    let pending: StopSignal | null = null;
    let finishReason: string | null = null;
    let error: string | null = null;
    let settled = false;
    let abortCheck: Promise<boolean | null> | null = null;
    const isWarmup = deepConf?.enrol() ?? false;
    const conf = deepConf ? new GroupConfidence(deepConf.rule.groupSize) : null;
    const monitor = createMonitor({ monitorId: sampleId, reference: st.q.answer }, (ev: MonitorEvent) => {
      if (ev.type === 'risk') { risk = ev.risk; slot.risk = ev.risk; }
      if (ev.type === 'final') return settle(ev.record);
      if (localStop && !slot.stopped && finishReason === null) {
        const s = stopSignal(ev, stopPolicy);
        if (s && (pending === null || s.reason === 'committed_failure')) pending = s;
      }
    });
    const settle = (record: Record<string, number | string | null> | null): void => {
      if (settled) return;
      settled = true;
      o.signal?.removeEventListener('abort', onAbort);
      if (isWarmup && conf) deepConf!.addWarmup(conf.lowestGroupConfidence);
      const answer = stopped ? null : record ? recordAnswer(record) : null;
      const c = record?.correct;
      const line = (unconfirmed?: boolean | null): SampleLine => ({
        kind: 'sample', run_id: runId, question_id: st.q.id, completion_idx: k, sample_id: sampleId, answer,
        // A stopped sample's outcome was never observed: logged as 0 it would teach a model trained on the log its own stops.
        correct: stopped ? null : c === 0 || c === 1 ? c : null,
        stopped, stop_reason: stopInfo?.reason ?? (stopped ? 'server' : null), stop_T: stopInfo?.T ?? null, stop_risk: stopInfo?.risk ?? null, risk, tokens,
        finish_reason: finishReason ?? 'unknown', latency_s: (performance.now() - started) / 1000, error,
        record: record ? { ...record, question_id: st.q.id, completion_idx: k } : null,
        ...(shadow ? { shadow_stop: shadowStop } : {}),
        ...(unconfirmed !== undefined ? { abort_unconfirmed: unconfirmed } : {}),
      });
      if (abortCheck) void abortCheck.then((u) => resolve(line(u)));
      else resolve(line());
    };
    const end = (reason: string): void => {
      if (finishReason !== null) return;
      finishReason = reason;
      monitor.push({ type: 'end', sampleId, finishReason: reason, t: Date.now() });
      settle(null); // the monitor's final normally settled it already
    };
    /** Acts on a decision: stops the request, or in shadow mode records it. The caller has marked the slot stopped. */
    const stopNow = (d: StopDecision): void => {
      if (finishReason !== null || stopped || shadowStop !== null) return;
      if (shadow) {
        shadowStops++;
        shadowStop = {
          T: d.T, risk: d.risk, reason: d.reason, tokens_at_stop: tokens,
          ...(d.confidence !== undefined ? { confidence: d.confidence } : {}), ...(d.posterior !== undefined ? { posterior: d.posterior } : {}),
        };
        return;
      }
      progress.stopped++;
      stopped = true;
      stopInfo = d;
      sub?.unsubscribe(); // aborts the request: the server stops generating
      streamClosed();
      if (o.abortCheck) {
        const ac = o.abortCheck;
        abortCheck = checkEngineAbort(requestId, { baseURL: o.baseURL, apiKey: o.apiKey ?? null, graceMs: ac.graceMs, ...(ac.pollMs !== undefined ? { pollMs: ac.pollMs } : {}), ...(ac.sleep ? { sleep: ac.sleep } : {}), expectedRunning: () => openStreams })
          .then((r) => { o.onAbortCheck?.(sampleId, r); return r.status === 'unknown' ? null : r.status !== 'confirmed'; });
      }
      end('failmode_stop');
    };
    slot.stop = stopNow;
    /** A per-sample rule fired: stop unless that would leave fewer than minKeep of the question unstopped. */
    const ruleStop = (d: StopDecision): void => {
      if (slot.stopped || finishReason !== null || st.stopped >= o.n - minKeep) return;
      slot.stopped = true;
      st.stopped++;
      stopNow(d);
      queueMicrotask(() => checkVote(st));
    };
    if (shadow && st.decided) {
      // The vote was decided before this sample started: a real run would not have started it.
      slot.stopped = true;
      shadowStops++;
      shadowStop = { T: null, risk: null, reason: 'vote', tokens_at_stop: 0, ...(st.posterior !== null ? { posterior: st.posterior } : {}) };
    }
    const { path, body } = streamRequest(o.api ?? 'chat', {
      model: o.model, prompt: st.q.prompt, system: o.system ?? null, n: 1, topLogprobs, maxTokens: o.maxTokens, temperature: o.temperature,
      extraBody: { ...(o.seed !== undefined ? { seed: o.seed + k } : {}), ...(o.abortCheck ? { rid: requestId } : {}), ...o.extraBody },
    });
    // Our own id for the request: the engine's logs and its explicit abort name it.
    const headers: Record<string, string> = { 'x-failmode-run': o.runTag ?? runId, 'x-failmode-question': st.q.id, 'x-request-id': requestId };
    if (o.earlyStop && !localStop) {
      headers['x-failmode-early-stop'] = '1';
      // The server applies the same keep guard: it counts this question's stops (run + question ids).
      headers['x-failmode-samples'] = String(o.n);
      headers['x-failmode-min-keep'] = String(minKeep);
    }
    // The reference lets failmode serve's feed report correctness; only plain ASCII fits a header unchanged.
    if (st.q.answer !== null && st.q.answer.length <= 1000 && /^[\x20-\x7e]*$/.test(st.q.answer)) headers['x-failmode-reference'] = st.q.answer;

    let streamOpen = true;
    openStreams++;
    const sub = chatStreamEvents({ baseURL: o.baseURL, path, apiKey: o.apiKey ?? null, body, headers, requestId, ...(o.topLogprobsSource ? { topLogprobsSource: o.topLogprobsSource } : {}), ...(o.api === 'completions' ? { maxTopLogprobs: topLogprobs } : {}) }).subscribe({
      next: (ev: StreamEvent) => {
        if (finishReason !== null) return;
        if (ev.type === 'token') {
          tokens++;
          progress.tokens++;
          if (conf && ev.top !== null && ev.top.length > 0) conf.push(topListConfidence(ev.top));
        }
        if (ev.type === 'end') {
          if (ev.finishReason === 'failmode_stop') { stopped = true; slot.stopped = true; progress.stopped++; }
          finishReason = ev.finishReason;
        }
        const riskBefore = risk;
        monitor.push(ev);
        if (pending) {
          const s: StopSignal = pending;
          pending = null;
          ruleStop({ reason: s.reason, T: s.T, risk: s.risk });
        }
        if (conf && !isWarmup && ev.type === 'token' && conf.groupFull) {
          const threshold = deepConf!.threshold;
          const g = conf.groupConfidence;
          if (threshold !== null && g < threshold) ruleStop({ reason: 'deepconf', T: tokens, risk: null, confidence: g });
        }
        if (voteRisk && risk !== riskBefore && !slot.stopped) checkVote(st);
      },
      error: (err: unknown) => {
        streamClosed();
        error = err instanceof Error ? err.message : String(err);
        end('error');
      },
      complete: () => { streamClosed(); end('error'); },
    });
    function streamClosed(): void {
      if (streamOpen) { streamOpen = false; openStreams--; }
    }
    function onAbort(): void {
      streamClosed();
      sub.unsubscribe();
      error ??= 'aborted';
      end('abort');
    }
    if (o.signal?.aborted) onAbort();
    else o.signal?.addEventListener('abort', onAbort, { once: true });
  });

  const worker = async (): Promise<void> => {
    for (;;) {
      if (o.signal?.aborted) return;
      const next = jobs.next();
      if (next.done) return;
      const { state, k } = next.value;
      const slot = state.slots[k]!;
      const line = state.decided && !shadow ? notStarted(state, k) : await runOne(state, k);
      if (o.signal?.aborted) return;
      slot.status = 'done';
      slot.stop = null;
      slot.answer = line.stopped ? null : line.answer;
      slot.risk = line.risk;
      state.lines.push(line);
      if (line.error !== null) sampleErrors++;
      log.write(line);
      progress.samplesDone++;
      o.onProgress?.({ ...progress });
      checkVote(state);
      if (++state.done === o.n) finishQuestion(state);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, () => worker()));
  o.onProgress?.({ ...progress });

  // Totals over every completed question of the dataset (this run and earlier ones).
  let n = 0, withRef = 0, correct = 0, agreeSum = 0, agreeN = 0, samples = 0, stoppedTotal = 0, tokensTotal = 0;
  for (const q of questions) {
    const line = log.completed.get(q.id);
    if (!line) continue;
    n++;
    if (line.correct !== null) { withRef++; correct += line.correct; }
    if (line.agreement !== null) { agreeSum += line.agreement; agreeN++; }
    samples += line.n;
    stoppedTotal += line.stopped;
    tokensTotal += line.tokens;
  }
  return {
    runId, questions: n, resumed, unfinished: questions.length - n, withReference: withRef, correct,
    accuracy: withRef > 0 ? correct / withRef : null, meanAgreement: agreeN > 0 ? agreeSum / agreeN : null,
    samples, stopped: stoppedTotal, errors: sampleErrors, tokens: tokensTotal, failedQuestions, firstError, shadowStops,
  };
}
