import type { ServerResponse } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { SamplePlan } from './sample-plan.ts';
import type { SimStreamFormat, SimToken } from './sim-stream-format.ts';
import type { SimKind } from './trace-model.ts';

/** Bytes gathered before a write when streaming as fast as possible (fewer syscalls; an abort stops within one batch). */
const WRITE_BATCH = 32 * 1024;

/** What the stream loop updates and asks of the server. */
export interface SimStreamContext {
  /** Tokens per second per sample; 0 = as fast as the client reads. */
  readonly tokensPerSecond: number;
  /** Injected clock (tests): after each round, await `pace(tokens produced so far)`; replaces tokensPerSecond. */
  readonly pace?: (produced: number) => Promise<void> | void;
  /** This request, once its client has gone, keeps generating (a "zombie", as SGLang builds with the abort bug). */
  readonly zombie: boolean;
  /** Counts one generated token of a sample of `kind`. */
  readonly onToken: (kind: SimKind) => void;
  /** The client closed the connection before the end (a zombie: when it left; otherwise once generation stopped). */
  readonly onClientGone: () => void;
  /** Registers the explicit abort of this generation (SGLang's /abort_request); returns the unregister. */
  readonly registerAbort: (abort: () => void) => () => void;
}

/** How a streamed generation ended. */
export type SimStreamEnd = 'completed' | 'client_gone' | 'aborted';

/**
 * Streams the plans' tokens (choices interleaved, one token each per round) in `format` until every plan is done.
 * A client that closes the connection stops the generation at once — unless the request is a zombie, which goes on
 * generating (counted, nothing written) until its plans end or an explicit abort arrives.
 */
export async function streamPlans(res: ServerResponse, plans: SamplePlan[], k: number, format: SimStreamFormat, ctx: SimStreamContext): Promise<SimStreamEnd> {
  let clientGone = false;
  let aborted = false;
  let finished = false;
  const waiters = new Set<() => void>();
  const wake = (): void => { for (const w of waiters) w(); };
  res.on('close', () => {
    if (!finished && !clientGone) {
      clientGone = true;
      // A zombie is counted as aborted at once (it runs on); a normal stream once its generation has stopped.
      if (ctx.zombie) ctx.onClientGone();
    }
    wake();
  });
  const unregister = ctx.registerAbort(() => { aborted = true; wake(); });
  const wait = (event: 'drain' | null, ms: number): Promise<void> => new Promise((resolve) => {
    const done = (): void => {
      waiters.delete(done);
      if (event) res.off(event, done);
      if (timer) clearTimeout(timer);
      resolve();
    };
    waiters.add(done);
    if (event) res.once(event, done);
    const timer = ms > 0 ? setTimeout(done, ms) : undefined;
  });
  const stopped = (): boolean => aborted || (clientGone && !ctx.zombie);
  /** Ends a paced wait: the client left (a zombie is not paced by anyone then) or an explicit abort came. */
  const closedOrAborted = new Promise<void>((resolve) => waiters.add(function ended() { if (stopped() || clientGone) { waiters.delete(ended); resolve(); } }));

  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  let buf = '';
  for (let i = 0; i < plans.length; i++) buf += format.open(i);
  const tok: SimToken = { json: '', text: '' };
  const active = plans.map((p, i) => ({ p, i }));
  const interval = ctx.tokensPerSecond > 0 ? 1000 / ctx.tokensPerSecond : 0;
  let due = performance.now();
  let produced = 0;
  try {
    while (active.length > 0 && !stopped()) {
      for (let a = 0; a < active.length; a++) {
        const { p, i } = active[a]!;
        p.step(k, tok);
        ctx.onToken(p.kind);
        produced++;
        buf += format.token(i, tok);
        if (p.done) {
          buf += format.finish(i, p.finishReason);
          active.splice(a--, 1);
        }
      }
      if (clientGone) buf = ''; // a zombie: generating for nobody
      if (ctx.pace) {
        if (buf !== '') res.write(buf);
        buf = '';
        await Promise.race([ctx.pace(produced), closedOrAborted]);
        await nextTurn(); // let a 'close' from the client be seen
      } else if (interval > 0) {
        if (buf !== '') res.write(buf);
        buf = '';
        due += interval;
        const ms = due - performance.now();
        if (ms > 0) await wait(null, ms);
        else await nextTurn();
      } else if (buf.length >= WRITE_BATCH || clientGone) {
        const ok = buf === '' || res.write(buf);
        buf = '';
        if (!ok) await wait('drain', 0);
        else await nextTurn(); // let a 'close' from the client be seen
      }
    }
    if (aborted) {
      if (clientGone && !ctx.zombie) ctx.onClientGone();
      res.destroy();
      return 'aborted';
    }
    if (clientGone) {
      if (!ctx.zombie) ctx.onClientGone();
      return 'client_gone';
    }
    buf += format.close(produced);
    finished = true;
    res.end(buf);
    return 'completed';
  } finally {
    unregister();
  }
}
