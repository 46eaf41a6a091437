/**
 * The pipelines' `degenerate` flag (SPEC §2.0), computed online in O(1) memory: the text contains one non-newline
 * character repeated ≥ 31 times in a row (`(.)\1{30,}`) or ≥ 20 consecutive digits (`\d{20,}`).
 * Characters are code points (surrogate pairs are joined, also across token boundaries), as in Python.
 */
const DIGIT_RE = /\p{Nd}/u;

export class DegenerateDetector {
  private last = -1;
  private run = 0;
  private digits = 0;
  private pendingHigh = -1;
  private flagged = false;

  get degenerate(): boolean {
    return this.flagged;
  }

  reset(): void {
    this.last = -1; this.run = 0; this.digits = 0; this.pendingHigh = -1; this.flagged = false;
  }

  push(text: string): void {
    if (this.flagged) return;
    for (let i = 0; i < text.length; i++) {
      const u = text.charCodeAt(i);
      if (this.pendingHigh >= 0) {
        const hi = this.pendingHigh;
        this.pendingHigh = -1;
        if (u >= 0xdc00 && u <= 0xdfff) { this.codePoint(((hi - 0xd800) << 10) + (u - 0xdc00) + 0x10000); continue; }
        this.codePoint(hi);
      }
      if (u >= 0xd800 && u <= 0xdbff) { this.pendingHigh = u; continue; }
      this.codePoint(u);
      if (this.flagged) return;
    }
  }

  /** End of text: a dangling high surrogate counts as one character. */
  finish(): boolean {
    if (this.pendingHigh >= 0) { this.codePoint(this.pendingHigh); this.pendingHigh = -1; }
    return this.flagged;
  }

  private codePoint(c: number): void {
    if (c === 0x0a) { this.last = -1; this.run = 0; } else if (c === this.last) { this.run++; } else { this.last = c; this.run = 1; }
    const isDigit = c < 0x80 ? c >= 0x30 && c <= 0x39 : DIGIT_RE.test(String.fromCodePoint(c));
    this.digits = isDigit ? this.digits + 1 : 0;
    if (this.run >= 31 || this.digits >= 20) this.flagged = true;
  }
}
