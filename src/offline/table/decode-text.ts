/**
 * Decodes a CSV file's bytes the way the paper's loader ends up doing (SPEC §3.2: utf-8, then latin-1, … — the first
 * that decodes): valid UTF-8 (with or without a BOM, which is dropped) is read as UTF-8, anything else as Latin-1,
 * which accepts every byte.
 */
export function decodeTableText(bytes: Uint8Array): { text: string; encoding: 'utf-8' | 'latin-1' } {
  const hasBom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const body = hasBom ? bytes.subarray(3) : bytes;
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(body), encoding: 'utf-8' };
  } catch {
    // Buffer's 'latin1' is true ISO-8859-1 (TextDecoder('latin1') would be windows-1252).
    return { text: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1'), encoding: 'latin-1' };
  }
}
