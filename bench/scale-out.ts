/**
 * Scale-out: the same load (C concurrent samples × L tokens from the simulator, callers reading everything) through 1
 * and then 2 `failmode serve --bus` processes on one nats-server (requests round-robin). Prints tokens/s of each.
 *
 *   node --import tsx bench/scale-out.ts [--samples 64] [--tokens 2000]     (needs nats-server)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchArgs } from './lib/bench-json.ts';
import { startSimulator } from '../src/stream/simulator/index.ts';
import { startNatsServer } from '../test/feed/nats-server.ts';

const BIN = fileURLToPath(new URL('../bin/failmode', import.meta.url));
const MCQ = 'Which option is right?\n(A) one\n(B) two\n(C) three\n(D) four';

async function startServeProcess(args: string[]): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    proc.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m && log.includes('Ctrl-C')) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`serve exited (${code}): ${log}`)));
  });
  return { url, proc };
}

// `npm run bench -- --json DIR` passes --json to every bench: this one has no figures file, so it only takes it out.
const { values } = parseArgs({ args: benchArgs().rest, options: { samples: { type: 'string', default: '64' }, tokens: { type: 'string', default: '2000' } } });
const samples = Number(values.samples);
const tokens = Number(values.tokens);
const nats = await startNatsServer();
const sim = await startSimulator({ seed: 7 });
const drain = async (base: string, i: number): Promise<void> => {
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-failmode-run': 'scale', 'x-failmode-question': `q${i}` },
    body: JSON.stringify({ model: 'sim', messages: [{ role: 'user', content: `${MCQ} #${i}` }], stream: true, failmode_sim: { length: tokens } }),
  });
  for await (const _ of res.body as unknown as AsyncIterable<Uint8Array>) { /* the caller reads everything */ }
};
console.log(`scale-out: ${samples} concurrent samples × ${tokens} tokens, simulator and callers in this process, serve instances as processes on one nats-server`);
try {
  let t0 = performance.now();
  await Promise.all(Array.from({ length: samples }, (_, i) => drain(sim.url.replace(/\/v1$/, ''), i)));
  let s = (performance.now() - t0) / 1000;
  console.log(`  direct (simulator)   ${(samples * tokens / s).toFixed(0).padStart(8)} tok/s`);
  for (const n of [1, 2]) {
    const instances = await Promise.all(Array.from({ length: n }, () => startServeProcess(['--upstream', sim.url, '--bus', nats.url])));
    t0 = performance.now();
    await Promise.all(Array.from({ length: samples }, (_, i) => drain(instances[i % n]!.url, i)));
    s = (performance.now() - t0) / 1000;
    console.log(`  ${n} serve instance${n > 1 ? 's' : ' '}    ${(samples * tokens / s).toFixed(0).padStart(8)} tok/s`);
    for (const x of instances) x.proc.kill('SIGTERM');
  }
} finally {
  await sim.close();
  await nats.close();
}
