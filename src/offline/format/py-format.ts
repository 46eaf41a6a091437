/**
 * Python format-spec emulation for the report (SPEC §3.6): `{x:.4f}`, `{x:+.4f}`, `{s:>w}`, `{s:<w}`.
 * Fixed-point conversion is exact: the double's binary value is rounded to the nearest decimal, and only an exact
 * binary tie goes to the even digit (Python) — `Number.prototype.toFixed` rounds those ties up (0.03125 → 0.0313,
 * Python 0.0312; 602.5 → 603, Python 602).
 */

/** `format(x, '.{digits}f')` (or `'+.{digits}f'` with `sign: true`), including Python's `nan`, `inf`, `-0.0000`. */
export function formatFixed(x: number, digits: number, opts: { sign?: boolean } = {}): string {
  const negative = x < 0 || Object.is(x, -0);
  const signText = negative ? '-' : opts.sign ? '+' : '';
  if (Number.isNaN(x)) return `${opts.sign ? '+' : ''}nan`;
  if (!Number.isFinite(x)) return `${signText}inf`;
  return signText + fixedMagnitude(Math.abs(x), digits);
}

/** The decimal digits of |x| rounded half-even on its exact binary value. */
function fixedMagnitude(a: number, digits: number): string {
  const { mantissa, exponent } = decompose(a);
  const scale = 10n ** BigInt(digits);
  let q: bigint;
  if (exponent >= 0) {
    q = (mantissa << BigInt(exponent)) * scale;
  } else {
    const num = mantissa * scale;
    const den = 1n << BigInt(-exponent);
    q = num / den;
    const twice = (num % den) * 2n;
    if (twice > den || (twice === den && q % 2n === 1n)) q += 1n;
  }
  const s = q.toString().padStart(digits + 1, '0');
  return digits === 0 ? s : `${s.slice(0, s.length - digits)}.${s.slice(s.length - digits)}`;
}

/** a = mantissa · 2^exponent exactly (a ≥ 0, finite). */
function decompose(a: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, a);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased === 0) return { mantissa, exponent: -1074 };
  mantissa |= 1n << 52n;
  return { mantissa, exponent: biased - 1075 };
}

/** Number of code points (Python's `len` of a str), which is what format widths count. */
export function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** `f"{s:>w}"`: right-aligned in a field of w code points (never truncates). */
export function padStart(s: string, width: number): string {
  const missing = width - codePointLength(s);
  return missing > 0 ? ' '.repeat(missing) + s : s;
}

/** `f"{s:<w}"`: left-aligned in a field of w code points. */
export function padEnd(s: string, width: number): string {
  const missing = width - codePointLength(s);
  return missing > 0 ? s + ' '.repeat(missing) : s;
}

/** `str(list_of_ints)`, e.g. `[128, 256, 400]`. */
export function pyIntList(values: readonly number[]): string {
  return `[${values.join(', ')}]`;
}
