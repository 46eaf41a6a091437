/**
 * NATS subjects of the feed bus. Run, sample and instance ids are free text (≤ 200 characters) and a subject token
 * may not hold `.`, `*`, `>` or white space, so each id is escaped into one token: `[A-Za-z0-9_-]` stay, every other
 * UTF-8 byte becomes `~` and two hex digits (`fm-1a:0` → `fm-1a~3a0`). The escape is injective, so two ids never
 * share a subject.
 */

/**
 * Every feed message of a sample: `failmode.v1.run.<run>.<sample>.<type>` (type = the message's `type`, so a
 * gateway tells ticks from the rest without parsing); a gateway subscribes to `failmode.v1.run.>`, a client of one
 * run to `failmode.v1.run.<run>.>`.
 */
export const RUN_PREFIX = 'failmode.v1.run';
/** Stop requests for one sample (request / reply; only its owner subscribes). */
export const STOP_PREFIX = 'failmode.v1.stop';
/** Instance heartbeats: `failmode.v1.instance.<id>`, payload {@link InstanceHeartbeat}. */
export const INSTANCE_PREFIX = 'failmode.v1.instance';
/** Messages of a run that belong to no sample (a question's `vote`, a run-wide `warning`); `~` alone is never an escaped id. */
export const RUN_WIDE_TOKEN = '~';

const SAFE = /^[A-Za-z0-9_-]+$/;

/** One subject token for an id (see the module comment). */
export function subjectToken(id: string): string {
  if (SAFE.test(id)) return id;
  let out = '';
  for (const byte of Buffer.from(id, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += (byte < 0x80 && /[A-Za-z0-9_-]/.test(c)) ? c : `~${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** Subject of a feed message of type `type` about `sampleId` of `run` (`sampleId` null → the run-wide token). */
export function runSubject(run: string, sampleId: string | null, type: string): string {
  return `${RUN_PREFIX}.${subjectToken(run)}.${sampleId === null ? RUN_WIDE_TOKEN : subjectToken(sampleId)}.${type}`;
}

/** The id a subject token stands for (inverse of {@link subjectToken}). */
export function fromSubjectToken(token: string): string {
  if (!token.includes('~')) return token;
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '~') {
      bytes.push(parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(token.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Run, sample (null: run-wide) and message type of a run subject; null for any other subject. */
export function parseRunSubject(subject: string): { run: string; sampleId: string | null; type: string } | null {
  const parts = subject.split('.');
  if (parts.length !== 6 || `${parts[0]}.${parts[1]}.${parts[2]}` !== RUN_PREFIX) return null;
  return { run: fromSubjectToken(parts[3]!), sampleId: parts[4] === RUN_WIDE_TOKEN ? null : fromSubjectToken(parts[4]!), type: parts[5]! };
}

export function stopSubject(sampleId: string): string {
  return `${STOP_PREFIX}.${subjectToken(sampleId)}`;
}

export function instanceSubject(instance: string): string {
  return `${INSTANCE_PREFIX}.${subjectToken(instance)}`;
}

/** What an instance says every heartbeat: it is alive, and which samples it is running. */
export interface InstanceHeartbeat {
  readonly instance: string;
  /** Heartbeat period (ms): a listener declares the instance dead after a few missed ones. */
  readonly everyMs: number;
  /** Live samples: [sampleId, run, question, tokens]. */
  readonly samples: ReadonlyArray<readonly [string, string, string, number]>;
  /** True on the last heartbeat of an orderly shutdown (its samples were ended by the instance itself). */
  readonly leaving?: boolean;
}
