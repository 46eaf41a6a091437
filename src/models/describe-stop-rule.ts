import type { ModelFile } from './model-file.ts';

/**
 * The model's stop rule in words — one definition for `train --show`, the watch/serve banners and the TUI header.
 * A model with a `guarantee` states it (α, confidence, calibration n); an older model (per-window precision
 * thresholds) says that it carries no guarantee for the whole rule.
 */

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;

/** Short form for a header, e.g. `false kills ≤ 5% @90% conf. (n=312)`, `never stops (false kills ≤ 5% unattainable)`. */
export function stopRuleShort(model: ModelFile): string {
  const g = model.guarantee;
  if (!g) {
    const target = model.classifiers.find((c) => c.stop.targetPrecision !== undefined)?.stop.targetPrecision;
    return `per-window precision ≥ ${target ?? '?'} (no whole-rule guarantee)`;
  }
  const what = g.control === 'false-kill' ? `false kills ≤ ${pct(g.alpha)}` : `precision ≥ ${pct(1 - g.alpha)}`;
  if (g.threshold === null) return `never stops (${what} unattainable)`;
  return `${what} @${pct(1 - g.delta)} conf. (n=${g.control === 'false-kill' ? g.calibrationN : g.stops})`;
}

/** Several lines (each starting with two spaces) for `train --show` and after training. */
export function stopRuleLines(model: ModelFile): string[] {
  const g = model.guarantee;
  const f4 = (x: number | null) => (x === null ? 'N/A' : x.toFixed(4));
  if (!g) {
    const target = model.classifiers.find((c) => c.stop.targetPrecision !== undefined)?.stop.targetPrecision;
    return [
      `  Stop thresholds: per window, the lowest P(failure) whose out-of-fold precision reaches ${target ?? '?'}; N/A = never reached.`,
      '  Guarantee: none for the whole rule (a model file from before risk-controlled thresholds; retrain to get one).',
    ];
  }
  const what = g.control === 'false-kill' ? `false-kill rate (correct samples stopped / correct samples) ≤ ${g.alpha}` : `precision of the stops ≥ ${+(1 - g.alpha).toFixed(6)} (1 − precision ≤ ${+g.alpha.toFixed(6)}, conditional on the number stopped)`;
  const lines = [
    `  Guarantee: ${what} with confidence ${+(1 - g.delta).toFixed(6)} (δ = ${g.delta}), for the whole rule over all windows;`,
    `    fixed-sequence scan of one common threshold with Clopper–Pearson bounds, on out-of-fold risks of ${g.n} samples (${g.calibrationN} correct, ${g.failures} failures).`,
  ];
  if (g.threshold === null) {
    lines.push(`  Stop rule: NEVER STOPS — no threshold met the bound (${g.bound === null ? 'nothing to calibrate on' : `the most conservative threshold's bound is ${f4(g.bound)} > ${g.alpha}`}).`);
    return lines;
  }
  const saved = g.tokensSaved === null ? '' : `, tokens saved ${pct(g.tokensSaved)}`;
  lines.push(
    `  Stop rule: stop at the first early window whose P(failure) ≥ ${f4(g.threshold)} (the same threshold at every window).`,
    `  Calibration: bound reached ${f4(g.bound)}; ${g.stops} stopped, ${g.falseKills} of them correct (false-kill rate ${g.falseKillRate === null ? 'N/A' : pct(g.falseKillRate)}), precision ${f4(g.precision)}, recall ${f4(g.recall)}${saved}.`,
  );
  return lines;
}
