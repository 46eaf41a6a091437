/**
 * A tiny regular-expression matcher that reads text one UTF-16 code unit at a time (a Pike VM over a Thompson NFA),
 * so the final-answer markers can be found while tokens stream in, with bounded memory and no string building.
 *
 * It reproduces Python `re.search` for the small patterns the paper's pipelines use (literals, ASCII case-insensitive
 * literals, `\s` / `\w` classes, `+` / `*` over one class, alternation, a MULTILINE `^`): the reported match is the one
 * with the LEFTMOST start, exactly like `re.search` — a later-starting match that completes first is held back until
 * no earlier-starting attempt is alive.
 */

export type CharTest = (c: number) => boolean;

export type PatternNode =
  | { readonly t: 'char'; readonly test: CharTest }
  | { readonly t: 'seq'; readonly items: readonly PatternNode[] }
  | { readonly t: 'alt'; readonly items: readonly PatternNode[] }
  | { readonly t: 'star'; readonly item: PatternNode }
  | { readonly t: 'plus'; readonly item: PatternNode };

/** Python's `\s` for str patterns (str.isspace plus the \x1c–\x1f separators). */
export function isPySpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
  if (c < 0x85) return false;
  return c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029
    || c === 0x202f || c === 0x205f || c === 0x3000;
}

const WORD_RE = /[\p{L}\p{N}_]/u;
/** Python's `\w` for str patterns (letters, digits, underscore; BMP only — a lone surrogate is not a word char). */
export function isPyWord(c: number): boolean {
  if (c < 0x80) return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
  if (c >= 0xd800 && c <= 0xdfff) return false;
  return WORD_RE.test(String.fromCharCode(c));
}

export const P = {
  /** A literal; `ci` = ASCII case-insensitive (Python IGNORECASE on the ASCII letters these markers use). */
  lit(s: string, ci = false): PatternNode {
    const items: PatternNode[] = [];
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      const isLetter = (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
      if (ci && isLetter) {
        const lower = c | 0x20;
        items.push({ t: 'char', test: (x) => (x | 0x20) === lower && ((x >= 0x41 && x <= 0x5a) || (x >= 0x61 && x <= 0x7a)) });
      } else {
        items.push({ t: 'char', test: (x) => x === c });
      }
    }
    return items.length === 1 ? items[0]! : { t: 'seq', items };
  },
  cls(test: CharTest): PatternNode { return { t: 'char', test }; },
  seq(...items: PatternNode[]): PatternNode { return { t: 'seq', items }; },
  alt(...items: PatternNode[]): PatternNode { return { t: 'alt', items }; },
  star(item: PatternNode): PatternNode { return { t: 'star', item }; },
  plus(item: PatternNode): PatternNode { return { t: 'plus', item }; },
  space: { t: 'char', test: isPySpace } as PatternNode,
  word: { t: 'char', test: isPyWord } as PatternNode,
};

/** NFA instruction: a char test (→ out), a split (→ out, out2), or the match state (out = -1, no test). */
interface Inst { test: CharTest | null; out: number; out2: number }

/** A compiled pattern. Immutable; `StreamMatcher` holds the per-stream state. */
export class CompiledPattern {
  readonly insts: readonly Inst[];
  readonly start: number;
  /** MULTILINE `^`: attempts only start at the text start or just after `\n`. */
  readonly anchored: boolean;

  /** Char tests that can begin a match (for the idle fast path). */
  readonly firstTests: readonly CharTest[];

  constructor(node: PatternNode, anchored = false) {
    const insts: Inst[] = [];
    const match = insts.push({ test: null, out: -1, out2: -1 }) - 1;
    this.start = compile(node, match, insts);
    this.insts = insts;
    this.anchored = anchored;
    const firsts: CharTest[] = [];
    const seen = new Set<number>();
    const walk = (pc: number): void => {
      if (pc < 0 || seen.has(pc)) return;
      seen.add(pc);
      const inst = insts[pc]!;
      if (inst.test !== null) { firsts.push(inst.test); return; }
      walk(inst.out);
      walk(inst.out2);
    };
    walk(this.start);
    this.firstTests = firsts;
  }
}

/** Compiles `node` so that it continues at `next`; returns its entry instruction. */
function compile(node: PatternNode, next: number, insts: Inst[]): number {
  switch (node.t) {
    case 'char':
      return insts.push({ test: node.test, out: next, out2: -1 }) - 1;
    case 'seq': {
      let entry = next;
      for (let i = node.items.length - 1; i >= 0; i--) entry = compile(node.items[i]!, entry, insts);
      return entry;
    }
    case 'alt': {
      // Chain of splits; earlier alternatives first (priority does not matter for the start position we report).
      let entry = compile(node.items[node.items.length - 1]!, next, insts);
      for (let i = node.items.length - 2; i >= 0; i--) {
        const a = compile(node.items[i]!, next, insts);
        entry = insts.push({ test: null, out: a, out2: entry }) - 1;
      }
      return entry;
    }
    case 'star': {
      const split = insts.push({ test: null, out: -1, out2: next }) - 1;
      insts[split]!.out = compile(node.item, split, insts);
      return split;
    }
    case 'plus': {
      const split = insts.push({ test: null, out: -1, out2: next }) - 1;
      const body = compile(node.item, split, insts);
      insts[split]!.out = body;
      return body;
    }
  }
}

/**
 * Per-stream matcher state. `step(c, pos, atLineStart)` feeds the code unit at text position `pos`; it returns the
 * match START position once the leftmost match is certain, else -1. After a match it stays done (first match only).
 * Memory is O(pattern size); no allocation per step.
 */
export class StreamMatcher {
  readonly pattern: CompiledPattern;
  private cur: Int32Array;
  private curStart: Float64Array;
  private curN = 0;
  private next: Int32Array;
  private nextStart: Float64Array;
  private nextN = 0;
  /** Dedup marks: generation number per instruction. */
  private mark: Int32Array;
  private gen = 1;
  /** Start of the best (leftmost) completed match so far, or -1. */
  private candidate = -1;
  private result = -1;

  constructor(pattern: CompiledPattern) {
    this.pattern = pattern;
    const n = pattern.insts.length;
    this.cur = new Int32Array(n);
    this.curStart = new Float64Array(n);
    this.next = new Int32Array(n);
    this.nextStart = new Float64Array(n);
    this.mark = new Int32Array(n);
  }

  /** Match start once decided, else -1. */
  get matchStart(): number {
    return this.result;
  }

  get done(): boolean {
    return this.result >= 0;
  }

  /** Start of the leftmost match completed so far (it may still be replaced by an earlier-starting one), or -1. */
  get candidateStart(): number {
    return this.result >= 0 ? this.result : this.candidate;
  }

  /** Back to the state before any text. */
  reset(): void {
    this.curN = 0; this.nextN = 0; this.candidate = -1; this.result = -1;
  }

  /** Feeds one code unit. Returns the match start when the leftmost match becomes certain at this step, else -1. */
  step(c: number, pos: number, atLineStart: boolean): number {
    if (this.result >= 0) return -1;
    // Idle fast path: no live attempt and this char cannot start one → nothing changes.
    if (this.curN === 0 && this.candidate < 0) {
      if (this.pattern.anchored && !atLineStart) return -1;
      const firsts = this.pattern.firstTests;
      let any = false;
      for (let i = 0; i < firsts.length; i++) if (firsts[i]!(c)) { any = true; break; }
      if (!any) return -1;
    }
    if (this.gen > 0x7ffffff0) { this.mark.fill(0); this.gen = 1; }
    // Build the current list: live threads (earlier starts first) then a new attempt starting here.
    this.gen++;
    const live = this.cur;
    const liveStart = this.curStart;
    const liveN = this.curN;
    this.nextN = 0;
    for (let i = 0; i < liveN; i++) this.add(live[i]!, liveStart[i]!);
    if (this.candidate < 0 && (!this.pattern.anchored || atLineStart)) this.add(this.pattern.start, pos);
    // The match instruction can be reached only after consuming chars (patterns never match empty), so `add`
    // registers candidates only from the transitions below; swap lists.
    let tmp = this.cur; this.cur = this.next; this.next = tmp;
    let tmpS = this.curStart; this.curStart = this.nextStart; this.nextStart = tmpS;
    const n = this.nextN;
    // Transition on c.
    this.gen++;
    this.nextN = 0;
    const insts = this.pattern.insts;
    for (let i = 0; i < n; i++) {
      const pc = this.cur[i]!;
      const inst = insts[pc]!;
      const start = this.curStart[i]!;
      if (this.candidate >= 0 && start >= this.candidate) continue;
      if (inst.test !== null && inst.test(c)) this.add(inst.out, start);
    }
    tmp = this.cur; this.cur = this.next; this.next = tmp;
    tmpS = this.curStart; this.curStart = this.nextStart; this.nextStart = tmpS;
    this.curN = this.nextN;
    return this.settle();
  }

  /** End of text: a pending candidate becomes the result. Returns the match start or -1. */
  finish(): number {
    if (this.result < 0 && this.candidate >= 0) this.result = this.candidate;
    this.curN = 0;
    return this.result;
  }

  private settle(): number {
    if (this.candidate < 0) return -1;
    // Decided when no live thread started before the candidate.
    for (let i = 0; i < this.curN; i++) if (this.curStart[i]! < this.candidate) return -1;
    this.result = this.candidate;
    this.curN = 0;
    return this.result;
  }

  /** Adds thread (pc, start) to the `next` list following splits; reaching the match state records a candidate. */
  private add(pc: number, start: number): void {
    if (this.mark[pc] === this.gen) return;
    this.mark[pc] = this.gen;
    const inst = this.pattern.insts[pc]!;
    if (inst.test === null) {
      if (inst.out === -1) {
        if (this.candidate < 0 || start < this.candidate) this.candidate = start;
        return;
      }
      this.add(inst.out, start);
      this.add(inst.out2, start);
      return;
    }
    this.next[this.nextN] = pc;
    this.nextStart[this.nextN] = start;
    this.nextN++;
  }
}
