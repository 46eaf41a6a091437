/** Number formatting shared by the TUI components (one place, so every panel reads the same). */

/** `0.82`, or `–` for a missing value. */
export function formatRisk(risk: number | null | undefined): string {
  return typeof risk === 'number' && Number.isFinite(risk) ? risk.toFixed(2) : '–';
}

/** A feature value in at most 5 characters: `0.843`, `12.4`, `161`, `–` when missing. */
export function formatFeature(value: unknown): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '–';
  const a = Math.abs(value);
  if (a >= 1000) return value.toExponential(0);
  if (a >= 100) return value.toFixed(0);
  if (a >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** `12,345` */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** `4.2 s`, `3 m 05 s` */
export function formatElapsed(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '0.0 s';
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} m ${String(Math.floor(s - m * 60)).padStart(2, '0')} s`;
}

/** Pads or cuts `text` to exactly `width` columns (one column per code point; model text is sanitised first). */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  const chars = Array.from(text);
  if (chars.length > width) return width === 1 ? '…' : `${chars.slice(0, width - 1).join('')}…`;
  return text + ' '.repeat(width - chars.length);
}

/** The last `width` columns of `text`, with a leading `…` when cut. */
export function tailOf(text: string, width: number): string {
  if (width <= 0) return '';
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  return `…${chars.slice(chars.length - width + 1).join('')}`;
}
