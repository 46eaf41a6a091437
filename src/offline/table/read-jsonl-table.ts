import { Frame } from '../frame.ts';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from '../../input-limits.ts';
import { jsonLines } from '../../json-lines.ts';
import { FailmodeError } from '../../errors.ts';
import { readInputFile } from '../../read-input-file.ts';
import { completedRuns } from './sample-log.ts';

/** Line kinds of a sampler JSONL file that describe a question (merged into its samples), not a sample. */
const QUESTION_KINDS = new Set(['question', 'problem']);
/** Line kinds that are neither (run header, summary): ignored. */
const IGNORED_KINDS = new Set(['meta', 'header', 'run', 'summary', 'config', 'end']);

export interface JsonlTable {
  readonly frame: Frame;
  /** Remarks about the reading (skipped lines, merged question records, left-out lines of unfinished runs). */
  readonly notes: readonly string[];
}

/**
 * A JSONL recording as a table: one row per sample line (its nested feature record flattened, e.g. \`record: {...}\`),
 * per-question lines (\`"kind":"question"\`) filling in what their samples lack. A \`failmode sample\` log (sample lines
 * with a \`run_id\`) counts only each question's completed run ({@link completedRuns}): lines of killed runs stay in the
 * log by design and are left out here, with a note.
 */
export async function readJsonlTable(path: string, limits: InputLimits = DEFAULT_INPUT_LIMITS): Promise<JsonlTable> {
  const text = await readInputFile(path, { encoding: 'utf8', maxBytes: limits.maxBytes });
  return parseJsonlTable(text, path, limits);
}

/** Parses JSONL text into a Frame of sample rows, within the line-length and row limits. */
export function parseJsonlTable(text: string, source: string, limits: InputLimits = DEFAULT_INPUT_LIMITS): JsonlTable {
  const samples: Record<string, unknown>[] = [];
  const questions = new Map<string, Record<string, unknown>>();
  const badLines: number[] = [];
  let nonEmpty = 0;
  for (const l of jsonLines(text, { source, limits })) {
    nonEmpty++;
    const obj = l.ok ? l.value : null;
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      badLines.push(l.lineNo);
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
  if (samples.some((s) => s.kind === 'sample' && typeof s.run_id === 'string')) {
    // A failmode sample log: only each question's completed run counts (its question line, and the samples of its run).
    const runs = completedRuns(text).runs;
    const before = samples.length;
    const kept = samples.filter((s) => s.kind !== 'sample' || runs.get(String(s.question_id))?.question.run_id === s.run_id);
    samples.splice(0, samples.length, ...kept);
    questions.clear();
    for (const [id, run] of runs) questions.set(id, flatten(run.question as unknown as Record<string, unknown>));
    if (kept.length < before) notes.push(`${before - kept.length} sample line(s) of runs that did not complete their question left out (killed or resumed runs: only each question's completed run counts)`);
    if (samples.length === 0) throw new FailmodeError(`${source} has no completed question: every sample line belongs to a run that was stopped before its question line`);
    // A stopped sample's label would be the stop's own decision (logs before this change wrote 0): unlabelled here.
    let stoppedLabelled = 0;
    for (const s of samples) {
      if (s.kind !== 'sample' || s.stopped !== true) continue;
      if (s.correct !== null && s.correct !== undefined) stoppedLabelled++;
      s.correct = null;
    }
    if (stoppedLabelled > 0) notes.push(`${stoppedLabelled} stopped sample(s) read as unlabelled: a stop ended them, so their \`correct\` is not an observed outcome (a model trained on it would learn its own stops; train on a --shadow log)`);
  }
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
