import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commitmentChartSpec, commitmentYAxis, renderCommitmentPlot, type CommitmentPlotData } from '../../src/plots/commitment-plot.ts';
import { renderLineChart } from '../../src/plots/line-chart.ts';
import { svgToPng } from '../../src/plots/render-vega-lite.ts';

const WINDOWS = [128, 256, 400, 512, 1024, 2048];
const committed: CommitmentPlotData = {
  source: 'prefinal', windows: WINDOWS,
  early: [0.30, 0.42, 0.47, 0.45, 0.41, 0.40],
  lo: [0.21, 0.31, 0.36, 0.34, 0.30, 0.28], hi: [0.41, 0.55, 0.60, 0.58, 0.54, 0.53],
  full: 0.3974, chance: 0.2183, marker: { T: 400, prauc: 0.47 }, medianLength: 1500,
};

function pngSize(png: Buffer): { width: number; height: number } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  assert.equal(png.subarray(12, 16).toString('ascii'), 'IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
}

test('commitment plot: SVG has every element of SPEC §3.7 and a PNG of sane size', async () => {
  const { svg, png } = await renderCommitmentPlot(committed);
  const labels = texts(svg);
  // log axis: tick labels at the windows, nothing in between; 400 would touch 512 on a 290-px axis and is left out
  const xTicks = labels.filter((t) => /^\d+$/.test(t)).map(Number);
  assert.deepEqual(xTicks, [128, 256, 512, 1024, 2048]);
  for (const l of ['Early-window', 'Full-trace (0.397)', 'Chance (0.218)', '95% CI', 'T=400', 'PR-AUC', 'Early-window size T (tokens)']) {
    assert.ok(labels.includes(l), `text ${l}`);
  }
  assert.deepEqual(labels.filter((t) => /^0\.\d\d$/.test(t)), ['0.20', '0.25', '0.30', '0.35', '0.40', '0.45', '0.50', '0.55', '0.60']);
  assert.match(svg, /fill="#AEC7E8"[^>]*fill-opacity="0.45"|fill-opacity="0.45"[^>]*fill="#AEC7E8"/, 'CI band colour and alpha');
  assert.match(svg, /stroke="#2166AC"/, 'curve colour');
  assert.match(svg, /fill="white"[^>]*stroke="#2166AC"|stroke="#2166AC"[^>]*fill="white"/, 'hollow markers');
  assert.match(svg, /stroke="#D6604D"[^>]*stroke-dasharray|stroke-dasharray[^>]*stroke="#D6604D"/, 'dashed full-trace line');
  assert.match(svg, /stroke="#999999"/, 'chance line');
  // the commitment marker: a dash-dot (4-element dash array) vertical rule
  assert.ok([...svg.matchAll(/stroke-dasharray="([^"]+)"/g)].some((m) => m[1]!.split(',').length === 4), 'dash-dot marker line');

  const { width, height } = pngSize(png);
  assert.ok(width >= 900 && width <= 1600, `png width ${width}`); // wider when the legend goes outside the plot area
  assert.ok(height >= 600 && height <= 1000, `png height ${height}`);
  assert.ok(width > height);
});

test('commitment plot: text is actually drawn in the PNG (a font is installed)', async () => {
  const { svg, png } = await renderCommitmentPlot(committed);
  const noText = svgToPng(svg.replace(/<text[^>]*>[^<]*<\/text>/g, ''));
  assert.ok(!png.equals(noText), 'PNG with text equals PNG without text: no usable font (install fonts-dejavu-core)');
});

test('commitment plot: no marker when none is given, no full line when full is null', () => {
  const spec = commitmentChartSpec({ ...committed, marker: null, full: null });
  assert.equal(spec.vlines, undefined);
  assert.equal(spec.annotations, undefined);
  assert.deepEqual(spec.hlines!.map((h) => h.label), ['Chance (0.218)']);
});

test('commitment plot: marker label goes right of T, or left of it near the end of the axis', () => {
  const right = commitmentChartSpec(committed).annotations![0]!;
  assert.ok(right.x > 400);
  assert.equal(right.text, 'T=400');
  assert.deepEqual(right.pointTo, { x: 400, y: 0.47 });
  // y = best − 0.25·(max hi − min lo) = 0.47 − 0.25·(0.60 − 0.21)
  assert.ok(Math.abs(right.y - (0.47 - 0.25 * 0.39)) < 1e-12);
  const range = Math.log10(2048) - Math.log10(128);
  // the paper's test: log10(T) + 0.06·range > 0.95·log10(Tmax) → 0.24·range to the left (only T=2048 here)
  const at1024 = commitmentChartSpec({ ...committed, marker: { T: 1024, prauc: 0.41 } }).annotations![0]!;
  assert.ok(Math.abs(Math.log10(at1024.x) - (Math.log10(1024) + 0.06 * range)) < 1e-12, `T=1024 label at ${at1024.x}`);
  const at2048 = commitmentChartSpec({ ...committed, marker: { T: 2048, prauc: 0.41 } }).annotations![0]!;
  assert.ok(Math.abs(Math.log10(at2048.x) - (Math.log10(2048) - 0.24 * range)) < 1e-12, `T=2048 label at ${at2048.x}`);
});

test('y axis: limits padded by max(0.12·range, 0.02), clipped to [0, 1]; step .05 above a .15 span else .02', () => {
  // values 0.21 … 0.60 (chance excluded): pad = 0.12·0.39 = 0.0468
  const a = commitmentYAxis(committed);
  assert.ok(Math.abs(a.domain[0] - (0.21 - 0.0468)) < 1e-12 && Math.abs(a.domain[1] - (0.60 + 0.0468)) < 1e-12);
  assert.deepEqual(a.ticks, [0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6]);
  // narrow: 0.50 … 0.55 → pad 0.02 → [0.48, 0.57], span 0.09 → step 0.02
  const b = commitmentYAxis({ early: [0.5, 0.55], lo: [null, null], hi: [null, null], full: 0.52, chance: 0.1 });
  assert.ok(Math.abs(b.domain[0] - 0.48) < 1e-12 && Math.abs(b.domain[1] - 0.57) < 1e-12);
  assert.deepEqual(b.ticks, [0.48, 0.5, 0.52, 0.54, 0.56]);
  // clipped at 1 and 0
  const c = commitmentYAxis({ early: [0.01, 0.99], lo: [0, 0.9], hi: [0.2, 1], full: null, chance: 0.5 });
  assert.deepEqual(c.domain, [0, 1]);
});

test('commitment plot: mismatched arrays and empty windows are refused', async () => {
  await assert.rejects(renderCommitmentPlot({ ...committed, early: [0.1] }), /one value per window/);
  await assert.rejects(renderCommitmentPlot({ ...committed, windows: [], early: [], lo: [], hi: [] }), /at least one window/);
});

test('renderLineChart: a generic chart renders its series, legend and axis labels', async () => {
  const { svg, png } = await renderLineChart({
    x: { label: 'tokens seen', ticks: [0, 500, 1000], format: 'd' },
    y: { label: 'recall', domain: [0, 1] },
    series: [
      { label: 'stop @ 0.9 precision', points: [{ x: 0, y: 0 }, { x: 500, y: 0.4 }, { x: 1000, y: 0.6 }], color: '#1b9e77' },
      { label: 'baseline', points: [{ x: 0, y: 0.1 }, { x: 1000, y: 0.1 }], color: '#777777', dash: [4, 2] },
    ],
    legend: 'upper-left',
  });
  const labels = texts(svg);
  for (const l of ['tokens seen', 'recall', 'stop @ 0.9 precision', 'baseline', '0', '500', '1000']) assert.ok(labels.includes(l), l);
  assert.match(svg, /stroke="#1b9e77"/);
  pngSize(png);
});
