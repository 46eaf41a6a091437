import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commitmentChartSpec, commitmentPlotTitle, renderCommitmentPlot, spacedLogTicks, type CommitmentPlotData } from '../../src/plots/commitment-plot.ts';
import { dataPixels, lineChartToVegaLite, marginExtent } from '../../src/plots/line-chart.ts';
import { estimateTextWidth } from '../../src/plots/text-width.ts';

const WINDOWS = [128, 256, 400, 512, 1024, 2048];
const base: CommitmentPlotData = {
  source: 'prefinal', windows: WINDOWS,
  early: [0.52, 0.59, 0.60, 0.60, 0.64, 0.64], lo: [0.43, 0.49, 0.51, 0.51, 0.54, 0.54], hi: [0.64, 0.69, 0.72, 0.72, 0.75, 0.75],
  full: 0.635, chance: 0.455, marker: null, medianLength: 3000,
};

/** Pixel x of a tick on the chart's padded log axis (independent of the implementation: straight from the definition). */
function tickPx(T: number, windows: readonly number[], width: number): number {
  const [lo, hi] = marginExtent(Math.min(...windows), Math.max(...windows), 'log');
  return ((Math.log10(T) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * width;
}

test('tick labels never touch: adjacent kept labels are at least their half-widths + 4 px apart; powers of two win', () => {
  assert.deepEqual(spacedLogTicks(WINDOWS, 290), [128, 256, 512, 1024, 2048]);
  assert.deepEqual(spacedLogTicks(WINDOWS, 1200), WINDOWS, 'a wide axis keeps every window');
  const fs = 12.5 * 0.9;
  for (const width of [120, 200, 290, 400, 800]) {
    for (const windows of [WINDOWS, [64, 96, 128, 160, 192, 256, 320, 384, 448, 512], [100, 128, 150, 200, 256, 300, 400, 512, 700, 1024]]) {
      const kept = spacedLogTicks(windows, width);
      assert.ok(kept.length >= 1 && kept.every((T) => windows.includes(T)));
      for (let i = 1; i < kept.length; i++) {
        const gap = tickPx(kept[i]!, windows, width) - tickPx(kept[i - 1]!, windows, width);
        assert.ok(gap >= (estimateTextWidth(String(kept[i]), fs) + estimateTextWidth(String(kept[i - 1]), fs)) / 2 + 4, `${width}px ${kept.join(',')}`);
      }
    }
  }
});

/** The legend box of a chart: the first white rect layer (drawn by legendLayers), in plot-area pixels. */
function legendBox(vl: { layer: Array<{ mark: Record<string, unknown> }> }): { x0: number; x2: number; y0: number; y2: number } {
  const rect = vl.layer.find((l) => l.mark.type === 'rect' && l.mark.fill === 'white')!;
  return { x0: rect.mark.x as number, x2: rect.mark.x2 as number, y0: rect.mark.y as number, y2: rect.mark.y2 as number };
}

test('the legend covers no data: inside a free corner when there is one, else outside the plot area', () => {
  for (const plot of [
    base,
    { ...base, early: [0.30, 0.32, 0.33, 0.34, 0.35, 0.36], lo: [0.25, 0.27, 0.28, 0.29, 0.30, 0.31], hi: [0.35, 0.37, 0.38, 0.39, 0.40, 0.41], full: 0.36, chance: 0.2 },
    { ...base, early: [0.7, 0.6, 0.5, 0.45, 0.4, 0.35], lo: [0.6, 0.5, 0.4, 0.35, 0.3, 0.25], hi: [0.8, 0.7, 0.6, 0.55, 0.5, 0.45] },
  ]) {
    const spec = commitmentChartSpec(plot);
    const vl = lineChartToVegaLite(spec) as unknown as { layer: Array<{ mark: Record<string, unknown> }> };
    const box = legendBox(vl);
    const width = spec.width!;
    const height = spec.height!;
    const [xlo, xhi] = marginExtent(128, 2048, 'log');
    const covered = dataPixels(spec, width, height, [xlo, xhi], spec.y.domain!).filter(([x, y]) => x >= box.x0 && x <= box.x2 && y >= box.y0 && y <= box.y2);
    assert.deepEqual(covered, [], `legend at ${JSON.stringify(box)} covers data`);
  }
});

test('a chance line outside the y range is left out of the legend (and not drawn); inside it, it is listed', async () => {
  const high = { ...base, chance: 0.1 }; // y range ≈ [0.40, 0.78]: chance 0.1 is below it
  const { svg } = await renderCommitmentPlot(high);
  assert.doesNotMatch(svg, /Chance \(0\.100\)/);
  assert.match((await renderCommitmentPlot(base)).svg, /Chance \(0\.455\)/);
});

test('the analyze plot has a title naming the table and the features', async () => {
  const { svg } = await renderCommitmentPlot(base, { title: commitmentPlotTitle('gpqa_gpt4o.final', 'prefinal') });
  assert.match(svg, /gpqa_gpt4o\.final: early-window PR-AUC, prefinal/);
  assert.equal(commitmentPlotTitle('x', 'regular (prefinal not available)'), 'x: early-window PR-AUC, full list');
});

test('no large empty margins: the figure is at most the plot area plus room for its labels and an outside legend', async () => {
  const { svg } = await renderCommitmentPlot(base, { title: commitmentPlotTitle('gpqa_gpt4o.final', 'prefinal') });
  const [, w, h] = /<svg[^>]* width="(\d+)" height="(\d+)"/.exec(svg)!.map(Number);
  const plotW = 290;
  const plotH = (290 * 205) / 290;
  assert.ok(w! <= plotW + 70 + 150, `width ${w}`); // y labels + title ≈ 70 px, legend outside ≈ 150 px
  assert.ok(h! <= plotH + 80, `height ${h}`); // title above, tick labels + axis title below
  const [, tx, ty] = /<g fill="none" stroke-miterlimit="4" transform="translate\((\d+),(\d+)\)"/.exec(svg)!.map(Number);
  assert.ok(tx! <= 70 && ty! <= 35, `plot area offset ${tx},${ty}: the left/top margins are the labels', not empty space`);
});
