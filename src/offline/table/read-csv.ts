import { parse } from 'csv-parse/sync';
import { FailmodeError } from '../../errors.ts';
import { Frame } from '../frame.ts';
import { tableColumnNames } from './column-names.ts';
import { decodeTableText } from './decode-text.ts';

/**
 * Parses CSV bytes (header row + data rows) into a Frame. Blank lines are skipped, as pandas does. A row with a
 * different number of fields than the header, or a quote left open at the end, is reported with its line: both are
 * what a truncated or hand-edited file looks like.
 */
export function readCsvFrame(bytes: Uint8Array, source: string): Frame {
  const { text } = decodeTableText(bytes);
  if (text.includes('\u0000')) {
    throw new FailmodeError(`${source} is not a text table (it contains binary data); expected a .csv or .xlsx results file`);
  }
  if (text.trim() === '') throw new FailmodeError(`${source} is empty; expected a header row and data rows`);
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, { info: true, relax_column_count: true, skip_empty_lines: true, relax_quotes: false }) as unknown as typeof records;
  } catch (err) {
    const e = err as { code?: string; message?: string; lines?: number };
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
