import { Observable } from 'rxjs';
import { defaultNow, describe } from './chunk-decoder.ts';
import { consumeChunks, type ChunkInput } from './consume-chunks.ts';
import { replayFile } from './replay-file.ts';
import type { StreamEvent, TopLogprob } from './token-event.ts';

/** Longest JSONL line accepted (a token with a top-200 list is ~10 kB). */
export const DEFAULT_MAX_LINE_CHARS = 4 * 1024 * 1024;

/**
 * One StreamEvent as one JSON line (no newline). Numbers JSON cannot carry are written as `null`: a token's NaN
 * logprob (none sent) and a −∞ alternative; {@link readTokenJsonl} maps them back.
 */
export function streamEventToJsonl(ev: StreamEvent): string {
  if (ev.type === 'token') {
    let top = 'null';
    if (ev.top !== null) {
      top = '[';
      for (let i = 0; i < ev.top.length; i++) {
        const a = ev.top[i]!;
        top += `${i ? ',' : ''}{"token":${JSON.stringify(a.token)},"logprob":${num(a.logprob)}}`;
      }
      top += ']';
    }
    return `{"type":"token","sampleId":${JSON.stringify(ev.sampleId)},"index":${ev.index},"token":${JSON.stringify(ev.token)},`
      + `"logprob":${num(ev.logprob)},"top":${top},"channel":"${ev.channel}","t":${num(ev.t)}}`;
  }
  return JSON.stringify(ev);
}

function num(x: number): string {
  return Number.isFinite(x) ? String(x) : 'null';
}

/** Options of the JSONL sources. */
export interface JsonlSourceOptions {
  readonly maxLineChars?: number;
  readonly now?: () => number;
}

/**
 * Reads a JSONL recording of StreamEvents (what `watch --record` writes), one event per line. A malformed line gives a
 * non-fatal `stream_error` at `line N` and reading goes on; blank lines are skipped. At the end of input every sample
 * that started and has no end event (a truncated recording) gets an end 'error'.
 */
export function tokenEventsFromJsonl(chunks: ChunkInput, opts: JsonlSourceOptions = {}): Observable<StreamEvent> {
  const maxLineChars = opts.maxLineChars ?? DEFAULT_MAX_LINE_CHARS;
  const now = opts.now ?? defaultNow;
  return new Observable<StreamEvent>((subscriber) => {
    const open = new Set<string>();
    let carry = '';
    let lineNo = 0;
    let skipping = false; // inside an over-long line: drop until its newline
    let stopped = false;
    const error = (message: string, fatal = false): void => {
      subscriber.next({ type: 'stream_error', position: `line ${lineNo}`, message, fatal, t: now() });
    };
    const onLine = (line: string): void => {
      lineNo++;
      if (line.trim() === '') return;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch (err) {
        error(`Expected a JSON stream event, got unparsable text (${(err as Error).message})`);
        return;
      }
      const ev = reviveStreamEvent(raw);
      if (typeof ev === 'string') {
        error(ev);
        return;
      }
      if (ev.type === 'end') open.delete(ev.sampleId);
      else if (ev.type !== 'stream_error') open.add(ev.sampleId);
      subscriber.next(ev);
    };
    const finish = (fatal: string | null): void => {
      if (stopped) return;
      stopped = true;
      if (fatal) error(fatal, true);
      for (const sampleId of open) subscriber.next({ type: 'end', sampleId, finishReason: 'error', t: now() });
      open.clear();
      subscriber.complete();
    };
    const teardown = consumeChunks(chunks, {
      text: (text) => {
        if (stopped) return;
        let start = 0;
        for (;;) {
          const nl = text.indexOf('\n', start);
          if (nl < 0) break;
          if (skipping) {
            skipping = false;
          } else {
            onLine(carry === '' ? text.slice(start, nl) : carry + text.slice(start, nl));
          }
          carry = '';
          start = nl + 1;
          if (stopped) return;
        }
        if (skipping) return;
        carry += text.slice(start);
        if (carry.length > maxLineChars) {
          lineNo++;
          error(`Line longer than ${maxLineChars} characters: skipped`);
          carry = '';
          skipping = true;
        }
      },
      end: () => {
        if (carry !== '' && !skipping) onLine(carry);
        carry = '';
        finish(null);
      },
      closed: () => subscriber.closed,
      fail: (err, bytes) => {
        if (bytes === 0) {
          stopped = true;
          subscriber.error(err);
          return;
        }
        finish(`Input broke off after ${bytes} bytes: ${(err as Error)?.message ?? String(err)}`);
      },
    });
    return () => {
      stopped = true;
      carry = '';
      teardown();
    };
  });
}

/** Replays a JSONL recording file. A missing file errors the Observable with a FailmodeError. */
export function readTokenJsonl(path: string, opts: JsonlSourceOptions = {}): Observable<StreamEvent> {
  return replayFile(path, (chunks) => tokenEventsFromJsonl(chunks, opts));
}

type Obj = Record<string, unknown>;

/** Checks one parsed line; returns the event, or a message saying what is wrong. */
export function reviveStreamEvent(raw: unknown): StreamEvent | string {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return `Expected a stream event object, got ${describe(raw)}`;
  const o = raw as Obj;
  const t = o.t === null ? NaN : o.t;
  if (typeof t !== 'number') return `Expected \`t\` to be a number, got ${describe(o.t)}`;
  if (o.type !== 'stream_error' && typeof o.sampleId !== 'string') return `Expected \`sampleId\` to be a string, got ${describe(o.sampleId)}`;
  switch (o.type) {
    case 'token': {
      if (typeof o.index !== 'number' || !Number.isInteger(o.index) || o.index < 0) return `Expected \`index\` to be a non-negative integer, got ${describe(o.index)}`;
      if (typeof o.token !== 'string') return `Expected \`token\` to be a string, got ${describe(o.token)}`;
      if (o.logprob !== null && typeof o.logprob !== 'number') return `Expected \`logprob\` to be a number or null, got ${describe(o.logprob)}`;
      if (o.channel !== 'reasoning' && o.channel !== 'content') return `Expected \`channel\` to be one of: reasoning, content, got ${describe(o.channel)}`;
      let top: TopLogprob[] | null = null;
      if (o.top !== null && o.top !== undefined) {
        if (!Array.isArray(o.top)) return `Expected \`top\` to be an array or null, got ${describe(o.top)}`;
        top = o.top as TopLogprob[];
        for (let i = 0; i < top.length; i++) {
          const a = top[i] as unknown as Obj;
          if (a === null || typeof a !== 'object' || typeof a.token !== 'string') return `Expected \`top[${i}].token\` to be a string, got ${describe(a)}`;
          if (a.logprob === null) a.logprob = -Infinity;
          else if (typeof a.logprob !== 'number') return `Expected \`top[${i}].logprob\` to be a number, got ${describe(a.logprob)}`;
        }
        if (top.length === 0) top = null;
      }
      return { type: 'token', sampleId: o.sampleId as string, index: o.index, token: o.token, logprob: o.logprob === null ? NaN : o.logprob, top, channel: o.channel, t };
    }
    case 'start':
      if (o.model !== undefined && typeof o.model !== 'string') return `Expected \`model\` to be a string, got ${describe(o.model)}`;
      return o.model === undefined ? { type: 'start', sampleId: o.sampleId as string, t } : { type: 'start', sampleId: o.sampleId as string, model: o.model, t };
    case 'end':
      if (typeof o.finishReason !== 'string') return `Expected \`finishReason\` to be a string, got ${describe(o.finishReason)}`;
      return o as unknown as StreamEvent;
    case 'stream_error':
      if (typeof o.position !== 'string' || typeof o.message !== 'string' || typeof o.fatal !== 'boolean') return 'Expected a stream_error with string `position`, string `message` and boolean `fatal`';
      return o as unknown as StreamEvent;
    default:
      return `Expected \`type\` to be one of: token, start, end, stream_error, got ${describe(o.type)}`;
  }
}
