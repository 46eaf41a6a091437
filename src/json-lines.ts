import { overLimit, type InputLimits } from './input-limits.ts';

/** One non-empty line of a JSONL text: its 1-based number and its parsed value, or the parse error. */
export type JsonLine =
  | { readonly lineNo: number; readonly ok: true; readonly value: unknown }
  | { readonly lineNo: number; readonly ok: false; readonly error: Error };

/**
 * The lines of a JSONL text, each trimmed (so CRLF files read alike) and parsed; blank lines are skipped. The one
 * line loop of every JSONL reader (results tables, sample logs, question files, the sampler's resume): what a reader
 * does with a bad line (skip and count it, or stop with its number) is its own. With `limits`, a line longer than
 * `maxLineBytes` or more than `maxRows` non-empty lines end the reading with an error naming the limit and its flag.
 */
export function* jsonLines(text: string, limits?: { readonly source: string; readonly limits: Pick<InputLimits, 'maxLineBytes' | 'maxRows'> }): Generator<JsonLine> {
  let nonEmpty = 0;
  let start = 0;
  for (let lineNo = 1; start <= text.length; lineNo++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line === '') continue;
    nonEmpty++;
    if (limits !== undefined) {
      const { source, limits: l } = limits;
      if (line.length > l.maxLineBytes) throw overLimit(source, `line ${lineNo} is longer than the limit;`, 'maxLineBytes', l.maxLineBytes);
      if (nonEmpty > l.maxRows) throw overLimit(source, `more than ${l.maxRows.toLocaleString('en-US')} lines:`, 'maxRows', l.maxRows);
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      yield { lineNo, ok: false, error: err as Error };
      continue;
    }
    yield { lineNo, ok: true, value };
  }
}
