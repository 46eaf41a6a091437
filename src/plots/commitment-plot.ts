import { renderLineChart, type LineChartSpec } from './line-chart.ts';
import type { RenderedFigure, RenderOptions } from './render-vega-lite.ts';
import { estimateTextWidth } from './text-width.ts';

/** What the commitment plot shows (SPEC §3.7): `AnalysisResult.plot`, present unless no data. */
export interface CommitmentPlotData {
  readonly source: 'prefinal' | 'regular (prefinal not available)';
  readonly windows: readonly number[];
  readonly early: readonly (number | null)[];
  readonly lo: readonly (number | null)[];
  readonly hi: readonly (number | null)[];
  readonly full: number | null;
  readonly chance: number;
  /** Best window marked as the commitment point when it is below the median trace length. */
  readonly marker: { readonly T: number; readonly prauc: number } | null;
  readonly medianLength: number | null;
}

export interface CommitmentPlotOptions extends RenderOptions {
  /** The paper's figure has no title; give one to label a figure outside a report. */
  readonly title?: string;
  /** Plot-area width in pixels (default 290; the height keeps the paper's 3.5 × 2.6 in proportions). */
  readonly width?: number;
}

// The paper's colours and line styles (SPEC §3.7); widths converted from points at 100 px per inch.
const PT = 100 / 72;
const CURVE = '#2166AC';
const BAND = '#AEC7E8';
const FULL = '#D6604D';
const CHANCE = '#999999';
const MARKER = '#555555';

/**
 * The commitment-point figure (SPEC §3.7): early-window PR-AUC against T on a log axis with ticks at the windows,
 * its 95 % CI band, the full-trace and chance lines, and the commitment marker at the best window when it lies
 * below the median trace length. Returns SVG and a PNG (≈300 dpi). Needs a serif font installed (DejaVu Serif).
 */
export async function renderCommitmentPlot(plot: CommitmentPlotData, opts: CommitmentPlotOptions = {}): Promise<RenderedFigure> {
  return renderLineChart(commitmentChartSpec(plot, opts), opts);
}

/** The figure's title: what was analysed and which features (`gpqa_gpt4o.final: early-window PR-AUC, prefinal`). */
export function commitmentPlotTitle(name: string, source: CommitmentPlotData['source']): string {
  return `${name}: early-window PR-AUC, ${source === 'prefinal' ? 'prefinal' : 'full list'}`;
}

/** The chart description of the figure (pure; tests inspect it). */
export function commitmentChartSpec(plot: CommitmentPlotData, opts: { title?: string; width?: number } = {}): LineChartSpec {
  const width = opts.width ?? 290;
  if (!(Number.isFinite(width) && width >= 100 && width <= 4000)) throw new TypeError(`Expected width to be a number of pixels from 100 to 4000, got ${width}`);
  const { windows, early, lo, hi, full, chance, marker } = plot;
  if (windows.length === 0) throw new TypeError('Expected at least one window to plot, got none');
  if (early.length !== windows.length || lo.length !== windows.length || hi.length !== windows.length) {
    throw new TypeError(`Expected early/lo/hi to have one value per window (${windows.length}), got ${early.length}/${lo.length}/${hi.length}`);
  }
  const y = commitmentYAxis(plot);
  const logMin = Math.log10(Math.min(...windows));
  const logMax = Math.log10(Math.max(...windows));
  const logRange = logMax - logMin;

  const spec: LineChartSpec = {
    title: opts.title,
    width,
    height: (width * 205) / 290,
    x: { label: 'Early-window size T (tokens)', scale: 'log', ticks: spacedLogTicks(windows, width), format: 'd' },
    y: { label: 'PR-AUC', domain: y.domain, ticks: y.ticks, format: '.2f', grid: true },
    bands: [{ label: '95% CI', points: windows.map((T, i) => ({ x: T, lo: lo[i] ?? null, hi: hi[i] ?? null })), color: BAND, opacity: 0.45 }],
    series: [{
      label: 'Early-window', points: windows.map((T, i) => ({ x: T, y: early[i] ?? null })), color: CURVE,
      strokeWidth: 1.8 * PT, markers: 'hollow', markerSize: Math.PI / 4 * (4.5 * PT + 1.5 * PT) ** 2 * 0.8,
    }],
    hlines: [
      ...(full !== null ? [{ at: full, label: `Full-trace (${full.toFixed(3)})`, color: FULL, strokeWidth: 1.4 * PT, dash: [5.2 * PT, 2.2 * PT] }] : []),
      { at: chance, label: `Chance (${chance.toFixed(3)})`, color: CHANCE, strokeWidth: 1.0 * PT, dash: [1 * PT, 1.65 * PT] },
    ],
    legend: 'auto',
  };
  if (!marker) return spec;

  // Label position as in the paper: a little right of T (or left of it near the axis end), a quarter of the CI span below.
  const ciValues = [...lo, ...hi].filter((v): v is number => v !== null && Number.isFinite(v));
  const span = ciValues.length > 0 ? Math.max(...ciValues) - Math.min(...ciValues) : y.domain[1] - y.domain[0];
  const right = Math.log10(marker.T) + 0.06 * logRange;
  const textLog = right > 0.95 * logMax ? Math.log10(marker.T) - 0.24 * logRange : right;
  const textY = Math.max(y.domain[0] + 0.04 * (y.domain[1] - y.domain[0]), marker.prauc - 0.25 * span);
  return {
    ...spec,
    vlines: [{ at: marker.T, color: MARKER, strokeWidth: 0.9 * PT, dash: [6.4 * 0.9 * PT, 1.6 * 0.9 * PT, 1 * 0.9 * PT, 1.6 * 0.9 * PT], opacity: 0.55 }],
    annotations: [{ x: 10 ** textLog, y: textY, text: `T=${marker.T}`, color: '#333333', pointTo: { x: marker.T, y: marker.prauc } }],
  };
}

/**
 * The windows whose tick labels fit side by side on the log axis (x extent padded 5 % each side, as the chart does):
 * where two labels would touch (400 and 512 on a 290-px axis), the one that is not a power of two is left out (else the
 * later one). The curve still has a point at every window.
 */
export function spacedLogTicks(windows: readonly number[], width: number, fontSize = 12.5 * 0.9): number[] {
  const sorted = [...new Set(windows)].sort((a, b) => a - b);
  if (sorted.length < 2) return sorted;
  const a = Math.log10(sorted[0]!);
  const b = Math.log10(sorted.at(-1)!);
  const m = 0.05 * (b - a);
  const px = (T: number) => ((Math.log10(T) - (a - m)) / (b - a + 2 * m)) * width;
  const labelW = (T: number) => estimateTextWidth(String(T), fontSize);
  const GAP = 4;
  const fits = (l: number, r: number) => px(r) - px(l) >= (labelW(l) + labelW(r)) / 2 + GAP;
  const isPow2 = (T: number) => Number.isInteger(Math.log2(T));
  const kept: number[] = [sorted[0]!];
  for (const T of sorted.slice(1)) {
    const prev = kept.at(-1)!;
    if (fits(prev, T)) kept.push(T);
    else if (isPow2(T) && !isPow2(prev) && (kept.length < 2 || fits(kept.at(-2)!, T))) kept[kept.length - 1] = T;
  }
  return kept;
}

/**
 * y limits and ticks per SPEC §3.7: limits [max(0, min − pad), min(1, max + pad)] over the curve, the CI and the
 * full-trace line (not the chance line), pad = max(0.12 · range, 0.02); ticks every 0.05 if the span exceeds 0.15,
 * else every 0.02.
 */
export function commitmentYAxis(plot: Pick<CommitmentPlotData, 'early' | 'lo' | 'hi' | 'full' | 'chance'>): { domain: [number, number]; ticks: number[] } {
  const vals = [...plot.early, ...plot.lo, ...plot.hi, plot.full].filter((v): v is number => v !== null && Number.isFinite(v));
  if (vals.length === 0) vals.push(plot.chance);
  const min = Math.min(...vals);
  const max = Math.max(...vals);
  const pad = Math.max(0.12 * (max - min), 0.02);
  const lower = Math.max(0, min - pad);
  const upper = Math.min(1, max + pad);
  const step = upper - lower > 0.15 ? 0.05 : 0.02;
  const ticks: number[] = [];
  for (let k = Math.ceil(lower / step - 1e-9); k * step <= upper + 1e-9; k++) ticks.push(Number((k * step).toFixed(10)));
  return { domain: [lower, upper], ticks };
}
