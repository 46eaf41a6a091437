import { readFile } from 'node:fs/promises';
import { FailmodeError } from './errors.ts';

/** Why a file could not be read, in the words a person expects (the system's message for the rare cases). */
export function readFailureReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return (err as Error).message;
}

export interface InputFileOptions {
  /** What the file is, put before its path in the message (`model file`, `--replay`). */
  readonly what?: string;
  /** The FailmodeError code. @default 'FAILMODE_ERR_INPUT' */
  readonly code?: string;
}

/** The error for an input file that cannot be read: `cannot read [what ]path: why`, exit code 2 (bad input). */
export function unreadableInput(path: string, err: unknown, opts: InputFileOptions = {}): FailmodeError {
  return new FailmodeError(`cannot read ${opts.what ? `${opts.what} ` : ''}${path}: ${readFailureReason(err)}`, opts.code ?? 'FAILMODE_ERR_INPUT', 2);
}

/** Reads a whole input file (text when `encoding` is given); a failure is one clear FailmodeError (see unreadableInput). */
export async function readInputFile(path: string, opts?: InputFileOptions): Promise<Buffer>;
export async function readInputFile(path: string, opts: InputFileOptions & { readonly encoding: 'utf8' }): Promise<string>;
export async function readInputFile(path: string, opts: InputFileOptions & { readonly encoding?: 'utf8' } = {}): Promise<Buffer | string> {
  try {
    return opts.encoding ? await readFile(path, opts.encoding) : await readFile(path);
  } catch (err) {
    throw unreadableInput(path, err, opts);
  }
}
