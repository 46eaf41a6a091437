/**
 * Exact (Clopper–Pearson) confidence bounds on a binomial rate: k events in n trials.
 *
 * The one-sided upper bound at confidence 1 − δ is the rate p at which seeing k or fewer events has probability δ:
 * P(Bin(n, p) ≤ k) = δ (1 when k = n). It is conservative for every n — P(true rate ≤ bound) ≥ 1 − δ — which is what
 * a stated false-kill guarantee needs (Clopper & Pearson 1934; Bates et al. 2021, "Distribution-free, risk-controlling
 * prediction sets", use it the same way). Solved by bisection on the binomial CDF, itself the regularised incomplete
 * beta function I_{1−p}(n − k, k + 1).
 */

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms: ~1e-15 relative). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = LANCZOS[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** Regularised incomplete beta I_x(a, b), a, b > 0 (continued fraction, modified Lentz). */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  // the continued fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(lnFront) * betaContinuedFraction(1 - x, b, a)) / b;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const TINY = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return h;
}

/** P(Bin(n, p) ≤ k). */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (p <= 0) return 1;
  if (p >= 1) return 0;
  return regularizedBeta(1 - p, n - k, k + 1);
}

function checkCounts(k: number, n: number): void {
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`Expected a whole number of trials, got n = ${n}`);
  if (!(Number.isInteger(k) && k >= 0 && k <= n)) throw new RangeError(`Expected 0 ≤ k ≤ n events, got k = ${k}, n = ${n}`);
}

/** The p in [0, 1] with P(Bin(n, p) ≤ k) = target (the CDF falls as p grows), by bisection to machine precision. */
function solveCdf(k: number, n: number, target: number): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 200 && hi - lo > 1e-16; i++) {
    const mid = (lo + hi) / 2;
    if (binomialCdf(k, n, mid) > target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * One-sided upper confidence bound at level 1 − δ on a binomial rate after k events in n trials (1 when n = 0: no
 * data bounds nothing).
 */
export function clopperPearsonUpper(k: number, n: number, delta: number): number {
  checkCounts(k, n);
  if (!(delta > 0 && delta < 1)) throw new RangeError(`Expected δ in (0, 1), got ${delta}`);
  if (k === n) return 1;
  return solveCdf(k, n, delta);
}

/** One-sided lower confidence bound at level 1 − δ (0 when k = 0). */
export function clopperPearsonLower(k: number, n: number, delta: number): number {
  checkCounts(k, n);
  if (!(delta > 0 && delta < 1)) throw new RangeError(`Expected δ in (0, 1), got ${delta}`);
  if (k === 0) return 0;
  // P(Bin(n, p) ≥ k) = δ  ⇔  P(Bin(n, p) ≤ k − 1) = 1 − δ
  return solveCdf(k - 1, n, 1 - delta);
}

/** Two-sided interval at confidence `confidence` (e.g. 0.95): each tail (1 − confidence) / 2. [0, 1] when n = 0. */
export function clopperPearsonInterval(k: number, n: number, confidence = 0.95): [number, number] {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`Expected a confidence in (0, 1), got ${confidence}`);
  const tail = (1 - confidence) / 2;
  return [clopperPearsonLower(k, n, tail), clopperPearsonUpper(k, n, tail)];
}
