import { Observable } from 'rxjs';
import { ChunkDecoder, defaultNow, type ChunkDecoderOptions } from './chunk-decoder.ts';
import { consumeChunks, type ChunkInput } from './consume-chunks.ts';
import { replayFile } from './replay-file.ts';
import { SseLineParser } from './sse-line-parser.ts';
import type { StreamEvent } from './token-event.ts';

/** Options of {@link tokenEventsFromSse}. */
export interface SseSourceOptions extends ChunkDecoderOptions {
  /**
   * Most characters one SSE event may span before it is given up (a bound on the parser's buffer). A top-200 chunk is
   * ~20 kB; the default 8 MiB leaves room for servers that pack many tokens in one event.
   */
  readonly maxEventChars?: number;
  /** Called with every event's `data` payload as received (the `[DONE]` marker included), before it is decoded. */
  readonly onData?: (data: string) => void;
}

export const DEFAULT_MAX_EVENT_CHARS = 8 * 1024 * 1024;

/**
 * Raw Server-Sent-Events bytes of an OpenAI-compatible stream (`/chat/completions`, `/completions` or `/responses`:
 * the decoder tells them apart chunk by chunk) (a recorded `.sse` file, stdin, an
 * HTTP body) → StreamEvents, parsed with {@link SseLineParser} and decoded by {@link ChunkDecoder}.
 *
 * Positions in `stream_error` events are `event N` (1-based count of SSE events). A malformed event is reported and
 * skipped; the stream goes on. If the input fails after some bytes arrived (dropped connection) the error becomes a
 * fatal `stream_error` followed by an end event 'error' for every open sample, and the Observable completes — partial
 * data stays usable. If it fails before any byte, the Observable errors. The end of input without `[DONE]` also ends
 * open samples with 'error'. State is per subscription; unsubscribing releases the input.
 */
export function tokenEventsFromSse(chunks: ChunkInput, opts: SseSourceOptions = {}): Observable<StreamEvent> {
  const maxEventChars = opts.maxEventChars ?? DEFAULT_MAX_EVENT_CHARS;
  if (!(Number.isInteger(maxEventChars) && maxEventChars > 0)) {
    throw new TypeError(`Expected \`maxEventChars\` to be a positive integer, got \`${maxEventChars}\` (${typeof maxEventChars})`);
  }
  const now = opts.now ?? defaultNow;
  const onData = opts.onData;
  return new Observable<StreamEvent>((subscriber) => {
    const decoder = new ChunkDecoder((ev) => subscriber.next(ev), opts);
    let eventNo = 0;
    let stopped = false;
    const stop = (fatal: { position: string; message: string } | null): void => {
      if (stopped) return;
      stopped = true;
      if (fatal) subscriber.next({ type: 'stream_error', position: fatal.position, message: fatal.message, fatal: true, t: now() });
      decoder.finish();
      subscriber.complete();
    };
    let bytesAtFeed = 0;
    const parser = new SseLineParser({
      onEvent: (data, event) => {
        eventNo++;
        if (stopped) return;
        if (onData) onData(data);
        if (event !== undefined && event !== 'message' && !event.startsWith('response.')) {
          // Chat and completions streams send only data events (the Responses API names each event
          // `response.…`, decoded above by its data's `type`); an `event: error` carries a server error.
          if (event === 'error') {
            subscriber.next({ type: 'stream_error', position: `event ${eventNo}`, message: `Server error event: ${data.slice(0, 200)}`, fatal: false, t: now() });
          }
          return;
        }
        decoder.decodeData(data, eventNo);
      },
      onTooLong: () => {
        stop({ position: `event ${eventNo + 1} (byte ≤ ${bytesAtFeed})`, message: `SSE event longer than ${maxEventChars} characters: giving up on this stream` });
      },
    }, maxEventChars);
    const teardown = consumeChunks(chunks, {
      text: (text, bytes) => {
        if (stopped) return;
        bytesAtFeed = bytes;
        parser.feed(text);
      },
      end: () => {
        if (stopped) return;
        parser.feed('\n\n'); // a last event without its blank line (a cut-off stream) still gets decoded
        // Input without a single SSE event (a wrong file, an empty body) would otherwise pass silently.
        if (eventNo === 0) subscriber.next({ type: 'stream_error', position: `byte ${bytesAtFeed}`, message: 'No SSE events in the input: expected "data: {…}" lines of a chat.completion.chunk stream', fatal: false, t: now() });
        stop(null);
      },
      closed: () => subscriber.closed,
      fail: (err, bytes) => {
        if (stopped) return;
        if (bytes === 0) {
          stopped = true;
          subscriber.error(err);
          return;
        }
        parser.feed('\n\n');
        stop({ position: `byte ${bytes}`, message: `Stream broke off after ${bytes} bytes: ${(err as Error)?.message ?? String(err)}` });
      },
    });
    return () => {
      stopped = true;
      teardown();
    };
  });
}

/** Replays a recorded `.sse` file (raw `data: {...}` events as the server sent them). A missing file errors the Observable. */
export function readSseFile(path: string, opts: SseSourceOptions = {}): Observable<StreamEvent> {
  return replayFile(path, (chunks) => tokenEventsFromSse(chunks, opts));
}
