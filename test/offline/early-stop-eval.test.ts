import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Frame } from '../../src/offline/frame.ts';
import {
  bestAtPrecision, crossFittedAtPrecision, earlyStopEval, percentile, stopAt, stopCurve, type OofScorer, type StopRows,
} from '../../src/offline/early-stop-eval.ts';
import { needsPaper } from '../fixtures/requires.ts';

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

describe('stopCurve', () => {
  // The doc example, by hand: T = 400; row 1 (length 300) can't be stopped; total tokens 2800.
  const rows: StopRows = { scores: [0.9, 0.8, 0.8, 0.1], y: [1, 0, 1, 0], stopLen: [500, 300, 1000, 1000], fullLen: [500, 300, 1000, 1000] };

  it('gives one point per distinct stoppable score with hand-computed shares', () => {
    const c = stopCurve(rows, 400);
    assert.equal(c.n, 4);
    assert.equal(c.failures, 2);
    assert.equal(c.stoppable, 3);
    assert.equal(c.totalTokens, 2800);
    assert.deepEqual(c.points.map((p) => p.threshold), [0.9, 0.8, 0.1]);
    assert.deepEqual(c.points.map((p) => p.stopped), [1, 2, 3]);
    assert.deepEqual(c.points.map((p) => p.tokensSaved), [100, 700, 1300]);
    close(c.points[0]!.tokensSavedShare, 100 / 2800);
    close(c.points[1]!.tokensSavedShare, 700 / 2800);
    close(c.points[2]!.tokensSavedShare, 1300 / 2800);
    assert.deepEqual(c.points.map((p) => p.precision), [1, 1, 2 / 3]);
    assert.deepEqual(c.points.map((p) => p.recall), [0.5, 1, 1]);
    assert.deepEqual(c.points.map((p) => p.stopShare), [0.25, 0.5, 0.75]);
  });

  it('groups tied scores into one threshold', () => {
    const c = stopCurve({ scores: [0.5, 0.5, 0.5], y: [1, 0, 1], stopLen: [900, 900, 900], fullLen: [900, 900, 900] }, 100);
    assert.equal(c.points.length, 1);
    assert.equal(c.points[0]!.stopped, 3);
    close(c.points[0]!.precision, 2 / 3);
  });

  it('never stops a sample whose length is ≤ T or whose score is NaN, but counts its tokens', () => {
    const c = stopCurve({ scores: [0.9, NaN, 0.7], y: [1, 1, 1], stopLen: [128, 2000, 129], fullLen: [128, 2000, 129] }, 128);
    assert.equal(c.stoppable, 1);
    assert.equal(c.points.length, 1);
    assert.equal(c.points[0]!.tokensSaved, 1);
    close(c.points[0]!.tokensSavedShare, 1 / 2257);
    close(c.points[0]!.recall, 1 / 3);
  });

  it('uses stopLen for eligibility and fullLen for the tokens saved (prefinal mode)', () => {
    // Prefinal length 300 > T = 256 so it is stoppable; the generation had 1000 tokens → 744 saved.
    const c = stopCurve({ scores: [0.9], y: [1], stopLen: [300], fullLen: [1000] }, 256);
    assert.equal(c.points[0]!.tokensSaved, 744);
  });

  it('agrees with a slow per-threshold count at every point', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const n = 60;
    const r: StopRows = {
      scores: Array.from({ length: n }, () => Math.round(rnd() * 20) / 20),
      y: Array.from({ length: n }, () => (rnd() < 0.4 ? 1 : 0)),
      stopLen: Array.from({ length: n }, () => Math.round(rnd() * 1500)),
      fullLen: [] as number[],
    };
    (r.fullLen as number[]).push(...(r.stopLen as number[]).map((l) => l + 50));
    const c = stopCurve(r, 400);
    for (const p of c.points) {
      const q = stopAt(r, 400, p.threshold);
      assert.deepEqual({ ...q }, { ...p });
    }
  });

  it('rejects columns of different lengths', () => {
    assert.throws(() => stopCurve({ scores: [1], y: [1, 0], stopLen: [1], fullLen: [1] }, 1), RangeError);
  });
});

describe('bestAtPrecision / crossFittedAtPrecision / percentile', () => {
  const rows: StopRows = { scores: [0.9, 0.8, 0.8, 0.1], y: [1, 0, 1, 0], stopLen: [500, 300, 1000, 1000], fullLen: [500, 300, 1000, 1000] };

  it('picks the most tokens saved at precision ≥ target', () => {
    const c = stopCurve(rows, 400);
    assert.equal(bestAtPrecision(c.points, 0.9)!.threshold, 0.8);
    assert.equal(bestAtPrecision(c.points, 0.6)!.threshold, 0.1);
    assert.equal(bestAtPrecision(stopCurve({ scores: [0.5], y: [0], stopLen: [999], fullLen: [999] }, 1).points, 0.9), null);
  });

  it('cross-fits: thresholds come from the other folds', () => {
    // Two folds (round-robin per class): fold 0 = rows {0 fail, 1 ok}, fold 1 = rows {2 fail, 3 ok}.
    // Fold 0: trained on rows 2 (0.7, fail), 3 (0.6, ok) → θ = 0.7 → row 0 (0.9) stopped, row 1 (0.2) not.
    // Fold 1: trained on rows 0 (0.9, fail), 1 (0.2, ok) → θ = 0.9 → rows 2 (0.7), 3 (0.6) not stopped.
    const len = [1000, 1000, 1000, 1000];
    const p = crossFittedAtPrecision({ scores: [0.9, 0.2, 0.7, 0.6], y: [1, 0, 1, 0], stopLen: len, fullLen: len }, 100, 0.9, 2);
    assert.equal(p.stopped, 1);
    close(p.precision, 1);
    close(p.recall, 0.5);
    close(p.tokensSavedShare, 900 / 4000);
    // Row 3 at 0.95 instead: fold 0's training rows never reach precision 0.9 (0.95 is a success) → nothing stopped
    // there; fold 1 (θ = 0.9) stops row 3, a success: a realised precision of 0 below the target.
    const q = crossFittedAtPrecision({ scores: [0.9, 0.2, 0.7, 0.95], y: [1, 0, 1, 0], stopLen: len, fullLen: len }, 100, 0.9, 2);
    assert.equal(q.stopped, 1);
    assert.equal(q.stoppedFailures, 0);
    close(q.precision, 0);
    close(q.tokensSavedShare, 900 / 4000);
  });

  it('percentile matches numpy linear interpolation', () => {
    close(percentile([1, 2, 3, 4], 50), 2.5);
    close(percentile([1, 2, 3, 4, NaN], 90), 3.7);
    assert.ok(Number.isNaN(percentile([NaN], 50)));
  });
});

describe('earlyStopEval on a tiny frame', () => {
  const cols = ['correct', 'generated_len', 'prefinal_len', 'nll_mean_w100', 'entropy_mean_w100', 'nll_max_w100', 'nll_mean_prefinal_w100', 'entropy_mean_prefinal_w100'];
  const data: Record<string, unknown[]> = {
    correct: [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 'nan'],
    generated_len: [400, 400, 200, 400, 400, 80, 400, 400, 400, 400, 400, 400],
    prefinal_len: [300, 300, 150, 300, 300, 60, 300, 300, 300, 300, 300, 0],
    nll_mean_w100: [2, 0.5, 1.8, 0.4, 1.5, 0.3, 1.9, 0.2, 1.1, 1.2, 1.7, 3],
    entropy_mean_w100: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    nll_max_w100: [5, 1, 5, 1, 5, 1, 5, 1, 5, 1, 5, 1],
    nll_mean_prefinal_w100: [2, 0.5, 1.8, 0.4, 1.5, 0.3, 1.9, 0.2, 1.1, 1.2, 1.7, 3],
    entropy_mean_prefinal_w100: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
  };
  const frame = new Frame('tiny.csv', cols, 12, (name) => data[name]!);
  // A fake out-of-fold scorer: nll_mean as the score, every row kept (real runs use crossValidatedScores). Columns
  // come in BASE_FEATURES order among those present: entropy_mean, nll_mean, nll_max → nll_mean is columns[1].
  const passThrough: OofScorer = (columns) => ({ rowScores: columns[1]!, rows: Array.from(columns[1]!, (_, i) => i) });

  it('drops rows without a label, evaluates the classifier and both baselines on the same rows', () => {
    const r = earlyStopEval(frame, passThrough, { windows: [100] });
    assert.equal(r.n, 11);
    assert.equal(r.excludedMissingCorrect, 1);
    assert.equal(r.failures, 6);
    assert.equal(r.lengthColumn, 'generated_len');
    const w = r.windows[0]!;
    assert.equal(w.T, 100);
    assert.deepEqual(w.methods.map((m) => m.method), ['classifier', 'nll_mean', 'entropy_mean']);
    // Scores (nll_mean) of failures: rows 0,2,4,6,8,10 → 2, 1.8, 1.5, 1.9, 1.1, 1.7; successes ≤ 1.2 (row 9).
    // Best at precision ≥ 0.9: θ = 1.5 stops rows 0, 2, 4, 6, 10 (all failures) → saved 300+100+300+300+300 = 1300 of 9×400 + 200 + 80 = 3880 (row 11 has no label).
    const best = w.methods[0]!.best!;
    assert.equal(best.threshold, 1.5);
    assert.equal(best.stopped, 5);
    close(best.precision, 1);
    close(best.tokensSavedShare, 1300 / 3880);
    // The constant entropy baseline stops everything stoppable at once: precision 6/10.
    const ent = w.methods[2]!;
    assert.equal(ent.best, null);
    assert.equal(ent.curve.length, 1);
    close(ent.curve[0]!.precision, 6 / 10);
  });

  it('prefinal mode keeps rows with a final-answer line and stops on prefinal length', () => {
    const r = earlyStopEval(frame, passThrough, { windows: [100], prefinal: true });
    assert.deepEqual(r.prefinal, { requested: true, active: true, fallback: null });
    assert.equal(r.stopLengthColumn, 'prefinal_len');
    // Row 5 (prefinal 60 ≤ 100) cannot be stopped.
    assert.equal(r.windows[0]!.stoppable, 10);
    assert.equal(r.windows[0]!.methods[0]!.best!.tokensSaved, 1300);
  });
});

describe('earlyStopEval on a paper table (real out-of-fold scores)', needsPaper('results/gpqa_gpt4o.final.csv'), () => {
  it('reports points that meet the target, shares in [0, 1], and the same rows for every method', async () => {
    const { loadTable } = await import('../../src/offline/load-table.ts');
    const { crossValidatedScores } = await import('../../src/offline/cv-lr.ts');
    const path = new URL('../../../shared/paper/results/gpqa_gpt4o.final.csv', import.meta.url).pathname;
    const frame = await loadTable(path);
    const r = earlyStopEval(frame, crossValidatedScores, { prefinal: true });
    assert.equal(r.prefinal.active, true);
    assert.equal(r.n, 198);
    assert.deepEqual(r.windows.map((w) => w.T), [128, 256, 400, 512, 1024, 2048]);
    for (const w of r.windows) {
      assert.equal(w.n, 198);
      for (const m of w.methods) {
        if (m.best) assert.ok(m.best.precision >= 0.9);
        for (const p of [m.crossFitted, ...m.curve, ...m.percentiles.map((x) => x.point)]) {
          assert.ok(p.tokensSavedShare >= 0 && p.tokensSavedShare <= 1);
          assert.ok(p.stopped <= w.stoppable);
        }
      }
    }
  });
});

describe('earlyStopEval fitOn: running', () => {
  it('cross-validates window T only on rows still running at T and keeps the finished rows (unstoppable) in the totals', () => {
    const n = 12;
    const data: Record<string, unknown[]> = {
      correct: Array.from({ length: n }, (_, i) => i % 2),
      generated_len: Array.from({ length: n }, (_, i) => (i < 4 ? 50 : 500)),
      nll_mean_w100: Array.from({ length: n }, (_, i) => (i % 2 ? 0.1 : 2 + i / 100)),
    };
    const frame = new Frame('t.csv', Object.keys(data), n, (name) => data[name]!);
    const seen: number[] = [];
    const scorer: OofScorer = (columns, y) => {
      seen.push(y.length);
      return { rowScores: columns[0]!, rows: Array.from(columns[0]!, (_, i) => i) };
    };
    const r = earlyStopEval(frame, scorer, { windows: [100], fitOn: 'running' });
    assert.deepEqual(seen, [8], 'only the 8 rows longer than T = 100');
    assert.equal(r.fitOn, 'running');
    const w = r.windows[0]!;
    assert.equal(w.n, 12);
    assert.equal(w.stoppable, 8);
    assert.equal(w.totalTokens, 4 * 50 + 8 * 500);
    // Failures (even rows 4, 6, 8, 10 among the running ones) score ≥ 2: all four stopped at precision 1.
    const best = w.methods[0]!.best!;
    assert.equal(best.stopped, 4);
    assert.equal(best.tokensSaved, 4 * 400);
  });
});
