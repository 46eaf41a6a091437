import { Frame } from '../frame.ts';
import { DEFAULT_INPUT_LIMITS, overLimit, type InputLimits } from '../../input-limits.ts';
import { loadTable } from '../load-table.ts';
import { FailmodeError } from '../../errors.ts';
import { readInputFile } from '../../read-input-file.ts';

/** Line kinds of a sampler JSONL file that describe a question (merged into its samples), not a sample. */
const QUESTION_KINDS = new Set(['question', 'problem']);
/** Line kinds that are neither (run header, summary): ignored. */
const IGNORED_KINDS = new Set(['meta', 'header', 'run', 'summary', 'config', 'end']);

export interface ScTable {
  readonly frame: Frame;
  /** Remarks about the reading (skipped lines, merged question records). */
  readonly notes: readonly string[];
}

/**
 * Loads a multi-completion results file: CSV/XLSX through the shared loader, or a `failmode sample` JSONL
 * recording read as is — one line per sample (feature record + question_id, completion_idx, predicted_answer,
 * correct), per-question lines (`"kind":"question"`) whose fields fill in what their samples lack.
 */
export async function readScTable(path: string, limits: InputLimits = DEFAULT_INPUT_LIMITS): Promise<ScTable> {
  if (path.toLowerCase().endsWith('.jsonl')) return readJsonlTable(path, limits);
  return { frame: await loadTable(path, { requireColumns: [], limits }), notes: [] };
}

async function readJsonlTable(path: string, limits: InputLimits): Promise<ScTable> {
  const text = await readInputFile(path, { encoding: 'utf8', maxBytes: limits.maxBytes });
  return parseScJsonl(text, path, limits);
}

/** Parses JSONL text into a Frame of sample rows (exported for tests), within the line-length and row limits. */
export function parseScJsonl(text: string, source: string, limits: InputLimits = DEFAULT_INPUT_LIMITS): ScTable {
  const samples: Record<string, unknown>[] = [];
  const questions = new Map<string, Record<string, unknown>>();
  const badLines: number[] = [];
  const lines = text.split('\n');
  let nonEmpty = 0;
  for (let li = 0; li < lines.length; li++) {
    const line = lines[li]!.trim();
    if (line === '') continue;
    nonEmpty++;
    if (line.length > limits.maxLineBytes) throw overLimit(source, `line ${li + 1} is longer than the limit;`, 'maxLineBytes', limits.maxLineBytes);
    if (nonEmpty > limits.maxRows) throw overLimit(source, `more than ${limits.maxRows.toLocaleString('en-US')} lines:`, 'maxRows', limits.maxRows);
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      badLines.push(li + 1);
      continue;
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      badLines.push(li + 1);
      continue;
    }
    const rec = flatten(obj as Record<string, unknown>);
    const kind = typeof rec.kind === 'string' ? rec.kind.toLowerCase() : typeof rec.type === 'string' ? rec.type.toLowerCase() : null;
    if (kind !== null && IGNORED_KINDS.has(kind)) continue;
    if (kind !== null && QUESTION_KINDS.has(kind)) {
      const id = rec.question_id ?? rec.idx;
      if (id !== undefined && id !== null) questions.set(String(id), rec);
      continue;
    }
    samples.push(rec);
  }
  if (nonEmpty === 0) throw new FailmodeError(`${source} is empty; expected a JSONL recording with one sample per line`);
  if (samples.length === 0) {
    throw new FailmodeError(badLines.length === nonEmpty
      ? `${source} is not JSONL: no line parses as a JSON object (first bad line ${badLines[0]})`
      : `${source} has no sample lines (only question/header records)`);
  }
  const notes: string[] = [];
  if (badLines.length > 0) notes.push(`${badLines.length} unreadable JSONL line(s) skipped (line ${badLines.slice(0, 5).join(', ')}${badLines.length > 5 ? ', …' : ''})`);
  if (questions.size > 0) {
    let merged = 0;
    for (const s of samples) {
      const q = questions.get(String(s.question_id ?? s.idx));
      if (!q) continue;
      merged++;
      for (const [k, v] of Object.entries(q)) if (!(k in s) && k !== 'kind' && k !== 'type') s[k] = v;
    }
    notes.push(`${questions.size} question record(s) merged into ${merged} sample(s)`);
  }
  const names: string[] = [];
  const seen = new Set<string>();
  for (const s of samples) for (const k of Object.keys(s)) if (!seen.has(k)) { seen.add(k); names.push(k); }
  return { frame: new Frame(source, names, samples.length, (name) => samples.map((s) => s[name])), notes };
}

/** Copies the fields of nested plain objects (e.g. `features: {...}`) to the top level without overwriting. */
function flatten(rec: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rec)) if (!isPlainObject(v)) out[k] = Array.isArray(v) ? JSON.stringify(v) : v;
  for (const v of Object.values(rec)) {
    if (!isPlainObject(v)) continue;
    for (const [k2, v2] of Object.entries(v)) if (!(k2 in out) && !isPlainObject(v2)) out[k2] = Array.isArray(v2) ? JSON.stringify(v2) : v2;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
