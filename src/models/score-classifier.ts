import type { WindowClassifier } from './model-file.ts';

/**
 * P(failure) of one feature record under one window classifier — the same arithmetic as the offline pipeline
 * (median fill → standardise → linear → sigmoid). Features are looked up by the classifier's column names;
 * a missing or non-finite value is filled with the training median.
 */
export function scoreClassifier(c: WindowClassifier, features: Readonly<Record<string, unknown>>): number {
  let z = c.intercept;
  const names = c.featureNames;
  for (let j = 0; j < names.length; j++) {
    const raw = features[names[j]!];
    const x = typeof raw === 'number' && Number.isFinite(raw) ? raw : c.fill[j]!;
    z += c.coef[j]! * ((x - c.mean[j]!) / c.scale[j]!);
  }
  return sigmoid(z);
}

/** Numerically stable logistic function. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}
