import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

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
    const svg = await view.toSVG();
    const png = svgToPng(svg, pngScale);
    return { svg, png };
  } finally {
    view.finalize();
  }
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
