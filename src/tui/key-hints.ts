/** One key the footer names, e.g. `{ text: 'q quit', rank: 0 }`; a lower rank is dropped later on a narrow terminal. */
export interface KeyHint {
  readonly text: string;
  /** 0 is never dropped (quit); higher ranks go first when the line is too narrow. */
  readonly rank: number;
}

/** The keys of the sample grid and of the detail view, in display order; quit last and kept always. */
export const GRID_KEYS: readonly KeyHint[] = [
  { text: '←→↑↓ select', rank: 1 }, { text: '⏎ details', rank: 2 }, { text: 's stop', rank: 3 },
  { text: 'e H/NLL', rank: 5 }, { text: 'p pause', rank: 4 }, { text: 'q quit', rank: 0 },
];
export const DETAIL_KEYS: readonly KeyHint[] = [
  { text: 'Esc/⏎ back', rank: 1 }, { text: 's stop', rank: 3 }, { text: 'e H/NLL', rank: 5 }, { text: 'p pause', rank: 4 }, { text: 'q quit', rank: 0 },
];

const SEP = '  ';
const width = (s: string): number => Array.from(s).length;

/**
 * The status prefix and the keys that fit in `columns`: keys are dropped highest rank first until the line fits, so
 * "q quit" stays visible on any terminal; when even the status and quit do not fit, the status is cut with "…".
 */
export function fitKeyHints(status: string, keys: readonly KeyHint[], columns: number): { status: string; keys: string } {
  const kept = [...keys];
  const line = () => kept.map((k) => k.text).join(SEP);
  while (width(status) + width(line()) > columns) {
    let drop = -1;
    for (let i = 0; i < kept.length; i++) if (kept[i]!.rank > 0 && (drop < 0 || kept[i]!.rank > kept[drop]!.rank)) drop = i;
    if (drop < 0) break;
    kept.splice(drop, 1);
  }
  const keysText = line();
  const room = columns - width(keysText);
  if (width(status) <= room) return { status, keys: keysText };
  const chars = Array.from(status);
  return { status: room > 1 ? `${chars.slice(0, room - 1).join('')}…` : '', keys: keysText };
}
