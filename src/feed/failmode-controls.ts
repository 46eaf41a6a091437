import type { ProxyRequestHead } from './proxy-response.ts';
import { MAX_ID_LENGTH } from './protocol.ts';

type Json = Record<string, unknown>;

/** The request controls of failmode, from headers or the body's `failmode` object (removed before forwarding). */
export interface FailmodeControls {
  readonly earlyStop: boolean;
  readonly run: string;
  readonly question: string | null;
  readonly reference: string | null;
  /** Self-consistency guard: the question's sample count and how many must stay unstopped. */
  readonly keep: { readonly samples: number; readonly minKeep: number } | null;
}

/**
 * Reads failmode's request controls: header `x-failmode-early-stop: 1` (or `true`) or body `failmode.early_stop: true`;
 * run / question / reference ids from `x-failmode-run`, `x-failmode-question`, `x-failmode-reference` or the body's
 * `failmode.run` / `failmode.question` / `failmode.reference`; the self-consistency guard from `x-failmode-samples` /
 * `x-failmode-min-keep` or `failmode.samples` / `failmode.min_keep` (min-keep defaults to 1 when samples is given).
 * Throws on malformed values.
 */
export function failmodeControls(req: ProxyRequestHead, body: Json): FailmodeControls {
  const fm = body.failmode;
  if (fm !== undefined && (fm === null || typeof fm !== 'object' || Array.isArray(fm))) {
    throw new TypeError(`Expected \`failmode\` to be an object like {"early_stop": true}, got ${JSON.stringify(fm)}`);
  }
  const f = (fm ?? {}) as Json;
  const header = (name: string): string | undefined => {
    const v = req.headers[name];
    return typeof v === 'string' ? v : undefined;
  };
  const earlyHeader = header('x-failmode-early-stop');
  if (f.early_stop !== undefined && typeof f.early_stop !== 'boolean') throw new TypeError(`Expected \`failmode.early_stop\` to be a boolean, got ${JSON.stringify(f.early_stop)}`);
  const earlyStop = f.early_stop === true || (earlyHeader !== undefined && /^(1|true|yes|on)$/i.test(earlyHeader.trim()));
  const str = (name: 'run' | 'question' | 'reference', max: number): string | null => {
    const v = f[name] ?? header(`x-failmode-${name}`);
    if (v === undefined) return null;
    if (typeof v !== 'string' || v === '' || v.length > max) throw new TypeError(`Expected failmode ${name} to be a non-empty string of at most ${max} characters, got ${JSON.stringify(v).slice(0, 60)}`);
    return v;
  };
  const int = (name: 'samples' | 'min_keep', header: string, min: number): number | null => {
    const raw = f[name] ?? (req.headers[header] === undefined ? undefined : Number(req.headers[header]));
    if (raw === undefined) return null;
    if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > 100_000) throw new TypeError(`Expected failmode ${name} (or ${header}) to be an integer ≥ ${min}, got ${JSON.stringify(f[name] ?? req.headers[header])}`);
    return raw;
  };
  const samples = int('samples', 'x-failmode-samples', 1);
  const minKeep = int('min_keep', 'x-failmode-min-keep', 0);
  const question = str('question', MAX_ID_LENGTH);
  if (samples !== null && question === null) throw new TypeError('failmode samples (x-failmode-samples) needs a question id (x-failmode-question): the guard counts stops per question');
  return {
    earlyStop, run: str('run', MAX_ID_LENGTH) ?? 'default', question, reference: str('reference', 10_000),
    keep: samples === null ? null : { samples, minKeep: minKeep ?? 1 },
  };
}
