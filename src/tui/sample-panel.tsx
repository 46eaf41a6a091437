import React from 'react';
import { Box, Text } from 'ink';
import { describeSample } from './describe-sample.ts';
import { formatCount, formatFeature } from './format.ts';
import { renderSparkline } from './render-sparkline.ts';
import { RiskGauge } from './risk-gauge.tsx';
import type { SparkSignal } from './spark-buffer.ts';
import { displayRisk, reachedWindows, type SampleView } from './state.ts';
import { windowColumn } from '../features/columns.ts';

type Props = {
  /** The sample to draw (from the watch state). */
  readonly sample: SampleView;
  /** Columns the panel may use. */
  readonly width: number;
  /**
   * Rows the panel may use: 5 shows title, state, one line of text, sparkline and axis; 6 adds the window's
   * features; 7 and 8 add lines of text.
   * @default 6
   */
  readonly height?: number;
  /** Drawn highlighted with a ▶ marker. */
  readonly selected?: boolean;
  /**
   * Which per-token signal the sparkline shows.
   * @default 'entropy'
   */
  readonly signal?: SparkSignal;
  /** The classifier's commitment point T*, marked on the sparkline axis. */
  readonly commitmentPoint?: number | null;
  /** The user asked to stop this sample and its stream has not ended yet. */
  readonly stopRequested?: boolean;
};

/** Splits the end of `text` into `lines` rows of `width` characters, newest text on the last row. */
export function tailLines(text: string, width: number, lines: number): string[] {
  const chars = Array.from(text).slice(-(width * lines));
  const out: string[] = [];
  for (let end = chars.length; out.length < lines; end -= width) out.unshift(end > 0 ? chars.slice(Math.max(0, end - width), end).join('') : '');
  return out;
}

/**
 * `w400 H 0.84/2.91 NLL 0.61/7.20 fork 0.12 tie 0.30` — mean/max of the newest window; the last items are left out
 * when they do not fit `width`.
 */
export function featureLine(sample: SampleView, width = Infinity): string {
  const reached = reachedWindows(sample);
  const w = reached[reached.length - 1];
  if (!w) return 'no window reached yet';
  const f = (stat: string) => formatFeature(w.features[windowColumn(stat, w.T)]);
  const parts = [`w${w.T}`, `H ${f('entropy_mean')}/${f('entropy_max')}`, `NLL ${f('nll_mean')}/${f('nll_max')}`, `fork ${f('fork_rate')}`, `tie ${f('near_tie_mean')}`];
  let line = parts[0]!;
  for (const p of parts.slice(1)) {
    if (line.length + 1 + p.length > width) break;
    line += ` ${p}`;
  }
  return line;
}

/** One sample: title with risk gauge, state line, text tail, per-token sparkline with window marks, features. */
export function SamplePanel({ sample, width, height = 6, selected = false, signal = 'entropy', commitmentPoint = null, stopRequested = false }: Props) {
  const inner = Math.max(10, width - 2);
  const textRows = height >= 6 ? 1 + Math.max(0, height - 6) : 1;
  const sparkWidth = Math.max(4, inner - 4);
  const spark = renderSparkline(sample.spark, { signal, width: sparkWidth, windows: reachedWindows(sample).map((w) => w.T), commitmentPoint });
  const state = describeSample(sample, { stopRequested });
  const risk = displayRisk(sample);
  const riskAt = risk ? (risk.T === 'full' ? ' @full' : ` @T=${risk.T}`) : '';
  const rows: React.ReactNode[] = [];

  rows.push(
    <Text key="title" wrap="truncate-end">
      <Text color={selected ? 'cyan' : 'gray'} bold>{selected ? '▶ ' : '  '}</Text>
      <Text bold inverse={selected}>{` ${sample.id} `}</Text>
      <Text> {formatCount(sample.tokens)} tok  </Text>
      <RiskGauge risk={risk?.risk ?? null} threshold={risk?.threshold ?? null} width={10} />
      <Text color="gray">{riskAt}</Text>
    </Text>,
  );
  if (height >= 2) rows.push(<Text key="state" color={state.color} bold={state.color !== 'cyan'} wrap="truncate-end">{`  ${state.text}`}</Text>);
  if (height >= 3) {
    tailLines(sample.tail, inner, textRows).forEach((line, i) => rows.push(
      <Text key={`tail${i}`} wrap="truncate-end">{'  '}{line}</Text>,
    ));
  }
  if (height >= 4) {
    rows.push(
      <Text key="spark" wrap="truncate-end">
        <Text color="gray">{signal === 'entropy' ? '  H ' : '  N '}</Text>
        <Text color={signal === 'entropy' ? 'blue' : 'magenta'}>{spark.bars}</Text>
      </Text>,
    );
  }
  if (height >= 5) rows.push(<Text key="axis" color="gray" wrap="truncate-end">{'    '}{spark.axis}</Text>);
  if (height >= 6) rows.push(<Text key="features" color="gray" wrap="truncate-end">{'  '}{featureLine(sample, inner)}</Text>);

  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      {rows.slice(0, height)}
    </Box>
  );
}
