import React from 'react';
import { Box, Text } from 'ink';
import { formatCount } from './format.ts';
import { DETAIL_KEYS, fitKeyHints, GRID_KEYS } from './key-hints.ts';
import { voteLine, type WatchSummary } from './summarize-watch.ts';

type Props = {
  /** Counts, vote and tokens saved (summarizeWatch). */
  readonly summary: WatchSummary;
  /** Columns of the view. */
  readonly width: number;
  /** Rendering is paused (p). */
  readonly paused?: boolean;
  /** The event stream has ended ('complete') or failed ('error'). */
  readonly streamStatus?: 'live' | 'complete' | 'error';
  /** The stream's error message, or a view error. */
  readonly error?: string | null;
  /** The newest warning or stream error, shown after the counts. */
  readonly notice?: string | null;
  /** The detail view is open (the keys line changes). */
  readonly detail?: boolean;
};

/** Three lines: answers with the majority vote; flagged/stopped counts and tokens saved; status and keys. */
export function FooterBar({ summary, width, paused = false, streamStatus = 'live', error = null, notice = null, detail = false }: Props) {
  const s = summary;
  const unflagged = s.unflaggedVote.voters > 0 && s.unflaggedVote.voters !== s.vote.voters && s.unflaggedVote.majority !== s.vote.majority
    ? ` · unflagged only: ${s.unflaggedVote.majority ?? `tie ${s.unflaggedVote.leaders.join('/')}`}`
    : '';
  const saved = s.stopped === 0 ? '' : s.tokensSaved === null ? 'tokens saved: – (no finished sample yet)' : `≈${formatCount(s.tokensSaved)} tokens saved`;
  const fullStatus = paused ? '⏸ paused · '
    : streamStatus === 'error' ? 'stream failed · '
    : s.allEnded || streamStatus === 'complete' ? `all ${s.total} ended · ` : '';
  // On a narrow terminal the less used keys go first; "q quit" always stays on screen.
  const { status, keys } = fitKeyHints(fullStatus, detail ? DETAIL_KEYS : GRID_KEYS, width);
  // An error outranks the newest warning on the counts line (which has room for it; the keys line keeps the keys).
  const problem = streamStatus === 'error' ? `✗ ${error ?? 'unknown error'}` : error ? `✗ ${error}` : notice ? `⚠ ${notice}` : null;
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate-end">
        <Text bold>answers </Text>{voteLine(s.vote)}<Text color="gray">{unflagged}</Text>
      </Text>
      <Text wrap="truncate-end">
        <Text color="red">⚑ flagged {s.flagged}</Text> · <Text color="magenta">■ stopped {s.stopped}</Text> ·{' '}
        <Text color="green">✓ finished {s.finished}</Text> · {s.streaming} streaming{saved ? ' · ' : ''}<Text bold>{saved}</Text>
        {problem ? <Text color={problem.startsWith('✗') ? 'red' : 'yellow'}> · {problem}</Text> : null}
      </Text>
      <Text wrap="truncate-end">
        <Text color={paused || streamStatus === 'error' ? 'yellow' : 'green'} bold>{status}</Text><Text color="gray">{keys}</Text>
      </Text>
    </Box>
  );
}
