/** The extracted answer of a final record (`predicted_answer`, the paper's column; `answer` in older records). */
export function recordAnswer(record: Readonly<Record<string, unknown>>): string | null {
  const a = record.predicted_answer ?? record.answer;
  return typeof a === 'string' && a !== '' ? a : null;
}
