/**
 * Header cells → column names as pandas names them: an empty header is `Unnamed: {i}`, and a repeated name gets
 * `.1`, `.2`, … (pandas' duplicate mangling), so every column stays addressable.
 */
export function tableColumnNames(header: readonly unknown[]): string[] {
  const seen = new Map<string, number>();
  const taken = new Set<string>();
  return header.map((cell, i) => {
    const text = cell === null || cell === undefined ? '' : String(cell);
    let name = text.trim() === '' ? `Unnamed: ${i}` : text;
    if (taken.has(name)) {
      let k = seen.get(name) ?? 1;
      while (taken.has(`${name}.${k}`)) k++;
      seen.set(name, k + 1);
      name = `${name}.${k}`;
    }
    taken.add(name);
    return name;
  });
}
