/**
 * Makes model output safe to put on a terminal: newlines and tabs become visible marks or spaces, and every other
 * control character (C0, DEL, C1 — which includes ESC, so no escape sequence from a stream can move the cursor or
 * recolour the screen) is dropped.
 */
export function sanitizeText(text: string): string {
  // Fast path: almost every token has no control character at all.
  // eslint-disable-next-line no-control-regex
  if (!/[\u0000-\u001f\u007f-\u009f]/.test(text)) return text;
  // eslint-disable-next-line no-control-regex
  return text.replace(/\r\n|\n|\r/g, ' ⏎ ').replace(/\t/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
}
