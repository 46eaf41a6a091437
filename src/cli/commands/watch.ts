import { createWriteStream, type WriteStream } from 'node:fs';
import { open as openFile, readFile, stat } from 'node:fs/promises';
import { stopRuleShort } from '../../models/describe-stop-rule.ts';
import { EMPTY, Observable, Subject, defer, from, mergeMap, takeUntil, filter, tap, type Subscription } from 'rxjs';
import type { Command } from '../main.ts';
import { choiceOption, expandNumericListFlags, numberListOption, numberOption, parseCommandArgs } from '../args.ts';
import { FailmodeError, usageError } from '../../errors.ts';
import { unreadableInput } from '../../read-input-file.ts';
import { DEFAULT_SIGNAL_PARAMS, type SignalParams } from '../../features/token-signals.ts';
import type { ModelFile } from '../../models/model-file.ts';
import type { MonitorEvent, FeatureRecord } from '../../online/monitor-events.ts';
import { createSampleMonitor, resolveMonitorConfig, type MonitorOptions } from '../../online/monitor.ts';
import { PROFILE_NAMES, type Profile } from '../../online/profiles.ts';
import { recordColumns, recordsToCsv, recordToJsonl } from '../../online/record-writers.ts';
import { splitSampleId } from '../../online/sample-features.ts';
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
  --base-url URL          OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1 (vLLM, OpenAI, the simulator)
  --model M               model name sent with the request
  --prompt TEXT           one user prompt (or give it as the last argument)
  --prompts FILE.jsonl    one request per line: {"prompt": "...", "id": "q1", "reference": "B", "system": "..."}
  --system TEXT           system prompt for every request
  --n K                   completions per prompt (default 1)
  --max-tokens N          max_tokens per completion
  --temperature T         sampling temperature (default: the server's)
  --concurrency C         requests in flight at once with --prompts (default 4)
  --api-key-env VAR       environment variable holding the API key (default OPENAI_API_KEY; never printed)
  --reference ANSWER      reference answer for --prompt (enables "correct")
  --replay FILE.sse       replay a recorded raw SSE stream (- = stdin; see --record-sse)
  --request-id ID         sample ids ID:0, ID:1 … for --replay (default: the chunks' own id); give the live run's
                          prompt id (p0 for --prompt, demo for --demo) to get its records back exactly
  --replay-jsonl FILE     replay a token-event JSONL recording (- = stdin; see --record)
  --demo                  start the built-in simulator and watch 8 completions of a multiple-choice question
  --tokens-per-second R   simulator pace with --demo (default 150 in the live view, 0 = as fast as possible headless)

Options — features and scoring
  --model-file M.json     classifiers from \`failmode train\` (risk, stop thresholds, commitment point)
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

export const command: Command = {
  summary: 'watch generations stream live: token features, per-window failure risk, committed-failure flags (TUI or JSONL)',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(expandNumericListFlags(argv, ['windows']), {
      'base-url': { type: 'string' },
      model: { type: 'string' },
      prompt: { type: 'string' },
      prompts: { type: 'string' },
      system: { type: 'string' },
      n: { type: 'string' },
      'max-tokens': { type: 'string' },
      temperature: { type: 'string' },
      concurrency: { type: 'string' },
      'api-key-env': { type: 'string' },
      reference: { type: 'string' },
      replay: { type: 'string' },
      'request-id': { type: 'string' },
      'replay-jsonl': { type: 'string' },
      demo: { type: 'boolean' },
      'tokens-per-second': { type: 'string' },
      'model-file': { type: 'string' },
      profile: { type: 'string' },
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
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }

    // ---- validate the source choice
    const prompt = values.prompt ?? (positionals.length === 1 ? positionals[0] : undefined);
    if (positionals.length > 1 || (positionals.length === 1 && values.prompt !== undefined)) throw usageError(`Unexpected argument: ${positionals.at(-1)}`);
    const live = values['base-url'] !== undefined || values.model !== undefined || prompt !== undefined || values.prompts !== undefined;
    const kinds = [live, values.replay !== undefined, values['replay-jsonl'] !== undefined, values.demo === true].filter(Boolean).length;
    if (kinds === 0) throw usageError('Expected a source: --base-url URL --model M --prompt TEXT, --replay FILE.sse, --replay-jsonl FILE or --demo (see failmode watch --help)');
    if (kinds > 1) throw usageError('Give only one source: a live endpoint (--base-url/--model/--prompt), --replay, --replay-jsonl or --demo');
    if (live) {
      if (values['base-url'] === undefined) throw usageError('Expected --base-url URL for a live endpoint');
      if (values.model === undefined) throw usageError('Expected --model M for a live endpoint');
      if ((prompt === undefined) === (values.prompts === undefined)) throw usageError('Expected exactly one of --prompt TEXT or --prompts FILE.jsonl');
      try { new URL(values['base-url']); } catch { throw usageError(`Expected --base-url to be a URL like http://127.0.0.1:8000/v1, got \`${values['base-url']}\``); }
    }
    if (values['request-id'] !== undefined && values.replay === undefined) throw usageError('--request-id names the samples of a --replay FILE.sse; other sources have their own ids');
    if (values['record-sse'] !== undefined && !live && !values.demo) throw usageError('--record-sse records a live request\'s raw stream (--base-url … or --demo); a replay is already a recording');
    const n = numberOption('n', values.n, { integer: true, min: 1, max: 128 }) ?? 1;
    const maxTokens = numberOption('max-tokens', values['max-tokens'], { integer: true, min: 1 });
    const temperature = numberOption('temperature', values.temperature, { min: 0, max: 2 });
    const concurrency = numberOption('concurrency', values.concurrency, { integer: true, min: 1, max: 256 }) ?? 4;
    const tokensPerSecond = numberOption('tokens-per-second', values['tokens-per-second'], { min: 0 });
    const windows = numberListOption('windows', values.windows, { integer: true, min: 1 });
    const topKFlag = numberOption('top-k', values['top-k'], { integer: true, min: 0, max: 1000 });
    const nucleusP = numberOption('nucleus-p', values['nucleus-p'], { min: 0, max: 1 });
    const tieDelta = numberOption('tie-delta', values['tie-delta'], { min: 0 });
    let profile = choiceOption<Profile>('profile', values.profile, PROFILE_NAMES);
    if (values.letters !== undefined && !/^[A-Za-z]{2,26}$/.test(values.letters)) throw usageError(`Expected --letters to be option letters like ABCDE, got \`${values.letters}\``);

    // ---- model file
    let model: ModelFile | null = null;
    if (values['model-file'] !== undefined) {
      const { loadModelFile } = await import('../../models/model-io.ts');
      model = await loadModelFile(values['model-file']);
    }
    if (values.demo && profile === undefined && !model?.profile) profile = 'final-answer';
    const params: SignalParams | undefined = nucleusP !== undefined || tieDelta !== undefined
      ? { nucleusP: nucleusP ?? model?.signal.nucleusP ?? DEFAULT_SIGNAL_PARAMS.nucleusP, tieDelta: tieDelta ?? model?.signal.tieDelta ?? DEFAULT_SIGNAL_PARAMS.tieDelta }
      : undefined;
    const topK = topKFlag ?? model?.signal.topK ?? 20;

    // ---- output mode
    const jsonlTarget = values.jsonl;
    const { isInteractiveTerminal } = await import('../../tui/is-interactive-terminal.ts').catch(() => ({ isInteractiveTerminal: () => false }));
    let useTui = !values['no-tui'] && jsonlTarget !== '-' && isInteractiveTerminal();
    let runWatchTui: ((o: WatchTuiOptions) => Promise<void>) | null = null;
    if (useTui) {
      try {
        ({ runWatchTui } = await import('../../tui/run-watch-tui.tsx'));
      } catch {
        useTui = false; // the live view is not available in this build: headless output instead
      }
    }

    // ---- source
    let outputs: Outputs | undefined;
    const source = await openSource({
      values, prompt, n, maxTokens, temperature, concurrency, topK, tokensPerSecond: tokensPerSecond ?? (useTui ? 150 : 0),
      // Outputs open before the stream is subscribed, so no SSE line can arrive earlier.
      ...(values['record-sse'] !== undefined ? { recordSse: (line: string) => outputs?.recordSse(line) } : {}),
    });

    const monitorOpts: MonitorOptions = {
      model, windows, params, profile, topK: values.replay || values['replay-jsonl'] ? undefined : topK,
      ticks: useTui || values.ticks === true, letters: values.letters,
      reference: (sampleId) => source.references.get(splitSampleId(sampleId)[0] ?? '') ?? values.reference,
    };
    try {
      resolveMonitorConfig(monitorOpts);
    } catch (err) {
      await source.close();
      throw usageError((err as Error).message);
    }

    // ---- outputs
    let out: Outputs;
    try {
      out = await openOutputs({ jsonl: useTui ? (jsonlTarget ?? null) : (jsonlTarget ?? '-'), record: values.record, recordSse: values['record-sse'], recordsCsv: values['records-csv'], ticks: values.ticks === true });
    } catch (err) {
      await source.close();
      throw err;
    }
    outputs = out;
    const stats = { samples: 0, flagged: 0, errors: 0, fatal: null as string | null };
    // headless: say once what the stop rule guarantees (the TUI shows it in its header)
    if (!useTui && model) process.stderr.write(`failmode watch: model ${model.training.name} · stop rule: ${stopRuleShort(model)}\n`);

    // ---- the monitored stream: per-sample stop (user key or --early-stop) ends the sample and, once every choice of
    // its request has ended, aborts the request.
    let stopSample: (id: string) => void = () => {};
    // Ctrl-C headless: the source stops (its requests are aborted) and the open samples still get their partial records.
    const interrupt$ = new Subject<void>();
    let interrupted = false;
    const handle = (ev: MonitorEvent): void => {
      if (ev.type === 'final') { stats.samples++; out.record(ev.record); }
      if (ev.type === 'committed_failure') stats.flagged++;
      if (ev.type === 'stream_error') { stats.errors++; if (ev.fatal) stats.fatal = ev.message; }
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
        if (values['early-stop'] && ev.type === 'committed_failure') stopSample(ev.sampleId);
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
          subscriber.complete();
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

    try {
      if (useTui && runWatchTui) {
        await runWatchTui({
          events$,
          header: { endpoint: source.endpoint, model: source.modelName, classifier: model ? { name: model.training.name, regime: model.regime, commitmentPoint: model.commitmentPoint, stopRule: stopRuleShort(model) } : null },
          onStopSample: (id: string) => stopSample(id),
          earlyStop: values['early-stop'] === true,
        });
      } else {
        await new Promise<void>((resolve) => {
          let sub: Subscription | null = null;
          const onSignal = (): void => { interrupted = true; interrupt$.next(); sub?.unsubscribe(); cleanup(); resolve(); };
          const cleanup = (): void => { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); };
          process.on('SIGINT', onSignal);
          process.on('SIGTERM', onSignal);
          out.onBrokenPipe(() => { sub?.unsubscribe(); cleanup(); resolve(); });
          sub = events$.subscribe({ complete: () => { cleanup(); resolve(); } });
        });
      }
    } finally {
      await out.close();
      await source.close();
    }
    const replayFile = typeof values.replay === 'string' ? values.replay : typeof values['replay-jsonl'] === 'string' ? values['replay-jsonl'] : null;
    if (stats.fatal !== null && replayFile !== null && stats.samples === 0) {
      // A recording that could not be read at all is bad input: the reason first, exit 2. (A replay that worked and
      // then hit a stream error keeps exit code 1 below.)
      const reason = /Maximum call stack size exceeded/.test(stats.fatal) ? `${stats.fatal} (JSON nested too deeply to parse)` : stats.fatal;
      process.stderr.write(`failmode watch: ${replayFile}: ${reason}\n`);
      if (!useTui) process.stderr.write(`watched 0 samples: ${stats.errors} stream error${stats.errors === 1 ? '' : 's'}\n`);
      return 2;
    }
    if (!useTui) {
      process.stderr.write(`watched ${stats.samples} sample${stats.samples === 1 ? '' : 's'}: ${stats.flagged} flagged as committed failures, ${stats.errors} stream error${stats.errors === 1 ? '' : 's'}\n`);
    }
    if (stats.fatal !== null) {
      process.stderr.write(`failmode watch: ${stats.fatal}\n`);
      return 1;
    }
    return 0;
  },
};

interface SourceArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  prompt: string | undefined;
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
  if (typeof v.replay === 'string') {
    const { readSseFile, tokenEventsFromSse } = await import('../../stream/sse-source.ts');
    const opts = typeof v['request-id'] === 'string' ? { requestId: v['request-id'] } : {};
    const events$ = v.replay === '-' ? tokenEventsFromSse(process.stdin, opts) : (await checkReadable(v.replay, '--replay'), readSseFile(v.replay, opts));
    return { events$, endpoint: `replay ${v.replay === '-' ? 'stdin' : v.replay}`, modelName: 'replay', choicesPerRequest: Infinity, references: new Map(), close: async () => {} };
  }
  if (typeof v['replay-jsonl'] === 'string') {
    const { readTokenJsonl, tokenEventsFromJsonl } = await import('../../stream/jsonl-source.ts');
    const path = v['replay-jsonl'];
    const events$ = path === '-' ? tokenEventsFromJsonl(process.stdin) : (await checkReadable(path, '--replay-jsonl'), readTokenJsonl(path));
    return { events$, endpoint: `replay ${path === '-' ? 'stdin' : path}`, modelName: 'replay', choicesPerRequest: Infinity, references: new Map(), close: async () => {} };
  }
  const { tokenEventsFromOpenAI } = await import('../../stream/openai-source.ts');
  let prompts: PromptSpec[];
  let baseURL: string;
  let modelName: string;
  let apiKey: string | undefined;
  let extraBody: Record<string, unknown> | undefined;
  let close = async (): Promise<void> => {};
  const n = v.demo ? (v.n === undefined ? 8 : a.n) : a.n;
  if (v.demo) {
    const { startSimulator } = await import('../../stream/simulator/start-simulator.ts');
    const sim = await startSimulator({ seed: 7, tokensPerSecond: a.tokensPerSecond });
    close = () => sim.close();
    baseURL = sim.url;
    modelName = 'failmode-sim';
    prompts = [{ id: 'demo', prompt: DEMO_QUESTION, reference: 'B', system: DEMO_SYSTEM }];
    extraBody = { failmode_sim: { reference: 'B' } };
  } else {
    baseURL = v['base-url'] as string;
    modelName = v.model as string;
    const envName = typeof v['api-key-env'] === 'string' ? v['api-key-env'] : 'OPENAI_API_KEY';
    apiKey = process.env[envName];
    if (typeof v['api-key-env'] === 'string' && !apiKey) throw usageError(`Environment variable ${envName} (--api-key-env) is not set`);
    prompts = typeof v.prompts === 'string'
      ? await readPrompts(v.prompts)
      : [{ id: 'p0', prompt: a.prompt as string, ...(typeof v.reference === 'string' ? { reference: v.reference } : {}) }];
    // Concurrent requests would interleave their events in one file, and the file's replay could not tell them apart.
    if (a.recordSse && prompts.length > 1) throw usageError(`--record-sse records one request's raw stream, but ${v.prompts} has ${prompts.length} prompts: use --prompt, or --record FILE.jsonl for several`);
  }
  const system = typeof v.system === 'string' ? v.system : undefined;
  const references = new Map<string, string>();
  for (const p of prompts) if (p.reference !== undefined) references.set(p.id, p.reference);
  const abort$ = new Subject<string>();
  const events$ = from(prompts).pipe(mergeMap((p) => defer(() => {
    const sys = p.system ?? system;
    const messages = [...(sys ? [{ role: 'system', content: sys }] : []), { role: 'user', content: p.prompt }];
    return tokenEventsFromOpenAI({
      baseURL, model: modelName, messages, n, topLogprobs: a.topK, requestId: p.id,
      ...(apiKey ? { apiKey } : {}),
      ...(a.maxTokens !== undefined ? { maxTokens: a.maxTokens } : {}),
      ...(a.temperature !== undefined ? { temperature: a.temperature } : {}),
      ...(extraBody ? { extraBody } : {}),
      ...(a.recordSse ? { recordSse: a.recordSse } : {}),
    }).pipe(takeUntil(abort$.pipe(filter((id) => id === p.id))));
  }), a.concurrency));
  return {
    events$: prompts.length === 0 ? EMPTY : events$,
    endpoint: baseURL, modelName, choicesPerRequest: n, references,
    abortRequest: (id) => abort$.next(id),
    close,
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
