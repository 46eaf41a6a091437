import type { SimOverrides } from './sample-plan.ts';
import { SIM_KINDS, type SimKind } from './trace-model.ts';
import type { SimProfile } from './trace-text.ts';

/** The API a request came in on: its path decides how the body is read and how the stream is written. */
export type SimApi = 'chat' | 'completions' | 'responses';

export interface ParsedRequest {
  model: string;
  prompt: string;
  promptTokens: number;
  n: number;
  maxTokens: number;
  stream: boolean;
  includeUsage: boolean;
  logprobs: boolean;
  topLogprobs: number;
  seed: number | undefined;
  overrides: SimOverrides;
  /** The client's request id (SGLang's body `rid`, or the `x-request-id` header): the key of `POST /abort_request`. */
  rid: string | null;
}

/** Validates the request body; returns a message (→ 400) on the first problem. */
export function parseRequest(api: SimApi, b: Record<string, unknown>, header: string | string[] | undefined, maxChoices: number, maxTop: number, requestIdHeader?: string | string[]): ParsedRequest | string {
  const got = (v: unknown): string => `\`${JSON.stringify(v)}\` (${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v})`;
  const prompt = readPrompt(api, b);
  if (prompt.error !== null) return prompt.error;
  const int = (name: string, v: unknown, def: number, min: number, max: number): number | string => {
    if (v === undefined || v === null) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) return `Expected \`${name}\` to be an integer from ${min} to ${max}, got ${got(v)}`;
    return v;
  };
  const n = int('n', b.n, 1, 1, maxChoices);
  if (typeof n === 'string') return n;
  if (api === 'responses' && n !== 1) return `The Responses API has one output per request: expected no \`n\` or 1, got ${got(b.n)}`;
  const maxTokens = int(api === 'responses' ? 'max_output_tokens' : 'max_tokens', api === 'responses' ? b.max_output_tokens : b.max_tokens ?? b.max_completion_tokens, 1_000_000, 1, 1_000_000);
  if (typeof maxTokens === 'string') return maxTokens;
  let topLogprobs: number | string;
  let logprobs: boolean;
  if (api === 'completions') {
    // The legacy API: `logprobs` is the k itself (0 = the chosen token only); absent/null = none.
    topLogprobs = int('logprobs', b.logprobs, 0, 0, maxTop);
    logprobs = b.logprobs !== undefined && b.logprobs !== null;
  } else {
    topLogprobs = int('top_logprobs', b.top_logprobs, 0, 0, maxTop);
    if (api === 'chat' && b.logprobs !== undefined && b.logprobs !== null && typeof b.logprobs !== 'boolean') return `Expected \`logprobs\` to be a boolean, got ${got(b.logprobs)}`;
    logprobs = api === 'chat' ? b.logprobs === true : Array.isArray(b.include) && b.include.includes('message.output_text.logprobs');
  }
  if (typeof topLogprobs === 'string') return topLogprobs;
  if (b.rid !== undefined && b.rid !== null && (typeof b.rid !== 'string' || b.rid === '' || b.rid.length > 256)) return `Expected \`rid\` to be a non-empty string of at most 256 characters, got ${got(b.rid)}`;
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean') return `Expected \`stream\` to be a boolean, got ${got(b.stream)}`;
  if (b.seed !== undefined && b.seed !== null && !(typeof b.seed === 'number' && Number.isInteger(b.seed))) return `Expected \`seed\` to be an integer, got ${got(b.seed)}`;
  const so = b.stream_options as Record<string, unknown> | null | undefined;
  const overrides = parseOverrides(b.failmode_sim, Array.isArray(header) ? header[0] : header);
  if (typeof overrides === 'string') return overrides;
  return {
    model: typeof b.model === 'string' ? b.model : 'failmode-sim',
    prompt: prompt.text,
    promptTokens: Math.max(1, Math.round(prompt.text.length / 4)),
    n,
    maxTokens,
    stream: b.stream === true,
    includeUsage: so?.include_usage === true,
    logprobs,
    topLogprobs,
    seed: typeof b.seed === 'number' ? b.seed : undefined,
    overrides,
    rid: typeof b.rid === 'string' ? b.rid : typeof requestIdHeader === 'string' && requestIdHeader !== '' ? requestIdHeader.slice(0, 256) : null,
  };
}

/** The prompt text: chat `messages`, completions `prompt`, responses `instructions` + `input` (a string or messages). */
function readPrompt(api: SimApi, b: Record<string, unknown>): { text: string; error: string | null } {
  const got = (v: unknown): string => `\`${JSON.stringify(v)}\` (${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v})`;
  if (api === 'completions') {
    if (typeof b.prompt !== 'string' || b.prompt === '') return { text: '', error: `Expected \`prompt\` to be a non-empty string, got ${got(b.prompt)}` };
    return { text: `${b.prompt}\n`, error: null }; // as a one-message chat prompt reads: the same trace
  }
  let messages: unknown = b.messages;
  let text = '';
  if (api === 'responses') {
    if (typeof b.instructions === 'string') text += `${b.instructions}\n`;
    if (typeof b.input === 'string' && b.input !== '') return { text: `${text}${b.input}\n`, error: null };
    messages = b.input;
    if (!Array.isArray(messages) || messages.length === 0) return { text: '', error: `Expected \`input\` to be a non-empty string or array of messages, got ${got(b.input)}` };
  } else if (!Array.isArray(messages) || messages.length === 0) return { text: '', error: `Expected \`messages\` to be a non-empty array, got ${got(b.messages)}` };
  for (const m of messages as unknown[]) {
    const c = (m as Record<string, unknown> | null)?.content;
    if (typeof c === 'string') text += `${c}\n`;
    else if (Array.isArray(c)) for (const part of c) text += `${typeof (part as { text?: unknown })?.text === 'string' ? (part as { text: string }).text : ''}\n`;
    else if (c !== null && c !== undefined) return { text: '', error: `Expected each message's \`content\` to be a string or an array of parts, got ${got(c)}` };
  }
  return { text, error: null };
}

const PROFILES: readonly SimProfile[] = ['final-answer', 'boxed'];

/** `failmode_sim` body field merged over the `x-failmode-sim-profile` header. */
/** Longest per-choice kind list. */
const MAX_KINDS = 1024;

function parseOverrides(field: unknown, header: string | undefined): SimOverrides | string {
  let fromHeader: Record<string, unknown> = {};
  if (header !== undefined && header.trim() !== '') {
    const h = header.trim();
    if (h.startsWith('{')) {
      try {
        fromHeader = JSON.parse(h) as Record<string, unknown>;
      } catch {
        return `Expected header x-failmode-sim-profile to be a profile name, JSON or key=value pairs, got \`${h.slice(0, 80)}\``;
      }
    } else if (h.includes('=')) {
      for (const pair of h.split(/[;,]/)) {
        const [key, ...rest] = pair.split('=');
        if (key?.trim()) fromHeader[key.trim()] = rest.join('=').trim();
      }
    } else fromHeader = { profile: h };
  }
  if (field !== undefined && field !== null && (typeof field !== 'object' || Array.isArray(field))) return `Expected \`failmode_sim\` to be an object, got \`${JSON.stringify(field)}\``;
  const f = { ...fromHeader, ...(field as Record<string, unknown> | undefined) };
  const out: SimOverrides = {};
  if (f.profile !== undefined) {
    if (!PROFILES.includes(f.profile as SimProfile)) return `Unknown value for failmode_sim.profile: \`${String(f.profile)}\`. Value must be one of: ${PROFILES.join(', ')}`;
    out.profile = f.profile as SimProfile;
  }
  if (f.kind !== undefined) {
    // One kind for every choice, or a list cycled over the choices (a request with n > 1 gets a chosen mix).
    const list = Array.isArray(f.kind) ? f.kind as unknown[] : [f.kind];
    if (list.length === 0 || list.length > MAX_KINDS) return `Expected failmode_sim.kind to be a kind or a list of 1 to ${MAX_KINDS} kinds, got a list of ${list.length}`;
    for (const k of list) if (!SIM_KINDS.includes(k as SimKind)) return `Unknown value for failmode_sim.kind: \`${String(k)}\`. Value must be one of: ${SIM_KINDS.join(', ')}`;
    if (Array.isArray(f.kind)) out.kinds = list as SimKind[];
    else out.kind = f.kind as SimKind;
  }
  for (const key of ['answer', 'reference'] as const) {
    const v = f[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' && typeof v !== 'number') return `Expected failmode_sim.${key} to be a string or number, got \`${JSON.stringify(v)}\``;
    out[key] = String(v);
  }
  if (f.length !== undefined) {
    const len = Number(f.length);
    if (!Number.isInteger(len) || len < 1 || len > 1_000_000) return `Expected failmode_sim.length to be an integer from 1 to 1000000, got \`${String(f.length)}\``;
    out.length = len;
  }
  return out;
}
