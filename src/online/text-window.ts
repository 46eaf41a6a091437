/**
 * The bounded text a sample keeps for answer extraction: a ring of the last `tailChars` UTF-16 units, plus for each
 * marker a fixed buffer of `regionChars` units from the marker's first match on. Fixed typed arrays (regions are
 * allocated once, when their marker is first seen), one store per character — no strings are built until `text()`.
 */
export class TextWindow {
  readonly tailChars: number;
  readonly regionChars: number;
  private readonly ring: Uint16Array;
  /** Characters written so far (absolute position of the next one). */
  private total = 0;
  private readonly regionBuf: (Uint16Array | null)[];
  private readonly regionStart: Float64Array;
  /** The start each region was requested at (its buffer may begin later if that text already left the tail). */
  private readonly regionKey: Float64Array;
  private readonly regionLen: Int32Array;

  constructor(regions: number, tailChars: number, regionChars: number) {
    this.tailChars = tailChars;
    this.regionChars = regionChars;
    this.ring = new Uint16Array(tailChars);
    this.regionBuf = Array.from({ length: regions }, () => null);
    this.regionStart = new Float64Array(regions).fill(-1);
    this.regionKey = new Float64Array(regions).fill(-1);
    this.regionLen = new Int32Array(regions);
  }

  /** Total characters seen. */
  get length(): number {
    return this.total;
  }

  /** Absolute position of the oldest character still in the tail. */
  get tailStart(): number {
    return Math.max(0, this.total - this.tailChars);
  }

  append(text: string): void {
    const ring = this.ring;
    const cap = this.tailChars;
    let pos = this.total;
    for (let i = 0; i < text.length; i++) ring[(pos + i) % cap] = text.charCodeAt(i);
    for (let k = 0; k < this.regionBuf.length; k++) {
      const buf = this.regionBuf[k];
      if (!buf) continue;
      let len = this.regionLen[k]!;
      for (let i = 0; i < text.length && len < buf.length; i++) buf[len++] = text.charCodeAt(i);
      this.regionLen[k] = len;
    }
    pos += text.length;
    this.total = pos;
  }

  /** Region k starts (or restarts) at absolute position `start`, filled from the tail up to the current end. */
  startRegion(k: number, start: number): void {
    if (this.regionKey[k] === start) return;
    this.regionKey[k] = start;
    const from = Math.max(start, this.tailStart);
    const buf = this.regionBuf[k] ?? (this.regionBuf[k] = new Uint16Array(this.regionChars));
    let len = 0;
    for (let p = from; p < this.total && len < buf.length; p++) buf[len++] = this.ring[p % this.tailChars]!;
    this.regionStart[k] = from;
    this.regionLen[k] = len;
  }

  /**
   * The text for extraction: everything while it fits in the tail; else the regions that begin before the tail, then
   * the tail, merged by position (a gap between parts becomes one `\n`).
   */
  text(): string {
    const tailStart = this.tailStart;
    const tail = this.slice(tailStart, this.total);
    if (tailStart === 0) return tail;
    const parts: { start: number; text: string }[] = [];
    for (let k = 0; k < this.regionBuf.length; k++) {
      const s = this.regionStart[k]!;
      if (s >= 0 && s < tailStart) parts.push({ start: s, text: decode(this.regionBuf[k]!, 0, this.regionLen[k]!) });
    }
    parts.sort((a, b) => a.start - b.start);
    parts.push({ start: tailStart, text: tail });
    let out = '';
    let end = -1;
    for (const p of parts) {
      if (end < 0) { out = p.text; end = p.start + p.text.length; continue; }
      if (p.start > end) { out += `\n${p.text}`; end = p.start + p.text.length; continue; }
      const skip = end - p.start;
      if (skip < p.text.length) { out += p.text.slice(skip); end = p.start + p.text.length; }
    }
    return out;
  }

  /** Characters [from, to) of the tail (absolute positions, within the tail). */
  private slice(from: number, to: number): string {
    const cap = this.tailChars;
    const a = from % cap;
    const n = to - from;
    if (a + n <= cap) return decode(this.ring, a, a + n);
    return decode(this.ring, a, cap) + decode(this.ring, 0, n - (cap - a));
  }
}

/** UTF-16 units → string, lone surrogates kept as they are (no replacement), in bounded-size chunks. */
function decode(buf: Uint16Array, from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i += 8192) out += String.fromCharCode.apply(null, buf.subarray(i, Math.min(to, i + 8192)) as unknown as number[]);
  return out;
}
