/**
 * The early windows' classifiers of a model file from a stop model (src/models/stop-models.ts): the per-window
 * classifiers fitted on the rows running at T, or the hazard model over windows — or, with `auto`, whichever saves
 * more tokens under the risk control on 5-fold out-of-fold risks (stratified, seed 42), the selection rule of
 * `failmode early-stop-eval`. Returns the classifiers (coefficients on the raw live columns) and those out-of-fold
 * risks, which calibrate the whole stop rule.
 */
import type { WindowClassifier } from '../models/model-file.ts';
import type { StopData } from '../models/stop-data.ts';
import { exportStopModel, fitStopModel, type StopModelKind } from '../models/stop-models.ts';
import { outOfFoldRisks, riskControlledCalibrator } from '../offline/early-stop-eval.ts';
import { stratifiedKFold } from '../offline/folds.ts';
import { averagePrecision, rocAuc } from '../offline/metrics.ts';
import { allRows, applyStopRule } from '../offline/stop-outcome.ts';

export type StopModelChoice = StopModelKind | 'auto';

export interface TrainedStopModel {
  readonly kind: StopModelKind;
  /** Early-window classifiers (`stop` unset: the caller calibrates the whole rule). */
  readonly classifiers: WindowClassifier[];
  /** Per classifier (same order), the out-of-fold risk of every row (NaN: not running at T, or not scored). */
  readonly oofRisk: Float64Array[];
  /** Per kind tried, the share of tokens its calibrated rule saves on the out-of-fold risks (the `auto` criterion). */
  readonly selection: ReadonlyArray<{ readonly kind: StopModelKind; readonly saved: number }>;
}

export function trainStopModel(
  data: StopData, choice: StopModelChoice, liveColumn: (T: number, feature: string) => string, alpha: number, delta: number,
): TrainedStopModel | null {
  const n = data.y.length;
  const rows = allRows(n);
  let fold: Int32Array;
  try {
    fold = stratifiedKFold(data.y, 5, 42);
  } catch {
    return null; // fewer than 5 rows of each class
  }
  const kinds: StopModelKind[] = choice === 'auto' ? ['window', 'hazard'] : [choice];
  const tried = kinds.map((kind) => {
    const oof = outOfFoldRisks(kind, data, rows, fold, 5);
    const thresholds = riskControlledCalibrator(oof, data.y, alpha, delta);
    const c = applyStopRule(data, rows, oof, thresholds).counts;
    return { kind, oof, saved: c.totalTokens > 0 ? c.savedTokens / c.totalTokens : 0 };
  });
  const best = tried.reduce((a, b) => (b.saved > a.saved ? b : a));
  const model = fitStopModel(best.kind, data, rows);
  if (!model) return null;
  const exported = exportStopModel(model, data, liveColumn);
  const classifiers: WindowClassifier[] = [];
  const oofRisk: Float64Array[] = [];
  for (const e of exported) {
    const w = data.windows.indexOf(e.window);
    const risk = best.oof[w]!;
    const ys: number[] = [];
    const ss: number[] = [];
    let running = 0;
    for (let i = 0; i < n; i++) {
      if (!(data.stopLen[i]! > e.window)) continue;
      running++;
      if (risk[i]! === risk[i]!) { ys.push(data.y[i]!); ss.push(risk[i]!); }
    }
    const prauc = ys.length > 0 ? averagePrecision(ys, ss) : NaN;
    const auroc = ys.length > 0 ? rocAuc(ys, ss) : NaN;
    classifiers.push({
      ...e, n: Math.max(1, running),
      oof: { prauc: Number.isFinite(prauc) ? prauc : null, auroc: Number.isFinite(auroc) ? auroc : null },
      stop: { threshold: null, precision: null, recall: null },
    });
    oofRisk.push(risk);
  }
  return { kind: best.kind, classifiers, oofRisk, selection: tried.map((t) => ({ kind: t.kind, saved: t.saved })) };
}
