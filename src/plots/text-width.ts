/**
 * Approximate advance width of DejaVu Serif text (em fractions by character class): sizes the legend box, spaces tick
 * labels, and replaces vega's headless guess (0.8 em per character, far wider than DejaVu Serif) so a figure's
 * margins and title fit its content.
 */
export function estimateTextWidth(text: string, fontSize: number): number {
  let em = 0;
  for (const ch of text) {
    if (/[0-9]/.test(ch)) em += 0.636;
    else if (/[il.,:;'|!()[\]\s]/.test(ch)) em += 0.33;
    else if (/[-]/.test(ch)) em += 0.34;
    else if (/[mwMW%]/.test(ch)) em += 0.92;
    else if (/[A-Z]/.test(ch)) em += 0.72;
    else em += 0.57;
  }
  return em * fontSize;
}

