import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { BASE_FEATURES } from '../../src/features/columns.ts';
import { loadModelFile } from '../../src/models/model-io.ts';

const DIR = new URL('../../results/models/', import.meta.url).pathname;

test('results/models: every shipped model validates, uses live feature names, and is listed in the README', async () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
  assert.ok(files.length >= 20, `${files.length} model files`);
  assert.ok(files.includes('general-topk20.json'));
  assert.ok(files.includes('general-pooled.json'), 'the pooled model for unknown models');
  assert.match(readFileSync(`${DIR}README.md`, 'utf8'), /\| `general-pooled\.json` \|.*leave-one-table-out mean: \d/);
  const readme = readFileSync(`${DIR}README.md`, 'utf8');
  for (const f of files) {
    const m = await loadModelFile(`${DIR}${f}`);
    assert.ok(readme.includes(`| \`${f}\` |`), `${f} in the README table`);
    assert.ok(m.training.failures >= 20, `${f}: ${m.training.failures} failures`);
    const names = (w: number | 'full') => BASE_FEATURES.map((b) => `${b}${m.prefinal ? '_prefinal' : ''}${w === 'full' ? '' : `_w${w}`}`);
    for (const c of m.classifiers) {
      // A hazard model's window-T classifier also reads the previous window's 11 columns (docs/model-format.md).
      const k = typeof c.window === 'number' ? m.windows.indexOf(c.window) : -1;
      const expected = m.training.stopModel === 'hazard' && k > 0 ? [...names(c.window), ...names(m.windows[k - 1]!)] : names(c.window);
      assert.deepEqual(c.featureNames, expected, `${f} T=${c.window}`);
    }
    if (f !== 'simulator-demo.json') {
      assert.ok(m.guarantee, `${f}: a risk-controlled stop rule`);
      assert.equal(m.guarantee.control, 'false-kill');
      assert.equal(m.guarantee.alpha, 0.05);
      assert.ok(m.training.stopModel === 'window' || m.training.stopModel === 'hazard', `${f}: stop model recorded`);
    }
  }
  const general = await loadModelFile(`${DIR}general-topk20.json`);
  assert.equal(general.signal.topK, 20);
  assert.equal(general.profile, null);
});
