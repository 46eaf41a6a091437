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

/**
 * True when at least one feature the classifier uses has a finite value. When none has (a stream without logprobs:
 * every uncertainty feature is missing), scoring would only return the risk of the training medians — a made-up
 * number — so callers score nothing instead.
 */
export function hasAnyFeature(c: WindowClassifier, features: Readonly<Record<string, unknown>>): boolean {
  for (const name of c.featureNames) {
    const raw = features[name];
    if (typeof raw === 'number' && Number.isFinite(raw)) return true;
  }
  return false;
}

/** Numerically stable logistic function. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}
