import { stopRuleShort } from '../../models/describe-stop-rule.ts';
import { Observable, Subject, catchError, merge, of, tap } from 'rxjs';
import type { Command } from '../main.ts';
import { numberOption, parseCommandArgs } from '../args.ts';
import { loadDemoModel, type LoadedModel } from '../demo-model.ts';
import type { MonitorEvent } from '../../online/monitor-events.ts';
import { DEMO_KIND_MIX, DEMO_SEED } from '../../stream/simulator/demo-mix.ts';
import type { StreamEvent } from '../../stream/token-event.ts';
import { eventLogLine } from '../../tui/event-log-line.ts';
import { isInteractiveTerminal } from '../../tui/is-interactive-terminal.ts';
import { initialWatchState, reduceWatchState, type WatchState } from '../../tui/state.ts';
import { summarizeWatch, voteLine } from '../../tui/summarize-watch.ts';
import type { WatchHeaderInfo } from '../../tui/watch-header.ts';

const HELP = `failmode demo — watch 8 simulated generations live; committed failures are flagged and stopped

Usage
  failmode demo [options]

  Starts the built-in simulated OpenAI-compatible server in this process (no GPU, no network), sends one
  streaming request per sample for a multiple-choice question, and monitors every token with a classifier:
  the --model-file, else the best model in results/models/, else one trained now from the paper's results
  (../shared/paper/results), else none (features only). With early stopping on, a sample flagged as a
  committed failure (risk ≥ the stop threshold at or after the commitment point T*) is stopped at once: its
  request is aborted and the simulator stops generating it.

  The simulator is asked for a fixed mix of trace kinds (of every 8: 3 committed failures, 1 persistent
  failure, 4 correct) so that failures appear; the monitor and classifier never see the kind, only tokens
  and logprobs. On a terminal the live view opens (q quits); otherwise one line per event is printed.

Options
  --samples N              samples (one request each), 1–64 (default 8)
  --seed S                 simulator seed, an integer (default 8)
  --model-file M.json      classifier from \`failmode train\`
  --tokens-per-second R    simulator pace per sample, > 0 (default 200)
  --no-early-stop          only flag committed failures, let every sample run to its end
  -h, --help               this text

Examples
  failmode demo
  failmode demo --samples 16 --tokens-per-second 400
  failmode demo --model-file results/models/gpqa_gpt4o.json --no-early-stop
  npm run demo`;

/** The demo question (multiple choice: the simulator writes `Final Answer: X`, the monitor reads it). */
const MC_SYSTEM = 'You are a careful reasoning assistant. Think step by step; the last line must be exactly "Final Answer: <letter>".';
const MC_QUESTION = 'A spin-1/2 particle is in the state (|up> + 2|down>)/sqrt(5). What is the probability of measuring spin down along z?\n\n(A) 1/5\n(B) 4/5\n(C) 2/5\n(D) 1/2';
const MC_REFERENCE = 'B';
/** For a model trained on boxed-answer (math) data: the simulator then ends with `\boxed{…}`. */
const MATH_SYSTEM = 'Reason step by step and put the final answer in \\boxed{}.';
const MATH_QUESTION = 'What is the sum of all positive divisors of 36?';
const MATH_REFERENCE = '91';

const MAX_TOKENS = 4096;

export const command: Command = {
  summary: 'live demo: 8 simulated generations, committed failures flagged and stopped (no GPU, no network)',
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      samples: { type: 'string' },
      seed: { type: 'string' },
      'model-file': { type: 'string' },
      'tokens-per-second': { type: 'string' },
      'no-early-stop': { type: 'boolean' },
    }, false);
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const samples = numberOption('samples', values.samples, { integer: true, min: 1, max: 64 }) ?? 8;
    const seed = numberOption('seed', values.seed, { integer: true }) ?? DEMO_SEED;
    const tokensPerSecond = numberOption('tokens-per-second', values['tokens-per-second'], { min: 0.1, max: 1_000_000 }) ?? 200;
    const earlyStop = values['no-early-stop'] !== true;
    const interactive = isInteractiveTerminal();

    const loaded = await loadDemoModel(values['model-file'], interactive ? () => {} : (line) => process.stderr.write(`${line}\n`));
    const model = loaded?.model ?? null;
    const math = model?.profile === 'boxed' || model?.profile === 'final-boxed';
    const question = math
      ? { system: MATH_SYSTEM, prompt: MATH_QUESTION, reference: MATH_REFERENCE, profile: 'boxed' as const }
      : { system: MC_SYSTEM, prompt: MC_QUESTION, reference: MC_REFERENCE, profile: 'final-answer' as const };

    const { startSimulator } = await import('../../stream/simulator/start-simulator.ts');
    const { tokenEventsFromOpenAI } = await import('../../stream/openai-source.ts');
    const { monitor } = await import('../../online/monitor.ts');
    const sim = await startSimulator({ seed, tokensPerSecond });
    let stopListening = (): void => {};
    try {
      const topK = model?.signal.topK ?? 20;
      const stops = new Map<string, Subject<void>>();
      // Stopping is deferred by a microtask: a stop asked from inside the monitor's own emission must not re-enter it.
      const stop = (sampleId: string): void => {
        const s = stops.get(sampleId);
        if (s) queueMicrotask(() => s.next());
      };
      const streams: Observable<StreamEvent>[] = [];
      for (let i = 0; i < samples; i++) {
        const requestId = `s${i + 1}`;
        const sampleId = `${requestId}:0`;
        const stop$ = new Subject<void>();
        stops.set(sampleId, stop$);
        const request$ = tokenEventsFromOpenAI({
          baseURL: sim.url, model: 'failmode-sim', requestId, n: 1, maxTokens: MAX_TOKENS, topLogprobs: topK,
          messages: [{ role: 'system', content: question.system }, { role: 'user', content: question.prompt }],
          extraBody: { seed: i, failmode_sim: { kind: DEMO_KIND_MIX[i % DEMO_KIND_MIX.length], reference: question.reference } },
        }).pipe(catchError((err: unknown) => of<StreamEvent[]>(
          { type: 'stream_error', sampleId, position: 'request', message: err instanceof Error ? err.message : String(err), fatal: false, t: Date.now() },
          { type: 'end', sampleId, finishReason: 'error', t: Date.now() },
        )));
        streams.push(stoppable(request$, sampleId, stop$));
      }
      let state: WatchState = initialWatchState();
      const events$: Observable<MonitorEvent> = monitor(merge(...streams), { model, ticks: true, profile: question.profile, reference: question.reference, topK })
        .pipe(tap((e) => {
          state = reduceWatchState(state, e);
          if (earlyStop && e.type === 'committed_failure') stop(e.sampleId);
        }));

      if (interactive) {
        const { runWatchTui } = await import('../../tui/run-watch-tui.tsx');
        const header: WatchHeaderInfo = {
          endpoint: `${sim.url} (simulator)`,
          model: 'failmode-sim',
          classifier: model ? { name: `${model.training.name}${loaded!.source === 'trained' ? ' (trained now)' : ''}`, regime: model.regime, commitmentPoint: model.commitmentPoint, stopRule: stopRuleShort(model) } : null,
        };
        await runWatchTui({ events$, header, onStopSample: stop, earlyStop });
      } else {
        const banner = `failmode demo: ${samples} samples from the simulator at ${sim.url}, ${describeModel(loaded)}, early stop ${earlyStop ? 'on' : 'off'}`;
        const headless = runHeadless(events$, () => state, banner);
        stopListening = headless.stopListening;
        await headless.done;
      }
      process.stdout.write(`${summaryLine(state, question.reference)}\n`);
    } finally {
      await sim.close();
      stopListening();
    }
    return 0;
  },
};

/**
 * Ends one sample's stream when `stop$` fires: unsubscribes the request (the HTTP request is aborted, so the server
 * stops generating) and emits the sample's end with finish_reason 'abort', unless the server had already ended it.
 */
function stoppable(source$: Observable<StreamEvent>, sampleId: string, stop$: Observable<void>): Observable<StreamEvent> {
  return new Observable<StreamEvent>((subscriber) => {
    let ended = false;
    const sub = source$.subscribe({
      next: (e) => {
        if (e.type === 'end' && e.sampleId === sampleId) ended = true;
        subscriber.next(e);
      },
      error: (err) => subscriber.error(err),
      complete: () => subscriber.complete(),
    });
    const stopSub = stop$.subscribe(() => {
      if (subscriber.closed) return;
      sub.unsubscribe();
      if (!ended) subscriber.next({ type: 'end', sampleId, finishReason: 'abort', t: Date.now() });
      subscriber.complete();
    });
    return () => {
      stopSub.unsubscribe();
      sub.unsubscribe();
    };
  });
}

/**
 * Prints the banner, then one line per notable event until the stream ends (or Ctrl+C). The SIGINT listener stays
 * installed until `stopListening` is called after the shutdown (a Ctrl+C while the summary is written and the
 * simulator closes is ignored instead of killing the process by the signal).
 */
function runHeadless(events$: Observable<MonitorEvent>, state: () => WatchState, banner: string): { done: Promise<void>; stopListening: () => void } {
  let onSignal = (): void => {};
  const listener = (): void => onSignal();
  process.on('SIGINT', listener);
  // The banner only once Ctrl+C is ours: a SIGINT sent on seeing it must not find the default action (killed by signal).
  process.stdout.write(`${banner}\n`);
  const done = new Promise<void>((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      sub.unsubscribe();
      resolve();
    };
    onSignal = finish;
    const sub = events$.subscribe({
      next: (e) => {
        const line = eventLogLine(e, state());
        if (line) process.stdout.write(`${line}\n`);
      },
      error: (err) => {
        process.stdout.write(`stream failed: ${err instanceof Error ? err.message : String(err)}\n`);
        finish();
      },
      complete: finish,
    });
  });
  return { done, stopListening: () => process.off('SIGINT', listener) };
}

function summaryLine(state: WatchState, reference: string): string {
  const s = summarizeWatch(state);
  const saved = s.stopped > 0 && s.tokensSaved !== null ? ` · ≈${s.tokensSaved.toLocaleString('en-US')} tokens saved` : '';
  const byUser = s.stoppedByUser > 0 ? ` (${s.stoppedByUser} by the user)` : '';
  return `failmode demo: ${s.total} samples · ${s.flagged} flagged as committed failures · ${s.stopped} stopped${byUser}${saved} · answers ${voteLine(s.vote)} · reference ${reference}`;
}

function describeModel(loaded: LoadedModel | null): string {
  if (!loaded) return 'no classifier (features only)';
  const m = loaded.model;
  return `classifier ${m.training.name} (${m.regime}, T*=${m.commitmentPoint ?? '–'}, ${loaded.source})`;
}

