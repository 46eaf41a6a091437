/**
 * A URL for display (errors, logs, HTTP answers): a password in it is replaced by `***` (the user name stays, so the
 * reader knows which account). Text that does not parse as a URL gets the same treatment by pattern, so even a
 * malformed `http://user:secret@host` is never echoed.
 */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password === '') return raw;
    u.password = '***';
    return u.toString();
  } catch {
    return raw.replace(/(\/\/[^/@\s:]*:)[^/@\s]*@/g, '$1***@');
  }
}
