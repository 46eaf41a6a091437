/**
 * What kind of recording a file's first bytes look like, so `watch --replay` / `--replay-jsonl` can refuse the other
 * kind with the flag that reads it instead of replaying nothing:
 * - `sse`: the first non-blank line is an SSE field (`data:`, `event:`, `id:`, `retry:`) or comment (`:`) — a raw
 *   server stream as `--record-sse` writes it;
 * - `jsonl`: it starts with `{` — one JSON object per line, as `--record` writes token events;
 * - `empty`: nothing but whitespace; `other`: anything else (a CSV, text, a binary file).
 */
export type RecordingKind = 'sse' | 'jsonl' | 'empty' | 'other';

/** How many bytes of a file are enough to tell (the first line of either kind is far shorter in practice). */
export const RECORDING_SNIFF_BYTES = 4096;

export function recordingKind(head: string): RecordingKind {
  const text = head.replace(/^\uFEFF/, '');
  const line = text.split(/\r\n|\r|\n/).find((l) => l.trim() !== '');
  if (line === undefined) return text.length >= RECORDING_SNIFF_BYTES ? 'other' : 'empty';
  if (/^(data|event|id|retry)(:|$)/.test(line) || line.startsWith(':')) return 'sse';
  if (line.trimStart().startsWith('{')) return 'jsonl';
  return 'other';
}
