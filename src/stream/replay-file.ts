import { createReadStream } from 'node:fs';
import { Observable } from 'rxjs';
import { FailmodeError } from '../errors.ts';

/**
 * Replays a recording file through a byte-chunk source (`.sse` or `.jsonl`): reads it in 1 MiB chunks, turns a read
 * failure into a FailmodeError naming the file, and closes the file when the subscriber unsubscribes.
 */
export function replayFile<T>(path: string, source: (chunks: AsyncIterable<Uint8Array>) => Observable<T>): Observable<T> {
  return new Observable<T>((subscriber) => {
    const stream = createReadStream(path, { highWaterMark: 1024 * 1024 });
    const sub = source(stream as AsyncIterable<Uint8Array>).subscribe({
      next: (ev) => subscriber.next(ev),
      error: (err) => subscriber.error(fileError(path, err)),
      complete: () => subscriber.complete(),
    });
    return () => {
      sub.unsubscribe();
      stream.destroy();
    };
  });
}

/** A read failure of `path` as a FailmodeError naming the file. */
export function fileError(path: string, err: unknown): unknown {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && ['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'EPERM'].includes(e.code)) {
    return new FailmodeError(`cannot read ${path}: ${e.code}`, 'FAILMODE_ERR_INPUT', 2);
  }
  return err;
}
