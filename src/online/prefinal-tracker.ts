/**
 * Online prefinal cut (SPEC §1.5): finds the profile's final-answer marker while tokens stream in and keeps the
 * aggregate state of the token prefix the paper's batch rule would keep — without storing per-token data.
 *
 * The batch rule keeps token i while the cumulative length of tokens 0..i is ≤ c. Equivalently the prefinal state
 * S(c) is the accumulator state JUST BEFORE the first token whose end exceeds c (zero-length tokens at the boundary
 * are kept). So a cut point inside or at the start of a token (s ≤ c < e) maps to that token's "before" state, and a
 * cut exactly at a token end waits for the next non-empty token (or the end of the stream).
 * The tracker therefore records, for each recent line start L, S(L) (a 17-float copy) — a ring of the last
 * LINE_RING line starts — and, on the first line of the code profile (where the cut is the match index itself), the
 * "before" states of the last TOKEN_RING tokens. A marker match whose line start has left the ring (more than
 * LINE_RING newlines inside one marker match — impossible for these markers in practice) falls back to the oldest
 * kept line start and sets `approximate`.
 *
 * Text positions are UTF-16 code units of the concatenated token strings; the paper counts Python code points of the
 * same strings. Both the marker position and the token lengths are measured in the same unit, so the kept token
 * prefix is identical whenever tokens do not split a surrogate pair.
 */
import { SignalAccumulator } from '../features/signal-accumulator.ts';
import type { ProfileSpec } from './profiles.ts';
import { StreamMatcher } from './stream-pattern.ts';

const LINE_RING = 32;
const TOKEN_RING = 32;

interface MarkerState {
  readonly name: string;
  readonly matcher: StreamMatcher;
  /** Match start of the current candidate (-1 none). */
  start: number;
  /** Cut c for that candidate. */
  cut: number;
  readonly state: SignalAccumulator;
  approximate: boolean;
}

export class PrefinalTracker {
  readonly spec: ProfileSpec;
  private readonly markers: MarkerState[];
  /** Characters consumed so far. */
  private pos = 0;
  private atLineStart = true;
  private sawNewline = false;
  // Line-start ring (entry 0 is the text start until evicted).
  private readonly linePos = new Float64Array(LINE_RING);
  private readonly lineState: SignalAccumulator[] = [];
  private readonly lineIsTextStart = new Uint8Array(LINE_RING);
  private lineHead = 0; // next write slot
  private lineCount = 0;
  /** Slot whose state waits for the next non-empty token (a line start at a token end), or -1. */
  private pendingSlot = -1;
  // First-line token ring for the code profile.
  private readonly tokStart = new Float64Array(TOKEN_RING);
  private readonly tokEnd = new Float64Array(TOKEN_RING);
  private readonly tokState: SignalAccumulator[] = [];
  private tokHead = 0;
  private tokCount = 0;
  private readonly useTokenRing: boolean;
  private finished = false;

  constructor(spec: ProfileSpec) {
    this.spec = spec;
    this.markers = spec.markers.map((m) => ({ name: m.name, matcher: new StreamMatcher(m.pattern), start: -1, cut: -1, state: new SignalAccumulator(), approximate: false }));
    for (let i = 0; i < LINE_RING; i++) this.lineState.push(new SignalAccumulator());
    this.useTokenRing = spec.cut === 'line-start-or-match' && spec.markers.length > 0;
    if (this.useTokenRing) for (let i = 0; i < TOKEN_RING; i++) this.tokState.push(new SignalAccumulator());
    this.reset();
  }

  reset(): void {
    this.pos = 0;
    this.atLineStart = true;
    this.sawNewline = false;
    this.lineHead = 0;
    this.lineCount = 0;
    this.pendingSlot = -1;
    this.tokHead = 0;
    this.tokCount = 0;
    this.finished = false;
    for (const m of this.markers) { m.matcher.reset(); m.start = -1; m.cut = -1; m.state.reset(); m.approximate = false; }
    if (this.markers.length > 0) this.addLineStart(0, true);
  }

  /** Number of characters seen. */
  get length(): number {
    return this.pos;
  }

  /**
   * Feeds the text of the next token. `before` is the aggregate state of all tokens before this one (call this
   * BEFORE pushing the token into the accumulator).
   */
  scanToken(text: string, before: SignalAccumulator): void {
    if (this.markers.length === 0 || this.finished) { this.pos += text.length; return; }
    const s = this.pos;
    const e = s + text.length;
    if (text.length > 0) {
      if (this.pendingSlot >= 0) { this.lineState[this.pendingSlot]!.copyFrom(before); this.pendingSlot = -1; }
      if (this.useTokenRing && !this.sawNewline) {
        const slot = this.tokHead;
        this.tokStart[slot] = s; this.tokEnd[slot] = e; this.tokState[slot]!.copyFrom(before);
        this.tokHead = (slot + 1) % TOKEN_RING;
        if (this.tokCount < TOKEN_RING) this.tokCount++;
      }
    }
    const top = this.decidedPrefix();
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      const p = s + i;
      for (let k = 0; k < top; k++) {
        const m = this.markers[k]!;
        if (m.matcher.done) continue;
        m.matcher.step(c, p, this.atLineStart);
        const cand = m.matcher.candidateStart;
        if (cand >= 0 && cand !== m.start) this.capture(m, cand, s, before);
      }
      if (c === 0x0a) {
        this.sawNewline = true;
        this.atLineStart = true;
        const L = p + 1;
        const slot = this.addLineStart(L, false);
        if (L < e) this.lineState[slot]!.copyFrom(before);
        else this.pendingSlot = slot;
      } else {
        this.atLineStart = false;
      }
    }
    this.pos = e;
  }

  /** End of the text: pending leftmost candidates become final; a pending line-start state is the final state. */
  finish(final: SignalAccumulator): void {
    if (this.finished) return;
    if (this.pendingSlot >= 0) { this.lineState[this.pendingSlot]!.copyFrom(final); this.pendingSlot = -1; }
    for (const m of this.markers) m.matcher.finish();
    this.finished = true;
  }

  /** The marker that decides the cut now (highest priority with a match so far), or null. */
  private best(): MarkerState | null {
    for (const m of this.markers) if (m.start >= 0) return m;
    return null;
  }

  /** Name of the deciding marker (e.g. `final_answer`), or null when none was seen. */
  get marker(): string | null {
    return this.best()?.name ?? null;
  }

  /** The char cut-off c, or -1 when no marker was seen. */
  get cut(): number {
    return this.best()?.cut ?? -1;
  }

  /** Start of the deciding marker's match in the text, or -1. */
  get matchStart(): number {
    return this.best()?.start ?? -1;
  }

  /** True when the prefinal list exists (marker seen, and c > 0 where the profile requires it). */
  get available(): boolean {
    const b = this.best();
    if (!b) return false;
    return !(this.spec.requirePositiveCut && b.cut <= 0);
  }

  /** Aggregate state of the prefinal token list (valid when `available`). */
  get state(): SignalAccumulator | null {
    return this.available ? this.best()!.state : null;
  }

  /** True if a cut had to fall back to an evicted checkpoint (see the file comment). */
  get approximate(): boolean {
    return this.best()?.approximate ?? false;
  }

  /** Match start of marker k's current candidate (-1 none); k in priority order. */
  markerStart(k: number): number {
    return this.markers[k]?.start ?? -1;
  }

  /** Markers after the first decided one can never win: stop feeding them. */
  private decidedPrefix(): number {
    for (let k = 0; k < this.markers.length; k++) if (this.markers[k]!.matcher.done) return k + 1;
    return this.markers.length;
  }

  private capture(m: MarkerState, start: number, tokenStart: number, before: SignalAccumulator): void {
    m.start = start;
    m.approximate = false;
    // Line start of the match: newest ring entry at or before `start`.
    let slot = -1;
    for (let j = 0; j < this.lineCount; j++) {
      const idx = (this.lineHead - 1 - j + LINE_RING) % LINE_RING;
      if (this.linePos[idx]! <= start) { slot = idx; break; }
    }
    if (slot < 0) {
      slot = (this.lineHead - this.lineCount + LINE_RING) % LINE_RING;
      m.approximate = true;
    }
    if (this.spec.cut === 'line-start-or-match' && this.lineIsTextStart[slot] === 1) {
      m.cut = start;
      this.stateAt(start, tokenStart, before, m);
      return;
    }
    m.cut = this.linePos[slot]!;
    if (m.cut >= tokenStart) m.state.copyFrom(before);
    else m.state.copyFrom(this.lineState[slot]!);
  }

  /** S(c) on the first line: the "before" state of the token containing char c. */
  private stateAt(c: number, tokenStart: number, before: SignalAccumulator, m: MarkerState): void {
    if (c >= tokenStart) { m.state.copyFrom(before); return; }
    for (let j = 0; j < this.tokCount; j++) {
      const idx = (this.tokHead - 1 - j + TOKEN_RING) % TOKEN_RING;
      if (this.tokStart[idx]! <= c && c < this.tokEnd[idx]!) { m.state.copyFrom(this.tokState[idx]!); return; }
    }
    const oldest = (this.tokHead - this.tokCount + TOKEN_RING) % TOKEN_RING;
    m.state.copyFrom(this.tokState[oldest]!);
    m.approximate = true;
  }

  private addLineStart(L: number, isTextStart: boolean): number {
    const slot = this.lineHead;
    this.linePos[slot] = L;
    this.lineIsTextStart[slot] = isTextStart ? 1 : 0;
    if (isTextStart) { this.lineState[slot]!.reset(); this.pendingSlot = slot; }
    if (this.pendingSlot === slot && !isTextStart) this.pendingSlot = -1;
    this.lineHead = (slot + 1) % LINE_RING;
    if (this.lineCount < LINE_RING) this.lineCount++;
    return slot;
  }
}
