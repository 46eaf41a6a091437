import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderCommitmentPlot, type CommitmentPlotData } from '../../src/plots/commitment-plot.ts';
import { renderLineChart } from '../../src/plots/line-chart.ts';
import { renumberSvgIds } from '../../src/plots/render-vega-lite.ts';

const data: CommitmentPlotData = {
  source: 'prefinal', windows: [128, 256, 400, 512, 1024, 2048],
  early: [0.30, 0.42, 0.47, 0.45, 0.41, 0.40],
  lo: [0.21, 0.31, 0.36, 0.34, 0.30, 0.28], hi: [0.41, 0.55, 0.60, 0.58, 0.54, 0.53],
  full: 0.3974, chance: 0.2183, marker: { T: 400, prauc: 0.47 }, medianLength: 1500,
};

test('renumberSvgIds: ids numbered per prefix in order of declaration, every reference follows, other text untouched', () => {
  const svg = '<svg><defs><clipPath id="clip32"><rect/></clipPath><linearGradient id="gradient_7"/><clipPath id="clip40"/></defs>'
    + '<g clip-path="url(#clip40)"><path fill="url(#gradient_7)"/><use href="#clip32"/><text>clip32 T=400</text></g></svg>';
  assert.equal(renumberSvgIds(svg),
    '<svg><defs><clipPath id="clip1"><rect/></clipPath><linearGradient id="gradient_1"/><clipPath id="clip2"/></defs>'
    + '<g clip-path="url(#clip2)"><path fill="url(#gradient_1)"/><use href="#clip1"/><text>clip32 T=400</text></g></svg>');
  assert.equal(renumberSvgIds('<svg><g/></svg>'), '<svg><g/></svg>');
});

test('the same figure is the same bytes, whatever was rendered before it in the process', async () => {
  const first = await renderCommitmentPlot(data);
  // Other views in between advance vega's shared id counter.
  await renderLineChart({ title: 't', x: { label: 'x' }, y: { label: 'y' }, series: [{ label: 'a', color: '#000000', points: [{ x: 1, y: 1 }, { x: 2, y: 3 }] }] });
  await renderCommitmentPlot({ ...data, marker: null });
  const second = await renderCommitmentPlot(data);
  assert.equal(second.svg, first.svg);
  assert.ok(Buffer.compare(second.png, first.png) === 0, 'PNG bytes identical');
  const ids = [...first.svg.matchAll(/\bid="(clip\d+)"/g)].map((m) => m[1]);
  assert.ok(ids.length > 0, 'the figure has clip paths');
  assert.deepEqual(ids, ids.map((_, i) => `clip${i + 1}`));
});
