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
  const readme = readFileSync(`${DIR}README.md`, 'utf8');
  for (const f of files) {
    const m = await loadModelFile(`${DIR}${f}`);
    assert.ok(readme.includes(`| \`${f}\` |`), `${f} in the README table`);
    assert.ok(m.training.failures >= 20, `${f}: ${m.training.failures} failures`);
    for (const c of m.classifiers) {
      const suffix = (m.prefinal ? '_prefinal' : '') + (c.window === 'full' ? '' : `_w${c.window}`);
      assert.deepEqual(c.featureNames, BASE_FEATURES.map((b) => `${b}${suffix}`).filter((n) => c.featureNames.includes(n)), `${f} T=${c.window}`);
      assert.equal(c.featureNames.length, 11, `${f} T=${c.window}: all 11 features`);
    }
  }
  const general = await loadModelFile(`${DIR}general-topk20.json`);
  assert.equal(general.signal.topK, 20);
  assert.equal(general.profile, null);
});
