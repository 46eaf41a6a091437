import { FailmodeError } from '../errors.ts';
import { applyNoColor } from './no-color.ts';
import { endQuietlyOnBrokenPipe } from './quiet-broken-pipe.ts';

/** A CLI command: `run` returns the exit code; `summary` is its line in `failmode --help`. */
export interface Command {
  readonly summary: string;
  run(argv: string[]): Promise<number>;
}

/** One line per command for `failmode --help` (kept here so help never loads a command's dependencies). */
const summaries: Record<string, string> = {
  demo: 'simulated server + live view with early stopping: see committed failures flagged (no GPU, no network)',
  watch: 'watch streamed generations live (endpoint, .sse or .jsonl replay): features, risk, commitment point',
  simulate: 'run the built-in simulated OpenAI-compatible server (synthetic traces with logprobs)',
  analyze: "the paper's failure-mode analysis of a results file (CV PR-AUC, bootstrap CIs, verdict, plot)",
  reproduce: "reproduce all the paper's tables and compare with its published reports",
  train: 'train per-window failure classifiers into a portable model file for the live monitor',
  trajectory: "the paper's 4-step trajectory classifiers (SPEC §4)",
  serve: 'OpenAI-compatible monitoring proxy with early stopping and a WebSocket feed',
  feed: 'WebSocket feed gateway for many serve instances on a NATS bus (failmode serve --bus)',
  sample: 'self-consistency sampler that stops failing samples early and votes',
  'early-stop-eval': "what early stopping saves on the paper's data (out-of-fold)",
  'sc-triage': "the paper's self-consistency analyses (which questions the vote gets wrong)",
  'shadow-report': 'what a stop rule recorded with sample --shadow would have done: false kills, tokens saved, accuracy',
};

/** Commands load lazily so `failmode analyze` never pays for Ink, ws or the openai SDK. */
const commands: Record<string, () => Promise<Command>> = {
  demo: async () => (await import('./commands/demo.ts')).command,
  watch: async () => (await import('./commands/watch.ts')).command,
  simulate: async () => (await import('./commands/simulate.ts')).command,
  analyze: async () => (await import('./commands/analyze.ts')).command,
  reproduce: async () => (await import('./commands/reproduce.ts')).command,
  train: async () => (await import('./commands/train.ts')).command,
  trajectory: async () => (await import('./commands/trajectory.ts')).command,
  serve: async () => (await import('./commands/serve.ts')).command,
  feed: async () => (await import('./commands/feed.ts')).command,
  sample: async () => (await import('./commands/sample.ts')).command,
  'early-stop-eval': async () => (await import('./commands/early-stop-eval.ts')).command,
  'sc-triage': async () => (await import('./commands/sc-triage.ts')).command,
  'shadow-report': async () => (await import('./commands/shadow-report.ts')).command,
};

async function loadCommand(name: string): Promise<Command | undefined> {
  const load = commands[name];
  if (!load) return undefined;
  try {
    return await load();
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(`commands/${name}.ts`)) return undefined;
    throw err;
  }
}

function helpText(): string {
  const lines = ['failmode — token-level failure signatures of reasoning traces, live and offline', '', 'Usage',
    '  failmode <command> [options]    (failmode <command> --help, or failmode help <command>, for details)', '', 'Commands'];
  for (const name of Object.keys(commands)) lines.push(`  ${name.padEnd(16)} ${summaries[name] ?? ''}`);
  lines.push('', 'Options', '  -h, --help       show this help', '  -v, --version    print the version');
  lines.push('', 'Examples', '  failmode demo', '  failmode help analyze', '  failmode analyze ../shared/paper/results/gpqa_gpt4o.final.csv --prefinal');
  return lines.join('\n');
}

/** Entry point: maps every FailmodeError to one line on stderr and its exit code; nothing else prints a stack. */
export async function main(argv: string[]): Promise<number> {
  endQuietlyOnBrokenPipe(process.stdout);
  endQuietlyOnBrokenPipe(process.stderr);
  applyNoColor();
  const [first, ...afterFirst] = argv;
  // `failmode help CMD` is `failmode CMD --help`.
  const helpFor = first === 'help' && afterFirst.length > 0 ? afterFirst[0]! : null;
  const [name, ...rest] = helpFor !== null ? [helpFor, '--help'] : argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${helpText()}\n`);
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    const { createRequire } = await import('node:module');
    process.stdout.write(`${createRequire(import.meta.url)('../../package.json').version}\n`);
    return 0;
  }
  try {
    const cmd = await loadCommand(name);
    if (!cmd) {
      process.stderr.write(`failmode: unknown command \`${name}\`. Commands: ${Object.keys(commands).join(', ')}\n`);
      return 2;
    }
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof FailmodeError) {
      process.stderr.write(`failmode ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    const e = err as NodeJS.ErrnoException;
    if (e && typeof e.code === 'string' && ['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'EPERM'].includes(e.code)) {
      process.stderr.write(`failmode ${name}: cannot read ${e.path ?? 'input'}: ${e.code}\n`);
      return 2;
    }
    process.stderr.write(`failmode ${name}: internal error: ${e?.stack ?? String(err)}\n`);
    return 1;
  }
}
