import { readSheet } from 'read-excel-file/node';
import { FailmodeError } from '../../errors.ts';
import { Frame } from '../frame.ts';
import { tableColumnNames } from './column-names.ts';

/** Reads the first sheet of an .xlsx workbook (header row + data rows) into a Frame. */
export async function readXlsxFrame(bytes: Buffer, source: string): Promise<Frame> {
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
  const index = new Map(names.map((n, i) => [n, i] as const));
  return new Frame(source, names, data.length, (name) => {
    const c = index.get(name)!;
    return data.map((row) => row[c] ?? null);
  });
}
