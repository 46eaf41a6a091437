import type { Command } from '../main.ts';
import { numberOption, parseCommandArgs } from '../args.ts';
import { FailmodeError, usageError } from '../../errors.ts';
import { startSimulator } from '../../stream/simulator/start-simulator.ts';
import { untilSignal } from '../until-signal.ts';

const HELP = `failmode simulate — a local OpenAI-compatible server streaming synthetic reasoning traces with logprobs

Usage
  failmode simulate [options]

  Serves POST /v1/chat/completions (streaming and not; logprobs, top_logprobs ≤ 200, n, max_tokens,
  stream_options.include_usage), POST /v1/completions and /v1/responses (streaming), GET /v1/models, GET /stats,
  GET /metrics (vLLM's metric names) and SGLang's POST /abort_request {"rid": …} until Ctrl-C. Each choice is a correct,
  committed-failure or persistent-failure trace whose token uncertainty follows the paper's data
  (docs/simulator.md). Multiple-choice prompts end with "Final Answer: X", others with "Final: \\boxed{…}".
  Force a kind with the body field failmode_sim: {"kind": "committed"} or the header x-failmode-sim-profile.

Options
  --port N                port to listen on (default 8000; 0 = any free port)
  --host HOST             address to bind (default 127.0.0.1)
  --seed S                integer seed of the traces (default 0)
  --tokens-per-second R   tokens per second per sample (default 0 = as fast as the client reads)
  --zombie-rate P         share 0…1 of aborted requests that keep generating until /abort_request (default 0)
  -h, --help              show this help

Examples
  failmode simulate
  failmode simulate --port 0 --seed 7 --tokens-per-second 50
  failmode watch --base-url http://127.0.0.1:8000/v1 --model sim "What is 6*7?"
`;

export const command: Command = {
  summary: 'run a local OpenAI-compatible server that streams synthetic traces fitted to the paper (for demos and tests)',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      port: { type: 'string' },
      host: { type: 'string' },
      seed: { type: 'string' },
      'tokens-per-second': { type: 'string' },
      'zombie-rate': { type: 'string' },
    }, false);
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (positionals.length) throw usageError(`Unexpected argument: ${positionals[0]}`);
    const port = numberOption('port', values.port, { integer: true, min: 0, max: 65535 }) ?? 8000;
    const seed = numberOption('seed', values.seed, { integer: true }) ?? 0;
    const tokensPerSecond = numberOption('tokens-per-second', values['tokens-per-second'], { min: 0 }) ?? 0;
    const zombieRate = numberOption('zombie-rate', values['zombie-rate'], { min: 0, max: 1 }) ?? 0;
    const host = values.host ?? '127.0.0.1';
    let sim;
    try {
      sim = await startSimulator({ port, host, seed, tokensPerSecond, zombieRate });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EADDRINUSE') throw new FailmodeError(`port ${port} on ${host} is in use; pick another with --port (0 = any free port)`, 'FAILMODE_ERR_LISTEN', 1);
      if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND' || e.code === 'EACCES') throw new FailmodeError(`cannot listen on ${host}:${port}: ${e.code}`, 'FAILMODE_ERR_LISTEN', 1);
      throw err;
    }
    process.stdout.write(`failmode simulator listening on ${sim.url} (seed ${seed}${tokensPerSecond ? `, ${tokensPerSecond} tokens/s` : ''}${zombieRate ? `, zombie rate ${zombieRate}` : ''}); stats at ${sim.url.replace(/\/v1$/, '')}/stats — Ctrl-C to stop\n`);
    await untilSignal();
    const s = sim.stats();
    await sim.close();
    process.stdout.write(`stopped: ${s.requests} requests, ${s.completed} completed, ${s.aborted} aborted, ${s.tokensGenerated} tokens\n`);
    return 0;
  },
};
