import { isMissingCell } from '../table/na-values.ts';
import { parseNumberCell } from '../frame.ts';

/**
 * `pd.Categorical(column).codes`: categories are the distinct non-missing values sorted (numerically when every value
 * is a number, else as strings by code point), each row gets its category's index, missing cells get −1. The order
 * matters for reproduction: GroupKFold's tie-breaking and the cluster bootstrap's draws follow it.
 */
export function categoricalCodes(cells: readonly (string | null)[]): { codes: Int32Array; nCategories: number; nUnique: number } {
  const n = cells.length;
  const present: number[] = [];
  for (let i = 0; i < n; i++) if (!isMissingCell(cells[i])) present.push(i);
  const numeric = present.every((i) => Number.isFinite(parseNumberCell(cells[i]!)));
  const codes = new Int32Array(n).fill(-1);
  let nCategories: number;
  if (numeric) {
    const values = [...new Set(present.map((i) => parseNumberCell(cells[i]!)))].sort((a, b) => a - b);
    const index = new Map(values.map((v, k) => [v, k] as const));
    for (const i of present) codes[i] = index.get(parseNumberCell(cells[i]!))!;
    nCategories = values.length;
  } else {
    const values = [...new Set(present.map((i) => cells[i]!))].sort(compareCodePoints);
    const index = new Map(values.map((v, k) => [v, k] as const));
    for (const i of present) codes[i] = index.get(cells[i]!)!;
    nCategories = values.length;
  }
  // np.unique(codes) counts −1 as a cluster of its own.
  const nUnique = nCategories + (present.length < n ? 1 : 0);
  return { codes, nCategories, nUnique };
}

/** Python's str ordering (by code point; JS `<` compares UTF-16 units, which differs above U+FFFF). */
function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx - cy;
  }
}
