import React from 'react';
import { Box, Text } from 'ink';
import { formatCount, formatElapsed } from './format.ts';
import type { WatchHeaderInfo } from './watch-header.ts';

type Props = {
  /** Endpoint, model and classifier to show. */
  readonly info: WatchHeaderInfo;
  /** Columns of the view. */
  readonly width: number;
  /** Time since the first event. */
  readonly elapsedMs: number;
  /** All samples together. */
  readonly tokensPerSecond: number;
  /** Flagged samples are stopped automatically. */
  readonly earlyStop?: boolean;
  /** e.g. `samples 1–3 of 8`, shown at the right of the second line. */
  readonly range?: string;
};

/**
 * Two lines: endpoint and model with elapsed time and tokens/s; the classifier (data, regime, T*), early-stop mode and
 * the stop rule's guarantee.
 * The right-hand figures never shrink; the left text is cut, so a long endpoint or name never wraps the header.
 */
export function HeaderBar({ info, width, elapsedMs, tokensPerSecond, earlyStop = false, range = '' }: Props) {
  const right1 = `${formatElapsed(elapsedMs)} · ${formatCount(tokensPerSecond)} tok/s`;
  const c = info.classifier;
  const right2 = range;
  return (
    <Box flexDirection="column" width={width}>
      <Box width={width}>
        <Box flexGrow={1} flexShrink={1} overflow="hidden">
          <Text wrap="truncate-end">
            <Text bold color="cyan">failmode</Text> <Text>{info.endpoint}</Text> <Text color="gray">·</Text> <Text bold>{info.model}</Text>
          </Text>
        </Box>
        <Box flexShrink={0}><Text> {right1}</Text></Box>
      </Box>
      <Box width={width}>
        <Box flexGrow={1} flexShrink={1} overflow="hidden">
          {c ? (
            <Text wrap="truncate-end">
              classifier <Text bold>{c.name}</Text> <Text color="gray">·</Text> {c.regime} <Text color="gray">·</Text>{' '}
              <Text bold>T*={c.commitmentPoint ?? '–'}</Text> <Text color="gray">·</Text> early stop{' '}
              <Text color={earlyStop ? 'green' : 'gray'}>{earlyStop ? 'on' : 'off'}</Text>
              {c.stopRule ? <><Text color="gray"> · </Text>{c.stopRule}</> : null}
            </Text>
          ) : (
            <Text color="yellow" wrap="truncate-end">no classifier loaded: risk and failure flags are off</Text>
          )}
        </Box>
        {right2 ? <Box flexShrink={0}><Text color="gray"> {right2}</Text></Box> : null}
      </Box>
    </Box>
  );
}
