import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { calibrateStopRule, riskRowsFromColumns } from '../../src/models/risk-control.ts';
import { scoreClassifier } from '../../src/models/score-classifier.ts';
import { fitStopModel, stopModelRisks } from '../../src/models/stop-models.ts';
import { outOfFoldRisks, tableStopData } from '../../src/offline/early-stop-eval.ts';
import { stratifiedKFold } from '../../src/offline/folds.ts';
import type { Frame } from '../../src/offline/frame.ts';
import { loadTable } from '../../src/offline/load-table.ts';
import { trainModel } from '../../src/training/train.ts';
import { needsPaper, paperHas } from '../fixtures/requires.ts';

const GPT4O = new URL('../../../shared/paper/results/gpqa_gpt4o.final.csv', import.meta.url).pathname;
let paper: Frame;
before(async () => { if (paperHas('results/gpqa_gpt4o.final.csv')) paper = await loadTable(GPT4O); });

test('train --stop-model hazard: one model over windows, stored per window, calibrated on its own out-of-fold risks', needsPaper('results/gpqa_gpt4o.final.csv'), () => {
  const { model } = trainModel(paper, { file: GPT4O, prefinal: true, nBoot: 50, stopModel: 'hazard', maxFalseKill: 0.1 });
  assert.equal(model.training.stopModel, 'hazard');
  assert.equal(model.training.fitOn, 'running');
  const early = model.classifiers.filter((c) => c.window !== 'full');
  assert.deepEqual(early.map((c) => c.window), model.windows);
  assert.equal(early[0]!.featureNames.length, 11, 'the first window has no previous window');
  for (let k = 1; k < early.length; k++) {
    const T = early[k]!.window, prev = early[k - 1]!.window;
    assert.equal(early[k]!.featureNames.length, 22);
    assert.ok(early[k]!.featureNames.slice(0, 11).every((f) => f.endsWith(`_prefinal_w${T}`)), `T=${T}`);
    assert.ok(early[k]!.featureNames.slice(11).every((f) => f.endsWith(`_prefinal_w${prev}`)), `T=${T} reads T=${prev}`);
  }
  // The same pieces, assembled independently: stop data of the table, hazard OOF risks (5-fold, seed 42), calibration.
  const { data } = tableStopData(paper, { prefinal: true });
  const rows = Int32Array.from({ length: data.y.length }, (_, i) => i);
  const oof = outOfFoldRisks('hazard', data, rows, stratifiedKFold(data.y, 5, 42), 5);
  const cal = calibrateStopRule(riskRowsFromColumns(data.windows, oof, data.y, data.fullLen), { maxFalseKill: 0.1, delta: 0.1 });
  assert.equal(model.guarantee!.threshold, cal.lambda);
  assert.equal(model.guarantee!.stops, cal.guarantee.stops);
  for (const c of early) assert.equal(c.stop.threshold, cal.lambda);
  // Scoring the file's classifiers on a row's columns gives the hazard model's risk (fitted on all rows).
  const fitted = fitStopModel('hazard', data, rows)!;
  const risks = stopModelRisks(fitted, data, rows);
  for (const i of [0, 5, 17, 100]) {
    const record: Record<string, number> = {};
    data.windows.forEach((T, w) => data.featureNames.forEach((f, j) => { record[`${f}_prefinal_w${T}`] = data.features[w]![i * 11 + j]!; }));
    early.forEach((c, w) => {
      if (!(data.stopLen[i]! > (c.window as number))) return;
      assert.ok(Math.abs(scoreClassifier(c, record) - risks[w]![i]!) < 1e-9, `row ${i} T=${c.window}`);
    });
  }
});

test('train --stop-model auto records the kind it chose and why', needsPaper('results/gpqa_gpt4o.final.csv'), () => {
  const { model, notes } = trainModel(paper, { file: GPT4O, prefinal: true, nBoot: 50, stopModel: 'auto' });
  assert.ok(model.training.stopModel === 'window' || model.training.stopModel === 'hazard');
  assert.ok(notes.some((n) => /^stop model: (window|hazard) \(tokens saved on out-of-fold risks at false-kill ≤ 0\.05: window [\d.]+%, hazard [\d.]+%\)$/.test(n)), notes.join('\n'));
});
