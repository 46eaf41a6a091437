/**
 * A loaded results table: columns by name, numeric ones as Float64Array (NaN = missing / non-numeric),
 * text ones as strings. Loaders (CSV / XLSX / JSONL) build it; the analysis only reads it.
 */
export class Frame {
  readonly nRows: number;
  readonly columnNames: readonly string[];
  private readonly numericCols = new Map<string, Float64Array>();
  private readonly textCols = new Map<string, readonly (string | null)[]>();
  /** Where the data came from (file path), for messages. */
  readonly source: string;

  constructor(source: string, columnNames: readonly string[], nRows: number, raw: (name: string) => readonly unknown[]) {
    this.source = source;
    this.columnNames = columnNames;
    this.nRows = nRows;
    for (const name of columnNames) this.textCols.set(name, raw(name).map(cellText));
  }

  has(name: string): boolean {
    return this.textCols.has(name);
  }

  /** The column as numbers: empty cells, `nan`, and anything that does not parse as a number become NaN. Cached. */
  numeric(name: string): Float64Array | undefined {
    const cached = this.numericCols.get(name);
    if (cached) return cached;
    const text = this.textCols.get(name);
    if (!text) return undefined;
    const out = new Float64Array(this.nRows);
    for (let i = 0; i < this.nRows; i++) out[i] = parseNumberCell(text[i]!);
    this.numericCols.set(name, out);
    return out;
  }

  /** The column as text (null for empty cells). */
  text(name: string): readonly (string | null)[] | undefined {
    return this.textCols.get(name);
  }

  /** A new frame with the given rows (in the given order). */
  selectRows(rows: ArrayLike<number>): Frame {
    const idx = Array.from(rows);
    return new Frame(this.source, this.columnNames, idx.length, (name) => {
      const col = this.textCols.get(name)!;
      return idx.map((i) => col[i]);
    });
  }

  /** A new frame where column `target` holds the values of column `from` (used by the prefinal remapping). */
  withColumns(assignments: ReadonlyArray<readonly [target: string, from: string]>): Frame {
    const map = new Map(assignments.map(([t, f]) => [t, f] as const));
    const names = [...this.columnNames];
    for (const [t] of assignments) if (!names.includes(t)) names.push(t);
    return new Frame(this.source, names, this.nRows, (name) => this.textCols.get(map.get(name) ?? name)!);
  }
}

function cellText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v === '' ? null : v;
  if (typeof v === 'number') return Number.isNaN(v) ? null : String(v);
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

/** Parses a cell as a number the way pandas would for a numeric column: `True`/`False` → 1/0, `nan`/empty/junk → NaN. */
export function parseNumberCell(text: string | null): number {
  if (text === null) return NaN;
  const t = text.trim();
  if (t === '') return NaN;
  const n = Number(t);
  if (Number.isFinite(n)) return n;
  const lower = t.toLowerCase();
  if (lower === 'true') return 1;
  if (lower === 'false') return 0;
  if (lower === 'inf' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  return NaN;
}
