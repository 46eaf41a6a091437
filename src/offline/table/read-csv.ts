import { parse } from 'csv-parse/sync';
import { FailmodeError } from '../../errors.ts';
import { Frame } from '../frame.ts';
import { tableColumnNames } from './column-names.ts';
import { decodeTableText } from './decode-text.ts';
import { DEFAULT_INPUT_LIMITS, overLimit, type InputLimits } from '../../input-limits.ts';

/** Field delimiters recognised besides the comma (a European `;` export, a tab-separated file). */
const DELIMITERS = [',', ';', '\t'] as const;
const DELIMITER_NAMES: Record<string, string> = { ',': 'comma', ';': 'semicolon (;)', '\t': 'tab' };

/** The delimiter of a table: the most frequent of `,` `;` tab on its header line (a comma on a tie or none). */
export function detectDelimiter(text: string): ',' | ';' | '\t' {
  const end = text.indexOf('\n');
  const header = end < 0 ? text : text.slice(0, end);
  let best: ',' | ';' | '\t' = ',';
  let bestCount = 0;
  for (const d of DELIMITERS) {
    let n = 0;
    for (let i = header.indexOf(d); i >= 0; i = header.indexOf(d, i + 1)) n++;
    if (n > bestCount) { best = d; bestCount = n; }
  }
  return best;
}

class LimitReached extends Error {}

/**
 * Parses CSV bytes (header row + data rows) into a Frame. Blank lines are skipped, as pandas does. A row with a
 * different number of fields than the header, or a quote left open at the end, is reported with its line: both are
 * what a truncated or hand-edited file looks like.
 */
export function readCsvFrame(bytes: Uint8Array, source: string, limits: InputLimits = DEFAULT_INPUT_LIMITS, note: (line: string) => void = () => {}): Frame {
  const { text } = decodeTableText(bytes);
  if (text.includes('\u0000')) {
    throw new FailmodeError(`${source} is not a text table (it contains binary data); expected a .csv or .xlsx results file`);
  }
  if (text.trim() === '') throw new FailmodeError(`${source} is empty; expected a header row and data rows`);
  const delimiter = detectDelimiter(text);
  if (delimiter !== ',') note(`${source}: fields are separated by ${DELIMITER_NAMES[delimiter]}, not commas; read with that delimiter`);
  let records: Array<{ record: string[]; info: { lines: number } }>;
  let cells = 0;
  let limitError: Error | null = null;
  try {
    records = parse(text, {
      info: true, relax_column_count: true, skip_empty_lines: true, relax_quotes: false, delimiter,
      max_record_size: limits.maxLineBytes,
      // With `info`, each record arrives wrapped ({record, info}); context.records counts the header row too.
      on_record: ((rec: { record: string[] }, context: { records: number }) => {
        cells += rec.record.length;
        if (context.records - 1 > limits.maxRows) limitError = overLimit(source, `more than ${limits.maxRows.toLocaleString('en-US')} data rows:`, 'maxRows', limits.maxRows);
        else if (cells > limits.maxCells) limitError = overLimit(source, `more than ${limits.maxCells.toLocaleString('en-US')} cells (rows × columns):`, 'maxCells', limits.maxCells);
        if (limitError) throw new LimitReached();
        return rec;
      }) as never,
    }) as unknown as typeof records;
  } catch (err) {
    if (err instanceof LimitReached && limitError) throw limitError;
    const e = err as { code?: string; message?: string; lines?: number };
    if (e.code === 'CSV_MAX_RECORD_SIZE') throw overLimit(source, `line ${e.lines ?? '?'} is longer than the limit;`, 'maxLineBytes', limits.maxLineBytes);
    if (e.code === 'CSV_INVALID_OPENING_QUOTE' || e.code === 'CSV_INVALID_CLOSING_QUOTE') {
      // A quote inside a field usually means another delimiter or an unquoted export: say what was assumed.
      const where = e.lines !== undefined ? ` (line ${e.lines})` : '';
      throw new FailmodeError(`${source} is not a readable CSV table${where}: a quote in the middle of a field, reading fields separated by ${DELIMITER_NAMES[delimiter]}; expected a comma-, semicolon- or tab-separated table with RFC 4180 quoting`);
    }
    const where = e.lines !== undefined ? ` (line ${e.lines})` : '';
    const hint = e.code === 'CSV_QUOTE_NOT_CLOSED' ? ': a quoted field is never closed — the file looks truncated' : `: ${e.message ?? String(err)}`;
    throw new FailmodeError(`${source} is not a readable CSV table${where}${hint}`);
  }
  if (records.length === 0) throw new FailmodeError(`${source} is empty; expected a header row and data rows`);
  const names = tableColumnNames(records[0]!.record);
  const width = names.length;
  for (let r = 1; r < records.length; r++) {
    const { record, info } = records[r]!;
    if (record.length !== width) {
      const last = r === records.length - 1 ? ' — the file looks truncated' : '';
      throw new FailmodeError(`${source}: line ${info.lines} has ${record.length} fields, the header has ${width}${last}`);
    }
  }
  const nRows = records.length - 1;
  const index = new Map(names.map((n, i) => [n, i] as const));
  return new Frame(source, names, nRows, (name) => {
    const c = index.get(name)!;
    const out = new Array<string>(nRows);
    for (let r = 0; r < nRows; r++) out[r] = records[r + 1]!.record[c]!;
    return out;
  });
}
