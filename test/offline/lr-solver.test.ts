import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadTable } from '../../src/offline/load-table.ts';
import { defaultSolver, runAnalysis } from '../../src/offline/analyze.ts';
import { renderReport } from '../../src/offline/report-text.ts';
import { crossValidatedScores } from '../../src/offline/cv-lr.ts';
import { averagePrecision } from '../../src/offline/metrics.ts';
import { BASE_FEATURES, windowColumn } from '../../src/features/columns.ts';
import { needsPaper, paperHas } from '../fixtures/requires.ts';

const paper = fileURLToPath(new URL('../../../shared/paper/', import.meta.url));
const frame = paperHas('results/gpqa_gpt4o.final.csv') ? await loadTable(`${paper}results/gpqa_gpt4o.final.csv`) : null!;

test('paper mode defaults to the sklearn-lbfgs stop, corrected mode to the exact optimum', () => {
  assert.equal(defaultSolver('paper'), 'lbfgs-sklearn');
  assert.equal(defaultSolver('corrected'), 'newton');
  assert.equal(runAnalysis(frame, { file: 'x.csv', nBoot: 50 }).solver, 'lbfgs-sklearn');
  assert.equal(runAnalysis(frame, { file: 'x.csv', nBoot: 50, mode: 'corrected' }).solver, 'newton');
});

test('the solver reaches every CV and the Procedure line names it', needsPaper('results/gpqa_gpt4o.final.csv'), () => {
  const lb = runAnalysis(frame, { file: 'x.csv', nBoot: 50 });
  const nt = runAnalysis(frame, { file: 'x.csv', nBoot: 50, solver: 'newton' });
  const y = Uint8Array.from(frame.numeric('correct')!, (c) => 1 - c);
  let differing = 0;
  lb.ablation.early.forEach((e, k) => {
    const cols = BASE_FEATURES.map((c) => frame.numeric(windowColumn(c, e.T))!);
    for (const [r, solver] of [[lb, 'lbfgs-sklearn'], [nt, 'newton']] as const) {
      const oof = crossValidatedScores(cols, y, { solver })!;
      assert.equal(r.ablation.early[k]!.prauc, averagePrecision(oof.pooledY, oof.pooledScores), `T=${e.T} ${solver}`);
    }
    if (e.prauc !== nt.ablation.early[k]!.prauc) differing++;
  });
  assert.ok(differing > 0, 'the two solvers give different early PR-AUCs somewhere');
  assert.match(renderReport(lb), /\n {2}Procedure: paper \(reproduces the published script, quirks included; LR by L-BFGS as sklearn ≥1\.4 stops it\)\n/);
  assert.match(renderReport(nt), /\n {2}Procedure: paper \(reproduces the published script, quirks included\)\n/);
  const cl = runAnalysis(frame, { file: 'x.csv', nBoot: 50, mode: 'corrected', solver: 'lbfgs-sklearn' });
  assert.match(renderReport(cl), /\n {2}Procedure: corrected \(SPEC §6\.3 fixes: training-fold medians, aligned clusters; LR by L-BFGS as sklearn ≥1\.4 stops it\)\n/);
});
