/**
 * The `/v1/completions` stream shape (`object: "text_completion"`), read as a chat-completion choice so one decoder
 * serves both. A completions choice carries `text` and the legacy logprobs object of parallel arrays:
 *
 *   {"index":0,"text":" Paris","logprobs":{"tokens":[" Paris"],"token_logprobs":[-0.01],
 *    "top_logprobs":[{" Paris":-0.01," Lyon":-4.7}],"text_offset":[12]},"finish_reason":null}
 *
 * Each position i is one token: `tokens[i]`, `token_logprobs[i]` and `top_logprobs[i]` (an object token → logprob,
 * or null). The alternatives are put in descending logprob order (a JSON object has no reliable order) and, when
 * `maxTop` is given, cut to the k asked for: the legacy API may add the chosen token as a (k+1)-th entry, and the
 * signals are defined over the top-k list. `text_offset` is not needed (the token strings spell the text).
 */

type Json = Record<string, unknown>;

/** True for a chunk of the legacy completions API. */
export function isTextCompletionChunk(c: Json): boolean {
  if (c.object === 'text_completion') return true;
  // Some servers omit `object`: a choice with `text` and no `delta` is a completions choice.
  const ch = c.choices;
  if (!Array.isArray(ch) || ch.length === 0) return false;
  const first = ch[0] as Json | null;
  return first !== null && typeof first === 'object' && typeof first.text === 'string' && first.delta === undefined;
}

/**
 * One completions choice as a chat choice: `delta.content` = `text`, `logprobs.content` = one entry per position.
 * Returns a message (what is wrong) for a logprobs object whose arrays do not line up.
 */
export function completionChoiceAsChat(raw: unknown, maxTop?: number): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw; // the decoder reports it
  const choice = raw as Json;
  const out: Json = { index: choice.index, delta: { content: typeof choice.text === 'string' ? choice.text : '' }, finish_reason: choice.finish_reason ?? null };
  const lp = choice.logprobs;
  if (lp === null || lp === undefined) return out;
  if (typeof lp !== 'object' || Array.isArray(lp)) return { ...out, logprobs: lp };
  const l = lp as Json;
  const tokens = l.tokens;
  if (tokens === undefined || tokens === null) return out;
  if (!Array.isArray(tokens)) return { ...out, logprobs: { content: tokens } };
  const lps = Array.isArray(l.token_logprobs) ? l.token_logprobs : [];
  const tops = Array.isArray(l.top_logprobs) ? l.top_logprobs : [];
  const content: Json[] = new Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    content[i] = { token: tokens[i], logprob: lps[i] ?? null, top_logprobs: topList(tops[i], maxTop) };
  }
  return { ...out, logprobs: { content } };
}

/** `{token: logprob}` → `[{token, logprob}]`, descending, at most `maxTop`; null stays null. */
function topList(v: unknown, maxTop: number | undefined): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'object' || Array.isArray(v)) return v; // the decoder reports a wrong type
  const list: { token: string; logprob: unknown }[] = [];
  for (const token of Object.keys(v)) list.push({ token, logprob: (v as Json)[token] });
  // Stable sort: ties keep the server's order. Non-numbers sort last; the decoder rejects them.
  list.sort((a, b) => num(b.logprob) - num(a.logprob));
  if (maxTop !== undefined && maxTop > 0 && list.length > maxTop) list.length = maxTop;
  return list;
}

function num(x: unknown): number {
  return typeof x === 'number' ? x : x === null ? -Infinity : -Infinity;
}
