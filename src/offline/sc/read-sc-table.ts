import { loadTable } from '../load-table.ts';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from '../../input-limits.ts';
import { parseJsonlTable, readJsonlTable, type JsonlTable } from '../table/read-jsonl-table.ts';

export type ScTable = JsonlTable;
/** The JSONL reader (src/offline/table/read-jsonl-table.ts), under the name the SC tests know. */
export const parseScJsonl = parseJsonlTable;

/**
 * Loads a multi-completion results file: CSV/XLSX through the shared loader, or a JSONL recording (a \`failmode sample\`
 * log counts only each question's completed run; src/offline/table/read-jsonl-table.ts).
 */
export async function readScTable(path: string, limits: InputLimits = DEFAULT_INPUT_LIMITS): Promise<ScTable> {
  if (path.toLowerCase().endsWith('.jsonl')) return readJsonlTable(path, limits);
  return { frame: await loadTable(path, { requireColumns: [], limits }), notes: [] };
}
