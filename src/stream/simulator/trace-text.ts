import type { Rng } from './rng.ts';

/** Answer format of a synthetic trace: `Final Answer: X` (multiple choice) or `Final: \boxed{…}` (math). */
export type SimProfile = 'final-answer' | 'boxed';

/**
 * Word pieces of the synthetic reasoning text. None of them can form `Final`, `Answer` or `\boxed`, so the only
 * final-answer marker in a trace is its last line.
 */
const WORDS = [
  ' the', ' we', ' so', ' this', ' that', ' is', ' are', ' of', ' to', ' and', ' a', ' in', ' for', ' with', ' on',
  ' value', ' values', ' term', ' terms', ' sum', ' product', ' ratio', ' case', ' cases', ' step', ' result', ' both',
  ' equation', ' expression', ' side', ' sides', ' number', ' numbers', ' option', ' options', ' choice', ' each',
  ' compute', ' check', ' consider', ' note', ' substitute', ' simplify', ' compare', ' recall', ' assume', ' find',
  ' gives', ' means', ' implies', ' holds', ' works', ' fails', ' remains', ' becomes', ' equals', ' follows',
  ' first', ' second', ' next', ' then', ' now', ' again', ' also', ' only', ' not', ' more', ' less', ' same',
  ' energy', ' mass', ' charge', ' field', ' rate', ' reaction', ' bond', ' state', ' spin', ' group', ' ring',
  ' angle', ' area', ' length', ' root', ' roots', ' factor', ' function', ' limit', ' integer', ' prime', ' digit',
  ' x', ' y', ' n', ' k', ' 2', ' 3', ' 4', ' 5', ' 10', ' 12', ' =', ' +', ' -', ' *', ' /', ' (', ')', ',',
  ' Let', ' Since', ' Thus', ' Hence', ' Wait', ' Hmm', ' Actually', ' Therefore', ' However', ' If', ' But',
  'ing', 'ed', 'ly', 's', 'er', 'tion',
] as const;

/** JSON string literals of WORDS (quoted and escaped once). */
export const WORD_JSON: readonly string[] = WORDS.map((w) => JSON.stringify(w));
export const WORD_COUNT = WORDS.length;
/** UTF-8 bytes of WORDS as JSON arrays (the `bytes` field servers send with every logprob entry). */
export const WORD_BYTES_JSON: readonly string[] = WORDS.map((w) => bytesJson(w));

/** `[b0,b1,…]`: the UTF-8 bytes of `s` as a JSON array. */
export function bytesJson(s: string): string {
  return `[${Buffer.from(s, 'utf8').join(',')}]`;
}

/** The body's token strings are WORDS indices; sentence ends and line breaks are extra pieces. */
const PERIOD = '.';
const NEWLINE = '\n\n';

/** Produces a trace's text one token at a time: `bodyLength` reasoning tokens, then the final-answer line. */
export class TraceText {
  private readonly tail: readonly string[];
  private readonly bodyLength: number;
  private sinceBreak = 0;
  private sentenceLen: number;

  constructor(profile: SimProfile, answer: string, totalLength: number, rng: Rng) {
    this.tail = profile === 'final-answer'
      ? ['\n\n', 'Final', ' Answer', ':', ` ${answer}`]
      : ['\n\n', 'Final', ':', ' \\', 'boxed', '{', ...answerPieces(answer), '}'];
    this.bodyLength = Math.max(0, totalLength - this.tail.length);
    this.sentenceLen = 8 + rng.int(14);
  }

  /** Total tokens of the trace (body + final line). */
  get length(): number {
    return this.bodyLength + this.tail.length;
  }

  /** Token `t` (in order). */
  token(t: number, rng: Rng): string {
    if (t >= this.bodyLength) return this.tail[t - this.bodyLength]!;
    if (++this.sinceBreak >= this.sentenceLen) {
      this.sinceBreak = 0;
      this.sentenceLen = 8 + rng.int(14);
      return rng.next() < 0.25 ? `${PERIOD}${NEWLINE}` : PERIOD;
    }
    return WORDS[rng.int(WORDS.length)]!;
  }
}

/** An answer split into tokens of up to 3 characters (as a tokenizer would split a number). */
function answerPieces(answer: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < answer.length; i += 3) out.push(answer.slice(i, i + 3));
  return out.length ? out : [''];
}

/** A multiple-choice prompt lists options (A)…(D); anything else is treated as math. */
export function detectProfile(prompt: string): SimProfile {
  return /\(A\)[\s\S]*\(B\)[\s\S]*\(C\)[\s\S]*\(D\)/.test(prompt) || /Final Answer:/i.test(prompt) ? 'final-answer' : 'boxed';
}
