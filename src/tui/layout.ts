/**
 * Where panels go for a terminal size: one column of panels at 80 columns, a grid on wider terminals, panel height
 * between PANEL_MIN_ROWS and PANEL_MAX_ROWS (taller panels show more text), scrolling when not all samples fit.
 * The whole view is one row shorter than the terminal so Ink redraws in place instead of clearing the screen.
 */

export const HEADER_ROWS = 2;
export const FOOTER_ROWS = 3;
/** Narrowest panel; the grid uses as many columns of this width as fit. */
export const PANEL_MIN_WIDTH = 48;
export const PANEL_MIN_ROWS = 5;
export const PANEL_MAX_ROWS = 8;

export interface WatchLayout {
  /** Rows of the whole view (terminal rows − 1). */
  readonly height: number;
  readonly width: number;
  /** Rows available between header and footer. */
  readonly areaRows: number;
  readonly gridColumns: number;
  readonly panelWidth: number;
  readonly panelRows: number;
  /** Panel rows visible at once. */
  readonly visibleRows: number;
  /** Total panel rows for all samples. */
  readonly totalRows: number;
}

export function computeLayout({ columns, rows, samples }: { columns: number; rows: number; samples: number }): WatchLayout {
  const width = Math.max(20, columns);
  const height = Math.max(HEADER_ROWS + FOOTER_ROWS + 1, rows - 1);
  const areaRows = height - HEADER_ROWS - FOOTER_ROWS;
  const gridColumns = Math.max(1, Math.min(Math.floor(width / PANEL_MIN_WIDTH), Math.max(1, samples)));
  const panelWidth = Math.floor(width / gridColumns);
  const totalRows = Math.max(1, Math.ceil(samples / gridColumns));
  let visibleRows = totalRows;
  if (Math.floor(areaRows / totalRows) < PANEL_MIN_ROWS) visibleRows = Math.max(1, Math.floor(areaRows / PANEL_MIN_ROWS));
  const panelRows = Math.max(1, Math.min(PANEL_MAX_ROWS, Math.floor(areaRows / visibleRows)));
  return { height, width, areaRows, gridColumns, panelWidth, panelRows, visibleRows, totalRows };
}

/** First visible panel row after moving the selection: scrolls only as far as needed to keep it in view. */
export function scrollTo(firstRow: number, selectedRow: number, visibleRows: number, totalRows: number): number {
  let first = Math.min(firstRow, Math.max(0, totalRows - visibleRows));
  if (selectedRow < first) first = selectedRow;
  if (selectedRow >= first + visibleRows) first = selectedRow - visibleRows + 1;
  return Math.max(0, first);
}
