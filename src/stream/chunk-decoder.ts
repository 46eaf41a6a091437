import { completionChoiceAsChat, isTextCompletionChunk } from './completions-choice.ts';
import { ResponsesEventAdapter, isResponsesEvent } from './responses-events.ts';
import { TokenChannelCursor } from './token-channel-cursor.ts';
import type { Channel, SampleEndEvent, StreamEvent, TokenEvent, TopLogprob } from './token-event.ts';

/** Options shared by every source built on the decoder. */
export interface ChunkDecoderOptions {
  /**
   * Prefix of every `sampleId` (`${requestId}:${choiceIndex}`). Default: the chunk's own `id` (one per request on
   * OpenAI and vLLM), or `request-N` when the chunk has none. When given and the input holds several requests
   * (several `[DONE]`), the 2nd, 3rd… request get `${requestId}.2`, `${requestId}.3`….
   */
  readonly requestId?: string;
  /** Clock for the events' `t` (ms since the epoch). Default: `performance.timeOrigin + performance.now()`. */
  readonly now?: () => number;
  /**
   * The k asked for: a `/v1/completions` top list is cut to its k highest (that API may add the chosen token as a
   * (k+1)-th entry). Default: keep every entry.
   */
  readonly maxTopLogprobs?: number;
  /**
   * Choices open at once in one request; a chunk of a further choice is not decoded (one `stream_error` per request
   * says so). Bounds the decoder's memory against an upstream numbering choices without end. @default 65,536
   */
  readonly maxOpenChoices?: number;
}

/** The chunk text without its `,"bytes":[…]` members (never read; ~40 % of a top-k chunk's allocations). */
export function stripBytesMembers(data: string): string {
  return data.replace(BYTES_FIELD, '');
}

/** The default clock of every source. */
export function defaultNow(): number {
  return performance.timeOrigin + performance.now();
}

interface SampleState {
  /** Next token index. */
  index: number;
  withoutLogprobs: number;
  /** Set when the server sent a finish_reason; the end event may still be pending (see `pending`). */
  finishReason: string | null;
  /** Text of tokens the server sent without text (vLLM's reasoning parser): that text, arriving later, is not new tokens. */
  held: string;
  /** Channel of the last token (held-back tokens, whose text is not known yet, stay in it). */
  channel: Channel;
}

type Json = Record<string, unknown>;

/**
 * A compact `"bytes":[…]` member after another member of a logprob entry (what OpenAI and vLLM send). One literal
 * prefix, no alternation: the regex engine then skips ahead to each `,"bytes":[` instead of trying every comma and
 * quote (2× faster on top-20 chunks). A `bytes` member it leaves (first in its object, or `null`) is merely parsed.
 */
const BYTES_FIELD = /,"bytes":\[[\d,]*\]/g;

/**
 * Turns parsed `chat.completion.chunk` objects into StreamEvents — the one place that knows the chunk format, used by
 * the SSE, SDK and simulator paths alike. State (open samples, token counters) is per instance: one decoder per stream.
 *
 * Shapes, detected per chunk: chat-completion chunks (OpenAI, vLLM, SGLang), `/v1/completions` chunks
 * (`object: "text_completion"`, see completions-choice.ts) and Responses API events (`type: "response.…"`, see
 * responses-events.ts); the last two are turned into chat chunks first.
 *
 * What it reads, per choice: `delta.reasoning` / `delta.reasoning_content` (channel 'reasoning') and `delta.content`;
 * `logprobs.content[]` plus the non-standard `logprobs.reasoning_content[]` / `logprobs.reasoning[]`. Every logprob
 * entry becomes one TokenEvent (so several tokens per chunk are fine). When `logprobs.content` holds the chunk's
 * tokens and the delta carries both reasoning and content text (SGLang's reasoning parser), each token's channel is
 * found by its text ({@link TokenChannelCursor}); with only reasoning text they are all reasoning tokens (gpt-oss on
 * vLLM, SPEC §2.0). Entries with no text at all in the delta (vLLM's reasoning parser holding text back) are tokens
 * too, and the text that arrives later for them does not become extra tokens.
 * Text without logprob entries becomes one TokenEvent with `logprob: NaN, top: null` and is counted in the sample's
 * `tokensWithoutLogprobs` — the text is kept (the monitor needs it to find the final-answer line), never dropped.
 * An empty `top_logprobs` list is reported as `top: null` (no alternatives); `null` alternatives' logprobs become −∞.
 *
 * Ends: a choice's `finish_reason` ends its sample. With a single sample in the request the end event waits for the
 * usage chunk (`stream_options.include_usage`), `[DONE]` or the end of input, so it can carry `usage`; with several
 * choices ends are emitted at once and carry no usage (the server's usage is per request, not per choice).
 * `finish()` at the end of input ends every sample still open with finishReason 'error' (a dropped connection).
 * Malformed input (bad JSON, wrong shape, a server error object) gives a non-fatal `stream_error` with the caller's
 * position and decoding goes on with the next chunk.
 */
export class ChunkDecoder {
  private readonly emit: (ev: StreamEvent) => void;
  private readonly fixedRequestId: string | undefined;
  private readonly now: () => number;
  private readonly maxTop: number | undefined;
  private readonly maxOpen: number;
  /** The current request already reported a choice over {@link maxOpen}. */
  private overOpenReported = false;
  private responses: ResponsesEventAdapter | null = null;
  private readonly samples = new Map<string, SampleState>();
  /** Samples that finished and whose end waits for usage / [DONE] (at most the single sample of an n=1 request). */
  private pending: string[] = [];
  private usage: { promptTokens?: number; completionTokens?: number } | undefined;
  private requestId: string | undefined;
  private segment = 1;
  /** Samples seen in the current request (segment). */
  private seenInSegment = 0;
  /** The current request's sampleIds by choice index: one string per choice, not one per chunk. */
  private sampleIds: string[] = [];
  /** Where the decoder is (see {@link position}): kept as parts, the text is made only for an error. */
  private where: string | number = '';
  private whereLine = 0;
  private whereChoice = -1;

  constructor(emit: (ev: StreamEvent) => void, opts: ChunkDecoderOptions = {}) {
    this.emit = emit;
    this.fixedRequestId = opts.requestId;
    this.now = opts.now ?? defaultNow;
    this.maxTop = opts.maxTopLogprobs;
    this.maxOpen = opts.maxOpenChoices ?? MAX_OPEN_CHOICES;
  }

  /**
   * One SSE `data` payload (or any text holding one chunk): `[DONE]` ends the request, anything else is JSON.
   * `position` names it in errors: a text, or the SSE event's number (said `event N`; the text is only made when an
   * error names it, so a clean stream builds no position string).
   */
  decodeData(data: string, position: string | number): void {
    this.at(position);
    this.decodeDataHere(data);
  }

  /** One parsed chunk object (`position` as in {@link decodeData}). */
  decodeChunk(chunk: unknown, position: string | number): void {
    this.at(position);
    this.decodeChunkHere(chunk);
  }

  private at(position: string | number): void {
    this.where = position;
    this.whereLine = 0;
    this.whereChoice = -1;
  }

  /** Where the decoder is, for an error message: `event 7`, `event 7 line 2`, `event 7 choice 1`. */
  private position(): string {
    let p = typeof this.where === 'number' ? `event ${this.where}` : this.where;
    if (this.whereLine > 0) p += ` line ${this.whereLine}`;
    if (this.whereChoice >= 0) p += ` choice ${this.whereChoice}`;
    return p;
  }

  private decodeDataHere(data: string): void {
    if (data === '[DONE]' || data.trimEnd() === '[DONE]') {
      this.done();
      return;
    }
    let chunk: unknown;
    try {
      // `bytes` arrays (one per token and alternative, ~40 % of a top-k chunk) are never used: dropping them before
      // JSON.parse saves allocating them (+15 % throughput). The pattern can only match a real key: inside a JSON
      // string a quote is always escaped, so `,"bytes":[` cannot occur there.
      chunk = JSON.parse(stripBytesMembers(data));
    } catch (err) {
      // A recording written with single newlines joins consecutive `data:` lines into one event: decode each line.
      if (data.includes('\n') && this.whereLine === 0) {
        const lines = data.split('\n');
        for (let i = 0; i < lines.length; i++) {
          if (lines[i] === '') continue;
          this.whereLine = i + 1;
          this.whereChoice = -1;
          this.decodeDataHere(lines[i]!);
        }
        return;
      }
      this.error(`Expected a JSON chat.completion.chunk, got unparsable data (${(err as Error).message}): ${preview(data)}`);
      return;
    }
    this.decodeChunkHere(chunk);
  }

  private decodeChunkHere(chunk: unknown): void {
    if (chunk === null || typeof chunk !== 'object' || Array.isArray(chunk)) {
      this.error(`Expected a chat.completion.chunk object, got ${describe(chunk)}`);
      return;
    }
    let c = chunk as Json;
    if (isResponsesEvent(c)) {
      this.decodeResponsesEvent(c);
      return;
    }
    if (isTextCompletionChunk(c) && Array.isArray(c.choices)) {
      c = { ...c, choices: c.choices.map((ch) => completionChoiceAsChat(ch, this.maxTop)) };
    }
    if (c.error !== undefined || c.object === 'error') {
      const e = (c.error ?? c) as Json;
      this.error(`Server error in stream: ${typeof e.message === 'string' ? e.message : preview(JSON.stringify(e))}`);
      return;
    }
    const choices = c.choices;
    if (choices !== undefined && choices !== null && !Array.isArray(choices)) {
      this.error(`Expected \`choices\` to be an array, got ${describe(choices)}`);
      return;
    }
    if (this.requestId === undefined) {
      this.requestId = this.fixedRequestId !== undefined
        ? (this.segment === 1 ? this.fixedRequestId : `${this.fixedRequestId}.${this.segment}`)
        : typeof c.id === 'string' && c.id !== '' ? c.id : `request-${this.segment}`;
    }
    const model = typeof c.model === 'string' ? c.model : undefined;
    if (choices) {
      for (let i = 0; i < choices.length; i++) {
        this.whereChoice = i;
        this.decodeChoice(choices[i], model);
      }
      this.whereChoice = -1;
    }
    if (c.usage !== undefined && c.usage !== null) {
      if (typeof c.usage !== 'object') {
        this.error(`Expected \`usage\` to be an object, got ${describe(c.usage)}`);
      } else {
        const u = c.usage as Json;
        this.usage = {
          ...(typeof u.prompt_tokens === 'number' ? { promptTokens: u.prompt_tokens } : {}),
          ...(typeof u.completion_tokens === 'number' ? { completionTokens: u.completion_tokens } : {}),
        };
        // The include_usage chunk (no choices) comes after every finish_reason: the pending end can go now.
        if (!choices || choices.length === 0) this.flushPending(true);
      }
    }
  }

  /** One Responses API event: its chat chunks, or a stream error that ends the response's sample with 'error'. */
  private decodeResponsesEvent(ev: Json): void {
    this.responses ??= new ResponsesEventAdapter();
    const step = this.responses.step(ev);
    if (step.kind === 'skip') return;
    if (step.kind === 'error') {
      this.error(step.message);
      this.flushPending(true);
      for (const [id, s] of this.samples) this.end(id, s, s.finishReason ?? 'error', false);
      this.samples.clear();
      return;
    }
    for (const ch of step.chunks) this.decodeChunkHere(ch);
    // A response has no [DONE]: its terminal event ends the request.
    if (step.endOfRequest) {
      this.done();
      this.responses = null;
    }
  }

  /** `[DONE]`: flushes pending ends; samples that never got a finish_reason end with 'unknown'. Next chunks are a new request. */
  done(): void {
    this.flushPending(true);
    for (const [id, s] of this.samples) this.end(id, s, s.finishReason ?? 'unknown', false);
    this.samples.clear();
    this.usage = undefined;
    this.requestId = undefined;
    this.sampleIds = [];
    this.overOpenReported = false;
    this.seenInSegment = 0;
    this.segment++;
  }

  /** End of input: flushes pending ends; every sample still open (no finish_reason) ends with 'error'. */
  finish(): void {
    this.flushPending(true);
    for (const [id, s] of this.samples) this.end(id, s, s.finishReason ?? 'error', false);
    this.samples.clear();
  }

  /** `${requestId}:${index}`, made once per choice of the request (small indices; others are rare and made each time). */
  private sampleIdOf(index: number): string {
    if (index >= MAX_CACHED_CHOICES) return `${this.requestId}:${index}`;
    let id = this.sampleIds[index];
    if (id === undefined) {
      id = `${this.requestId}:${index}`;
      this.sampleIds[index] = id;
    }
    return id;
  }

  /** Number of samples started and not yet ended. */
  get openSamples(): number {
    return this.samples.size;
  }

  private decodeChoice(raw: unknown, model: string | undefined): void {
    if (raw === null || typeof raw !== 'object') {
      this.error(`Expected a choice object, got ${describe(raw)}`);
      return;
    }
    const choice = raw as Json;
    const index = choice.index === undefined ? 0 : choice.index;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) {
      this.error(`Expected \`index\` to be a non-negative integer, got ${describe(index)}`);
      return;
    }
    const sampleId = this.sampleIdOf(index);
    let s = this.samples.get(sampleId);
    if (s === undefined) {
      if (this.samples.size >= this.maxOpen) {
        if (!this.overOpenReported) this.error(`More than ${this.maxOpen} choices open at once in one request: choice ${index} and any further new choice are not decoded`);
        this.overOpenReported = true;
        return;
      }
      // A new sample while an end waits for usage: the request has several samples, so no per-sample usage.
      if (this.pending.length > 0) this.flushPending(false);
      s = { index: 0, withoutLogprobs: 0, finishReason: null, held: '', channel: 'content' };
      this.samples.set(sampleId, s);
      this.seenInSegment++;
      this.emit(model === undefined ? { type: 'start', sampleId, t: this.now() } : { type: 'start', sampleId, model, t: this.now() });
    }

    const delta = (choice.delta ?? {}) as Json;
    if (typeof delta !== 'object') {
      this.error(`Expected \`delta\` to be an object, got ${describe(delta)}`);
    }
    const content = typeof delta.content === 'string' ? delta.content : '';
    const reasoningRaw = delta.reasoning ?? delta.reasoning_content;
    const reasoning = typeof reasoningRaw === 'string' ? reasoningRaw : '';

    let contentLp: unknown[] | null = null;
    let reasoningLp: unknown[] | null = null;
    const lp = choice.logprobs;
    if (lp !== undefined && lp !== null) {
      if (typeof lp !== 'object') {
        this.error(`Expected \`logprobs\` to be an object, got ${describe(lp)}`);
      } else {
        const l = lp as Json;
        contentLp = this.entryList(l.content, 'logprobs.content');
        reasoningLp = this.entryList(l.reasoning_content ?? l.reasoning, 'logprobs.reasoning_content');
      }
    }

    if (reasoningLp !== null) {
      // Separate lists: the fields say the channel. Reasoning precedes content within a chunk.
      this.emitEntries(sampleId, s, reasoningLp, 'reasoning', null);
      if (contentLp !== null) this.emitEntries(sampleId, s, contentLp, 'content', null);
      else if (content !== '') this.emitText(sampleId, s, content, 'content');
    } else if (contentLp !== null) {
      this.emitChunkTokens(sampleId, s, contentLp, reasoning, content);
    } else {
      if (reasoning !== '') this.emitText(sampleId, s, reasoning, 'reasoning');
      if (content !== '') this.emitText(sampleId, s, content, 'content');
    }

    const fr = choice.finish_reason;
    if (typeof fr === 'string' && fr !== '' && s.finishReason === null) {
      s.finishReason = fr;
      if (this.seenInSegment === 1) this.pending.push(sampleId);
      else this.end(sampleId, s, fr, true);
    }
  }

  /** A logprob entry list, or null when absent / empty. */
  private entryList(v: unknown, name: string): unknown[] | null {
    if (v === undefined || v === null) return null;
    if (!Array.isArray(v)) {
      this.error(`Expected \`${name}\` to be an array, got ${describe(v)}`);
      return null;
    }
    return v.length === 0 ? null : v;
  }

  /**
   * One list holding every token of the chunk (`logprobs.content`): channels from the delta's text. No text at all
   * means the server held it back; its length is remembered so the text, when it comes, is not counted again.
   */
  private emitChunkTokens(sampleId: string, s: SampleState, entries: unknown[], reasoning: string, content: string): void {
    if (reasoning !== '' && content !== '') {
      this.emitEntries(sampleId, s, entries, 'content', new TokenChannelCursor(reasoning, content));
      return;
    }
    if (reasoning === '' && content === '') {
      const start = s.index;
      this.emitEntries(sampleId, s, entries, s.channel, null);
      // The tokens' own strings: what the held text will be when it comes (bounded: only its tail can still match).
      for (let j = 0; j < entries.length; j++) { const t = (entries[j] as Json | null)?.token; if (typeof t === 'string') s.held += t; }
      if (s.held.length > MAX_HELD_CHARS) s.held = s.held.slice(-MAX_HELD_CHARS);
      if (s.index === start) s.held = '';
      return;
    }
    const text = reasoning !== '' ? reasoning : content;
    const spelled = this.emitEntries(sampleId, s, entries, reasoning !== '' ? 'reasoning' : 'content', null);
    // Text ahead of what this chunk's tokens spell is held-back text being released.
    if (s.held !== '' && text.length > spelled) payHeld(s, text.slice(0, text.length - spelled));
  }

  /** Emits the entries as tokens (channel from `cursor` if given, else `channel`); returns the characters they spell. */
  private emitEntries(sampleId: string, s: SampleState, entries: unknown[], channel: Channel, cursor: TokenChannelCursor | null): number {
    let chars = 0;
    for (let j = 0; j < entries.length; j++) {
      const e = entries[j] as Json | null;
      if (e === null || typeof e !== 'object' || typeof e.token !== 'string') {
        this.error(`Expected logprob entry ${j} to have a string \`token\`, got ${describe(e === null || typeof e !== 'object' ? e : e.token)}`, sampleId);
        continue;
      }
      const lpv = e.logprob;
      if (lpv !== null && lpv !== undefined && typeof lpv !== 'number') {
        this.error(`Expected logprob entry ${j} \`logprob\` to be a number, got ${describe(lpv)}`, sampleId);
        continue;
      }
      const top = this.topList(e.top_logprobs, j, sampleId);
      const ch = cursor === null ? channel : cursor.next(e.token);
      s.channel = ch;
      chars += e.token.length;
      const ev: TokenEvent = {
        type: 'token', sampleId, index: s.index++, token: e.token,
        logprob: typeof lpv === 'number' ? lpv : NaN, top, channel: ch, t: this.now(),
      };
      if (typeof lpv !== 'number') s.withoutLogprobs++;
      this.emit(ev);
    }
    return chars;
  }

  /** Validates a top_logprobs list in place and returns it (no copy: extra fields such as `bytes` are ignored). */
  private topList(v: unknown, j: number, sampleId: string): readonly TopLogprob[] | null {
    if (v === undefined || v === null) return null;
    if (!Array.isArray(v)) {
      this.error(`Expected logprob entry ${j} \`top_logprobs\` to be an array, got ${describe(v)}`, sampleId);
      return null;
    }
    if (v.length === 0) return null;
    for (let i = 0; i < v.length; i++) {
      const a = v[i] as Json | null;
      if (a === null || typeof a !== 'object' || typeof a.token !== 'string') {
        this.error(`Expected top_logprobs[${i}] of entry ${j} to have a string \`token\`, got ${describe(a)}`, sampleId);
        return null;
      }
      if (typeof a.logprob !== 'number') {
        if (a.logprob === null) a.logprob = -Infinity; // probability 0 that JSON could not carry
        else {
          this.error(`Expected top_logprobs[${i}].logprob of entry ${j} to be a number, got ${describe(a.logprob)}`, sampleId);
          return null;
        }
      }
    }
    return v as TopLogprob[];
  }

  /** Text without logprob entries: first it pays off held-back tokens' text; the rest is one token without logprobs. */
  private emitText(sampleId: string, s: SampleState, text: string, channel: Channel): void {
    const rest = s.held === '' ? text : payHeld(s, text);
    if (rest !== '') this.emitBare(sampleId, s, rest, channel);
  }

  private emitBare(sampleId: string, s: SampleState, text: string, channel: Channel): void {
    s.channel = channel;
    s.withoutLogprobs++;
    this.emit({ type: 'token', sampleId, index: s.index++, token: text, logprob: NaN, top: null, channel, t: this.now() });
  }

  private flushPending(withUsage: boolean): void {
    if (this.pending.length === 0) return;
    const ids = this.pending;
    this.pending = [];
    for (const id of ids) {
      const s = this.samples.get(id);
      if (s) this.end(id, s, s.finishReason ?? 'unknown', withUsage);
    }
  }

  private end(sampleId: string, s: SampleState, finishReason: string, withUsage: boolean): void {
    this.samples.delete(sampleId);
    const ev: { -readonly [K in keyof SampleEndEvent]: SampleEndEvent[K] } = { type: 'end', sampleId, finishReason, t: this.now() };
    if (withUsage && this.usage !== undefined && this.seenInSegment === 1) ev.usage = this.usage;
    if (s.withoutLogprobs > 0) ev.tokensWithoutLogprobs = s.withoutLogprobs;
    this.emit(ev);
  }

  private error(message: string, sampleId?: string): void {
    const position = this.position();
    this.emit(sampleId === undefined
      ? { type: 'stream_error', position, message, fatal: false, t: this.now() }
      : { type: 'stream_error', sampleId, position, message, fatal: false, t: this.now() });
  }
}

/** Choices open at once in one request, by default (each holds a small state until its end). */
export const MAX_OPEN_CHOICES = 65_536;

/** Choice indices whose sampleId string is kept for the request (20,000 choices in one request are served). */
const MAX_CACHED_CHOICES = 65_536;

/** Longest held-back text remembered per sample. */
const MAX_HELD_CHARS = 4096;

/**
 * Released text against the held-back tokens' text: the part already counted (found in the held text, or overlapping
 * its end) is removed from both; returns the rest, which is new text. Text that matches nothing means the held
 * tokens' text was never going to come (a special token the parser strips): the held text is dropped.
 */
function payHeld(s: SampleState, text: string): string {
  const at = s.held.indexOf(text);
  if (at >= 0) {
    s.held = s.held.slice(at + text.length);
    return '';
  }
  for (let k = Math.min(s.held.length, text.length - 1); k > 0; k--) {
    if (text.startsWith(s.held.slice(s.held.length - k))) {
      s.held = '';
      return text.slice(k);
    }
  }
  s.held = '';
  return text;
}

/** `got …` part of an error message: the value's JSON (shortened) and its type. */
export function describe(v: unknown): string {
  if (v === undefined) return 'nothing (undefined)';
  let json: string;
  try {
    json = JSON.stringify(v) ?? String(v);
  } catch {
    json = String(v);
  }
  return `\`${preview(json)}\` (${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v})`;
}

function preview(s: string, max = 80): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
