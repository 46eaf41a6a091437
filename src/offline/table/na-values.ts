/** pandas' default `na_values` (read_csv / read_excel): cells with exactly this text are missing values. */
export const PANDAS_NA_VALUES: ReadonlySet<string> = new Set([
  '', '#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND', '1.#QNAN',
  '<NA>', 'N/A', 'NA', 'NULL', 'NaN', 'None', 'n/a', 'nan', 'null',
]);

/** True when a cell is missing the way pandas reads it (empty, or one of its NA strings). */
export function isMissingCell(text: string | null | undefined): boolean {
  return text === null || text === undefined || PANDAS_NA_VALUES.has(text);
}
