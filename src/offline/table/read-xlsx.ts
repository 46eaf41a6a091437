import { readSheet } from 'read-excel-file/node';
import { FailmodeError } from '../../errors.ts';
import { Frame } from '../frame.ts';
import { tableColumnNames } from './column-names.ts';
import { DEFAULT_INPUT_LIMITS, overLimit, type InputLimits } from '../../input-limits.ts';
import { checkZipInflatedSize } from '../../zip-inflated-size.ts';

/**
 * Reads the first sheet of an .xlsx workbook (header row + data rows) into a Frame, within `limits`: the workbook's
 * inflated size is checked before it is unpacked (a zip bomb is refused), rows and cells after.
 */
export async function readXlsxFrame(bytes: Buffer, source: string, limits: InputLimits = DEFAULT_INPUT_LIMITS): Promise<Frame> {
  checkZipInflatedSize(bytes, limits.maxDecompressedBytes, source);
  let rows: unknown[][];
  try {
    rows = (await readSheet(bytes)) as unknown[][];
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const why = e.code === 'NO_DATA' ? 'the workbook has no data' : 'the file is not a complete .xlsx workbook (truncated or corrupt?)';
    throw new FailmodeError(`${source} is not a readable XLSX table: ${why}${e.message ? ` (${e.message})` : ''}`);
  }
  const nonEmpty = rows.filter((row) => row.some((c) => c !== null && c !== undefined && c !== ''));
  if (nonEmpty.length === 0) throw new FailmodeError(`${source} is empty; expected a header row and data rows`);
  const names = tableColumnNames(nonEmpty[0]!);
  const data = nonEmpty.slice(1);
  if (data.length > limits.maxRows) throw overLimit(source, `${data.length.toLocaleString('en-US')} data rows,`, 'maxRows', limits.maxRows);
  const cells = nonEmpty.reduce((a, row) => a + row.length, 0);
  if (cells > limits.maxCells) throw overLimit(source, `${cells.toLocaleString('en-US')} cells,`, 'maxCells', limits.maxCells);
  const index = new Map(names.map((n, i) => [n, i] as const));
  return new Frame(source, names, data.length, (name) => {
    const c = index.get(name)!;
    return data.map((row) => row[c] ?? null);
  });
}
