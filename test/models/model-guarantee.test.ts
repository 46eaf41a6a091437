import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadModelFile, parseModelFile, serializeModelFile } from '../../src/models/model-io.ts';
import { stopRuleLines, stopRuleShort } from '../../src/models/describe-stop-rule.ts';
import { stopSignal } from '../../src/policy/stop-policy.ts';
import { modelSummary } from '../../src/feed/serve-server.ts';

const LEGACY = new URL('../fixtures/legacy-precision-model.json', import.meta.url).pathname;
const BIN = new URL('../../bin/failmode', import.meta.url).pathname;

/** The legacy fixture turned into a model with a false-kill guarantee (common threshold 0.8 at every early window). */
function withGuarantee(): Record<string, any> {
  const m = JSON.parse(readFileSync(LEGACY, 'utf8'));
  for (const c of m.classifiers) c.stop = { threshold: c.window === 'full' ? null : 0.8, precision: null, recall: null };
  m.guarantee = {
    method: 'fixed-sequence-clopper-pearson', family: 'common-threshold', control: 'false-kill', alpha: 0.05, delta: 0.1,
    threshold: 0.8, calibrationN: 108, n: 198, failures: 90, stops: 12, falseKills: 2, stoppedFailures: 10, bound: 0.0485,
    falseKillRate: 2 / 108, precision: 10 / 12, recall: 10 / 90, tokensSaved: 0.036,
    perWindow: [{ window: 128, stops: 5, falseKills: 2 }, { window: 256, stops: 7, falseKills: 0 }],
  };
  return m;
}

test('an old model file (per-window precision thresholds, no guarantee) still loads and stops as before', async () => {
  const m = await loadModelFile(LEGACY);
  assert.equal(m.guarantee, undefined);
  const c256 = m.classifiers.find((c) => c.window === 256)!;
  assert.equal(c256.stop.targetPrecision, 0.9);
  assert.equal(c256.stop.threshold, 0.9363509971624743);
  // the live stop rule uses its per-window threshold
  const ev = { type: 'risk', sampleId: 's', index: 255, T: 256, risk: 0.95, threshold: c256.stop.threshold, t: 0 } as const;
  assert.equal(stopSignal(ev)?.threshold, c256.stop.threshold);
  assert.equal(stopRuleShort(m), 'per-window precision ≥ 0.9 (no whole-rule guarantee)');
  assert.match(stopRuleLines(m).join('\n'), /Guarantee: none for the whole rule/);
});

test('a model with a guarantee round-trips; its fields are validated', () => {
  const good = withGuarantee();
  const m = parseModelFile(JSON.stringify(good), 'g.json');
  assert.equal(m.guarantee!.threshold, 0.8);
  assert.equal(m.classifiers[0]!.stop.targetPrecision, undefined);
  assert.deepEqual(parseModelFile(serializeModelFile(m)), m);
  assert.equal(stopRuleShort(m), 'false kills ≤ 5% @90% conf. (n=108)');

  const rejects = (edit: (j: Record<string, any>) => void, re: RegExp) => {
    const j = withGuarantee();
    edit(j);
    assert.throws(() => parseModelFile(JSON.stringify(j), 'g.json'), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'FAILMODE_ERR_MODEL');
      assert.match(err.message, re);
      return true;
    });
  };
  rejects((j) => { j.guarantee.control = 'recall'; }, /g\.json: guarantee\.control is "recall", expected "false-kill" or "precision"/);
  rejects((j) => { j.guarantee.alpha = 1; }, /guarantee\.alpha is 1, expected a number < 1/);
  rejects((j) => { j.guarantee.delta = 0; }, /guarantee\.delta is 0, expected a number > 0/);
  rejects((j) => { j.guarantee.n = 197; }, /guarantee\.n is 197, expected calibrationN \+ failures = 198/);
  rejects((j) => { j.guarantee.stops = 13; }, /guarantee\.stops is 13, expected falseKills \+ stoppedFailures = 12/);
  rejects((j) => { j.guarantee.bound = 0.06; }, /guarantee\.bound is 0\.06, expected the bound reached \(≤ alpha 0\.05\)/);
  rejects((j) => { j.guarantee.perWindow[0].stops = 4; }, /guarantee\.perWindow adds up to 11 stops \/ 2 false kills, expected 12 \/ 2/);
  rejects((j) => { j.guarantee.perWindow[0].window = 100; }, /guarantee\.perWindow\[0\]\.window is 100, not one of the model's windows/);
  rejects((j) => { j.classifiers[1].stop.threshold = 0.7; }, /classifiers\[1\]\.stop\.threshold is 0\.7, expected the guarantee's common threshold 0\.8/);
  rejects((j) => { j.classifiers[6].stop.threshold = 0.8; }, /classifiers\[6\]\.stop\.threshold is 0\.8, expected null for the full-trace classifier/);
  rejects((j) => { j.classifiers[0].stop.precision = 0.9; }, /classifiers\[0\]\.stop has a per-window precision or recall/);
  rejects((j) => { j.guarantee.threshold = null; }, /guarantee\.stops is 12, expected 0 for a rule that never stops/);
  rejects((j) => { delete j.guarantee.falseKills; }, /missing field guarantee\.falseKills/);

  // a never-stopping model: threshold null everywhere, nothing stopped, the rejected bound above α
  const never = withGuarantee();
  for (const c of never.classifiers) c.stop.threshold = null;
  Object.assign(never.guarantee, { threshold: null, stops: 0, falseKills: 0, stoppedFailures: 0, bound: 0.074, falseKillRate: 0, precision: null, recall: 0, tokensSaved: 0, perWindow: [] });
  const nm = parseModelFile(JSON.stringify(never));
  assert.equal(stopRuleShort(nm), 'never stops (false kills ≤ 5% unattainable)');
  assert.match(stopRuleLines(nm).join('\n'), /NEVER STOPS — no threshold met the bound \(the most conservative threshold's bound is 0\.0740 > 0\.05\)/);
});

test('failmode train --show prints the guarantee (and says when a model has none)', () => {
  const legacy = spawnSync(process.execPath, [BIN, 'train', '--show', LEGACY], { encoding: 'utf8' });
  assert.equal(legacy.status, 0, legacy.stderr);
  assert.match(legacy.stdout, /Model .*legacy-precision-model\.json: trained on gpqa_gpt4o\.final/);
  assert.match(legacy.stdout, /T=256 .* 0\.9364 +1\.0000 +0\.0333/);
  assert.match(legacy.stdout, /Guarantee: none for the whole rule/);
});

test('the feed\'s hello carries the guarantee (additive, protocol v1): null and a "no guarantee" line for an old model', async () => {
  const m = parseModelFile(JSON.stringify(withGuarantee()));
  const hello = modelSummary(m, null);
  assert.deepEqual(hello.guarantee, m.guarantee);
  assert.equal(hello.stopRule, 'false kills ≤ 5% @90% conf. (n=108)');
  assert.deepEqual(hello.thresholds.slice(0, 2), [{ window: 128, threshold: 0.8 }, { window: 256, threshold: 0.8 }]);
  const old = modelSummary(await loadModelFile(LEGACY), null);
  assert.equal(old.guarantee, null);
  assert.equal(old.stopRule, 'per-window precision ≥ 0.9 (no whole-rule guarantee)');
});
