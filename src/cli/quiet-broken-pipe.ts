/**
 * `failmode … | head`: once the reader closes the pipe, writes to stdout (or stderr) fail with EPIPE, and an
 * unhandled 'error' event on the stream ends node with a stack trace. This listener swallows the broken pipe (and the
 * "stream destroyed" errors of later writes) so the command finishes its work — the files it writes included — and
 * exits with its own code, saying nothing. Any other write error is rethrown as before.
 */
const guarded = new WeakSet<NodeJS.WriteStream>();

const BROKEN_PIPE_CODES = new Set(['EPIPE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

/** Installs the listener once per stream (main() may run several times in one process, e.g. in tests). */
export function endQuietlyOnBrokenPipe(stream: NodeJS.WriteStream): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (BROKEN_PIPE_CODES.has(String(err.code))) return;
    throw err;
  });
}
