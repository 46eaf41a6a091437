/** What {@link SseLineParser} reports. */
export interface SseLineParserHandlers {
  /** One dispatched event: its `data` (lines joined with `\n`) and its `event` field (undefined when absent). */
  readonly onEvent: (data: string, event: string | undefined) => void;
  /** The event being read grew past the bound: the parser stops (further input is ignored). */
  readonly onTooLong: () => void;
}

/**
 * Server-Sent-Events parser (the WHATWG event-stream rules: lines end with CRLF, LF or CR; `:` starts a comment;
 * `field: value` with one optional space after the colon; `data` lines accumulate; a blank line dispatches; a leading
 * BOM is skipped; `id` and `retry` are read and ignored, as OpenAI-compatible streams do not use them).
 *
 * Why not a general parser: every token of a monitored stream arrives as one `data:` event, and the parse of a
 * 1–2 kB top-20 chunk is the only per-token work that matters. This one finds line ends with `indexOf` on the text
 * (native, no per-character loop in JS) and hands the data line out as one `slice`, so splitting costs a tenth of what
 * a character-by-character parser does on the same bytes. Bounded: an event longer than `maxEventChars` characters
 * (or a line that never ends) stops the parser with `onTooLong`.
 */
export class SseLineParser {
  private readonly h: SseLineParserHandlers;
  private readonly maxEventChars: number;
  /** Text of an unfinished line from the previous chunk. */
  private rest = '';
  private data: string[] = [];
  private dataChars = 0;
  private event: string | undefined = undefined;
  private started = false;
  /** The previous chunk ended with CR: a LF at the start of the next one belongs to it. */
  private pendingCr = false;
  private stopped = false;

  constructor(handlers: SseLineParserHandlers, maxEventChars: number) {
    this.h = handlers;
    this.maxEventChars = maxEventChars;
  }

  /** Feeds the next piece of decoded text. */
  feed(chunk: string): void {
    if (this.stopped || chunk === '') return;
    let text = chunk;
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.pendingCr) {
      this.pendingCr = false;
      if (text.charCodeAt(0) === 10) text = text.slice(1);
    }
    // CR and CRLF line ends become LF (rare: servers send LF); a CR at the very end may be half of a CRLF.
    if (text.indexOf('\r') !== -1) {
      if (text.charCodeAt(text.length - 1) === 13) this.pendingCr = true;
      text = text.replace(/\r\n?/g, '\n');
    }
    let i = 0;
    const n = text.length;
    if (this.rest !== '') {
      // Finish the line left over from the last chunk on its own, so the chunk itself is never concatenated (a
      // concatenated string is slower to scan and slice).
      const j = text.indexOf('\n');
      if (j === -1) {
        this.rest += text;
        if (this.rest.length + this.dataChars > this.maxEventChars) this.tooLong();
        return;
      }
      const line = this.rest + text.slice(0, j);
      this.rest = '';
      this.line(line, 0, line.length);
      if (this.stopped) return;
      i = j + 1;
    }
    while (i < n) {
      const j = text.indexOf('\n', i);
      if (j === -1) {
        this.rest = text.slice(i);
        if (this.rest.length + this.dataChars > this.maxEventChars) this.tooLong();
        return;
      }
      this.line(text, i, j);
      if (this.stopped) return;
      i = j + 1;
    }
  }

  /** Characters held for the event being read (its data lines and an unfinished line). */
  get buffered(): number {
    return this.rest.length + this.dataChars;
  }

  /** One line `text[start, end)`. */
  private line(text: string, start: number, end: number): void {
    if (start === end) {
      this.dispatch();
      return;
    }
    const first = text.charCodeAt(start);
    if (first === 58 /* : */) return; // comment
    // The common case first: `data: {…}`.
    if (first === 100 && text.charCodeAt(start + 1) === 97 && text.charCodeAt(start + 2) === 116 && text.charCodeAt(start + 3) === 97 && text.charCodeAt(start + 4) === 58) {
      const from = text.charCodeAt(start + 5) === 32 ? start + 6 : start + 5;
      this.addData(text.slice(from, end));
      return;
    }
    const colon = text.indexOf(':', start);
    let field: string;
    let value: string;
    if (colon === -1 || colon >= end) {
      field = text.slice(start, end);
      value = '';
    } else {
      field = text.slice(start, colon);
      value = text.slice(text.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1, end);
    }
    if (field === 'data') this.addData(value);
    else if (field === 'event') this.event = value;
    // `id`, `retry` and unknown fields are ignored.
  }

  private addData(value: string): void {
    this.data.push(value);
    this.dataChars += value.length + 1;
    if (this.dataChars > this.maxEventChars) this.tooLong();
  }

  private dispatch(): void {
    if (this.data.length === 0) {
      this.event = undefined;
      return;
    }
    const data = this.data.length === 1 ? this.data[0]! : this.data.join('\n');
    const event = this.event;
    this.data = [];
    this.dataChars = 0;
    this.event = undefined;
    this.h.onEvent(data, event);
  }

  private tooLong(): void {
    this.stopped = true;
    this.rest = '';
    this.data = [];
    this.h.onTooLong();
  }
}
