import { FailmodeError, usageError } from './errors.ts';

/**
 * Bounds on what an input file may cost: every offline reader (results tables, sample logs, recordings) checks them
 * while reading, so an enormous, never-ending or decompression-bomb input fails fast with one line naming the limit
 * and the flag that raises it, instead of taking gigabytes of memory or minutes.
 */
export interface InputLimits {
  /** Bytes read from the file (on disk, or from a pipe / device). */
  readonly maxBytes: number;
  /** Bytes of one line (CSV record, JSONL line). */
  readonly maxLineBytes: number;
  /** Data rows (CSV/XLSX rows, JSONL lines). */
  readonly maxRows: number;
  /** Cells (rows × columns). */
  readonly maxCells: number;
  /** Decompressed bytes of an .xlsx workbook (all its parts together). */
  readonly maxDecompressedBytes: number;
}

/** The defaults: far above the paper's largest table (3.9 MB, 14,688 rows × 228 columns), far below a machine's memory. */
export const DEFAULT_INPUT_LIMITS: InputLimits = {
  maxBytes: 256 * 1024 * 1024,
  maxLineBytes: 4 * 1024 * 1024,
  maxRows: 2_000_000,
  maxCells: 50_000_000,
  maxDecompressedBytes: 256 * 1024 * 1024,
};

/** The flag that raises each limit (named in every "over the limit" message). */
export const INPUT_LIMIT_FLAGS: Readonly<Record<keyof InputLimits, string>> = {
  maxBytes: '--max-input-bytes',
  maxLineBytes: '--max-line-bytes',
  maxRows: '--max-rows',
  maxCells: '--max-cells',
  maxDecompressedBytes: '--max-decompressed-bytes',
};

/** `parseArgs` options of the limit flags, for the commands that read input files. */
export const INPUT_LIMIT_OPTIONS = {
  'max-input-bytes': { type: 'string' },
  'max-line-bytes': { type: 'string' },
  'max-rows': { type: 'string' },
  'max-cells': { type: 'string' },
  'max-decompressed-bytes': { type: 'string' },
} as const;

/** The help lines of the limit flags. */
export const INPUT_LIMIT_HELP = [
  `  --max-input-bytes N       refuse an input file larger than N bytes (default ${DEFAULT_INPUT_LIMITS.maxBytes}, 256 MiB; suffixes k/M/G)`,
  `  --max-line-bytes N        refuse a CSV record or JSONL line longer than N bytes (default 4 MiB)`,
  `  --max-rows N              refuse more than N data rows (default ${DEFAULT_INPUT_LIMITS.maxRows.toLocaleString('en-US')})`,
  `  --max-cells N             refuse more than N cells, rows × columns (default ${DEFAULT_INPUT_LIMITS.maxCells.toLocaleString('en-US')})`,
  `  --max-decompressed-bytes N  refuse an .xlsx whose parts unpack to more than N bytes (default 256 MiB)`,
].join('\n');

/** A size with an optional k/M/G (binary) suffix: `512k`, `64M`, `1G`, or plain bytes. */
function parseSize(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]i?[bB]?)?\s*$/.exec(raw);
  const unit = m?.[2]?.[0]?.toLowerCase();
  const n = m ? Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1) : NaN;
  if (!(Number.isFinite(n) && n >= 1)) throw usageError(`Expected --${flag} to be a size ≥ 1 (bytes, or with a k/M/G suffix), got \`${raw}\``);
  return Math.floor(n);
}

/** The limits from parsed flags (`values` of a command using INPUT_LIMIT_OPTIONS), defaults for the rest. */
export function inputLimitsFromFlags(values: Partial<Record<keyof typeof INPUT_LIMIT_OPTIONS, string | undefined>>): InputLimits {
  return {
    maxBytes: parseSize('max-input-bytes', values['max-input-bytes']) ?? DEFAULT_INPUT_LIMITS.maxBytes,
    maxLineBytes: parseSize('max-line-bytes', values['max-line-bytes']) ?? DEFAULT_INPUT_LIMITS.maxLineBytes,
    maxRows: parseSize('max-rows', values['max-rows']) ?? DEFAULT_INPUT_LIMITS.maxRows,
    maxCells: parseSize('max-cells', values['max-cells']) ?? DEFAULT_INPUT_LIMITS.maxCells,
    maxDecompressedBytes: parseSize('max-decompressed-bytes', values['max-decompressed-bytes']) ?? DEFAULT_INPUT_LIMITS.maxDecompressedBytes,
  };
}

/** `1.5 MiB`-style size for messages. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v >= 100 ? Math.round(v) : Number(v.toFixed(1))} ${units[u]}`;
}

/** The error for an input over one of its limits: what, the limit, and the flag that raises it (exit code 2). */
export function overLimit(path: string, what: string, limit: keyof InputLimits, value: number): FailmodeError {
  const shown = limit === 'maxBytes' || limit === 'maxLineBytes' || limit === 'maxDecompressedBytes' ? formatBytes(value) : value.toLocaleString('en-US');
  return new FailmodeError(`${path}: ${what} over the limit of ${shown} (raise it with ${INPUT_LIMIT_FLAGS[limit]})`, 'FAILMODE_ERR_INPUT_LIMIT', 2);
}
