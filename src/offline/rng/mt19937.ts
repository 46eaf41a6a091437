/**
 * Legacy numpy `RandomState(seed)` bit generator: MT19937 seeded with init_genrand(seed), plus `RandomState.shuffle`
 * on a 1-D array. sklearn's `StratifiedKFold(shuffle=True, random_state=42)` draws its fold shuffles from this.
 */

const N = 624;
const M = 397;

export class MT19937 {
  private readonly mt = new Uint32Array(N);
  private index = N;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`MT19937 seed must be an integer in [0, 2^32), got ${seed}`);
    }
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]!;
      mt[i] = (Math.imul(1812433253, (prev ^ (prev >>> 30)) >>> 0) + i) >>> 0;
    }
  }

  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.mt[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  private twist(): void {
    const mt = this.mt;
    for (let i = 0; i < N; i++) {
      const y = (mt[i]! & 0x80000000) | (mt[(i + 1) % N]! & 0x7fffffff);
      mt[i] = (mt[(i + M) % N]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0)) >>> 0;
    }
    this.index = 0;
  }
}

/** numpy `random_interval(max)`: a uniform integer in [0, max] by masking 32-bit draws and rejecting values > max. */
export function randomInterval(rng: MT19937, max: number): number {
  if (max === 0) return 0;
  let mask = max;
  mask |= mask >>> 1;
  mask |= mask >>> 2;
  mask |= mask >>> 4;
  mask |= mask >>> 8;
  mask |= mask >>> 16;
  mask >>>= 0;
  let value: number;
  do value = (rng.nextUint32() & mask) >>> 0;
  while (value > max);
  return value;
}

/** numpy `RandomState.shuffle` of a 1-D array: Fisher–Yates from the end, j = random_interval(i). */
export function legacyShuffle(rng: MT19937, values: Int32Array | number[]): void {
  for (let i = values.length - 1; i > 0; i--) {
    const j = randomInterval(rng, i);
    const t = values[i]!;
    values[i] = values[j]!;
    values[j] = t;
  }
}
