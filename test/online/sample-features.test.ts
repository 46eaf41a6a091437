/**
 * SampleFeatures fed token by token must equal a plain batch statement of SPEC §1 (written here, independently):
 * per-token signals, list slicing, two-pass population std, the prefinal char cut-off via regex on the whole text
 * and the token-prefix rule (keep while the cumulative length including the token is ≤ c).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SampleFeatures } from '../../src/online/sample-features.ts';
import type { Profile } from '../../src/online/profiles.ts';
import type { TokenEvent, TopLogprob } from '../../src/stream/token-event.ts';

// ---------- batch reference (SPEC §1) ----------
interface Tok { token: string; logprob: number; top: TopLogprob[] | null }
const STATS = ['entropy_mean', 'entropy_max', 'entropy_std', 'margin_mean', 'margin_max', 'margin_std', 'nll_mean', 'nll_max', 'nll_std',
  'fork_rate', 'nucleus_size_mean', 'nucleus_size_max', 'near_tie_mean', 'near_tie_max'];

function tokenSignals(lps: number[], nucleusP: number, tieDelta: number) {
  const m = Math.max(...lps);
  const lse = m + Math.log(lps.reduce((s, l) => s + Math.exp(l - m), 0));
  const p = lps.map((l) => Math.exp(l - lse));
  let entropy = 0;
  for (const x of p) if (x > 0) entropy -= x * Math.log(x);
  let top1 = -Infinity, top2 = -Infinity;
  for (const l of lps) { if (l > top1) { top2 = top1; top1 = l; } else if (l > top2) top2 = l; }
  const margin = Math.exp(top1 - lse) - (top2 === -Infinity ? 0 : Math.exp(top2 - lse));
  const sorted = [...p].sort((a, b) => b - a);
  let cum = 0, nucleus = sorted.length;
  for (let i = 0; i < sorted.length; i++) { cum += sorted[i]!; if (cum >= nucleusP) { nucleus = i + 1; break; } }
  const nearTie = Math.max(0, lps.filter((l) => l >= m - tieDelta).length - 1);
  return { entropy, margin, nucleus, nearTie, fork: nearTie > 0 ? 1 : 0 };
}

function stats(xs: number[]) {
  if (xs.length === 0) return { mean: NaN, max: NaN, std: NaN };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const max = Math.max(...xs);
  const v = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length;
  return { mean, max, std: Math.sqrt(v) };
}

function listSignals(toks: Tok[], suffix: string, nucleusP: number, tieDelta: number): Record<string, number> {
  const ent: number[] = [], mar: number[] = [], nll: number[] = [], nuc: number[] = [], tie: number[] = [], fork: number[] = [];
  for (const t of toks) {
    nll.push(-t.logprob);
    if (!t.top || t.top.length === 0) continue;
    const s = tokenSignals(t.top.map((x) => x.logprob), nucleusP, tieDelta);
    ent.push(s.entropy); mar.push(s.margin); nuc.push(s.nucleus); tie.push(s.nearTie); fork.push(s.fork);
  }
  const e = stats(ent), ma = stats(mar), n = stats(nll), nu = stats(nuc), ti = stats(tie);
  const v = [e.mean, e.max, e.std, ma.mean, ma.max, ma.std, n.mean, n.max, n.std,
    fork.length ? fork.reduce((a, b) => a + b, 0) / fork.length : NaN, nu.mean, nu.max, ti.mean, ti.max];
  const out: Record<string, number> = {};
  STATS.forEach((s, i) => { out[`${s}${suffix}`] = v[i]!; });
  return out;
}

function multiwindow(toks: Tok[], windows: number[], suffix: string, np: number, td: number): Record<string, number> {
  const out = listSignals(toks, suffix, np, td);
  out[`full_len${suffix}`] = toks.length;
  for (const T of windows) {
    Object.assign(out, listSignals(toks.slice(0, T), `${suffix}_w${T}`, np, td));
    out[`window_len${suffix}_w${T}`] = Math.min(T, toks.length);
  }
  return out;
}

function nanBlock(windows: number[], suffix: string): Record<string, number> {
  const out = multiwindow([], windows, suffix, 0.7, 0.5);
  for (const k of Object.keys(out)) out[k] = NaN;
  return out;
}

function lineStartOf(text: string, idx: number): number {
  const nl = text.lastIndexOf('\n', idx - 1);
  return idx === 0 ? 0 : nl + 1;
}

/** The pipelines' cut-off rules (§2.1–§2.4) on the whole text: [c or null, requires c > 0]. */
function batchCut(profile: Profile, text: string): number | null {
  const first = (re: RegExp) => { const m = re.exec(text); return m ? m.index : -1; };
  switch (profile) {
    case 'final-answer': { const i = first(/Final\s+Answer\s*:/i); return i < 0 ? null : lineStartOf(text, i); }
    case 'boxed': { const i = first(/\\boxed\{/); return i < 0 ? null : lineStartOf(text, i); }
    case 'final-boxed': {
      let i = first(/Final\s*:/i);
      if (i < 0) i = first(/\\boxed\{/);
      if (i < 0) return null;
      const c = lineStartOf(text, i);
      return c > 0 ? c : null;
    }
    case 'code': {
      let i = first(/```python/);
      if (i < 0) i = first(/```/);
      if (i < 0) i = first(/^(def\s+\w+|class\s+Solution|import\s+sys|import\s+os|from\s+\w+\s+import)/m);
      if (i < 0) return null;
      const nl = i === 0 ? -1 : text.lastIndexOf('\n', i - 1);
      const c = nl >= 0 ? nl + 1 : i;
      return c > 0 ? c : null;
    }
    case 'none': return null;
  }
}

function batchRecord(toks: Tok[], profile: Profile, windows: number[], np: number, td: number): Record<string, number> {
  const text = toks.map((t) => t.token).join('');
  const out = multiwindow(toks, windows, '', np, td);
  out.generated_len = toks.length;
  const c = batchCut(profile, text);
  if (c === null) {
    Object.assign(out, nanBlock(windows, '_prefinal'));
    out.prefinal_len = 0;
  } else {
    const kept: Tok[] = [];
    let acc = 0;
    for (const t of toks) { if (acc + t.token.length <= c) { kept.push(t); acc += t.token.length; } else break; }
    Object.assign(out, multiwindow(kept, windows, '_prefinal', np, td));
    out.prefinal_len = kept.length;
  }
  return out;
}

// ---------- random streams ----------
function rng(seed: number) {
  let s = seed >>> 0;
  return () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

const FRAGMENTS = ['the ', 'so ', 'x = 3', '\n', '\n\n', 'Final Answer: (B)', 'final  answer :C', 'Final:', 'FINAL : 12', '\\boxed{42}', '\\boxed{\\frac{1}{2}}',
  '```python\n', '```', '```bash\n', 'def solve():', 'class Solution:', 'import sys', 'from math import sqrt', 'Fin', 'al', ' Answer', ':', 'answer', ' ', '  ', 'é', '42', '`'];

function randomTrace(r: () => number, nFrag: number): string {
  let text = '';
  for (let i = 0; i < nFrag; i++) text += FRAGMENTS[Math.floor(r() * FRAGMENTS.length)]!;
  return text;
}

function tokenize(r: () => number, text: string, topMode: 'full' | 'mixed'): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const roll = r();
    const len = roll < 0.05 ? 0 : 1 + Math.floor(r() * 6);
    const piece = text.slice(i, i + len);
    i += piece.length;
    toks.push(randomTok(r, piece, topMode));
  }
  if (r() < 0.3) toks.push(randomTok(r, '', topMode));
  return toks;
}

function randomTok(r: () => number, token: string, topMode: 'full' | 'mixed'): Tok {
  const logprob = -r() * 3;
  let top: TopLogprob[] | null;
  const u = r();
  if (topMode === 'mixed' && u < 0.15) top = null;
  else if (topMode === 'mixed' && u < 0.25) top = [];
  else {
    const k = 1 + Math.floor(r() * 8);
    top = [];
    for (let j = 0; j < k; j++) top.push({ token: `t${j}`, logprob: r() < 0.2 && j > 0 ? top[0]!.logprob : -r() * 4 });
  }
  return { token, logprob, top };
}

function feed(toks: Tok[], profile: Profile, windows: number[], params = { nucleusP: 0.7, tieDelta: 0.5 }): SampleFeatures {
  const sf = new SampleFeatures({ windows, profile, params, sampleId: 'req:0' });
  toks.forEach((t, index) => {
    const ev: TokenEvent = { type: 'token', sampleId: 'req:0', index, token: t.token, logprob: t.logprob, top: t.top, channel: 'content', t: index };
    sf.push(ev);
  });
  sf.end('stop');
  return sf;
}

function assertClose(actual: unknown, expected: number, col: string, ctx: string): void {
  assert.equal(typeof actual, 'number', `${col} should be a number (${ctx})`);
  const a = actual as number;
  if (Number.isNaN(expected)) { assert.ok(Number.isNaN(a), `${col}: expected NaN, got ${a} (${ctx})`); return; }
  assert.ok(Math.abs(a - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${col}: expected ${expected}, got ${a} (${ctx})`);
}

const PROFILES: Profile[] = ['final-answer', 'boxed', 'final-boxed', 'code', 'none'];

test('online features equal the batch statement of SPEC §1 on random streams (all profiles, windows, prefinal)', () => {
  const windows = [3, 8, 16, 40, 128];
  let compared = 0;
  let withPrefinal = 0;
  let emptyPrefinal = 0;
  for (let seed = 1; seed <= 600; seed++) {
    const r = rng(seed);
    const profile = PROFILES[seed % PROFILES.length]!;
    const text = randomTrace(r, 1 + Math.floor(r() * 60));
    const toks = tokenize(r, text, seed % 2 === 0 ? 'mixed' : 'full');
    const sf = feed(toks, profile, windows);
    const rec = sf.record();
    const exp = batchRecord(toks, profile, windows, 0.7, 0.5);
    const ctx = `seed ${seed}, profile ${profile}, text ${JSON.stringify(text.slice(0, 80))}`;
    for (const [col, v] of Object.entries(exp)) { assertClose(rec[col], v, col, ctx); compared++; }
    if ((exp.prefinal_len as number) > 0) withPrefinal++;
    if (exp.full_len_prefinal === 0) emptyPrefinal++;
  }
  assert.ok(compared > 100_000, `compared ${compared}`);
  assert.ok(withPrefinal > 50, `streams with a prefinal list: ${withPrefinal}`);
  assert.ok(emptyPrefinal > 3, `streams with an empty prefinal list (cut at char 0 / first token straddles c): ${emptyPrefinal}`);
});

test('marker split across single-character tokens; cut inside a token that holds the newline', () => {
  const text = 'reasoning line\nmore\nFinal Answer: (C)\n';
  // One char per token.
  const chars = [...text].map((ch) => ({ token: ch, logprob: -0.5, top: [{ token: ch, logprob: -0.1 }, { token: 'x', logprob: -2 }] }));
  let sf = feed(chars, 'final-answer', [4]);
  assert.equal(sf.record().prefinal_len, 'reasoning line\nmore\n'.length);
  // "more\nFin" in one token: it straddles the cut (c = 20) → not kept.
  const toks: Tok[] = ['reasoning line\n', 'more\nFin', 'al Answer: (C)'].map((token) => ({ token, logprob: -1, top: null }));
  sf = feed(toks, 'final-answer', [4]);
  assert.equal(sf.record().prefinal_len, 1);
  assert.equal(sf.record().predicted_answer, 'C');
  // "more\n" ends exactly at c → kept, and a zero-length token right after it is kept too.
  const toks2: Tok[] = ['reasoning line\n', 'more\n', '', 'Final', ' Answer', ': C'].map((token) => ({ token, logprob: -1, top: null }));
  sf = feed(toks2, 'final-answer', [4]);
  assert.equal(sf.record().prefinal_len, 3);
});

test('cut at char 0: MATH/GPQA keep an empty prefinal list, GSM8K/LCB give the NaN block', () => {
  const toks: Tok[] = ['\\boxed{1}', ' and Final: 1'].map((token) => ({ token, logprob: -1, top: [{ token, logprob: -0.2 }] }));
  const math = feed(toks, 'boxed', [4]).record();
  assert.equal(math.prefinal_len, 0);
  assert.equal(math.full_len_prefinal, 0);
  assert.equal(math.window_len_prefinal_w4, 0);
  assert.ok(Number.isNaN(math.entropy_mean_prefinal as number));
  const gsm = feed(toks, 'final-boxed', [4]).record();
  assert.equal(gsm.prefinal_len, 0);
  assert.ok(Number.isNaN(gsm.full_len_prefinal as number));
  assert.ok(Number.isNaN(gsm.window_len_prefinal_w4 as number));
});

test('GSM8K: a later "Final:" overrides an earlier \\boxed{ as the cut marker', () => {
  const toks: Tok[] = ['a\n', '\\boxed{2} so\n', 'b\n', 'Final: \\boxed{2}'].map((token) => ({ token, logprob: -1, top: null }));
  const rec = feed(toks, 'final-boxed', [4]).record();
  assert.equal(rec.prefinal_len, 3);
  assert.equal(rec.prefinal_marker, 'final_line');
});

test('code profile: a fence on the first line cuts at the fence itself', () => {
  const toks: Tok[] = ['Here', ' is ``', '`python\nprint(1)\n```'].map((token) => ({ token, logprob: -1, top: null }));
  const rec = feed(toks, 'code', [4]).record();
  // c = 8 (index of the first backtick): token 'Here' (4) kept; ' is ``' ends at 10 > 8.
  assert.equal(rec.prefinal_len, 1);
  assert.equal(rec.predicted_answer, 'print(1)');
  assert.equal(rec.extraction_method, 'python_fence');
});

test('record metadata: lengths, finish reason, degenerate, sample id parts, top-k', () => {
  const toks: Tok[] = [{ token: '-'.repeat(31), logprob: -1, top: [{ token: '-', logprob: -0.1 }, { token: 'x', logprob: -3 }] }];
  const sf = new SampleFeatures({ windows: [2], sampleId: 'q17:3' });
  sf.push({ type: 'token', sampleId: 'q17:3', index: 0, token: toks[0]!.token, logprob: -1, top: toks[0]!.top, channel: 'content', t: 1000 });
  sf.end('length', 3000);
  const rec = sf.record();
  assert.equal(rec.question_id, 'q17');
  assert.equal(rec.completion_idx, 3);
  assert.equal(rec.hit_max_tokens, 1);
  assert.equal(rec.finish_reason, 'length');
  assert.equal(rec.degenerate, 1);
  assert.equal(rec.top_logprobs_k, 2);
  assert.equal(rec.latency_s, 2);
  assert.equal(rec.window_len_w2, 1);
  assert.equal(rec.generated_len, 1);
});
