/**
 * The Moré–Thuente line search (MINPACK-2 dcsrch/dcstep), as used by L-BFGS-B v3.0 (scipy's L-BFGS-B): a reverse-
 * communication state machine. `start(f0, g0, stp)` then, for each trial step, evaluate φ(stp), φ'(stp) and call
 * `next(f, g)`; it returns 'fg' (evaluate at the new `stp`), 'conv' (strong Wolfe conditions hold) or 'warn' (no further
 * progress possible; the step is still accepted, as L-BFGS-B does).
 */
export type SearchTask = 'fg' | 'conv' | 'warn' | 'error';

const XTRAPL = 1.1, XTRAPU = 4.0;

export class MoreThuente {
  stp = 0;
  private brackt = false;
  private stage = 1;
  private ginit = 0;
  private gtest = 0;
  private gx = 0;
  private gy = 0;
  private finit = 0;
  private fx = 0;
  private fy = 0;
  private stx = 0;
  private sty = 0;
  private stmin = 0;
  private stmax = 0;
  private width = 0;
  private width1 = 0;

  constructor(
    private readonly ftol: number, private readonly gtol: number, private readonly xtol: number,
    private readonly stpmin: number, private readonly stpmax: number,
  ) {}

  start(f: number, g: number, stp: number): SearchTask {
    if (stp < this.stpmin || stp > this.stpmax || g >= 0) return 'error';
    this.stp = stp;
    this.brackt = false;
    this.stage = 1;
    this.finit = f;
    this.ginit = g;
    this.gtest = this.ftol * g;
    this.width = this.stpmax - this.stpmin;
    this.width1 = this.width / 0.5;
    this.stx = 0;
    this.fx = f;
    this.gx = g;
    this.sty = 0;
    this.fy = f;
    this.gy = g;
    this.stmin = 0;
    this.stmax = stp + XTRAPU * stp;
    return 'fg';
  }

  next(f: number, g: number): SearchTask {
    let stp = this.stp;
    const ftest = this.finit + stp * this.gtest;
    if (this.stage === 1 && f <= ftest && g >= 0) this.stage = 2;
    let task: SearchTask = 'fg';
    if (this.brackt && (stp <= this.stmin || stp >= this.stmax)) task = 'warn';
    if (this.brackt && this.stmax - this.stmin <= this.xtol * this.stmax) task = 'warn';
    if (stp === this.stpmax && f <= ftest && g <= this.gtest) task = 'warn';
    if (stp === this.stpmin && (f > ftest || g >= this.gtest)) task = 'warn';
    if (f <= ftest && Math.abs(g) <= this.gtol * -this.ginit) task = 'conv';
    if (task !== 'fg') return task;

    if (this.stage === 1 && f <= this.fx && f > ftest) {
      // Modified function ψ(α) = φ(α) − α·ftol·φ'(0) while the decrease is insufficient.
      const gt = this.gtest;
      const fm = f - stp * gt;
      const s = dcstep(this.stx, this.fx - this.stx * gt, this.gx - gt, this.sty, this.fy - this.sty * gt, this.gy - gt,
        stp, fm, g - gt, this.brackt, this.stmin, this.stmax);
      this.stx = s.stx;
      this.sty = s.sty;
      this.fx = s.fx + this.stx * gt;
      this.fy = s.fy + this.sty * gt;
      this.gx = s.dx + gt;
      this.gy = s.dy + gt;
      this.brackt = s.brackt;
      stp = s.stp;
    } else {
      const s = dcstep(this.stx, this.fx, this.gx, this.sty, this.fy, this.gy, stp, f, g, this.brackt, this.stmin, this.stmax);
      this.stx = s.stx;
      this.fx = s.fx;
      this.gx = s.dx;
      this.sty = s.sty;
      this.fy = s.fy;
      this.gy = s.dy;
      this.brackt = s.brackt;
      stp = s.stp;
    }

    if (this.brackt) {
      if (Math.abs(this.sty - this.stx) >= 0.66 * this.width1) stp = this.stx + 0.5 * (this.sty - this.stx);
      this.width1 = this.width;
      this.width = Math.abs(this.sty - this.stx);
    }
    if (this.brackt) {
      this.stmin = Math.min(this.stx, this.sty);
      this.stmax = Math.max(this.stx, this.sty);
    } else {
      this.stmin = stp + XTRAPL * (stp - this.stx);
      this.stmax = stp + XTRAPU * (stp - this.stx);
    }
    stp = Math.max(stp, this.stpmin);
    stp = Math.min(stp, this.stpmax);
    if ((this.brackt && (stp <= this.stmin || stp >= this.stmax)) || (this.brackt && this.stmax - this.stmin <= this.xtol * this.stmax)) {
      stp = this.stx;
    }
    this.stp = stp;
    return 'fg';
  }
}

interface StepState {
  stx: number; fx: number; dx: number; sty: number; fy: number; dy: number; stp: number; brackt: boolean;
}

// One object reused: dcstep runs a few times per line search.
const st: StepState = { stx: 0, fx: 0, dx: 0, sty: 0, fy: 0, dy: 0, stp: 0, brackt: false };

/** MINPACK-2 dcstep: safeguarded cubic/quadratic step and update of the interval of uncertainty. */
function dcstep(
  stx: number, fx: number, dx: number, sty: number, fy: number, dy: number, stp: number, fp: number, dp: number,
  brackt: boolean, stpmin: number, stpmax: number,
): StepState {
  const sgnd = dp * (dx / Math.abs(dx));
  let stpf: number;
  if (fp > fx) {
    // Higher function value: the minimum is bracketed.
    const theta = (3 * (fx - fp)) / (stp - stx) + dx + dp;
    const s = Math.max(Math.abs(theta), Math.abs(dx), Math.abs(dp));
    let gamma = s * Math.sqrt((theta / s) ** 2 - (dx / s) * (dp / s));
    if (stp < stx) gamma = -gamma;
    const p = gamma - dx + theta;
    const q = gamma - dx + gamma + dp;
    const r = p / q;
    const stpc = stx + r * (stp - stx);
    const stpq = stx + (dx / ((fx - fp) / (stp - stx) + dx) / 2) * (stp - stx);
    stpf = Math.abs(stpc - stx) < Math.abs(stpq - stx) ? stpc : stpc + (stpq - stpc) / 2;
    brackt = true;
  } else if (sgnd < 0) {
    // Lower value, derivatives of opposite sign: bracketed.
    const theta = (3 * (fx - fp)) / (stp - stx) + dx + dp;
    const s = Math.max(Math.abs(theta), Math.abs(dx), Math.abs(dp));
    let gamma = s * Math.sqrt((theta / s) ** 2 - (dx / s) * (dp / s));
    if (stp > stx) gamma = -gamma;
    const p = gamma - dp + theta;
    const q = gamma - dp + gamma + dx;
    const r = p / q;
    const stpc = stp + r * (stx - stp);
    const stpq = stp + (dp / (dp - dx)) * (stx - stp);
    stpf = Math.abs(stpc - stp) > Math.abs(stpq - stp) ? stpc : stpq;
    brackt = true;
  } else if (Math.abs(dp) < Math.abs(dx)) {
    // Lower value, same-sign derivatives, magnitude decreasing.
    const theta = (3 * (fx - fp)) / (stp - stx) + dx + dp;
    const s = Math.max(Math.abs(theta), Math.abs(dx), Math.abs(dp));
    let gamma = s * Math.sqrt(Math.max(0, (theta / s) ** 2 - (dx / s) * (dp / s)));
    if (stp > stx) gamma = -gamma;
    const p = gamma - dp + theta;
    const q = gamma + (dx - dp) + gamma;
    const r = p / q;
    let stpc: number;
    if (r < 0 && gamma !== 0) stpc = stp + r * (stx - stp);
    else if (stp > stx) stpc = stpmax;
    else stpc = stpmin;
    const stpq = stp + (dp / (dp - dx)) * (stx - stp);
    if (brackt) {
      stpf = Math.abs(stpc - stp) < Math.abs(stpq - stp) ? stpc : stpq;
      stpf = stp > stx ? Math.min(stp + 0.66 * (sty - stp), stpf) : Math.max(stp + 0.66 * (sty - stp), stpf);
    } else {
      stpf = Math.abs(stpc - stp) > Math.abs(stpq - stp) ? stpc : stpq;
      stpf = Math.min(stpmax, stpf);
      stpf = Math.max(stpmin, stpf);
    }
  } else {
    // Lower value, same-sign derivatives, magnitude not decreasing.
    if (brackt) {
      const theta = (3 * (fp - fy)) / (sty - stp) + dy + dp;
      const s = Math.max(Math.abs(theta), Math.abs(dy), Math.abs(dp));
      let gamma = s * Math.sqrt((theta / s) ** 2 - (dy / s) * (dp / s));
      if (stp > sty) gamma = -gamma;
      const p = gamma - dp + theta;
      const q = gamma - dp + gamma + dy;
      const r = p / q;
      stpf = stp + r * (sty - stp);
    } else if (stp > stx) stpf = stpmax;
    else stpf = stpmin;
  }
  if (fp > fx) {
    sty = stp;
    fy = fp;
    dy = dp;
  } else {
    if (sgnd < 0) {
      sty = stx;
      fy = fx;
      dy = dx;
    }
    stx = stp;
    fx = fp;
    dx = dp;
  }
  st.stx = stx; st.fx = fx; st.dx = dx; st.sty = sty; st.fy = fy; st.dy = dy; st.stp = stpf; st.brackt = brackt;
  return st;
}
