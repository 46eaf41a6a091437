import { FailmodeError } from '../errors.ts';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from '../input-limits.ts';
import { readInputFile } from '../read-input-file.ts';
import type { Frame } from './frame.ts';
import { readCsvFrame } from './table/read-csv.ts';
import { readJsonlTable } from './table/read-jsonl-table.ts';
import { readXlsxFrame } from './table/read-xlsx.ts';

export interface LoadTableOptions {
  /** Columns that must exist (default `['correct']`, the label the analysis needs); `[]` to accept any table. */
  readonly requireColumns?: readonly string[];
  /** Bounds on the input (bytes, line length, rows, cells, inflated .xlsx size). Default DEFAULT_INPUT_LIMITS. */
  readonly limits?: InputLimits;
  /** Where remarks about the reading go (e.g. a `;`-separated file). Default: `note: …` lines on stderr. */
  readonly note?: (line: string) => void;
}

/**
 * Loads a results table — CSV (UTF-8 with or without BOM, else Latin-1) or XLSX (first sheet, header row) — into a
 * Frame. The format is decided by the content (a ZIP signature means XLSX), not only the extension. Every problem is a
 * FailmodeError (exit 2) naming the path: unreadable, empty, not a table, truncated, no data rows, a required column missing,
 * over one of the input limits (named with the flag that raises it). A `;`- or tab-separated CSV is read as such, with a note.
 * A `.jsonl` file is a recording, one row per sample line (a `failmode sample` log: each question's completed run only;
 * src/offline/table/read-jsonl-table.ts).
 */
export async function loadTable(path: string, opts: LoadTableOptions = {}): Promise<Frame> {
  const required = opts.requireColumns ?? ['correct'];
  const limits = opts.limits ?? DEFAULT_INPUT_LIMITS;
  const note = opts.note ?? ((line: string) => process.stderr.write(`note: ${line}\n`));
  if (path.toLowerCase().endsWith('.jsonl')) {
    const table = await readJsonlTable(path, limits);
    for (const line of table.notes) note(`${path}: ${line}`);
    return checkRequiredColumns(table.frame, path, required);
  }
  const bytes = await readInputFile(path, { maxBytes: limits.maxBytes });
  if (bytes.length === 0) throw new FailmodeError(`${path} is empty (0 bytes); expected a .csv or .xlsx results table`);
  const lower = path.toLowerCase();
  const isZip = bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
  if (lower.endsWith('.xls') || (bytes.length >= 4 && bytes[0] === 0xd0 && bytes[1] === 0xcf && bytes[2] === 0x11 && bytes[3] === 0xe0)) {
    throw new FailmodeError(`${path} is an old binary .xls workbook, which is not supported; save it as .xlsx or .csv`);
  }
  let frame: Frame;
  if (isZip) frame = await readXlsxFrame(bytes, path, limits);
  else if (lower.endsWith('.xlsx')) throw new FailmodeError(`${path} is not an .xlsx workbook (no ZIP signature); expected an .xlsx or .csv results table`);
  else frame = readCsvFrame(bytes, path, limits, note);

  if (frame.nRows === 0) {
    const last = bytes[bytes.length - 1];
    const cut = !isZip && last !== 0x0a && last !== 0x0d ? ' (it does not end with a newline: truncated?)' : '';
    throw new FailmodeError(`${path} has a header row but no data rows${cut}`);
  }
  return checkRequiredColumns(frame, path, required);
}

function checkRequiredColumns(frame: Frame, path: string, required: readonly string[]): Frame {
  for (const name of required) {
    if (!frame.has(name)) {
      const shown = frame.columnNames.slice(0, 8).map((c) => `\`${c}\``).join(', ');
      const more = frame.columnNames.length > 8 ? `, … (${frame.columnNames.length} columns)` : '';
      throw new FailmodeError(`${path} has no \`${name}\` column (found ${shown}${more}); expected the results table of an inference run`);
    }
  }
  return frame;
}
