import { usageError } from '../errors.ts';
import type { ModelFile } from '../models/model-file.ts';
import { PROFILE_NAMES, type Profile } from '../online/profiles.ts';
import { redactUrl } from '../stream/redact-url.ts';
import { STREAM_APIS, type StreamApi } from '../stream/stream-request.ts';
import { choiceOption, numberOption } from './args.ts';

/**
 * The endpoint options shared by `watch`, `sample` and `serve`, declared and checked once. Spread the specs a command
 * takes into its parseArgs options; read them with the functions below. Help lines are in {@link ENDPOINT_HELP}.
 */
export const ENDPOINT_OPTIONS = {
  'base-url': { type: 'string' },
  model: { type: 'string' },
  'api-key-env': { type: 'string' },
  api: { type: 'string' },
  'max-tokens': { type: 'string' },
  temperature: { type: 'string' },
} as const;

/** The model-file options: the failure model and the task profile. */
export const MODEL_OPTIONS = {
  'model-file': { type: 'string' },
  profile: { type: 'string' },
} as const;

/** The abort check of `sample` and `serve` (see src/stream/engine-abort-check.ts). */
export const ABORT_OPTIONS = {
  'abort-grace': { type: 'string' },
} as const;

/** One help line per shared flag, for the commands that take it. */
export const ABORT_HELP = '  --abort-grace S        after stopping a sample, check on the engine\'s /metrics that it stopped; still running after\n'
  + '                         S seconds → abort_unconfirmed, and SGLang\'s POST /abort_request {"rid"} is sent (default: no check)';

/** `--abort-grace S` in ms (0 < S ≤ 600), or null without the flag. */
export function readAbortGrace(v: { readonly 'abort-grace'?: string | undefined }): number | null {
  const s = numberOption('abort-grace', v['abort-grace'], { min: 0.001, max: 600 });
  return s === undefined ? null : Math.round(s * 1000);
}

/** The flags' values as parseArgs returns them. */
export interface EndpointFlagValues {
  readonly 'base-url'?: string | undefined;
  readonly model?: string | undefined;
  readonly 'api-key-env'?: string | undefined;
  readonly api?: string | undefined;
  readonly 'max-tokens'?: string | undefined;
  readonly temperature?: string | undefined;
  readonly 'model-file'?: string | undefined;
  readonly profile?: string | undefined;
}

/** One help line per shared flag, aligned for a 24-column option field. */
export const ENDPOINT_HELP = {
  api: '  --api API               chat (default, /chat/completions) | completions (/completions) | responses (/responses)',
} as const;

/** A checked endpoint: where, which model, the key (never printed) and the API. */
export interface Endpoint {
  readonly baseURL: string;
  readonly model: string;
  readonly apiKey: string | null;
  readonly api: StreamApi;
}

/**
 * `--base-url` (else `OPENAI_BASE_URL`), `--model`, the key from `--api-key-env` (else `OPENAI_API_KEY`) and `--api`.
 * Throws a usage error (exit 2) naming the flag. The URL must be http(s); one with a password in it is shown
 * redacted in every message.
 */
export function readEndpoint(v: EndpointFlagValues, env: NodeJS.ProcessEnv = process.env): Endpoint {
  const raw = v['base-url'] ?? (env.OPENAI_BASE_URL || undefined);
  if (raw === undefined) throw usageError('Expected --base-url URL (or OPENAI_BASE_URL), e.g. http://127.0.0.1:8000/v1');
  let ok = false;
  try {
    const u = new URL(raw);
    ok = u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    // reported below
  }
  const from = v['base-url'] !== undefined ? '--base-url' : 'OPENAI_BASE_URL';
  if (!ok) throw usageError(`Expected ${from} to be an http(s) URL like http://127.0.0.1:8000/v1, got \`${redactUrl(raw)}\``);
  if (!v.model) throw usageError('Expected --model M: the model name sent with the requests');
  return { baseURL: raw, model: v.model, apiKey: readApiKey(v, env), api: readApi(v) };
}

/** The API key: `--api-key-env NAME` must name a set variable; without the flag `OPENAI_API_KEY` if set, else null. */
export function readApiKey(v: EndpointFlagValues, env: NodeJS.ProcessEnv = process.env): string | null {
  const name = v['api-key-env'];
  if (name === undefined) return env.OPENAI_API_KEY || null;
  const key = env[name];
  if (!key) throw usageError(`Environment variable ${name} (--api-key-env) is not set`);
  return key;
}

export function readApi(v: EndpointFlagValues): StreamApi {
  return choiceOption('api', v.api, STREAM_APIS) ?? 'chat';
}

/** `--max-tokens` (an integer ≥ 1) and `--temperature` (0…2). */
export function readGeneration(v: EndpointFlagValues): { maxTokens: number | undefined; temperature: number | undefined } {
  return {
    maxTokens: numberOption('max-tokens', v['max-tokens'], { integer: true, min: 1 }),
    temperature: numberOption('temperature', v.temperature, { min: 0, max: 2 }),
  };
}

export function readProfile(v: EndpointFlagValues): Profile | undefined {
  return choiceOption<Profile>('profile', v.profile, PROFILE_NAMES);
}

/**
 * Loads `--model-file` (a missing or invalid file is a FailmodeError naming it); null without the flag. A model trained
 * with `train --force` on data below the support rule gets one warning line on stderr.
 */
export async function readModelFile(v: EndpointFlagValues, warn: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<ModelFile | null> {
  if (v['model-file'] === undefined) return null;
  const { loadModelFile } = await import('../models/model-io.ts');
  const model = await loadModelFile(v['model-file']);
  const thin = model.training.insufficient;
  if (thin) warn(`warning: ${v['model-file']} was trained with --force on insufficient data (${thin.reason}); its risks and stop rule rest on thin data`);
  return model;
}


/** The bearer-token options of `serve` and `feed`. */
export const TOKEN_OPTIONS = {
  token: { type: 'string' },
  'token-env': { type: 'string' },
} as const;

/** `--token` or `--token-env` (never both; at least 8 characters); null without either. */
export function readToken(v: { readonly token?: string | undefined; readonly 'token-env'?: string | undefined }, env: NodeJS.ProcessEnv = process.env): string | null {
  if (v.token !== undefined && v['token-env'] !== undefined) throw usageError('Give the token once: --token or --token-env, not both');
  let token: string | null = v.token ?? null;
  if (v['token-env'] !== undefined) {
    token = env[v['token-env']] ?? null;
    if (!token) throw usageError(`Expected the environment variable ${v['token-env']} (--token-env) to hold the token, but it is empty or unset`);
  }
  if (token !== null && token.length < 8) throw usageError('Expected the token to have at least 8 characters');
  return token;
}
