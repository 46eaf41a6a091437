import { closeSync, constants, createReadStream, openSync, readSync, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { FailmodeError } from './errors.ts';
import { DEFAULT_INPUT_LIMITS, formatBytes, overLimit } from './input-limits.ts';

/** Why a file could not be read, in the words a person expects (the system's message for the rare cases). */
export function readFailureReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'ENOTDIR') return 'a part of the path is not a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return (err as Error).message;
}

export interface InputFileOptions {
  /** What the file is, put before its path in the message (`model file`, `--replay`). */
  readonly what?: string;
  /** The FailmodeError code. @default 'FAILMODE_ERR_INPUT' */
  readonly code?: string;
  /** Most bytes read (see input-limits.ts; the message names --max-input-bytes). @default DEFAULT_INPUT_LIMITS.maxBytes (256 MiB) */
  readonly maxBytes?: number;
  /** How long a named pipe without a writer is waited for. @default FIFO_WRITER_WAIT_MS */
  readonly fifoWaitMs?: number;
}

/** The error for an input file that cannot be read: `cannot read [what ]path: why`, exit code 2 (bad input). */
export function unreadableInput(path: string, err: unknown, opts: InputFileOptions = {}): FailmodeError {
  return new FailmodeError(`cannot read ${opts.what ? `${opts.what} ` : ''}${path}: ${readFailureReason(err)}`, opts.code ?? 'FAILMODE_ERR_INPUT', 2);
}

/** How long a named pipe nobody has opened for writing is waited for before it is refused. */
export const FIFO_WRITER_WAIT_MS = 10_000;

/**
 * Reads a whole input file (text when `encoding` is given) within `maxBytes`; a failure is one clear FailmodeError
 * (see unreadableInput; over the limit, it names the limit and --max-input-bytes). A regular file larger than the
 * limit is refused before it is read; a pipe or device is read up to the limit and then refused (a device that never
 * ends cannot run away). A named pipe is opened without blocking: one that nothing writes to is refused after
 * FIFO_WRITER_WAIT_MS instead of waited on forever.
 */
export async function readInputFile(path: string, opts?: InputFileOptions): Promise<Buffer>;
export async function readInputFile(path: string, opts: InputFileOptions & { readonly encoding: 'utf8' }): Promise<string>;
export async function readInputFile(path: string, opts: InputFileOptions & { readonly encoding?: 'utf8' } = {}): Promise<Buffer | string> {
  const bytes = await readBounded(path, opts.maxBytes ?? DEFAULT_INPUT_LIMITS.maxBytes, opts);
  return opts.encoding ? bytes.toString('utf8') : bytes;
}

async function readBounded(path: string, max: number, opts: InputFileOptions): Promise<Buffer> {
  let info: Stats;
  try {
    info = await stat(path);
  } catch (err) {
    throw unreadableInput(path, err, opts);
  }
  if (info.isDirectory()) throw unreadableInput(path, Object.assign(new Error('directory'), { code: 'EISDIR' }), opts);
  if (!info.isFile()) return readStreamBounded(path, info, max, opts);
  if (info.size > max) throw overLimit(path, `the file is ${formatBytes(info.size)},`, 'maxBytes', max);
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw unreadableInput(path, err, opts);
  }
  try {
    // At most max + 1 bytes: a file that grew since stat is still bounded.
    const out = Buffer.allocUnsafe(Math.min(info.size, max) + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await handle.read(out, n, out.length - n, null);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > max) throw overLimit(path, 'the file is', 'maxBytes', max);
    }
    return out.subarray(0, n);
  } catch (err) {
    if (err instanceof FailmodeError) throw err;
    throw unreadableInput(path, err, opts);
  } finally {
    await handle.close();
  }
}

/**
 * A FIFO: opened non-blocking, then probed — with no writer a read returns end-of-file at once (POSIX), and after
 * FIFO_WRITER_WAIT_MS without one the pipe is refused; with a writer it is streamed. A device or socket: read as a
 * stream. Both up to `max` bytes.
 */
async function readStreamBounded(path: string, info: Stats, max: number, opts: InputFileOptions): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  let stream: NodeJS.ReadableStream & { destroy(): void };
  if (info.isFIFO()) {
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK); // never blocks, even with no writer
    } catch (err) {
      throw unreadableInput(path, err, opts);
    }
    const probe = Buffer.allocUnsafe(64 * 1024);
    for (let waited = 0; ; waited += 100) {
      let n: number;
      try {
        n = readSync(fd, probe, 0, probe.length, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') {
          closeSync(fd);
          throw unreadableInput(path, err, opts);
        }
        break; // a writer is there, nothing written yet: stream it
      }
      if (n > 0) {
        chunks.push(Buffer.from(probe.subarray(0, n)));
        total = n;
        break;
      }
      const wait = opts.fifoWaitMs ?? FIFO_WRITER_WAIT_MS;
      if (waited >= wait) {
        closeSync(fd);
        throw new FailmodeError(`${path} is a named pipe that nothing writes to (waited ${wait / 1000} s); start the writer first or pass a file`, opts.code ?? 'FAILMODE_ERR_INPUT', 2);
      }
      await sleep(100);
    }
    if (total > max) {
      closeSync(fd);
      throw overLimit(path, 'the input is', 'maxBytes', max);
    }
    stream = new Socket({ fd, readable: true, writable: false }); // owns and closes the descriptor
  } else {
    stream = createReadStream(path);
  }
  return new Promise<Buffer>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > max) {
        stream.destroy();
        reject(overLimit(path, 'the input is', 'maxBytes', max));
        return;
      }
      chunks.push(chunk);
    });
    stream.on('error', (err) => reject(unreadableInput(path, err, opts)));
    stream.on('end', () => resolve(Buffer.concat(chunks, total)));
  });
}
