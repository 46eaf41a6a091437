import type { Channel } from '../stream/token-event.ts';
import { TICK_BATCH_TOKENS, type TokenBatchMessage, type TokenTickMessage } from './protocol.ts';

/**
 * The pending ticks of one sample, in fixed-size columns (allocated once per sample, reused batch after batch): adding
 * a tick writes its fields into them, no object is built per token. {@link take} builds the one `token_batch` message.
 */
export class TickBatch {
  readonly run: string;
  readonly sampleId: string;
  size = 0;
  private from = 0;
  private t = 0;
  private readonly tokens: string[] = new Array<string>(TICK_BATCH_TOKENS);
  private readonly entropy = new Float64Array(TICK_BATCH_TOKENS);
  private readonly nll = new Float64Array(TICK_BATCH_TOKENS);
  /** The channel letter of each tick as a char code ('r' reasoning, 'c' content): the `channels` string in one go. */
  private readonly channels = new Uint8Array(TICK_BATCH_TOKENS);

  constructor(run: string, sampleId: string) {
    this.run = run;
    this.sampleId = sampleId;
  }

  /** Adds one tick (the fields of a `token` message); true when the batch is full (take it now). */
  add(index: number, token: string, entropy: number, nll: number, channel: Channel, t: number): boolean {
    if (this.size === 0) this.from = index;
    const i = this.size++;
    this.tokens[i] = token;
    this.entropy[i] = entropy;
    this.nll[i] = nll;
    this.channels[i] = channel === 'reasoning' ? R : C;
    this.t = t;
    return this.size === TICK_BATCH_TOKENS;
  }

  /** The batch as a message (NaN values travel as null), and an empty batch. Plain loops: no iterator per value. */
  take(): TokenBatchMessage {
    const n = this.size;
    const entropy = new Array<number>(n);
    const nll = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      entropy[i] = this.entropy[i]!;
      nll[i] = this.nll[i]!;
    }
    const msg: TokenBatchMessage = {
      type: 'token_batch', run: this.run, sampleId: this.sampleId, from: this.from, tokens: this.tokens.slice(0, n),
      entropy, nll, channels: String.fromCharCode.apply(null, this.channels.subarray(0, n) as unknown as number[]), t: this.t,
    };
    this.size = 0;
    this.tokens.fill('');
    return msg;
  }
}

const R = 'r'.charCodeAt(0);
const C = 'c'.charCodeAt(0);

/** The per-token `token` messages of a batch (a gateway serving per-token subscribers from batches). */
export function ticksOfBatch(b: TokenBatchMessage): TokenTickMessage[] {
  return b.tokens.map((token, i) => ({
    type: 'token', run: b.run, sampleId: b.sampleId, index: b.from + i, token,
    entropy: b.entropy[i] ?? NaN, nll: b.nll[i] ?? NaN, channel: b.channels[i] === 'r' ? 'reasoning' : 'content', t: b.t,
  }));
}
