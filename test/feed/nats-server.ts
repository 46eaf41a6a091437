/** Starts Debian's nats-server for the scale-out tests: a free port from the OS, JetStream on, readiness by connecting. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';

const CANDIDATES = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];

/** The nats-server binary, or null when it is not installed. */
export function natsServerPath(): string | null {
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

/**
 * The `skip` option of a test that needs nats-server: false when it is installed; otherwise one visible line and a
 * skip — except under CI=true, where a missing nats-server must fail (so it is never silently untested there).
 */
export function skipWithoutNats(): false | string {
  if (natsServerPath() !== null) return false;
  if (process.env.CI === 'true') throw new Error('nats-server is not installed, and under CI=true the scale-out tests must run (.ci/run installs it)');
  const why = 'nats-server not installed (apt-get install nats-server): scale-out tests skipped';
  process.stderr.write(`# ${why}\n`);
  return why;
}

/** A free TCP port: bind port 0, read what the OS gave, close (nats-server's `-p 0` is not supported everywhere). */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  /** Kills the process (SIGKILL) and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port and store directory, ready when it accepts a client. */
  restart(): Promise<void>;
  /** Stops it and removes its store directory. */
  close(): Promise<void>;
}

export async function startNatsServer(): Promise<NatsServer> {
  const bin = natsServerPath();
  if (bin === null) throw new Error('nats-server is not installed');
  const store = mkdtempSync(join(tmpdir(), 'failmode-nats-'));
  const port = await freePort();
  const url = `nats://127.0.0.1:${port}`;
  let proc: ChildProcess | null = null;
  let log = '';
  const launch = async (): Promise<void> => {
    log = '';
    const p = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store], { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout!.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000); });
    p.stderr!.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000); });
    proc = p;
    let exited = false;
    p.once('exit', () => { exited = true; });
    // Ready = a client connects and JetStream answers (the KV bucket needs it). Retries, never a fixed sleep.
    const deadline = Date.now() + 30_000;
    for (let attempt = 0; ; attempt++) {
      if (exited) throw new Error(`nats-server exited at start-up: ${log}`);
      try {
        const nc = await connect({ servers: url, timeout: 1000, reconnect: false });
        try {
          await nc.request('$JS.API.INFO', undefined, { timeout: 2000 });
        } finally {
          await nc.close();
        }
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`nats-server did not become ready on ${url}: ${(err as Error).message}; log: ${log}`);
        await new Promise((r) => setTimeout(r, Math.min(25 * 2 ** attempt, 250)));
      }
    }
  };
  const stop = async (): Promise<void> => {
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  };
  await launch();
  return {
    url, port,
    kill: stop,
    restart: launch,
    async close() {
      await stop();
      rmSync(store, { recursive: true, force: true });
    },
  };
}
