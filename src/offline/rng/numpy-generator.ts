import { seedSequenceState } from './seed-sequence.ts';

/**
 * `numpy.random.default_rng(seed)`: SeedSequence → PCG64 (128-bit LCG, XSL-RR output), and `Generator.integers`
 * for ranges up to 2^32 (Lemire's multiply-shift with rejection on 32-bit draws). Bit-exact with numpy, so the
 * paper's bootstrap resamples are reproduced index for index.
 *
 * The 128-bit state is four 32-bit limbs held as int32 numbers (small integers, no boxing); no BigInt in the hot
 * path. A 32×32-bit product a·b is split exactly as (a>>>16)·b·2^16 + (a&0xffff)·b, two float64 products < 2^48, so
 * each column of the 128-bit multiply-add is exact in float64; the top column only needs its low 32 bits (Math.imul).
 */

// PCG64 multiplier 0x2360ED051FC65DA4_4385DF649FCCF645 as 32-bit limbs, least significant first.
const M0 = 0x9fccf645, M1 = 0x4385df64, M2 = 0x1fc65da4, M3 = 0x2360ed05;
const TWO16 = 65536;
const TWO32 = 0x100000000;
const INV16 = 1 / TWO16; // exact power-of-two scalings: multiply, never divide, in the carry chain
const INV32 = 1 / TWO32;

export class NumpyGenerator {
  // state limbs s0 (least significant) … s3, and increment limbs, as int32 (| 0) so they stay small integers
  private s0 = 0; private s1 = 0; private s2 = 0; private s3 = 0;
  private i0 = 0; private i1 = 0; private i2 = 0; private i3 = 0;
  // last 64-bit output as two 32-bit halves (int32 bit patterns)
  private outLo = 0;
  private outHi = 0;
  // numpy's has_uint32 / uinteger: the high half of a 64-bit draw, used by the next 32-bit draw
  private hasCached = false;
  private cached = 0;

  private constructor() {}

  static fromSeed(seed: number): NumpyGenerator {
    const w = seedSequenceState(seed, 8);
    // generate_state(4, uint64) views the eight 32-bit words as little-endian uint64s v0..v3 (v0 = w1:w0, …);
    // initstate = v0·2^64 + v1, initseq = v2·2^64 + v3 (pcg64_set_seed). Limbs least significant first:
    const initstate = [w[2]!, w[3]!, w[0]!, w[1]!];
    const initseq = [w[6]!, w[7]!, w[4]!, w[5]!];
    const g = new NumpyGenerator();
    // inc = (initseq << 1) | 1
    g.i0 = ((initseq[0]! << 1) | 1) | 0;
    g.i1 = ((initseq[1]! << 1) | (initseq[0]! >>> 31)) | 0;
    g.i2 = ((initseq[2]! << 1) | (initseq[1]! >>> 31)) | 0;
    g.i3 = ((initseq[3]! << 1) | (initseq[2]! >>> 31)) | 0;
    // pcg_setseq_128_srandom_r: state = 0; step; state += initstate; step
    g.step();
    g.addToState(initstate);
    g.step();
    return g;
  }

  /** The raw state and increment (for tests against numpy's `bit_generator.state`). */
  stateBigInt(): { state: bigint; inc: bigint } {
    const toBig = (l: number[]): bigint => l.reduceRight((acc, limb) => (acc << 32n) | BigInt(limb >>> 0), 0n);
    return { state: toBig([this.s0, this.s1, this.s2, this.s3]), inc: toBig([this.i0, this.i1, this.i2, this.i3]) };
  }

  /** Next 64-bit output (`bit_generator.random_raw()`); ignores and keeps the 32-bit cache, like numpy's next_uint64. */
  nextUint64(): bigint {
    this.next64();
    return (BigInt(this.outHi >>> 0) << 32n) | BigInt(this.outLo >>> 0);
  }

  /** Next 32-bit output: the low half of a fresh 64-bit draw, then its cached high half. */
  nextUint32(): number {
    if (this.hasCached) {
      this.hasCached = false;
      return this.cached >>> 0;
    }
    this.next64();
    this.hasCached = true;
    this.cached = this.outHi;
    return this.outLo >>> 0;
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
    // rejection threshold (2^32 − 1 − rng) mod excl = 2^32 mod excl, computed only when needed
    let threshold = -1;
    for (let i = 0; i < size; i++) {
      let u = this.nextUint32();
      let leftover = Math.imul(u, excl) >>> 0; // low 32 bits of u·excl
      if (leftover < excl) {
        if (threshold < 0) threshold = (TWO32 - excl) % excl;
        while (leftover < threshold) {
          u = this.nextUint32();
          leftover = Math.imul(u, excl) >>> 0;
        }
      }
      // high 32 bits of u·excl = floor((a·2^16 + b) / 2^32) with a, b < 2^48 exact
      const a = (u >>> 16) * excl;
      const b = (u & 0xffff) * excl;
      res[i] = low + (((a + ((b * INV16) >>> 0)) * INV16) >>> 0);
    }
    return res;
  }

  private addToState(l: number[]): void {
    let v = (this.s0 >>> 0) + l[0]!;
    this.s0 = v | 0;
    v = (this.s1 >>> 0) + l[1]! + (v >= TWO32 ? 1 : 0);
    this.s1 = v | 0;
    v = (this.s2 >>> 0) + l[2]! + (v >= TWO32 ? 1 : 0);
    this.s2 = v | 0;
    v = (this.s3 >>> 0) + l[3]! + (v >= TWO32 ? 1 : 0);
    this.s3 = v | 0;
  }

  /** state = state · MULT + inc (mod 2^128), column by column. */
  private step(): void {
    const s0 = this.s0, s1 = this.s1, s2 = this.s2, s3 = this.s3;
    const s0h = s0 >>> 16, s0l = s0 & 0xffff, s1h = s1 >>> 16, s1l = s1 & 0xffff, s2h = s2 >>> 16, s2l = s2 & 0xffff;
    // column k: Σ_{i+j=k} s_i·M_j + inc_k + carry, as hx·2^16 + lo (hx, lo < 2^51)
    let hx = s0h * M0;
    let lo = s0l * M0 + (this.i0 >>> 0);
    let hxHi = Math.floor(hx * INV16);
    let t = (hx - hxHi * TWO16) * TWO16 + lo;
    let tHi = Math.floor(t * INV32);
    this.s0 = (t - tHi * TWO32) | 0;
    let carry = hxHi + tHi;

    hx = s0h * M1 + s1h * M0;
    lo = s0l * M1 + s1l * M0 + (this.i1 >>> 0) + carry;
    hxHi = Math.floor(hx * INV16);
    t = (hx - hxHi * TWO16) * TWO16 + lo;
    tHi = Math.floor(t * INV32);
    this.s1 = (t - tHi * TWO32) | 0;
    carry = hxHi + tHi;

    hx = s0h * M2 + s1h * M1 + s2h * M0;
    lo = s0l * M2 + s1l * M1 + s2l * M0 + (this.i2 >>> 0) + carry;
    hxHi = Math.floor(hx * INV16);
    t = (hx - hxHi * TWO16) * TWO16 + lo;
    tHi = Math.floor(t * INV32);
    this.s2 = (t - tHi * TWO32) | 0;
    carry = hxHi + tHi;

    // only the low 32 bits of the top column survive mod 2^128; the sum is exact (< 2^37) and | 0 wraps it
    this.s3 = (Math.imul(s0, M3) + Math.imul(s1, M2) + Math.imul(s2, M1) + Math.imul(s3, M0) + this.i3 + carry) | 0;
  }

  /** Step, then XSL-RR: rotate (high64 xor low64) right by the top 6 state bits. */
  private next64(): void {
    this.step();
    let xHi = this.s3 ^ this.s1;
    let xLo = this.s2 ^ this.s0;
    let rot = this.s3 >>> 26;
    if (rot >= 32) {
      const tmp = xHi;
      xHi = xLo;
      xLo = tmp;
      rot -= 32;
    }
    if (rot === 0) {
      this.outLo = xLo;
      this.outHi = xHi;
    } else {
      this.outLo = (xLo >>> rot) | (xHi << (32 - rot));
      this.outHi = (xHi >>> rot) | (xLo << (32 - rot));
    }
  }
}
