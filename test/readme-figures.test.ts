/**
 * The README's measured figures come from files a command regenerates: every `<!-- figures:NAME -->` block must equal
 * what scripts/render-readme-figures.ts renders from results/ (bench JSON, early-stop summary, sc-sim rows). A figure
 * typed by hand, or a result file regenerated without re-rendering the README, fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderBlocks, renderReadme, earlyStopBlock } from '../scripts/render-readme-figures.ts';

const root = fileURLToPath(new URL('../', import.meta.url));

test('README figure blocks equal their rendering from results/ (speed, early-stop, sc-sim)', () => {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  for (const name of ['speed', 'early-stop', 'sc-sim']) assert.match(readme, new RegExp(`<!-- figures:${name}[^>]*-->\\n[^<]+\\n<!-- /figures:${name} -->`), `block ${name}`);
  assert.equal(renderReadme(readme, renderBlocks(`${root}results`)), readme, 'run: node --import tsx scripts/render-readme-figures.ts');
});

test('the early-stop paragraph states the summary file\'s numbers (checked against the JSON by hand)', () => {
  const s = JSON.parse(readFileSync(`${root}results/early-stop/summary.json`, 'utf8'));
  const m = s.means.find((x: { alpha: number }) => x.alpha === 0.05);
  const text = earlyStopBlock(s);
  assert.ok(text.includes(`**${(100 * m.learned_saved).toFixed(2)} %**`));
  assert.ok(text.includes(`${(100 * m.oracle_saved).toFixed(2)} %`));
  assert.ok(text.includes(`${s.validity.learned_within_alpha} of ${s.validity.cells} table × α cells`));
});

test('a hand-edited figure inside a block is put back by the renderer', () => {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const edited = readme.replace(/saves \*\*[\d.]+ %\*\*/, 'saves **99.99 %**');
  assert.notEqual(edited, readme);
  assert.equal(renderReadme(edited, renderBlocks(`${root}results`)), readme);
});
