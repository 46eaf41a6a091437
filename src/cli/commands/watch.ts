import { createWriteStream, type WriteStream } from 'node:fs';
import { open as openFile, readFile, stat } from 'node:fs/promises';
import { stopRuleShort } from '../../models/describe-stop-rule.ts';
import { EMPTY, Observable, Subject, defer, from, mergeMap, takeUntil, filter, tap, type Subscription } from 'rxjs';
import type { Command } from '../main.ts';
import { expandNumericListFlags, numberListOption, numberOption, parseCommandArgs } from '../args.ts';
import { ENDPOINT_HELP, ENDPOINT_OPTIONS, MODEL_OPTIONS, readApi, readEndpoint, readGeneration, readModelFile, readProfile, type Endpoint } from '../endpoint-options.ts';
import { FailmodeError, usageError } from '../../errors.ts';
import { unreadableInput } from '../../read-input-file.ts';
import { DEFAULT_SIGNAL_PARAMS, type SignalParams } from '../../features/token-signals.ts';
import type { MonitorEvent, FeatureRecord } from '../../online/monitor-events.ts';
import { createSampleMonitor, resolveMonitorConfig, type MonitorOptions } from '../../online/monitor.ts';
import { redactUrl } from '../../stream/redact-url.ts';
import type { StreamApi } from '../../stream/stream-request.ts';
import { recordColumns, recordsToCsv, recordToJsonl } from '../../online/record-writers.ts';
import { splitSampleId } from '../../online/sample-features.ts';
import { DEMO_KIND_MIX, DEMO_SEED } from '../../stream/simulator/demo-mix.ts';
import type { StreamEvent } from '../../stream/token-event.ts';
import type { WatchTuiOptions } from '../../tui/run-watch-tui.tsx';

const HELP = `failmode watch — watch generations stream token by token and flag failing reasoning traces live

Usage
  failmode watch --base-url URL --model M (--prompt TEXT | --prompts FILE.jsonl | TEXT) [options]
  failmode watch --replay FILE.sse | --replay-jsonl FILE.jsonl [options]
  failmode watch --demo [options]

  Computes the paper's token-level features (entropy, margin, NLL, nucleus size, near-ties, forks; full trace,
  early windows, prefinal) for every sample as it streams. With --model-file (from \`failmode train\`) it scores
  P(failure) at every window boundary and, for a committed-failure model, flags a sample once it passes the
  commitment point T* with risk at or above the stop threshold. On a terminal it opens the live view; otherwise
  (or with --no-tui) it writes one JSON line per event: window, risk, committed_failure, warning, stream_error,
  final (the sample record under "record").

Options — sources
  --base-url URL          OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1 (vLLM, SGLang, OpenAI, the
                          simulator; default: OPENAI_BASE_URL when --model / --prompt is given)
  --model M               model name sent with the request
${ENDPOINT_HELP.api}
  --prompt TEXT           one user prompt (or give it as the last argument)
  --prompts FILE.jsonl    one request per line: {"prompt": "...", "id": "q1", "reference": "B", "system": "..."}
  --system TEXT           system prompt for every request
  --n K                   completions per prompt (default 1)
  --max-tokens N          max_tokens per completion
  --temperature T         sampling temperature (default: the server's)
  --concurrency C         requests in flight at once with --prompts (default 4)
  --api-key-env VAR       environment variable holding the API key (default OPENAI_API_KEY; never printed)
  --reference ANSWER      reference answer for --prompt (enables "correct")
  --replay FILE.sse       replay a recorded raw SSE stream (- = stdin; see --record-sse): chat chunks (vLLM, SGLang,
                          OpenAI), /v1/completions chunks or Responses API events, detected from the events
  --request-id ID         sample ids ID:0, ID:1 … for --replay (default: the chunks' own id); give the live run's
                          prompt id (p0 for --prompt, demo for --demo) to get its records back exactly
  --replay-jsonl FILE     replay a token-event JSONL recording (- = stdin; see --record)
  --demo                  start the built-in simulator and watch 8 completions of a multiple-choice question
                          (the demo's mix, as failmode demo: 3 committed failures, 1 persistent, 4 correct)
  --tokens-per-second R   simulator pace with --demo (default 150 in the live view, 0 = as fast as possible headless)

Options — features and scoring
  --model-file M.json     classifiers from \`failmode train\` (risk, stop thresholds, commitment point); with --demo
                          the default is the demo's (results/models/simulator-demo.json), as \`failmode demo\`
  --profile P             final-answer | boxed | final-boxed | code | none — the final-answer marker that cuts the
                          prefinal trace and how the answer is read (default: the model's, else none; --demo: final-answer)
  --letters L             option letters for final-answer extraction (default ABCD; AR-LSAT: ABCDE)
  --windows T …           early windows in tokens (default: the model's, else 128 256 400 512 1024 2048)
  --top-k K               top_logprobs to request (default: the model's, else 20)
  --nucleus-p P           nucleus mass (default: the model's, else 0.7)
  --tie-delta D           near-tie window in nats (default: the model's, else 0.5)

Options — output
  --jsonl OUT|-           write events as JSON lines to OUT (- = stdout; the default when headless)
  --ticks                 also write per-token ticks (type "token") to the JSON lines
  --record FILE.jsonl     record the incoming token events (replay with --replay-jsonl)
  --record-sse FILE.sse   record the server's raw SSE stream of one request (--prompt, --demo or a one-line
                          --prompts file; replay with --replay). A stopped request's recording ends without [DONE]
  --records-csv OUT.csv   write the final sample records as CSV (\`failmode analyze\` / \`train\` read it)
  --early-stop            stop a sample's request as soon as it is flagged (committed_failure)
  --no-tui                never open the live view
  -h, --help              show this help

Examples
  failmode watch --demo
  failmode watch --base-url http://127.0.0.1:8000/v1 --model Qwen/Qwen3-8B --prompts gpqa.jsonl --n 4 \\
      --model-file gpqa.model.json --records-csv gpqa.live.csv --no-tui
  failmode watch --replay-jsonl run.jsonl --model-file gpqa.model.json --jsonl - | jq 'select(.type=="committed_failure")'
  failmode watch --base-url http://127.0.0.1:8000/v1 --model sim --prompt "6*7?" --n 4 --record-sse run.sse --no-tui
  failmode watch --replay run.sse --request-id p0 --no-tui --jsonl replay.jsonl
`;

const DEMO_QUESTION = 'A spin-1/2 particle is in the state (|up> + 2|down>)/sqrt(5). What is the probability of measuring spin down along z?\n\n(A) 1/5\n(B) 4/5\n(C) 2/5\n(D) 1/2';
const DEMO_SYSTEM = 'You are a careful reasoning assistant. Think step by step; the last line must be exactly "Final Answer: <letter>".';

interface PromptSpec { id: string; prompt: string; reference?: string; system?: string }

interface Source {
  events$: Observable<StreamEvent>;
  endpoint: string;
  modelName: string;
  /** Aborts one request (live sources); undefined for replays. */
  abortRequest?: (requestId: string) => void;
  /** Completions per request (live), for deciding when every choice of a request is stopped. */
  choicesPerRequest: number;
  references: Map<string, string>;
  close: () => Promise<void>;
}

const FLAGS = {
  ...ENDPOINT_OPTIONS,
  ...MODEL_OPTIONS,
  prompt: { type: 'string' },
  prompts: { type: 'string' },
  system: { type: 'string' },
  n: { type: 'string' },
  concurrency: { type: 'string' },
  reference: { type: 'string' },
  replay: { type: 'string' },
  'request-id': { type: 'string' },
  'replay-jsonl': { type: 'string' },
  demo: { type: 'boolean' },
  'tokens-per-second': { type: 'string' },
  letters: { type: 'string' },
  windows: { type: 'string', multiple: true },
  'top-k': { type: 'string' },
  'nucleus-p': { type: 'string' },
  'tie-delta': { type: 'string' },
  jsonl: { type: 'string' },
  ticks: { type: 'boolean' },
  record: { type: 'string' },
  'record-sse': { type: 'string' },
  'records-csv': { type: 'string' },
  'early-stop': { type: 'boolean' },
  'no-tui': { type: 'boolean' },
} as const;

type WatchValues = ReturnType<typeof parseWatchArgs>['values'];

function parseWatchArgs(argv: string[]) {
  return parseCommandArgs(expandNumericListFlags(argv, ['windows']), FLAGS);
}

/** Running totals for the closing summary line and the exit code. */
interface WatchStats { samples: number; flagged: number; errors: number; fatal: string | null; noSseEvents: string | null }

export const command: Command = {
  summary: 'watch generations stream live: token features, per-window failure risk, committed-failure flags (TUI or JSONL)',
  async run(argv) {
    const { values, positionals } = parseWatchArgs(argv);
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const choice = checkSourceChoice(values, positionals);
    const settings = readSettings(values);
    const scoring = await loadScoring(values, settings);
    const view = await chooseView(values);

    // Outputs open before the stream is subscribed, so no SSE line can arrive earlier.
    let outputs: Outputs | undefined;
    const source = await openSource({
      values, prompt: choice.prompt, endpoint: choice.endpoint, ...settings, topK: scoring.topK,
      tokensPerSecond: settings.tokensPerSecond ?? (view.runWatchTui ? 150 : 0),
      ...(values['record-sse'] !== undefined ? { recordSse: (line: string) => outputs?.recordSse(line) } : {}),
    });
    const monitorOpts: MonitorOptions = {
      model: scoring.model, windows: settings.windows, params: scoring.params, profile: scoring.profile,
      topK: values.replay || values['replay-jsonl'] ? undefined : scoring.topK,
      ticks: view.runWatchTui !== null || values.ticks === true, letters: values.letters,
      reference: (sampleId) => source.references.get(splitSampleId(sampleId)[0] ?? '') ?? values.reference,
    };
    let out: Outputs;
    try {
      try {
        resolveMonitorConfig(monitorOpts);
      } catch (err) {
        throw usageError((err as Error).message);
      }
      out = await openOutputs({ jsonl: view.runWatchTui ? (values.jsonl ?? null) : (values.jsonl ?? '-'), record: values.record, recordSse: values['record-sse'], recordsCsv: values['records-csv'], ticks: values.ticks === true });
    } catch (err) {
      await source.close();
      throw err;
    }
    outputs = out;
    // headless: say once what the stop rule guarantees (the TUI shows it in its header)
    if (!view.runWatchTui && scoring.model) process.stderr.write(`failmode watch: model ${scoring.model.training.name} · stop rule: ${stopRuleShort(scoring.model)}\n`);

    const stats: WatchStats = { samples: 0, flagged: 0, errors: 0, fatal: null, noSseEvents: null };
    // The live view shows a failed source (connection refused, an engine refusing the request) as the stream's error
    // on screen; headless, it is a fatal stream_error line.
    const watched = monitoredEvents(source, monitorOpts, out, stats, values['early-stop'] === true, view.runWatchTui !== null);
    try {
      if (view.runWatchTui) {
        const model = scoring.model;
        await view.runWatchTui({
          events$: watched.events$,
          header: { endpoint: source.endpoint, model: source.modelName, classifier: model ? { name: model.training.name, regime: model.regime, commitmentPoint: model.commitmentPoint, stopRule: stopRuleShort(model) } : null },
          onStopSample: (id: string) => watched.stopSample(id),
          earlyStop: values['early-stop'] === true,
        });
      } else {
        await runHeadless(watched, out);
      }
    } finally {
      await out.close();
      await source.close();
    }
    const replayFile = typeof values.replay === 'string' ? values.replay : typeof values['replay-jsonl'] === 'string' ? values['replay-jsonl'] : null;
    // A replay from stdin that held no SSE event at all (a token recording piped to --replay, say): bad input too.
    if (stats.fatal === null && values.replay !== undefined && stats.samples === 0 && stats.noSseEvents !== null) {
      stats.fatal = `${stats.noSseEvents} (a token-event recording is replayed with --replay-jsonl)`;
    }
    if (stats.fatal !== null && replayFile !== null && stats.samples === 0) {
      // A recording that could not be read at all is bad input: the reason first, exit 2. (A replay that worked and
      // then hit a stream error keeps exit code 1 below.)
      const reason = /Maximum call stack size exceeded/.test(stats.fatal) ? `${stats.fatal} (JSON nested too deeply to parse)` : stats.fatal;
      process.stderr.write(`failmode watch: ${replayFile}: ${reason}\n`);
      if (!view.runWatchTui) process.stderr.write(`watched 0 samples: ${stats.errors} stream error${stats.errors === 1 ? '' : 's'}\n`);
      return 2;
    }
    if (!view.runWatchTui) {
      process.stderr.write(`watched ${stats.samples} sample${stats.samples === 1 ? '' : 's'}: ${stats.flagged} flagged as committed failures, ${stats.errors} stream error${stats.errors === 1 ? '' : 's'}\n`);
    }
    if (stats.fatal !== null) {
      process.stderr.write(`failmode watch: ${stats.fatal}\n`);
      return 1;
    }
    return 0;
  },
};

/** Exactly one source: a live endpoint, a replay, a JSONL replay or the demo; the live prompt and endpoint. */
function checkSourceChoice(values: WatchValues, positionals: string[]): { prompt: string | undefined; endpoint: Endpoint | null } {
  const prompt = values.prompt ?? (positionals.length === 1 ? positionals[0] : undefined);
  if (positionals.length > 1 || (positionals.length === 1 && values.prompt !== undefined)) throw usageError(`Unexpected argument: ${positionals.at(-1)}`);
  if (prompt !== undefined && prompt.trim() === '') throw usageError(`Expected --prompt to be a non-empty prompt, got ${prompt === '' ? 'an empty string' : 'only whitespace'}`);
  const live = values['base-url'] !== undefined || values.model !== undefined || prompt !== undefined || values.prompts !== undefined;
  const kinds = [live, values.replay !== undefined, values['replay-jsonl'] !== undefined, values.demo === true].filter(Boolean).length;
  if (kinds === 0) throw usageError('Expected a source: --base-url URL --model M --prompt TEXT, --replay FILE.sse, --replay-jsonl FILE or --demo (see failmode watch --help)');
  if (kinds > 1) throw usageError('Give only one source: a live endpoint (--base-url/--model/--prompt), --replay, --replay-jsonl or --demo');
  let endpoint: Endpoint | null = null;
  if (live) {
    endpoint = readEndpoint(values);
    if ((prompt === undefined) === (values.prompts === undefined)) throw usageError('Expected exactly one of --prompt TEXT or --prompts FILE.jsonl');
  } else if (values.api !== undefined && !values.demo) {
    throw usageError('--api chooses the API of a live request (--base-url … or --demo); a replay detects the shape itself');
  }
  if (values['request-id'] !== undefined && values.replay === undefined) throw usageError('--request-id names the samples of a --replay FILE.sse; other sources have their own ids');
  if (values['record-sse'] !== undefined && !live && !values.demo) throw usageError('--record-sse records a live request\'s raw stream (--base-url … or --demo); a replay is already a recording');
  return { prompt, endpoint };
}

/** The numeric flags, checked. */
function readSettings(values: WatchValues) {
  if (values.letters !== undefined && !/^[A-Za-z]{2,26}$/.test(values.letters)) throw usageError(`Expected --letters to be option letters like ABCDE, got \`${values.letters}\``);
  const n = numberOption('n', values.n, { integer: true, min: 1, max: 128 }) ?? 1;
  const api = readApi(values);
  const demoN = values.demo && values.n === undefined ? (api === 'responses' ? 1 : 8) : n;
  if (api === 'responses' && demoN > 1) throw usageError(`--api responses gives one output per request: expected --n 1, got ${demoN} (use --api chat or completions for several)`);
  return {
    n: demoN,
    api,
    ...readGeneration(values),
    concurrency: numberOption('concurrency', values.concurrency, { integer: true, min: 1, max: 256 }) ?? 4,
    tokensPerSecond: numberOption('tokens-per-second', values['tokens-per-second'], { min: 0 }),
    windows: numberListOption('windows', values.windows, { integer: true, min: 1 }),
    topK: numberOption('top-k', values['top-k'], { integer: true, min: 0, max: 1000 }),
    nucleusP: numberOption('nucleus-p', values['nucleus-p'], { min: 0, max: 1 }),
    tieDelta: numberOption('tie-delta', values['tie-delta'], { min: 0 }),
    profile: readProfile(values),
  };
}

/** The model file and what it decides unless a flag does: signal parameters, profile, top-k. */
async function loadScoring(values: WatchValues, st: ReturnType<typeof readSettings>) {
  // --demo without --model-file shows the classifier `failmode demo` shows (the simulator-trained one), not none.
  const model = values.demo && values['model-file'] === undefined
    ? (await (await import('../demo-model.ts')).loadDemoModel(undefined, (line) => process.stderr.write(`${line}\n`), 'watch'))?.model ?? null
    : await readModelFile(values);
  let profile = st.profile;
  if (values.demo && profile === undefined && !model?.profile) profile = 'final-answer';
  const params: SignalParams | undefined = st.nucleusP !== undefined || st.tieDelta !== undefined
    ? { nucleusP: st.nucleusP ?? model?.signal.nucleusP ?? DEFAULT_SIGNAL_PARAMS.nucleusP, tieDelta: st.tieDelta ?? model?.signal.tieDelta ?? DEFAULT_SIGNAL_PARAMS.tieDelta }
    : undefined;
  return { model, profile, params, topK: st.topK ?? model?.signal.topK ?? 20 };
}

/** The live view on an interactive terminal (if its module loads), else headless JSON lines. */
async function chooseView(values: WatchValues): Promise<{ runWatchTui: ((o: WatchTuiOptions) => Promise<void>) | null }> {
  const { isInteractiveTerminal } = await import('../../tui/is-interactive-terminal.ts').catch(() => ({ isInteractiveTerminal: () => false }));
  if (values['no-tui'] || values.jsonl === '-' || !isInteractiveTerminal()) return { runWatchTui: null };
  try {
    return { runWatchTui: (await import('../../tui/run-watch-tui.tsx')).runWatchTui };
  } catch {
    return { runWatchTui: null }; // the live view is not available in this build: headless output instead
  }
}

interface Watched {
  readonly events$: Observable<MonitorEvent>;
  /** Ends a sample (user key or --early-stop) and, once every choice of its request has ended, aborts the request. */
  readonly stopSample: (id: string) => void;
  /** Ctrl-C headless: the source stops (its requests are aborted) and the open samples still get their partial records. */
  readonly interrupt: () => void;
}

/** The monitored stream: every event goes to the outputs and the stats; per-sample stops end samples and requests. */
function monitoredEvents(source: Source, monitorOpts: MonitorOptions, out: Outputs, stats: WatchStats, earlyStop: boolean, errorOnFatal = false): Watched {
  let stopSample: (id: string) => void = () => {};
  const interrupt$ = new Subject<void>();
  let interrupted = false;
  const handle = (ev: MonitorEvent): void => {
    if (ev.type === 'final') { stats.samples++; out.record(ev.record); }
    if (ev.type === 'committed_failure') stats.flagged++;
    if (ev.type === 'stream_error') {
      stats.errors++;
      if (ev.fatal) stats.fatal = ev.message;
      else if (/^No SSE events in the input/.test(ev.message)) stats.noSseEvents = ev.message;
    }
    out.event(ev);
  };
  const events$ = new Observable<MonitorEvent>((subscriber) => {
    const ended = new Map<string, Set<string>>();
    const markEnded = (sampleId: string): boolean => {
      const [rid] = splitSampleId(sampleId);
      const key = rid ?? sampleId;
      let set = ended.get(key);
      if (!set) { set = new Set(); ended.set(key, set); }
      set.add(sampleId);
      if (set.size >= source.choicesPerRequest) { ended.delete(key); return true; }
      return false;
    };
    let unsubscribed = false;
    const m = createSampleMonitor(monitorOpts, (ev) => {
      if (unsubscribed) { handle(ev); return; }
      subscriber.next(ev);
      if (earlyStop && ev.type === 'committed_failure') stopSample(ev.sampleId);
    });
    stopSample = (id) => {
      m.push({ type: 'end', sampleId: id, finishReason: 'abort', t: Date.now() });
      if (markEnded(id)) source.abortRequest?.(splitSampleId(id)[0] ?? id);
    };
    const sub: Subscription = source.events$.pipe(takeUntil(interrupt$)).subscribe({
      next: (ev) => {
        out.recordEvent(ev);
        m.push(ev);
        if (ev.type === 'end') markEnded(ev.sampleId);
      },
      error: (err) => {
        const message = err instanceof Error ? err.message : String(err);
        subscriber.next({ type: 'stream_error', position: 'source', message, fatal: true, t: Date.now() });
        m.end();
        if (errorOnFatal) subscriber.error(err instanceof Error ? err : new Error(message));
        else subscriber.complete();
      },
      complete: () => { m.end(interrupted ? 'abort' : ''); subscriber.complete(); },
    });
    return () => {
      sub.unsubscribe();
      // Left before the source ended (q in the live view, a broken pipe): the open samples' partial records are
      // still written (after a normal end there are none left).
      unsubscribed = true;
      m.end('abort');
    };
  }).pipe(tap(handle));
  return { events$, stopSample: (id) => stopSample(id), interrupt: () => { interrupted = true; interrupt$.next(); } };
}

/** Headless: runs the stream to its end, a broken stdout pipe, or Ctrl-C / SIGTERM. */
function runHeadless(watched: Watched, out: Outputs): Promise<void> {
  return new Promise<void>((resolve) => {
    let sub: Subscription | null = null;
    const onSignal = (): void => { watched.interrupt(); sub?.unsubscribe(); cleanup(); resolve(); };
    const cleanup = (): void => { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    out.onBrokenPipe(() => { sub?.unsubscribe(); cleanup(); resolve(); });
    sub = watched.events$.subscribe({ complete: () => { cleanup(); resolve(); } });
  });
}

interface SourceArgs {
  values: WatchValues;
  prompt: string | undefined;
  /** The checked live endpoint (null for replays and the demo). */
  endpoint: Endpoint | null;
  api: StreamApi;
  n: number;
  maxTokens: number | undefined;
  temperature: number | undefined;
  concurrency: number;
  topK: number;
  tokensPerSecond: number;
  /** Receives every SSE line of the live request (`data: …`, --record-sse). */
  recordSse?: (line: string) => void;
}

async function openSource(a: SourceArgs): Promise<Source> {
  const v = a.values;
  if (typeof v.replay === 'string') return openReplay(v.replay, v['request-id']);
  if (typeof v['replay-jsonl'] === 'string') return openJsonlReplay(v['replay-jsonl']);
  let target: LiveTarget;
  if (v.demo) {
    const { startSimulator } = await import('../../stream/simulator/start-simulator.ts');
    const sim = await startSimulator({ seed: DEMO_SEED, tokensPerSecond: a.tokensPerSecond });
    target = {
      baseURL: sim.url, modelName: 'failmode-sim', apiKey: null, close: () => sim.close(),
      prompts: [{ id: 'demo', prompt: DEMO_QUESTION, reference: 'B', system: DEMO_SYSTEM }],
      // The demo's mix of trace kinds over the request's choices (as `failmode demo`), so that failures appear.
      extraBody: { failmode_sim: { reference: 'B', kind: DEMO_KIND_MIX } },
    };
  } else {
    const ep = a.endpoint!;
    const prompts = typeof v.prompts === 'string'
      ? await readPrompts(v.prompts)
      : [{ id: 'p0', prompt: a.prompt as string, ...(typeof v.reference === 'string' ? { reference: v.reference } : {}) }];
    // Concurrent requests would interleave their events in one file, and the file's replay could not tell them apart.
    if (a.recordSse && prompts.length > 1) throw usageError(`--record-sse records one request's raw stream, but ${v.prompts} has ${prompts.length} prompts: use --prompt, or --record FILE.jsonl for several`);
    target = { baseURL: ep.baseURL, modelName: ep.model, apiKey: ep.apiKey, prompts, close: async () => {} };
  }
  return openLive(a, target);
}

/** Where live requests go: the endpoint (or the demo's simulator) and the prompts. */
interface LiveTarget {
  baseURL: string;
  modelName: string;
  apiKey: string | null;
  prompts: PromptSpec[];
  extraBody?: Record<string, unknown>;
  close: () => Promise<void>;
}

async function openReplay(path: string, requestId: string | undefined): Promise<Source> {
  const { readSseFile, tokenEventsFromSse } = await import('../../stream/sse-source.ts');
  const opts = requestId !== undefined ? { requestId } : {};
  const events$ = path === '-' ? tokenEventsFromSse(process.stdin, opts) : (await checkReadable(path, '--replay'), await checkRecordingKind(path, '--replay'), readSseFile(path, opts));
  return { events$, endpoint: `replay ${path === '-' ? 'stdin' : path}`, modelName: 'replay', choicesPerRequest: Infinity, references: new Map(), close: async () => {} };
}

async function openJsonlReplay(path: string): Promise<Source> {
  const { readTokenJsonl, tokenEventsFromJsonl } = await import('../../stream/jsonl-source.ts');
  const events$ = path === '-' ? tokenEventsFromJsonl(process.stdin) : (await checkReadable(path, '--replay-jsonl'), await checkRecordingKind(path, '--replay-jsonl'), readTokenJsonl(path));
  return { events$, endpoint: `replay ${path === '-' ? 'stdin' : path}`, modelName: 'replay', choicesPerRequest: Infinity, references: new Map(), close: async () => {} };
}

/** One streaming request per prompt, `--concurrency` at a time; each can be aborted by its prompt id. */
async function openLive(a: SourceArgs, t: LiveTarget): Promise<Source> {
  const { tokenEventsFromOpenAI } = await import('../../stream/openai-source.ts');
  const system = typeof a.values.system === 'string' ? a.values.system : undefined;
  const references = new Map<string, string>();
  for (const p of t.prompts) if (p.reference !== undefined) references.set(p.id, p.reference);
  const abort$ = new Subject<string>();
  const events$ = from(t.prompts).pipe(mergeMap((p) => defer(() => {
    const sys = p.system ?? system;
    const messages = [...(sys ? [{ role: 'system', content: sys }] : []), { role: 'user', content: p.prompt }];
    return tokenEventsFromOpenAI({
      baseURL: t.baseURL, model: t.modelName, messages, n: a.n, topLogprobs: a.topK, requestId: p.id, api: a.api,
      topLogprobsSource: a.values['top-k'] !== undefined ? '--top-k' : a.values['model-file'] !== undefined ? `the model file ${a.values['model-file']}` : 'the default --top-k',
      ...(t.apiKey ? { apiKey: t.apiKey } : {}),
      ...(a.maxTokens !== undefined ? { maxTokens: a.maxTokens } : {}),
      ...(a.temperature !== undefined ? { temperature: a.temperature } : {}),
      ...(t.extraBody ? { extraBody: t.extraBody } : {}),
      ...(a.recordSse ? { recordSse: a.recordSse } : {}),
    }).pipe(takeUntil(abort$.pipe(filter((id) => id === p.id))));
  }), a.concurrency));
  return {
    events$: t.prompts.length === 0 ? EMPTY : events$,
    endpoint: redactUrl(t.baseURL), modelName: t.modelName, choicesPerRequest: a.n, references,
    abortRequest: (id) => abort$.next(id),
    close: t.close,
  };
}

/** A replay input that cannot be read is bad input (exit 2), found before anything starts. */
async function checkReadable(path: string, flag: string): Promise<void> {
  try {
    if ((await stat(path)).isDirectory()) throw new FailmodeError(`cannot read ${flag} ${path}: it is a directory`);
    await (await openFile(path, 'r')).close();
  } catch (err) {
    if (err instanceof FailmodeError) throw err;
    throw unreadableInput(path, err, { what: flag });
  }
}

/**
 * A regular file given to the other replay flag (a token recording to --replay, an SSE stream to --replay-jsonl), or
 * one that is neither, is bad input: exit 2 naming the flag that reads it, before anything starts. Pipes and devices
 * are not sniffed (reading them would consume the stream); their content is checked as it arrives.
 */
async function checkRecordingKind(path: string, flag: '--replay' | '--replay-jsonl'): Promise<void> {
  if (!(await stat(path)).isFile()) return;
  const { RECORDING_SNIFF_BYTES, recordingKind } = await import('../../stream/recording-kind.ts');
  const fh = await openFile(path, 'r');
  let head: string;
  try {
    const buf = Buffer.alloc(RECORDING_SNIFF_BYTES);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    head = buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
  const kind = recordingKind(head);
  const wanted = flag === '--replay' ? 'sse' : 'jsonl';
  if (kind === wanted) return;
  const expected = flag === '--replay'
    ? 'expected a raw SSE stream ("data: {…}" lines, as --record-sse writes it)'
    : 'expected a token-event recording (one JSON object per line, as --record writes it)';
  if (kind === 'empty') throw new FailmodeError(`${flag} ${path} is empty: ${expected}`);
  if (kind === 'jsonl') throw new FailmodeError(`${flag} ${path} is JSON lines, not an SSE stream: a token-event recording (--record) is replayed with --replay-jsonl`);
  if (kind === 'sse') throw new FailmodeError(`${flag} ${path} is an SSE stream, not a token-event recording: a raw stream (--record-sse) is replayed with --replay`);
  throw new FailmodeError(`${flag} ${path} is neither kind of recording: ${expected}; --replay reads SSE streams, --replay-jsonl token-event JSON lines`);
}

/** Reads the --prompts JSONL: one object per line with `prompt` (or `question`), optional `id`, `reference` (or `answer`), `system`. */
export async function readPrompts(path: string): Promise<PromptSpec[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new FailmodeError(`cannot read --prompts file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const out: PromptSpec[] = [];
  const ids = new Set<string>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${path} line ${i + 1}`;
    let obj: unknown;
    try { obj = JSON.parse(line); } catch (err) { throw new FailmodeError(`${where}: expected a JSON object, got invalid JSON (${(err as Error).message})`); }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new FailmodeError(`${where}: expected a JSON object like {"prompt": "..."}`);
    const o = obj as Record<string, unknown>;
    const prompt = o.prompt ?? o.question;
    if (typeof prompt !== 'string' || prompt === '') throw new FailmodeError(`${where}: expected "prompt" to be a non-empty string`);
    const rawId = o.id ?? `p${out.length}`;
    if (typeof rawId !== 'string' && typeof rawId !== 'number') throw new FailmodeError(`${where}: expected "id" to be a string or number`);
    const id = String(rawId);
    if (id.includes(':')) throw new FailmodeError(`${where}: "id" must not contain ':' (sample ids are id:choice)`);
    if (ids.has(id)) throw new FailmodeError(`${where}: duplicate id \`${id}\``);
    ids.add(id);
    const ref = o.reference ?? o.answer;
    if (ref !== undefined && typeof ref !== 'string' && typeof ref !== 'number') throw new FailmodeError(`${where}: expected "reference" to be a string`);
    const sys = o.system;
    if (sys !== undefined && typeof sys !== 'string') throw new FailmodeError(`${where}: expected "system" to be a string`);
    out.push({ id, prompt, ...(ref !== undefined ? { reference: String(ref) } : {}), ...(sys !== undefined ? { system: sys } : {}) });
  });
  if (out.length === 0) throw new FailmodeError(`${path}: no prompts (expected one JSON object per line)`);
  return out;
}

interface Outputs {
  event(ev: MonitorEvent): void;
  record(rec: FeatureRecord): void;
  recordEvent(ev: StreamEvent): void;
  /** One SSE line as the server sent it (`data: …`, no newline). */
  recordSse(line: string): void;
  onBrokenPipe(cb: () => void): void;
  close(): Promise<void>;
}

async function openOutputs(o: { jsonl: string | null; record: string | undefined; recordSse: string | undefined; recordsCsv: string | undefined; ticks: boolean }): Promise<Outputs> {
  const files: WriteStream[] = [];
  let writeError: FailmodeError | null = null;
  const opened: Promise<void>[] = [];
  const open = (path: string): WriteStream => {
    const s = createWriteStream(path);
    files.push(s);
    // Listen at once: 'open' may fire during a later await.
    opened.push(new Promise<void>((resolve, reject) => {
      s.once('open', () => resolve());
      s.on('error', (err: NodeJS.ErrnoException) => {
        writeError ??= new FailmodeError(`cannot write ${path}: ${err.code ?? err.message}`, 'FAILMODE_ERR_OUTPUT', 2);
        reject(writeError);
      });
    }));
    return s;
  };
  let brokenPipe: (() => void) | null = null;
  let piped = false;
  const jsonlOut: { write(s: string): void } | null = o.jsonl === null ? null : o.jsonl === '-' ? { write: (s) => { if (!piped) process.stdout.write(s); } } : open(o.jsonl);
  if (o.jsonl === '-') {
    process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') { piped = true; brokenPipe?.(); } });
  }
  const recordOut = o.record ? open(o.record) : null;
  const { streamEventToJsonl } = recordOut ? await import('../../stream/jsonl-source.ts') : { streamEventToJsonl: null };
  const csvOut = o.recordsCsv ? open(o.recordsCsv) : null;
  const sseOut = o.recordSse ? open(o.recordSse) : null;
  let csvColumns: string[] | null = null;
  // Fail early and clearly when an output path cannot be opened.
  await Promise.all(opened);
  return {
    event(ev) {
      if (!jsonlOut || (ev.type === 'token' && !o.ticks)) return;
      jsonlOut.write(`${eventToJsonl(ev)}\n`);
    },
    record(rec) {
      if (!csvOut) return;
      if (csvColumns === null) {
        csvColumns = recordColumns([rec]);
        csvOut.write(recordsToCsv([rec], csvColumns));
      } else {
        csvOut.write(recordsToCsv([rec], csvColumns).split('\n').slice(1).join('\n'));
      }
    },
    recordEvent(ev) {
      if (recordOut && streamEventToJsonl) recordOut.write(`${streamEventToJsonl(ev)}\n`);
    },
    recordSse(line) {
      sseOut?.write(`${line}\n\n`);
    },
    onBrokenPipe(cb) { brokenPipe = cb; },
    async close() {
      await Promise.all(files.map((f) => new Promise<void>((resolve) => (f.destroyed ? resolve() : f.end(() => resolve())))));
      if (writeError) throw writeError;
    },
  };
}

/** A monitor event as one JSON line; a `final` event carries the record (NaN → null). */
export function eventToJsonl(ev: MonitorEvent): string {
  if (ev.type === 'final') return `{"type":"final","sampleId":${JSON.stringify(ev.sampleId)},"t":${ev.t},"record":${recordToJsonl(ev.record)}}`;
  return JSON.stringify(ev, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
}
