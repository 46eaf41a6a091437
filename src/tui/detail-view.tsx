import React from 'react';
import { Box, Text } from 'ink';
import { windowColumn, windowLenColumn } from '../features/columns.ts';
import { describeSample } from './describe-sample.ts';
import { fit, formatCount, formatFeature, formatRisk } from './format.ts';
import { renderSparkline } from './render-sparkline.ts';
import { riskColor } from './risk-gauge.tsx';
import { tailLines } from './sample-panel.tsx';
import type { SparkSignal } from './spark-buffer.ts';
import { displayRisk, reachedWindows, type RiskPoint, type SampleView } from './state.ts';

/** The table's columns: heading and paper column stat (window length and risk are added separately). */
export const DETAIL_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['Hμ', 'entropy_mean'], ['Hmax', 'entropy_max'], ['NLLμ', 'nll_mean'], ['NLLmax', 'nll_max'],
  ['margμ', 'margin_mean'], ['nuclμ', 'nucleus_size_mean'], ['tieμ', 'near_tie_mean'], ['fork', 'fork_rate'],
];
const CELL = 7;

type Props = {
  /** The sample to show in full. */
  readonly sample: SampleView;
  /** Columns available. */
  readonly width: number;
  /** Rows available (the feature table and risk lines first; the text gets the rest). */
  readonly height: number;
  /**
   * Signal of the sparkline.
   * @default 'entropy'
   */
  readonly signal?: SparkSignal;
  /** The classifier's commitment point T*, marked on the sparkline axis. */
  readonly commitmentPoint?: number | null;
  /** The user asked to stop this sample and its stream has not ended yet. */
  readonly stopRequested?: boolean;
};

/** Rows of the feature table as plain strings: heading first, then one row per window reached. */
export function featureTable(sample: SampleView): string[] {
  const riskAt = new Map<number, RiskPoint>();
  for (const r of sample.riskHistory) if (r.T !== 'full') riskAt.set(r.T, r);
  const head = ['T'.padStart(5), ...DETAIL_COLUMNS.map(([h]) => h.padStart(CELL)), 'len'.padStart(CELL), 'risk'.padStart(CELL)].join('');
  const rows = reachedWindows(sample).map((w) => {
    const cells = DETAIL_COLUMNS.map(([, stat]) => formatFeature(w.features[windowColumn(stat, w.T)]).padStart(CELL));
    const len = formatFeature(w.features[windowLenColumn(w.T)]);
    const r = riskAt.get(w.T);
    return [String(w.T).padStart(5), ...cells, len.padStart(CELL), formatRisk(r?.risk).padStart(CELL)].join('');
  });
  return [head, ...rows];
}

/** `windows 1024, 2048 not reached (the trace ended at 400 tokens)`, or null when every window was reached. */
export function unreachedLine(sample: SampleView): string | null {
  const missed = sample.windows.filter((w) => w.T > sample.tokens).map((w) => w.T);
  if (missed.length === 0) return null;
  return `windows ${missed.join(', ')} not reached (the trace ${sample.end ? 'ended' : 'is'} at ${formatCount(sample.tokens)} tokens)`;
}

/** `128 0.31 → 256 0.55 → 400 0.82 ⚑ → full 0.64 · stop ≥ 0.60 at T=400` (risk per window T, oldest first) */
export function riskHistoryLine(sample: SampleView): string {
  if (sample.riskHistory.length === 0) return 'no risk yet (no window reached, or no classifier)';
  const cut = sample.end?.finishReason === 'abort' ? '(cut)' : '';
  const parts = sample.riskHistory.map((r) => `${r.T === 'full' ? `full${cut}` : r.T} ${formatRisk(r.risk)}${sample.flag && r.T === sample.flag.T ? ' ⚑' : ''}`);
  // The stop threshold that matters: the flagging window's, else the newest window's that has one.
  const ruled = sample.flag
    ? { T: sample.flag.T, threshold: sample.flag.threshold }
    : [...sample.riskHistory].reverse().find((r) => r.threshold !== null);
  return `${parts.join(' → ')}${ruled && ruled.threshold !== null ? ` · stop ≥ ${formatRisk(ruled.threshold)} at ${ruled.T === 'full' ? 'full' : `T=${ruled.T}`}` : ''}`;
}

export function prefinalLine(sample: SampleView): string {
  if (!sample.end) return 'prefinal cut: known when the sample ends';
  if (sample.end.prefinalLen === null) return 'prefinal cut: no final-answer line found';
  return `prefinal cut: token ${formatCount(sample.end.prefinalLen)} of ${formatCount(sample.end.generatedLen)} (features before the final-answer line)`;
}

/** Everything about one sample: state, the per-window feature table with risk, risk history, prefinal cut, sparkline, text. */
export function DetailView({ sample, width, height, signal = 'entropy', commitmentPoint = null, stopRequested = false }: Props) {
  const state = describeSample(sample, { stopRequested });
  const table = featureTable(sample);
  const spark = renderSparkline(sample.spark, { signal, width: Math.max(4, width - 6), windows: reachedWindows(sample).map((w) => w.T), commitmentPoint });
  const unreached = unreachedLine(sample);
  // title, state, table (+ a placeholder row when empty, + the unreached windows), risk, prefinal, sparkline, axis;
  // the text gets what is left.
  const fixed = 2 + table.length + (table.length === 1 ? 1 : 0) + (unreached ? 1 : 0) + 4;
  const textRows = Math.max(0, height - fixed);
  const lastRisk = displayRisk(sample);
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text wrap="truncate-end">
        <Text bold inverse>{` ${sample.id} `}</Text> {formatCount(sample.tokens)} tok · risk{' '}
        <Text color={riskColor(lastRisk?.risk ?? null, lastRisk?.threshold ?? null)} bold>{formatRisk(lastRisk?.risk)}</Text>
        {sample.end ? <Text color="gray"> · finish {sample.end.finishReason || '–'}</Text> : null}
      </Text>
      <Text color={state.color} bold wrap="truncate-end">{`  ${state.text}`}</Text>
      {table.map((row, i) => (
        <Text key={`row${i}`} bold={i === 0} color={i === 0 ? 'gray' : undefined} wrap="truncate-end">{fit(row, width)}</Text>
      ))}
      {table.length === 1 ? <Text color="gray">{'  no window reached yet'}</Text> : null}
      {unreached ? <Text color="gray" wrap="truncate-end">{`  ${unreached}`}</Text> : null}
      <Text wrap="truncate-end"><Text bold>risk </Text>{riskHistoryLine(sample)}</Text>
      <Text wrap="truncate-end">{prefinalLine(sample)}</Text>
      <Text wrap="truncate-end"><Text color="gray">{signal === 'entropy' ? '  H   ' : '  NLL '}</Text><Text color={signal === 'entropy' ? 'blue' : 'magenta'}>{spark.bars}</Text></Text>
      <Text color="gray" wrap="truncate-end">{'      '}{spark.axis}</Text>
      {/* Text right under the sparkline: a short tail leaves blank rows below it, not above. */}
      {tailLines(sample.tail, Math.max(10, width - 2), textRows).filter((line, i, all) => line !== '' || all.slice(0, i).some((l) => l !== '')).map((line, i) => (
        <Text key={`tail${i}`} wrap="truncate-end">{'  '}{line}</Text>
      ))}
    </Box>
  );
}
