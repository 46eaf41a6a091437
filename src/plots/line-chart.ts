import type { TopLevelSpec } from 'vega-lite';
import { FIGURE_FONT, renderVegaLite, type RenderedFigure, type RenderOptions } from './render-vega-lite.ts';
import { estimateTextWidth } from './text-width.ts';

/**
 * A small declarative line chart — curves, shaded bands, reference lines, annotations and an in-plot legend — drawn
 * in the paper's figure style (serif, no top/right spines, light dashed y-grid). Every failmode figure goes through it.
 * Sizes are in SVG pixels (100 px = 1 inch of the paper's figure); dashes are SVG dash arrays in pixels.
 */
export interface LineChartSpec {
  readonly title?: string;
  /** Plot-area size in pixels (axes and labels come on top). Default 290 × 205 (the paper's 3.5 × 2.6 in figure). */
  readonly width?: number;
  readonly height?: number;
  /** Font size of axis labels and titles (default 12.5 px = 9 pt), and of the legend (default 9.7 px = 7 pt). */
  readonly fontSize?: number;
  readonly legendFontSize?: number;
  readonly x: AxisSpec & { readonly scale?: 'linear' | 'log' };
  readonly y: AxisSpec & { readonly grid?: boolean };
  readonly bands?: readonly BandSpec[];
  readonly series?: readonly SeriesSpec[];
  readonly hlines?: readonly RefLineSpec[];
  readonly vlines?: readonly RefLineSpec[];
  readonly annotations?: readonly AnnotationSpec[];
  /**
   * Legend position (default `auto`): a corner inside the plot area, `outside-right`, or `auto` — the first inside
   * corner (upper-right, upper-left, lower-right, lower-left) whose box covers no drawn data (curve, markers, band,
   * reference line), else outside to the right. Entries in the order given, labelled items only; a reference line
   * outside the y range (not drawn) has no entry.
   */
  readonly legend?: LegendPlace | 'auto' | 'none';
}

export type LegendPlace = 'lower-right' | 'lower-left' | 'upper-right' | 'upper-left' | 'outside-right';

export interface AxisSpec {
  readonly label: string;
  /** Axis limits; default: the data's extent (plus a 5 % margin on the x axis, in log space for log scales). */
  readonly domain?: readonly [number, number];
  /** Tick positions (default: chosen by vega). */
  readonly ticks?: readonly number[];
  /** d3-format string for tick labels, e.g. `d`, `.2f`. */
  readonly format?: string;
}

export interface SeriesSpec {
  readonly label?: string;
  readonly points: ReadonlyArray<{ readonly x: number; readonly y: number | null }>;
  readonly color: string;
  readonly strokeWidth?: number;
  readonly dash?: readonly number[];
  /** Circle markers: `hollow` = white fill with a coloured edge (the paper's style). */
  readonly markers?: 'none' | 'filled' | 'hollow';
  readonly markerSize?: number;
}

export interface BandSpec {
  readonly label?: string;
  readonly points: ReadonlyArray<{ readonly x: number; readonly lo: number | null; readonly hi: number | null }>;
  readonly color: string;
  readonly opacity?: number;
}

export interface RefLineSpec {
  /** Position on the axis the line is perpendicular to (y for hlines, x for vlines). */
  readonly at: number;
  readonly label?: string;
  readonly color: string;
  readonly strokeWidth?: number;
  readonly dash?: readonly number[];
  readonly opacity?: number;
}

export interface AnnotationSpec {
  readonly x: number;
  readonly y: number;
  readonly text: string;
  readonly color?: string;
  /** Draw a thin connector from the text anchor to this data point. */
  readonly pointTo?: { readonly x: number; readonly y: number };
}

type Layer = Record<string, unknown>;

/** Renders the chart to SVG + PNG. */
export async function renderLineChart(spec: LineChartSpec, opts: RenderOptions = {}): Promise<RenderedFigure> {
  return renderVegaLite(lineChartToVegaLite(spec), opts);
}

/** The vega-lite spec of a line chart (pure; exposed for tests and for callers who want the spec itself). */
export function lineChartToVegaLite(spec: LineChartSpec): TopLevelSpec {
  const width = spec.width ?? 290;
  const height = spec.height ?? 205;
  const fontSize = spec.fontSize ?? 12.5;
  const legendFontSize = spec.legendFontSize ?? 9.7;
  const xType = spec.x.scale ?? 'linear';
  const xDomain = spec.x.domain ?? xExtent(spec, xType);
  const yDomain = spec.y.domain ?? yExtent(spec);

  const xAxis = { title: spec.x.label, grid: false, labelOverlap: false, ...(spec.x.ticks ? { values: [...spec.x.ticks] } : {}), ...(spec.x.format ? { format: spec.x.format } : {}) };
  const yAxis = {
    title: spec.y.label,
    grid: spec.y.grid ?? true,
    ...(spec.y.ticks ? { values: [...spec.y.ticks] } : {}),
    ...(spec.y.format ? { format: spec.y.format } : {}),
  };
  const xScale = { type: xType, domain: [...xDomain], nice: false, zero: false };
  const yScale = { type: 'linear', domain: [...yDomain], nice: false, zero: false };
  // Identical scale and axis definitions in every data layer keep vega-lite's layer merge conflict-free.
  const xField = (field: string) => ({ field, type: 'quantitative', scale: xScale, axis: xAxis });
  const yField = (field: string) => ({ field, type: 'quantitative', scale: yScale, axis: yAxis });
  const xDatum = (v: number) => ({ datum: v, type: 'quantitative', scale: xScale, axis: xAxis });
  const yDatum = (v: number) => ({ datum: v, type: 'quantitative', scale: yScale, axis: yAxis });
  const one = { values: [{}] };

  const layers: Layer[] = [];
  for (const b of spec.bands ?? []) {
    const values = b.points.filter((p) => isNum(p.lo) && isNum(p.hi) && isNum(p.x)).sort((a, c) => a.x - c.x);
    if (values.length === 0) continue;
    layers.push({
      data: { values },
      mark: { type: 'area', color: b.color, opacity: b.opacity ?? 0.45, clip: true },
      encoding: { x: xField('x'), y: yField('lo'), y2: { field: 'hi' } },
    });
  }
  for (const h of spec.hlines ?? []) {
    if (!isNum(h.at)) continue;
    layers.push({ data: one, mark: { type: 'rule', clip: true, ...stroke(h.color, h.strokeWidth ?? 1, h.dash, h.opacity) }, encoding: { y: yDatum(h.at) } });
  }
  for (const v of spec.vlines ?? []) {
    if (!isNum(v.at)) continue;
    layers.push({ data: one, mark: { type: 'rule', clip: true, ...stroke(v.color, v.strokeWidth ?? 1, v.dash, v.opacity) }, encoding: { x: xDatum(v.at) } });
  }
  for (const s of spec.series ?? []) {
    const values = s.points.filter((p) => isNum(p.x) && isNum(p.y)).sort((a, c) => a.x - c.x);
    if (values.length === 0) continue;
    layers.push({
      data: { values },
      mark: { type: 'line', clip: true, ...stroke(s.color, s.strokeWidth ?? 1.5, s.dash) },
      encoding: { x: xField('x'), y: yField('y') },
    });
    if ((s.markers ?? 'none') !== 'none') {
      layers.push({
        data: { values },
        mark: { type: 'point', clip: true, ...markerStyle(s) },
        encoding: { x: xField('x'), y: yField('y') },
      });
    }
  }
  for (const a of spec.annotations ?? []) {
    if (!isNum(a.x) || !isNum(a.y)) continue;
    if (a.pointTo && isNum(a.pointTo.x) && isNum(a.pointTo.y)) {
      layers.push({
        data: one,
        mark: { type: 'rule', color: a.color ?? '#333333', strokeWidth: 0.6, opacity: 0.8, clip: true },
        encoding: { x: xDatum(a.x), y: yDatum(a.y), x2: { datum: a.pointTo.x }, y2: { datum: a.pointTo.y } },
      });
    }
    layers.push({
      data: one,
      mark: { type: 'text', text: a.text, align: 'left', baseline: 'middle', dx: 2, fontSize: fontSize * 0.85, color: a.color ?? '#333333', font: FIGURE_FONT },
      encoding: { x: xDatum(a.x), y: yDatum(a.y) },
    });
  }
  if ((spec.legend ?? 'auto') !== 'none') layers.push(...legendLayers(spec, width, height, legendFontSize, xDomain, yDomain));

  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(spec.title ? { title: { text: spec.title, fontSize: fontSize * 1.1, font: FIGURE_FONT, fontWeight: 'normal' } } : {}),
    width,
    height,
    background: 'white',
    padding: 6,
    layer: layers,
    config: {
      font: FIGURE_FONT,
      view: { stroke: null },
      axis: {
        labelFont: FIGURE_FONT, titleFont: FIGURE_FONT, labelFontSize: fontSize * 0.9, titleFontSize: fontSize,
        titleFontWeight: 'normal', labelColor: '#000000', titleColor: '#000000', domainColor: '#000000', tickColor: '#000000',
        domainWidth: 1, tickWidth: 1, tickSize: 4.9, labelPadding: 3, titlePadding: 6, labelFlush: false,
        gridColor: '#dddddd', gridWidth: 0.6, gridDash: [3, 2],
      },
    },
  } as unknown as TopLevelSpec;
}

/** Hand-drawn legend in plot-area pixels, so line styles, hollow markers and band patches all show as drawn. */
function legendLayers(spec: LineChartSpec, width: number, height: number, fs: number, xDomain: readonly [number, number], yDomain: readonly [number, number]): Layer[] {
  type Entry = { label: string; kind: 'line' | 'patch'; color: string; strokeWidth?: number; dash?: readonly number[]; opacity?: number; marker?: SeriesSpec };
  const entries: Entry[] = [];
  const inside = (v: number, d: readonly [number, number]) => v >= Math.min(d[0], d[1]) && v <= Math.max(d[0], d[1]);
  for (const s of spec.series ?? []) if (s.label) entries.push({ label: s.label, kind: 'line', color: s.color, strokeWidth: s.strokeWidth ?? 1.5, dash: s.dash, marker: s });
  // A reference line outside the axis range is clipped away: no legend entry for a line nobody can see.
  for (const h of spec.hlines ?? []) if (h.label && inside(h.at, yDomain)) entries.push({ label: h.label, kind: 'line', color: h.color, strokeWidth: h.strokeWidth ?? 1, dash: h.dash, opacity: h.opacity });
  for (const v of spec.vlines ?? []) if (v.label && inside(v.at, xDomain)) entries.push({ label: v.label, kind: 'line', color: v.color, strokeWidth: v.strokeWidth ?? 1, dash: v.dash, opacity: v.opacity });
  for (const b of spec.bands ?? []) if (b.label) entries.push({ label: b.label, kind: 'patch', color: b.color, opacity: b.opacity ?? 0.45 });
  if (entries.length === 0) return [];

  const pad = fs * 0.5;
  const handle = fs * 2.2;
  const gap = fs * 0.6;
  const lineH = fs * 1.45;
  const textW = Math.max(...entries.map((e) => estimateTextWidth(e.label, fs)));
  const boxW = pad + handle + gap + textW + pad;
  const boxH = pad * 2 + entries.length * lineH;
  const margin = fs * 0.5;
  const boxAt = (where: LegendPlace): { x0: number; y0: number } => where === 'outside-right'
    ? { x0: width + fs, y0: margin }
    : { x0: where.endsWith('right') ? width - boxW - margin : margin, y0: where.startsWith('lower') ? height - boxH - margin : margin };
  const asked = spec.legend ?? 'auto';
  let where: LegendPlace = 'outside-right';
  if (asked !== 'auto' && asked !== 'none') where = asked;
  else {
    const drawn = dataPixels(spec, width, height, xDomain, yDomain);
    const free = (['upper-right', 'upper-left', 'lower-right', 'lower-left'] as const).find((corner) => {
      const { x0, y0 } = boxAt(corner);
      return !drawn.some(([px, py]) => px >= x0 - 2 && px <= x0 + boxW + 2 && py >= y0 - 2 && py <= y0 + boxH + 2);
    });
    if (free) where = free;
  }
  const { x0, y0 } = boxAt(where);
  const one = { values: [{}] };

  const layers: Layer[] = [
    { data: one, mark: { type: 'rect', x: x0, x2: x0 + boxW, y: y0, y2: y0 + boxH, fill: 'white', fillOpacity: 0.8, stroke: '#cccccc', strokeWidth: 0.8, cornerRadius: 3 }, encoding: {} },
  ];
  entries.forEach((e, i) => {
    const cy = y0 + pad + (i + 0.5) * lineH;
    const hx = x0 + pad;
    if (e.kind === 'patch') {
      layers.push({ data: one, mark: { type: 'rect', x: hx, x2: hx + handle, y: cy - fs * 0.35, y2: cy + fs * 0.35, fill: e.color, fillOpacity: e.opacity ?? 0.45 }, encoding: {} });
    } else {
      layers.push({
        data: one,
        mark: { type: 'rule', ...stroke(e.color, e.strokeWidth ?? 1, e.dash, e.opacity) },
        // A rule takes pixel positions only through encoding values.
        encoding: { x: { value: hx }, x2: { value: hx + handle }, y: { value: cy }, y2: { value: cy } },
      });
      if (e.marker && (e.marker.markers ?? 'none') !== 'none') {
        layers.push({ data: one, mark: { type: 'point', x: hx + handle / 2, y: cy, ...markerStyle(e.marker) }, encoding: {} });
      }
    }
    layers.push({ data: one, mark: { type: 'text', x: hx + handle + gap, y: cy, text: e.label, align: 'left', baseline: 'middle', fontSize: fs, color: '#000000', font: FIGURE_FONT }, encoding: {} });
  });
  return layers;
}

/**
 * Pixel positions (plot-area coordinates, y down) densely sampled along everything drawn from data: curves and their
 * markers, band areas (a grid between the lower and upper edge), reference lines within range. A legend box that
 * contains none of them covers no data.
 */
export function dataPixels(spec: LineChartSpec, width: number, height: number, xDomain: readonly [number, number], yDomain: readonly [number, number]): Array<[number, number]> {
  const log = (spec.x.scale ?? 'linear') === 'log';
  const tx = (v: number) => (log ? Math.log10(v) : v);
  const [xa, xb] = [tx(xDomain[0]), tx(xDomain[1])];
  const px = (v: number) => ((tx(v) - xa) / (xb - xa)) * width;
  const py = (v: number) => height - ((v - yDomain[0]) / (yDomain[1] - yDomain[0])) * height;
  const out: Array<[number, number]> = [];
  const inPlot = (x: number, y: number) => x >= 0 && x <= width && y >= 0 && y <= height;
  const push = (x: number, y: number) => { if (inPlot(x, y)) out.push([x, y]); };
  const STEPS = 40;
  for (const s of spec.series ?? []) {
    const pts = s.points.filter((p) => isNum(p.x) && isNum(p.y)).sort((a, c) => a.x - c.x);
    for (let i = 0; i < pts.length; i++) {
      const a = pts[i]!;
      push(px(a.x), py(a.y!));
      const b = pts[i + 1];
      if (!b) continue;
      for (let k = 1; k < STEPS; k++) {
        const f = k / STEPS;
        push(px(a.x) + f * (px(b.x) - px(a.x)), py(a.y!) + f * (py(b.y!) - py(a.y!)));
      }
    }
  }
  for (const band of spec.bands ?? []) {
    const pts = band.points.filter((p) => isNum(p.x) && isNum(p.lo) && isNum(p.hi)).sort((a, c) => a.x - c.x);
    for (let i = 0; i + 1 < pts.length; i++) {
      const a = pts[i]!;
      const b = pts[i + 1]!;
      for (let k = 0; k <= STEPS; k++) {
        const f = k / STEPS;
        const x = px(a.x) + f * (px(b.x) - px(a.x));
        const lo = py(a.lo!) + f * (py(b.lo!) - py(a.lo!));
        const hi = py(a.hi!) + f * (py(b.hi!) - py(a.hi!));
        for (let j = 0; j <= 20; j++) push(x, hi + (j / 20) * (lo - hi));
      }
    }
  }
  for (const h of spec.hlines ?? []) if (isNum(h.at)) for (let k = 0; k <= 4 * STEPS; k++) push((k / (4 * STEPS)) * width, py(h.at));
  for (const v of spec.vlines ?? []) if (isNum(v.at)) for (let k = 0; k <= 4 * STEPS; k++) push(px(v.at), (k / (4 * STEPS)) * height);
  return out;
}

function stroke(color: string, width: number, dash?: readonly number[], opacity?: number): Layer {
  return { color, strokeWidth: width, ...(dash && dash.length > 0 ? { strokeDash: [...dash] } : {}), ...(opacity !== undefined ? { opacity } : {}) };
}

function markerStyle(s: SeriesSpec): Layer {
  const hollow = s.markers === 'hollow';
  return {
    shape: 'circle', filled: true, size: s.markerSize ?? 32, opacity: 1,
    fill: hollow ? 'white' : s.color, stroke: s.color, strokeWidth: hollow ? 1.5 * 1.39 * 0.75 : 0,
  };
}

export { estimateTextWidth } from './text-width.ts';

function isNum(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function xExtent(spec: LineChartSpec, type: 'linear' | 'log'): [number, number] {
  const xs: number[] = [];
  for (const s of spec.series ?? []) for (const p of s.points) if (isNum(p.x) && isNum(p.y)) xs.push(p.x);
  for (const b of spec.bands ?? []) for (const p of b.points) if (isNum(p.x)) xs.push(p.x);
  for (const v of spec.vlines ?? []) if (isNum(v.at)) xs.push(v.at);
  if (xs.length === 0) return type === 'log' ? [1, 10] : [0, 1];
  return marginExtent(Math.min(...xs), Math.max(...xs), type);
}

/** The data extent widened by 5 % on each side (in log space for log scales), as matplotlib's autoscale does. */
export function marginExtent(lo: number, hi: number, type: 'linear' | 'log'): [number, number] {
  if (type === 'log') {
    const a = Math.log10(lo);
    const b = Math.log10(hi);
    const m = b > a ? 0.05 * (b - a) : 0.1;
    return [10 ** (a - m), 10 ** (b + m)];
  }
  const m = hi > lo ? 0.05 * (hi - lo) : Math.max(Math.abs(lo) * 0.05, 0.5);
  return [lo - m, hi + m];
}

function yExtent(spec: LineChartSpec): [number, number] {
  const ys: number[] = [];
  for (const s of spec.series ?? []) for (const p of s.points) if (isNum(p.y)) ys.push(p.y);
  for (const b of spec.bands ?? []) for (const p of b.points) if (isNum(p.lo) && isNum(p.hi)) ys.push(p.lo, p.hi);
  for (const h of spec.hlines ?? []) if (isNum(h.at)) ys.push(h.at);
  if (ys.length === 0) return [0, 1];
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  const m = hi > lo ? 0.05 * (hi - lo) : 0.05;
  return [lo - m, hi + m];
}
