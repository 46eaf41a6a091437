/**
 * Writers for sample records (the `final` events' `record`): CSV and JSONL that `failmode analyze` / `train` read
 * unchanged. NaN and missing values are empty CSV cells and JSON nulls (the loaders read both as NaN).
 * CSV header = the union of the records' columns in a stable order: metadata (RECORD_METADATA_COLUMNS), other
 * non-signal columns in first-seen order, then the signal blocks in the paper's file order (full block, then
 * `_prefinal`), then anything else.
 */
import { signalBlockColumns } from '../features/columns.ts';
import type { FeatureRecord } from './monitor-events.ts';
import { RECORD_METADATA_COLUMNS } from './sample-features.ts';

const WINDOW_COL = /_w(\d+)$/;

/** The column order for a set of records. */
export function recordColumns(records: readonly FeatureRecord[]): string[] {
  const seen = new Set<string>();
  const firstSeen: string[] = [];
  const windows = new Set<number>();
  for (const r of records) {
    for (const k of Object.keys(r)) {
      if (seen.has(k)) continue;
      seen.add(k);
      firstSeen.push(k);
      const m = WINDOW_COL.exec(k);
      if (m) windows.add(Number(m[1]));
    }
  }
  const ws = [...windows].sort((a, b) => a - b);
  const signal = [...signalBlockColumns(ws, ''), ...signalBlockColumns(ws, '_prefinal')];
  const signalSet = new Set(signal);
  const meta = new Set<string>(RECORD_METADATA_COLUMNS);
  const out: string[] = [];
  for (const c of RECORD_METADATA_COLUMNS) if (seen.has(c)) out.push(c);
  for (const c of firstSeen) if (!meta.has(c) && !signalSet.has(c) && !WINDOW_COL.test(c) && !isSignalLike(c)) out.push(c);
  for (const c of signal) if (seen.has(c)) out.push(c);
  const placed = new Set(out);
  for (const c of firstSeen) if (!placed.has(c)) out.push(c);
  return out;
}

function isSignalLike(c: string): boolean {
  return /^(entropy|margin|nll|fork|nucleus_size|near_tie|full_len|window_len)/.test(c);
}

/** One CSV document (header + one line per record, `\n` line ends). */
export function recordsToCsv(records: readonly FeatureRecord[], columns: readonly string[] = recordColumns(records)): string {
  const lines = [columns.map(csvCell).join(',')];
  for (const r of records) lines.push(columns.map((c) => csvCell(r[c])).join(','));
  return `${lines.join('\n')}\n`;
}

/** One JSON line (no trailing newline); NaN / ±Infinity become null. */
export function recordToJsonl(record: FeatureRecord): string {
  return JSON.stringify(record, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? '' : v > 0 ? 'inf' : '-inf';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
