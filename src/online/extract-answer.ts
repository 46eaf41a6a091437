/**
 * Answer extraction and correctness per task profile, as the paper's pipelines do it (SPEC §2.1–§2.5) — including
 * their known weaknesses (string-matching MATH labels, letter fallbacks without word boundaries; SPEC §6.1).
 * JavaScript regexes stand in for Python's; they differ only on exotic Unicode whitespace/digits.
 */
import type { Profile } from './profiles.ts';

export interface ExtractedAnswer {
  readonly answer: string | null;
  /** The paper's `extraction_method` names: boxed / final_line / last_number / equals / phrase / bold /
   *  final_answer / last_line_letter / bracketed / python_fence / generic_fence / none. */
  readonly method: string;
}

export interface ExtractOptions {
  /** Option letters for `final-answer`: GPQA uses A–D (default), AR-LSAT A–E. */
  readonly letters?: string;
}

const NONE: ExtractedAnswer = { answer: null, method: 'none' };

export function extractAnswer(profile: Profile, text: string, opts: ExtractOptions = {}): ExtractedAnswer {
  switch (profile) {
    case 'final-answer': return extractLetter(text, opts.letters ?? 'ABCD');
    case 'boxed': return extractMath(text);
    case 'final-boxed': return extractGsm8k(text);
    case 'code': return extractCode(text);
    case 'none': return NONE;
  }
}

/** GSM8K (§2.1): first `\boxed{…}` without `}` inside; `Final: <number>`; the last number; none. */
export function extractGsm8k(text: string): ExtractedAnswer {
  let m = /\\boxed\{([^}]*)\}/.exec(text);
  if (m) return { answer: m[1]!.trim(), method: 'boxed' };
  m = /Final\s*:\s*([\d,.-]+)/i.exec(text);
  if (m) return { answer: m[1]!.trim(), method: 'final_line' };
  const nums = text.replace(/,/g, '').match(/[\d,]+(?:\.\d+)?/g);
  if (nums && nums.length > 0) return { answer: nums[nums.length - 1]!.trim(), method: 'last_number' };
  return NONE;
}

/** MATH-500 (§2.2): first `\boxed{…}` (one nested brace level); `= X` at the very end of the last 300 chars; `the answer is X`; first `**X**`. */
export function extractMath(text: string): ExtractedAnswer {
  let m = /\\boxed\{((?:[^{}]|\{[^{}]*\})*)\}/.exec(text);
  if (m) return { answer: m[1]!.trim(), method: 'boxed' };
  m = /=\s*([^\n=]{1,80})\s*$/.exec(text.slice(-300));
  if (m) return { answer: m[1]!.trim(), method: 'equals' };
  m = /(?:the\s+answer\s+is|answer\s*[:=])\s*([^\n]{1,80})/i.exec(text);
  if (m) return { answer: m[1]!.trim(), method: 'phrase' };
  m = /\*\*([^*]{1,80})\*\*/.exec(text);
  if (m) return { answer: m[1]!.trim(), method: 'bold' };
  return NONE;
}

/** GPQA / AR-LSAT (§2.3, §2.5): `Final Answer: X`; `the answer is X` / `answer: X`; a last line that is only a letter; the last `(X)`. */
export function extractLetter(text: string, letters = 'ABCD'): ExtractedAnswer {
  const cls = `[${escapeClass(letters.toUpperCase())}${escapeClass(letters.toLowerCase())}]`;
  let m = new RegExp(`Final\\s+Answer\\s*:\\s*\\(?\\s*(${cls})\\s*\\)?`, 'i').exec(text);
  if (m) return { answer: m[1]!.toUpperCase(), method: 'final_answer' };
  m = new RegExp(`(?:the\\s+answer\\s+is|answer\\s*[=:])\\s*\\(?\\s*(${cls})\\s*\\)?`, 'i').exec(text);
  if (m) return { answer: m[1]!.toUpperCase(), method: 'phrase' };
  const lineRe = new RegExp(`^\\(?(${cls})\\)?\\.?$`);
  const lines = splitLines(text.trim()).map((l) => l.trim()).filter((l) => l !== '');
  for (let i = lines.length - 1; i >= 0; i--) {
    m = lineRe.exec(lines[i]!);
    if (m) return { answer: m[1]!.toUpperCase(), method: 'last_line_letter' };
  }
  const all = [...text.matchAll(new RegExp(`\\((${cls})\\)`, 'g'))];
  if (all.length > 0) return { answer: all[all.length - 1]![1]!.toUpperCase(), method: 'bracketed' };
  return NONE;
}

/** LiveCodeBench (§2.4): the last ```` ```python ```` block; else the last generic fenced block longer than 20 chars. */
export function extractCode(text: string): ExtractedAnswer {
  const py = [...text.matchAll(/```python\s*([\s\S]*?)```/g)];
  if (py.length > 0) return { answer: py[py.length - 1]![1]!.trim(), method: 'python_fence' };
  const blocks = [...text.matchAll(/```\s*([\s\S]*?)```/g)].map((b) => b[1]!.trim()).filter((b) => b.length > 20);
  if (blocks.length > 0) return { answer: blocks[blocks.length - 1]!, method: 'generic_fence' };
  return NONE;
}

/** The reference answer as the pipeline derives it from the dataset field (GSM8K/MATH `####` convention). */
export function referenceAnswer(profile: Profile, raw: string): string {
  if (profile === 'final-boxed') {
    const m = /####\s*([\d,.-]+)/.exec(raw);
    return m ? m[1]!.trim().replace(/,/g, '') : raw.trim();
  }
  if (profile === 'boxed') {
    const m = /####\s*([-+]?\S+)/.exec(raw);
    return m ? m[1]!.trim() : raw.trim();
  }
  return raw.trim();
}

/**
 * Whether `pred` matches the reference under the profile's rule: 1 / 0, or null when the profile has no
 * text-comparison rule (`code` needs test execution, `none` has no answer).
 */
export function isCorrect(profile: Profile, pred: string | null, reference: string): 0 | 1 | null {
  if (profile === 'code' || profile === 'none') return null;
  if (pred === null) return 0;
  const ref = referenceAnswer(profile, reference);
  switch (profile) {
    case 'final-answer': return pred.trim().toUpperCase() === ref.trim().toUpperCase() ? 1 : 0;
    case 'final-boxed': return normalizeNumber(pred) === normalizeNumber(ref) ? 1 : 0;
    case 'boxed': return mathEqual(pred, ref) ? 1 : 0;
  }
}

/** GSM8K `normalize_number`: drop commas, strip, parse as a Python float; integral → integer string, else Python's repr; unparsable → verbatim. */
export function normalizeNumber(s: string): string {
  const t = s.replace(/,/g, '').trim();
  const v = parsePythonFloat(t);
  if (v === null || !Number.isFinite(v)) return t; // int(inf) / int(nan) raise in Python → the string itself
  if (Number.isInteger(v)) return BigInt(v).toString();
  return pythonFloatRepr(v);
}

/** MATH `_normalise_math_answer` (SPEC §2.2). */
export function normalizeMathAnswer(s: string): string {
  let t = s.trim().replace(/\.+$/, '');
  t = t.replace(/^\$+|\$+$/g, '').trim();
  t = t.replace(/\\left|\\right/g, '');
  t = t.replace(/\\text\{([^}]*)\}/g, '$1');
  t = t.replace(/\\math\w+\{([^}]*)\}/g, '$1');
  t = t.replace(/^[a-zA-Z]\s*=\s*/, '').trim();
  return t.replace(/\s+/g, ' ').trim();
}

/** MATH `is_correct`: normalised strings equal; else both floats within 1e-6; else case-insensitive equality. */
export function mathEqual(pred: string, ref: string): boolean {
  const p = normalizeMathAnswer(pred);
  const g = normalizeMathAnswer(ref);
  if (p === g) return true;
  const pf = parsePythonFloat(p.replace(/,/g, ''));
  const gf = parsePythonFloat(g.replace(/,/g, ''));
  if (pf !== null && gf !== null) return Math.abs(pf - gf) < 1e-6;
  return p.toLowerCase() === g.toLowerCase();
}

const PY_FLOAT = /^[+-]?(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const PY_SPECIAL = /^[+-]?(?:inf|infinity|nan)$/i;

/** Python's `float(s)` for ASCII input (surrounding whitespace allowed); null where Python raises ValueError. */
export function parsePythonFloat(s: string): number | null {
  const t = s.trim();
  if (PY_SPECIAL.test(t)) {
    const neg = t.startsWith('-');
    return /nan/i.test(t) ? NaN : neg ? -Infinity : Infinity;
  }
  if (!PY_FLOAT.test(t)) return null;
  return Number(t.replace(/_/g, ''));
}

/** Python's `repr(float)` (shortest round-trip digits; exponent form below 1e-4 and from 1e16). */
export function pythonFloatRepr(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const [mant, expStr] = v.toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  if (exp >= -4 && exp < 16) {
    const s = String(v);
    return Number.isInteger(v) ? `${s}.0` : s;
  }
  return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** Python `str.splitlines()` separators. */
function splitLines(text: string): string[] {
  return text.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/);
}

function escapeClass(s: string): string {
  return s.replace(/[\]\\^-]/g, '\\$&');
}
