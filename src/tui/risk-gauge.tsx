import React from 'react';
import { Text } from 'ink';
import { formatRisk } from './format.ts';

const PARTIAL = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

type Props = {
  /** P(failure) in [0, 1]; null before the first window's classifier has run. */
  readonly risk: number | null;
  /** The classifier's stop threshold: at or above it the gauge is red. */
  readonly threshold?: number | null;
  /**
   * Cells of the bar.
   * @default 10
   */
  readonly width?: number;
};

/** Colour of a risk: green → yellow → red (red at the stop threshold when there is one). */
export function riskColor(risk: number | null, threshold: number | null = null): string {
  if (risk === null || !Number.isFinite(risk)) return 'gray';
  if (threshold !== null ? risk >= threshold : risk >= 0.66) return 'red';
  const yellowFrom = threshold !== null ? Math.min(0.33, threshold * 0.6) : 0.33;
  return risk >= yellowFrom ? 'yellow' : 'green';
}

/** The bar alone: `width` cells, eighth-block precision. */
export function gaugeBar(risk: number, width: number): string {
  const eighths = Math.round(Math.max(0, Math.min(1, risk)) * width * 8);
  const full = Math.floor(eighths / 8);
  const part = PARTIAL[eighths % 8]!;
  return '█'.repeat(full) + part + '░'.repeat(width - full - (part ? 1 : 0));
}

/** `risk 0.82 ████████▏░` coloured by level. */
export function RiskGauge({ risk, threshold = null, width = 10 }: Props) {
  const color = riskColor(risk, threshold);
  if (risk === null || !Number.isFinite(risk)) return <Text color="gray">risk  –   {'·'.repeat(width)}</Text>;
  return (
    <Text>
      risk <Text color={color} bold>{formatRisk(risk)}</Text> <Text color={color}>{gaugeBar(risk, width)}</Text>
    </Text>
  );
}
