/**
 * L2-penalised logistic regression with an unpenalised intercept, solved to the optimum by damped Newton (IRLS):
 *   minimise ½‖w‖² + C·Σᵢ sᵢ·log(1 + exp(−ỹᵢ(w·xᵢ + b))),  ỹ ∈ {−1, +1}
 * — sklearn `LogisticRegression(C, class_weight='balanced')`'s objective. SPEC §3.5: any solver that reaches the optimum
 * reproduces the paper's metrics, so we converge tightly (‖∇‖∞ ≤ 1e-10) instead of mimicking lbfgs's path.
 * p is small (≤ ~12): the (p+1)×(p+1) Newton system is solved by Cholesky; scratch buffers are reused across fits.
 */

export interface LogisticFit {
  coef: Float64Array;
  intercept: number;
  iterations: number;
  converged: boolean;
}

export interface LogisticOptions {
  C?: number;
  /** 'balanced' (default): weight n / (2·n_c) for class c, multiplied into any sampleWeight. */
  classWeight?: 'balanced' | null;
  sampleWeight?: Float64Array;
  /**
   * Stop when the largest gradient component is ≤ tol·max(1, C·Σsᵢ/n) (default tol 1e-10). The factor is 1 for the
   * paper's C = 1 with balanced weights (Σsᵢ = n); it keeps the criterion above float rounding for large C·weights.
   */
  tol?: number;
  maxIter?: number;
}

// Scratch reused across fits (grown on demand): per-sample margins and weights, per-parameter vectors and matrices.
let zBuf = new Float64Array(0);
let zTrial = new Float64Array(0);
let wBuf = new Float64Array(0);
let thetaBuf = new Float64Array(0), gradBuf = new Float64Array(0), stepBuf = new Float64Array(0), trialBuf = new Float64Array(0);
let hessBuf = new Float64Array(0), cholBuf = new Float64Array(0);

function ensure(n: number, d: number): void {
  if (zBuf.length < n) {
    zBuf = new Float64Array(n);
    zTrial = new Float64Array(n);
    wBuf = new Float64Array(n);
  }
  if (thetaBuf.length < d) {
    thetaBuf = new Float64Array(d);
    gradBuf = new Float64Array(d);
    stepBuf = new Float64Array(d);
    trialBuf = new Float64Array(d);
    hessBuf = new Float64Array(d * d);
    cholBuf = new Float64Array(d * d);
  }
}

/** The inputs both solvers require: C > 0 and X, y long enough for n rows of p features. */
export function checkLogisticInputs(caller: string, X: Float64Array, n: number, p: number, y: ArrayLike<number>, C: number): void {
  if (!(C > 0)) throw new RangeError(`${caller}: C must be > 0, got ${C}`);
  if (X.length < n * p) throw new RangeError(`${caller}: X has ${X.length} values, need ${n}×${p}`);
  if (y.length < n) throw new RangeError(`${caller}: y has ${y.length} values, need ${n}`);
}

/** log(1 + exp(−m)), stable for any m. */
function softplusNeg(m: number): number {
  return m > 0 ? Math.log1p(Math.exp(-m)) : -m + Math.log1p(Math.exp(m));
}

export function fitLogisticRegression(
  X: Float64Array, n: number, p: number, y: ArrayLike<number>, opts: LogisticOptions = {},
): LogisticFit {
  const C = opts.C ?? 1;
  const classWeight = opts.classWeight === undefined ? 'balanced' : opts.classWeight;
  const tol = opts.tol ?? 1e-10;
  const maxIter = opts.maxIter ?? 100;
  checkLogisticInputs('fitLogisticRegression', X, n, p, y, C);
  const d = p + 1; // θ = (w_0 … w_{p−1}, b)
  ensure(n, d);
  const { wPos, wNeg } = classWeights(y, n, classWeight, 'fitLogisticRegression');
  const sw = wBuf;
  let swSum = 0;
  for (let i = 0; i < n; i++) swSum += sw[i] = C * (y[i] === 1 ? wPos : wNeg) * (opts.sampleWeight ? opts.sampleWeight[i]! : 1);
  const gradTol = tol * Math.max(1, swSum / n);

  const theta = thetaBuf.subarray(0, d).fill(0);
  const grad = gradBuf.subarray(0, d);
  const step = stepBuf.subarray(0, d);
  const H = hessBuf.subarray(0, d * d);
  const trial = trialBuf.subarray(0, d);

  const margins = (th: Float64Array, z: Float64Array): void => {
    const b = th[p]!;
    for (let i = 0; i < n; i++) {
      let s = b;
      const row = i * p;
      for (let j = 0; j < p; j++) s += th[j]! * X[row + j]!;
      z[i] = s;
    }
  };
  const objective = (th: Float64Array, z: Float64Array): number => {
    let f = 0;
    for (let j = 0; j < p; j++) f += 0.5 * th[j]! * th[j]!;
    for (let i = 0; i < n; i++) f += sw[i]! * softplusNeg(y[i] === 1 ? z[i]! : -z[i]!);
    return f;
  };
  /** Gradient and Hessian at θ with margins z; returns ‖∇‖∞. */
  const derivatives = (th: Float64Array, z: Float64Array): number => {
    grad.fill(0);
    H.fill(0);
    for (let j = 0; j < p; j++) {
      grad[j] = th[j]!;
      H[j * d + j] = 1;
    }
    for (let i = 0; i < n; i++) {
      const pr = 1 / (1 + Math.exp(-z[i]!));
      const g = sw[i]! * (pr - y[i]!);
      const h = sw[i]! * pr * (1 - pr);
      const row = i * p;
      for (let a = 0; a < p; a++) {
        const xa = X[row + a]!;
        grad[a]! += g * xa;
        const ha = h * xa;
        for (let b = 0; b <= a; b++) H[a * d + b]! += ha * X[row + b]!;
        H[p * d + a]! += ha;
      }
      grad[p]! += g;
      H[p * d + p]! += h;
    }
    let gmax = 0;
    for (let j = 0; j < d; j++) gmax = Math.max(gmax, Math.abs(grad[j]!));
    return gmax;
  };

  let z = zBuf, zt = zTrial;
  margins(theta, z);
  let f = objective(theta, z);
  let gmax = derivatives(theta, z);
  let iterations = 0;
  let converged = gmax <= gradTol;
  while (!converged && iterations < maxIter) {
    iterations++;
    for (let j = 0; j < d; j++) step[j] = -grad[j]!;
    choleskySolve(H, d, step);
    let slope = 0;
    for (let j = 0; j < d; j++) slope += grad[j]! * step[j]!;
    if (!(slope < 0)) break; // not a descent direction: numerically at the optimum
    // Armijo backtracking; once the predicted decrease is below float resolution of f, take the Newton step as is.
    const tiny = -slope <= 1e-12 * Math.max(1, Math.abs(f));
    let t = 1;
    let fNew = f;
    for (let halvings = 0; ; halvings++) {
      for (let j = 0; j < d; j++) trial[j] = theta[j]! + t * step[j]!;
      margins(trial, zt);
      fNew = objective(trial, zt);
      if (tiny || fNew <= f + 1e-4 * t * slope) break;
      if (halvings >= 60) {
        t = 0;
        break;
      }
      t *= 0.5;
    }
    if (t === 0) break;
    theta.set(trial);
    const swap = z;
    z = zt;
    zt = swap;
    f = fNew;
    gmax = derivatives(theta, z);
    converged = gmax <= gradTol;
  }
  return { coef: theta.slice(0, p), intercept: theta[p]!, iterations, converged };
}

/**
 * Per-class weights: 'balanced' → n / (2·n_c) (sklearn's class_weight='balanced'), null → 1. Checks that y is 0/1 with
 * both classes present; `caller` names the fitting function in the error.
 */
export function classWeights(
  y: ArrayLike<number>, n: number, classWeight: 'balanced' | null, caller: string,
): { wPos: number; wNeg: number } {
  let nPos = 0;
  for (let i = 0; i < n; i++) {
    const v = y[i];
    if (v !== 0 && v !== 1) throw new RangeError(`${caller}: y[${i}] = ${v}, expected 0 or 1`);
    nPos += v;
  }
  if (nPos === 0 || nPos === n) throw new RangeError(`${caller}: y needs samples of both classes`);
  return {
    wPos: classWeight === 'balanced' ? n / (2 * nPos) : 1,
    wNeg: classWeight === 'balanced' ? n / (2 * (n - nPos)) : 1,
  };
}

/** P(y = 1 | x) = 1 / (1 + exp(−(w·x + b))) for each row of the (already standardised) n×p matrix X. */
export function predictProba(fit: LogisticFit, X: Float64Array, n: number, p: number, out?: Float64Array): Float64Array {
  if (fit.coef.length !== p) throw new RangeError(`predictProba: model has ${fit.coef.length} features, X has ${p}`);
  const res = out ?? new Float64Array(n);
  const w = fit.coef;
  for (let i = 0; i < n; i++) {
    let s = 0;
    const row = i * p;
    for (let j = 0; j < p; j++) s += X[row + j]! * w[j]!;
    res[i] = 1 / (1 + Math.exp(-(s + fit.intercept)));
  }
  return res;
}

/**
 * Solves A x = b in place (b ← x) for symmetric positive-definite A given by its lower triangle (row-major d×d).
 * A tiny ridge is added if a pivot is not positive (a numerically flat intercept direction).
 */
function choleskySolve(A: Float64Array, d: number, b: Float64Array): void {
  const L = cholBuf.subarray(0, d * d).fill(0);
  let ridge = 0;
  for (let attempt = 0; attempt < 20; attempt++) {
    let ok = true;
    for (let i = 0; i < d && ok; i++) {
      for (let j = 0; j <= i; j++) {
        let s = A[i * d + j]! + (i === j ? ridge : 0);
        for (let k = 0; k < j; k++) s -= L[i * d + k]! * L[j * d + k]!;
        if (i === j) {
          if (!(s > 0)) {
            ok = false;
            break;
          }
          L[i * d + i] = Math.sqrt(s);
        } else L[i * d + j] = s / L[j * d + j]!;
      }
    }
    if (ok) break;
    let trace = 0;
    for (let i = 0; i < d; i++) trace += Math.abs(A[i * d + i]!);
    ridge = ridge === 0 ? 1e-12 * Math.max(trace, 1) : ridge * 10;
  }
  // forward then back substitution
  for (let i = 0; i < d; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * d + k]! * b[k]!;
    b[i] = s / L[i * d + i]!;
  }
  for (let i = d - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let k = i + 1; k < d; k++) s -= L[k * d + i]! * b[k]!;
    b[i] = s / L[i * d + i]!;
  }
}
