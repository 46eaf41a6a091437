import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { estimateTextWidth } from './text-width.ts';

// Headless (no canvas) vega guesses text widths at 0.8 em per character, about 1.5× DejaVu Serif's, so titles and axis
// titles were laid out far too wide and the figures came with large empty margins. Our figures use DejaVu Serif:
// measure with its widths (vega supports a user-defined width function for exactly this).
(vega as unknown as { textMetrics: { width: (item: { fontSize?: number }, text: unknown) => number } }).textMetrics.width = (item, text) =>
  1.06 * estimateTextWidth(text === null || text === undefined ? '' : String(text).trim(), item.fontSize ?? 11);

/** A rendered figure: the SVG text and a PNG of it. */
export interface RenderedFigure {
  readonly svg: string;
  readonly png: Buffer;
}

export interface RenderOptions {
  /** PNG pixels per SVG pixel (default 3: a 350-px-wide figure becomes a 1050-px PNG, ≈300 dpi at 3.5 in). */
  readonly pngScale?: number;
}

/**
 * Font families the figures ask for, first match wins. The PNG needs one of them installed (resvg loads the system's
 * fonts); DejaVu Serif ships as Debian/Ubuntu's `fonts-dejavu-core`. Without any font the PNG has no text.
 */
export const FIGURE_FONT = 'DejaVu Serif, Times New Roman, Liberation Serif, serif';

/**
 * The one plotting path: vega-lite spec → vega (headless, `renderer: 'none'`) → SVG → resvg PNG.
 * No browser, canvas or LaTeX is needed.
 */
export async function renderVegaLite(spec: TopLevelSpec, opts: RenderOptions = {}): Promise<RenderedFigure> {
  const { pngScale = 3 } = opts;
  if (!(Number.isFinite(pngScale) && pngScale > 0 && pngScale <= 10)) {
    throw new TypeError(`Expected pngScale to be a number in (0, 10], got ${pngScale}`);
  }
  const compiled = compile(spec, { logger: silentLogger() }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    const svg = renumberSvgIds(await view.toSVG());
    const png = svgToPng(svg, pngScale);
    return { svg, png };
  } finally {
    view.finalize();
  }
}

/**
 * vega numbers the ids it gives clip paths and gradients from a counter shared by every view in the process
 * (`clip32`…), so the same figure came out with other ids depending on what was rendered before it. Renumbers each
 * `<prefix><n>` id in order of first declaration, per prefix (clip1, clip2, …), together with every `url(#…)` and
 * `href="#…"` pointing at it: the same figure is the same bytes in any process.
 */
export function renumberSvgIds(svg: string): string {
  const renamed = new Map<string, string>();
  const counts = new Map<string, number>();
  for (const m of svg.matchAll(/\bid="([A-Za-z_-]*?)(\d+)"/g)) {
    const [, prefix, digits] = m;
    const id = `${prefix}${digits}`;
    if (renamed.has(id)) continue;
    const n = (counts.get(prefix!) ?? 0) + 1;
    counts.set(prefix!, n);
    renamed.set(id, `${prefix}${n}`);
  }
  if (renamed.size === 0) return svg;
  return svg.replace(/(\bid="|url\(#|href="#)([A-Za-z_-]*?\d+)(?=["')])/g, (whole, lead: string, id: string) => {
    const to = renamed.get(id);
    return to === undefined ? whole : `${lead}${to}`;
  });
}

/** Rasterises an SVG with the system's fonts. */
export function svgToPng(svg: string, scale = 3): Buffer {
  const resvg = new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Serif', serifFamily: 'DejaVu Serif', sansSerifFamily: 'DejaVu Sans' },
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    logLevel: 'off',
  });
  return resvg.render().asPng();
}

/** vega-lite warns about harmless things (e.g. pixel-positioned marks in a layered chart); keep the CLI output clean. */
function silentLogger() {
  let level = 0;
  const logger = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...args: readonly unknown[]) {
      throw new Error(`vega-lite: ${args.map(String).join(' ')}`);
    },
    warn() {
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  return logger as never;
}
