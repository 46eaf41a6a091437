import { seedSequenceState } from './seed-sequence.ts';

/**
 * `numpy.random.default_rng(seed)`: SeedSequence → PCG64 (128-bit LCG, XSL-RR output), and `Generator.integers`
 * for ranges up to 2^32 (Lemire's multiply-shift with rejection on 32-bit draws). Bit-exact with numpy, so the
 * paper's bootstrap resamples are reproduced index for index.
 *
 * The 128-bit state is kept as eight 16-bit limbs in plain numbers: every partial product is < 2^32 and every
 * column sum < 2^36, so the multiply-add is exact in float64 with no BigInt in the hot path.
 */

// PCG64 multiplier 0x2360ED051FC65DA4_4385DF649FCCF645, 16-bit limbs, least significant first.
const M0 = 0xf645, M1 = 0x9fcc, M2 = 0xdf64, M3 = 0x4385, M4 = 0x5da4, M5 = 0x1fc6, M6 = 0xed05, M7 = 0x2360;
const LIMB = 65536;
const TWO32 = 0x100000000;

export class NumpyGenerator {
  // state limbs s0 (least significant) … s7
  private s0 = 0; private s1 = 0; private s2 = 0; private s3 = 0;
  private s4 = 0; private s5 = 0; private s6 = 0; private s7 = 0;
  // increment limbs
  private i0 = 0; private i1 = 0; private i2 = 0; private i3 = 0;
  private i4 = 0; private i5 = 0; private i6 = 0; private i7 = 0;
  // last 64-bit output as two 32-bit halves
  private outLo = 0;
  private outHi = 0;
  // numpy's has_uint32 / uinteger: the high half of a 64-bit draw, used by the next 32-bit draw
  private hasCached = false;
  private cached = 0;

  private constructor() {}

  static fromSeed(seed: number): NumpyGenerator {
    const w = seedSequenceState(seed, 8);
    // generate_state(4, uint64) views the eight 32-bit words as little-endian uint64s v0..v3;
    // initstate = v0·2^64 + v1, initseq = v2·2^64 + v3 (pcg64_set_seed).
    const initstate = limbsFromWords32(w[1]!, w[0]!, w[3]!, w[2]!);
    const initseq = limbsFromWords32(w[5]!, w[4]!, w[7]!, w[6]!);
    const g = new NumpyGenerator();
    // inc = (initseq << 1) | 1
    const inc = new Array<number>(8);
    let carry = 0;
    for (let k = 0; k < 8; k++) {
      const v = initseq[k]! * 2 + carry;
      carry = v >= LIMB ? 1 : 0;
      inc[k] = v - carry * LIMB;
    }
    inc[0]! |= 1;
    g.setInc(inc);
    // pcg_setseq_128_srandom_r: state = 0; step; state += initstate; step
    g.step();
    g.addToState(initstate);
    g.step();
    return g;
  }

  /** The raw state and increment (for tests against numpy's `bit_generator.state`). */
  stateBigInt(): { state: bigint; inc: bigint } {
    const toBig = (l: number[]): bigint => l.reduceRight((acc, limb) => (acc << 16n) | BigInt(limb), 0n);
    return {
      state: toBig([this.s0, this.s1, this.s2, this.s3, this.s4, this.s5, this.s6, this.s7]),
      inc: toBig([this.i0, this.i1, this.i2, this.i3, this.i4, this.i5, this.i6, this.i7]),
    };
  }

  /** Next 64-bit output (`bit_generator.random_raw()`); ignores and keeps the 32-bit cache, like numpy's next_uint64. */
  nextUint64(): bigint {
    this.next64();
    return (BigInt(this.outHi) << 32n) | BigInt(this.outLo);
  }

  /** Next 32-bit output: the low half of a fresh 64-bit draw, then its cached high half. */
  nextUint32(): number {
    if (this.hasCached) {
      this.hasCached = false;
      return this.cached;
    }
    this.next64();
    this.hasCached = true;
    this.cached = this.outHi;
    return this.outLo;
  }

  /**
   * `Generator.integers(low, high, size)` (int64 default dtype, endpoint=False) for 0 < high − low ≤ 2^32 and results
   * that fit in an Int32Array. Fills `out` (allocated if omitted) and returns it.
   */
  integers(low: number, high: number, size: number, out?: Int32Array): Int32Array {
    if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
      throw new RangeError(`integers: need integers low < high, got low=${low} high=${high}`);
    }
    if (low < -0x80000000 || high - 1 > 0x7fffffff || high - low > TWO32) {
      throw new RangeError(`integers: range [${low}, ${high}) does not fit 32 bits`);
    }
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`integers: bad size ${size}`);
    const res = out ?? new Int32Array(size);
    if (res.length < size) throw new RangeError(`integers: out has length ${res.length} < size ${size}`);
    const rng = high - 1 - low;
    if (rng === 0) {
      res.fill(low, 0, size);
      return res;
    }
    if (rng === 0xffffffff) {
      for (let i = 0; i < size; i++) res[i] = low + this.nextUint32();
      return res;
    }
    const excl = rng + 1;
    // (2^32 − 1 − rng) mod excl = 2^32 mod excl: the rejection threshold, computed only when needed
    let threshold = -1;
    for (let i = 0; i < size; i++) {
      let u = this.nextUint32();
      let leftover = Math.imul(u, excl) >>> 0;
      if (leftover < excl) {
        if (threshold < 0) threshold = (TWO32 - excl) % excl;
        while (leftover < threshold) {
          u = this.nextUint32();
          leftover = Math.imul(u, excl) >>> 0;
        }
      }
      res[i] = low + mulHigh32(u, excl);
    }
    return res;
  }

  private setInc(l: number[]): void {
    this.i0 = l[0]!; this.i1 = l[1]!; this.i2 = l[2]!; this.i3 = l[3]!;
    this.i4 = l[4]!; this.i5 = l[5]!; this.i6 = l[6]!; this.i7 = l[7]!;
  }

  private addToState(l: number[]): void {
    const s = [this.s0, this.s1, this.s2, this.s3, this.s4, this.s5, this.s6, this.s7];
    let carry = 0;
    for (let k = 0; k < 8; k++) {
      const v = s[k]! + l[k]! + carry;
      carry = v >= LIMB ? 1 : 0;
      s[k] = v - carry * LIMB;
    }
    [this.s0, this.s1, this.s2, this.s3, this.s4, this.s5, this.s6, this.s7] = s as [number, number, number, number, number, number, number, number];
  }

  /** state = state · MULT + inc (mod 2^128), column by column in 16-bit limbs. */
  private step(): void {
    const s0 = this.s0, s1 = this.s1, s2 = this.s2, s3 = this.s3, s4 = this.s4, s5 = this.s5, s6 = this.s6, s7 = this.s7;
    let c = s0 * M0 + this.i0;
    let hi = (c / LIMB) >>> 0; // c < 2^48, so >>> 0 is an exact floor
    this.s0 = c - hi * LIMB;
    c = s0 * M1 + s1 * M0 + this.i1 + hi;
    hi = (c / LIMB) >>> 0;
    this.s1 = c - hi * LIMB;
    c = s0 * M2 + s1 * M1 + s2 * M0 + this.i2 + hi;
    hi = (c / LIMB) >>> 0;
    this.s2 = c - hi * LIMB;
    c = s0 * M3 + s1 * M2 + s2 * M1 + s3 * M0 + this.i3 + hi;
    hi = (c / LIMB) >>> 0;
    this.s3 = c - hi * LIMB;
    c = s0 * M4 + s1 * M3 + s2 * M2 + s3 * M1 + s4 * M0 + this.i4 + hi;
    hi = (c / LIMB) >>> 0;
    this.s4 = c - hi * LIMB;
    c = s0 * M5 + s1 * M4 + s2 * M3 + s3 * M2 + s4 * M1 + s5 * M0 + this.i5 + hi;
    hi = (c / LIMB) >>> 0;
    this.s5 = c - hi * LIMB;
    c = s0 * M6 + s1 * M5 + s2 * M4 + s3 * M3 + s4 * M2 + s5 * M1 + s6 * M0 + this.i6 + hi;
    hi = (c / LIMB) >>> 0;
    this.s6 = c - hi * LIMB;
    c = s0 * M7 + s1 * M6 + s2 * M5 + s3 * M4 + s4 * M3 + s5 * M2 + s6 * M1 + s7 * M0 + this.i7 + hi;
    this.s7 = c % LIMB;
  }

  /** Step, then XSL-RR: rotate (high64 xor low64) right by the top 6 state bits. */
  private next64(): void {
    this.step();
    const s7 = this.s7;
    let xHi = (((s7 << 16) | this.s6) ^ ((this.s3 << 16) | this.s2)) >>> 0;
    let xLo = (((this.s5 << 16) | this.s4) ^ ((this.s1 << 16) | this.s0)) >>> 0;
    let rot = s7 >>> 10;
    if (rot >= 32) {
      const t = xHi;
      xHi = xLo;
      xLo = t;
      rot -= 32;
    }
    if (rot === 0) {
      this.outLo = xLo;
      this.outHi = xHi;
    } else {
      this.outLo = ((xLo >>> rot) | (xHi << (32 - rot))) >>> 0;
      this.outHi = ((xHi >>> rot) | (xLo << (32 - rot))) >>> 0;
    }
  }
}

/** floor(u · m / 2^32) exactly, for u, m < 2^32. */
function mulHigh32(u: number, m: number): number {
  const a = (u >>> 16) * m; // < 2^48
  const b = (u & 0xffff) * m; // < 2^48
  const aHi = Math.floor(a / LIMB);
  const aLo = a - aHi * LIMB;
  return aHi + Math.floor((aLo * LIMB + b) / TWO32);
}

/** 16-bit limbs (least significant first) of the 128-bit number with 32-bit words w3:w2:w1:w0 (most significant first). */
function limbsFromWords32(w3: number, w2: number, w1: number, w0: number): number[] {
  return [w0 & 0xffff, w0 >>> 16, w1 & 0xffff, w1 >>> 16, w2 & 0xffff, w2 >>> 16, w3 & 0xffff, w3 >>> 16];
}
