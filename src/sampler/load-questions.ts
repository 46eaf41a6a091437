import { FailmodeError } from '../errors.ts';
import { jsonLines } from '../json-lines.ts';
import { readInputFile } from '../read-input-file.ts';

/** One question of a self-consistency run. */
export interface Question {
  readonly id: string;
  readonly prompt: string;
  /** Reference answer (enables accuracy), null when unknown. */
  readonly answer: string | null;
}

/**
 * Reads a JSONL dataset: one object per line, `{"id": …, "prompt": …, "answer": …}` (`answer` optional; `id` a
 * string or number, else the line number). Blank lines are skipped. Every problem is a FailmodeError naming the
 * file and line; ids must be unique.
 */
export async function loadQuestions(path: string): Promise<Question[]> {
  const text = await readInputFile(path, { encoding: 'utf8' });
  return parseQuestions(text, path);
}

export function parseQuestions(text: string, source: string): Question[] {
  const out: Question[] = [];
  const seen = new Map<string, number>();
  for (const l of jsonLines(text)) {
    const where = `${source} line ${l.lineNo}`;
    if (!l.ok) throw new FailmodeError(`${where}: expected a JSON object like {"id": "q1", "prompt": "…", "answer": "…"}, got unparsable text (${l.error.message})`);
    const raw = l.value;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new FailmodeError(`${where}: expected a JSON object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
    const r = raw as Record<string, unknown>;
    if (typeof r.prompt !== 'string' || r.prompt.trim() === '') throw new FailmodeError(`${where}: expected \`prompt\` to be a non-empty string, got ${JSON.stringify(r.prompt)?.slice(0, 60)}`);
    const idRaw = r.id ?? l.lineNo;
    if (typeof idRaw !== 'string' && typeof idRaw !== 'number') throw new FailmodeError(`${where}: expected \`id\` to be a string or a number, got ${JSON.stringify(idRaw).slice(0, 60)}`);
    const id = String(idRaw);
    if (seen.has(id)) throw new FailmodeError(`${where}: id \`${id}\` repeats line ${seen.get(id)}; ids must be unique (resuming relies on them)`);
    seen.set(id, l.lineNo);
    const a = r.answer;
    if (a !== undefined && a !== null && typeof a !== 'string' && typeof a !== 'number') throw new FailmodeError(`${where}: expected \`answer\` to be a string or a number, got ${JSON.stringify(a).slice(0, 60)}`);
    out.push({ id, prompt: r.prompt, answer: a === undefined || a === null ? null : String(a) });
  }
  if (out.length === 0) throw new FailmodeError(`${source} has no questions (expected JSONL lines like {"id": "q1", "prompt": "…", "answer": "…"})`);
  return out;
}
