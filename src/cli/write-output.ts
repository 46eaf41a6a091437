import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FailmodeError, usageError } from '../errors.ts';

/**
 * Where a command writes the files nobody named (analyze's plot, early-stop-eval's and sc-triage's reports,
 * reproduce's tables): `failmode-out/` in the current directory, which the project's .gitignore lists, so running
 * the README's commands in a checkout leaves the tracked `results/` untouched. Give `--out`/`--plot` to write elsewhere.
 */
export const DEFAULT_OUTPUT_DIR = 'failmode-out';

/** `-` as an output path means stdout, as in `watch --jsonl -`. */
export function isStdoutPath(path: string | undefined): boolean {
  return path === '-';
}

/** Refuses two outputs sent to stdout at once: they would interleave into something neither reader can parse. */
export function checkOneStdoutOutput(outputs: Record<string, string | undefined>): void {
  const toStdout = Object.entries(outputs).filter(([, path]) => isStdoutPath(path)).map(([flag]) => `--${flag}`);
  if (toStdout.length > 1) throw usageError(`Expected at most one output on stdout (-), got ${toStdout.join(' and ')}`);
}

/**
 * Writes one output: `-` → stdout; a path → that file (its directory must exist, unless `createDir` — for the
 * default locations the command chooses itself). A write that fails is one line with exit code 2.
 */
export async function writeOutput(path: string, data: string | Uint8Array, options: { createDir?: boolean } = {}): Promise<void> {
  if (isStdoutPath(path)) {
    await new Promise<void>((resolve) => process.stdout.write(data, () => resolve()));
    return;
  }
  try {
    if (options.createDir) await mkdir(dirname(path), { recursive: true });
    await writeFile(path, data);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'its directory does not exist' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new FailmodeError(`cannot write ${path}: ${why}`, 'FAILMODE_ERR_OUTPUT', 2);
  }
}

/** JSON with NaN/±Infinity as null (JSON has no such numbers), two-space indented, newline-terminated. */
export function toJsonText(value: unknown): string {
  return `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}
