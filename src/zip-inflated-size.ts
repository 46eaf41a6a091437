import { inflateRawSync } from 'node:zlib';
import { FailmodeError } from './errors.ts';
import { overLimit } from './input-limits.ts';

/** Most entries a workbook may have (a real .xlsx has tens). */
const MAX_ENTRIES = 10_000;

/**
 * Checks, before a ZIP archive (an .xlsx workbook) is unpacked by a library that trusts it, that all its entries
 * together inflate to at most `max` bytes. The sizes in the headers can lie (a zip bomb), so every entry is really
 * inflated, each with zlib's `maxOutputLength` set to what is left of the budget: memory stays bounded by `max` and
 * the check stops at the first byte over it. Returns the total inflated size.
 */
export function checkZipInflatedSize(bytes: Buffer, max: number, source: string): number {
  const corrupt = (why: string): FailmodeError => new FailmodeError(`${source} is not a readable XLSX table: ${why}`);
  // End of central directory: 22 bytes + a comment of up to 65,535 bytes at the end of the file.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65_535); i--) {
    if (bytes.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw corrupt('no ZIP central directory (truncated or corrupt?)');
  const entries = bytes.readUInt16LE(eocd + 10);
  let p = bytes.readUInt32LE(eocd + 16);
  if (entries === 0xffff || p === 0xffffffff) throw corrupt('ZIP64 archives are not supported');
  if (entries > MAX_ENTRIES) throw corrupt(`${entries} entries (a workbook has tens)`);
  let total = 0;
  for (let e = 0; e < entries; e++) {
    if (p + 46 > bytes.length || bytes.readUInt32LE(p) !== 0x02014b50) throw corrupt('a damaged ZIP central directory');
    const method = bytes.readUInt16LE(p + 10);
    const compressed = bytes.readUInt32LE(p + 20);
    const nameLen = bytes.readUInt16LE(p + 28);
    const local = bytes.readUInt32LE(p + 42);
    const next = p + 46 + nameLen + bytes.readUInt16LE(p + 30) + bytes.readUInt16LE(p + 32);
    if (local + 30 > bytes.length || bytes.readUInt32LE(local) !== 0x04034b50) throw corrupt('a damaged ZIP entry');
    const start = local + 30 + bytes.readUInt16LE(local + 26) + bytes.readUInt16LE(local + 28);
    const data = bytes.subarray(start, Math.min(bytes.length, start + compressed));
    const left = max - total;
    if (method === 0) {
      total += data.length;
    } else if (method === 8) {
      try {
        total += inflateRawSync(data, { maxOutputLength: left + 1 }).length;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') total = max + 1;
        else throw corrupt(`an entry does not inflate (${(err as Error).message})`);
      }
    } else {
      throw corrupt(`an entry uses ZIP compression method ${method} (workbooks use 0 or 8)`);
    }
    if (total > max) throw overLimit(source, 'the workbook unpacks to more than the limit;', 'maxDecompressedBytes', max);
    p = next;
  }
  return total;
}
