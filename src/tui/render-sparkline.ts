/**
 * Turns a SparkBuffer into two text rows of a fixed width: the bars (mean entropy or NLL per column, scaled to the
 * largest column) and an axis row marking the window boundaries reached (`╵128`) and the commitment point (`▲T*`).
 */
import { columnOfToken, sparkColumns, type SparkBuffer, type SparkSignal } from './spark-buffer.ts';

const BARS = '▁▂▃▄▅▆▇█';

export interface RenderedSparkline {
  readonly bars: string;
  readonly axis: string;
  /** Largest column mean (the top of the scale), NaN when there is no value yet. */
  readonly max: number;
  /** Columns drawn (≤ width; fewer while the trace is shorter than the width). */
  readonly columns: number;
}

export interface SparklineOptions {
  readonly signal: SparkSignal;
  readonly width: number;
  /** Window boundaries to mark (token counts). */
  readonly windows?: readonly number[];
  /** The classifier's commitment point T*, marked with ▲ (or announced at the right end while not reached). */
  readonly commitmentPoint?: number | null;
}

export function renderSparkline(buf: SparkBuffer, { signal, width, windows = [], commitmentPoint = null }: SparklineOptions): RenderedSparkline {
  const columns = sparkColumns(buf, signal, width);
  let max = Number.NaN;
  for (const c of columns) if (Number.isFinite(c.mean) && !(c.mean <= max)) max = c.mean;
  let bars = '';
  for (const c of columns) {
    if (!Number.isFinite(c.mean)) bars += ' ';
    // Bar k (0-based) is k+1 eighths tall: the smallest bar at least as tall as the value's share of the maximum.
    else bars += BARS[max > 0 ? Math.max(0, Math.min(BARS.length - 1, Math.ceil((c.mean / max) * BARS.length) - 1)) : 0];
  }
  bars = bars.padEnd(width, ' ');

  const axis: string[] = Array.from({ length: Math.max(0, width) }, () => ' ');
  const covered = buf.tokens;
  const place = (T: number, tick: string, label: string, force: boolean): void => {
    const col = columnOfToken(columns, T - 1);
    if (col < 0 || col >= width) return;
    if (!force && axis[col] !== ' ') return;
    axis[col] = tick;
    // The label goes right of the tick when it fits with a blank after it, so neighbouring labels never run together.
    const text = Array.from(label);
    const free = (i: number): boolean => i < 0 || i >= width || axis[i] === ' ';
    if (col + text.length < width && text.every((_, i) => free(col + 1 + i)) && free(col + 1 + text.length)) {
      text.forEach((ch, i) => { axis[col + 1 + i] = ch; });
    } else if (col - text.length >= 0 && text.every((_, i) => free(col - text.length + i)) && free(col - text.length - 1)) {
      text.forEach((ch, i) => { axis[col - text.length + i] = ch; });
    }
  };
  if (commitmentPoint !== null && commitmentPoint <= covered) place(commitmentPoint, '▲', 'T*', true);
  for (const T of windows) if (T <= covered && T !== commitmentPoint) place(T, '╵', String(T), false);
  let axisText = axis.join('');
  if (commitmentPoint !== null && commitmentPoint > covered) {
    const note = ` T*=${commitmentPoint}→`;
    const trimmed = axisText.trimEnd();
    if (trimmed.length + note.length <= width) axisText = trimmed + ' '.repeat(width - trimmed.length - note.length) + note;
  }
  return { bars, axis: axisText, max, columns: columns.length };
}
