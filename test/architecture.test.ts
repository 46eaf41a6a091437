import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import ts from 'typescript';

// The layer order is read from docs/architecture.md, so the page and this test cannot drift apart.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** How the doc names the files directly in src/ (the base layer). */
const BASE = 'src/*.ts';

interface FolderImport {
  /** The importing file and line, relative to the repository (`src/feed/live-sample.ts:3`). */
  readonly where: string;
  /** The imported file, relative to the repository. */
  readonly target: string;
  readonly fromFolder: string;
  readonly toFolder: string;
}

/** The numbered list under `## Layer order`: folder → layer number (peers share a number). */
function readLayers(doc: string): Map<string, number> {
  const start = doc.indexOf('\n## Layer order');
  assert.ok(start >= 0, 'docs/architecture.md has no "## Layer order" section');
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end < 0 ? undefined : end);
  const layers = new Map<string, number>();
  for (const line of section.split('\n')) {
    const m = /^(\d+)\.\s+(.*?)\s+—/.exec(line);
    if (!m) continue;
    const names = [...m[2]!.matchAll(/`([^`]+)`/g)].map((x) => x[1]!);
    assert.ok(names.length > 0, `docs/architecture.md: layer line without a folder in backticks: ${line}`);
    for (const name of names) {
      assert.ok(!layers.has(name), `docs/architecture.md: ${name} is listed twice`);
      layers.set(name, Number(m[1]));
    }
  }
  return layers;
}

/** The top-level folder of a path inside src/ (`src/feed/x.ts` → `feed`), BASE for files directly in src/. */
function folderOf(path: string): string {
  const parts = path.split('/');
  return parts.length === 2 ? BASE : parts[1]!;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = posix.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|tsx|mts)$/.test(e.name)) out.push(path);
  }
  return out;
}

/** Every import (static, type-only, re-export, dynamic) between two top-level folders of src/. */
function folderImports(): FolderImport[] {
  const out: FolderImport[] = [];
  for (const file of sourceFiles('src')) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const { importedFiles } = ts.preProcessFile(text, true, true);
    for (const ref of importedFiles) {
      if (!ref.fileName.startsWith('.')) continue; // a package
      const target = posix.normalize(posix.join(posix.dirname(file), ref.fileName));
      if (!target.startsWith('src/')) continue;
      const fromFolder = folderOf(file);
      const toFolder = folderOf(target);
      if (fromFolder === toFolder) continue;
      const line = text.slice(0, ref.pos).split('\n').length;
      out.push({ where: `${file}:${line}`, target, fromFolder, toFolder });
    }
  }
  return out;
}

/** Imports that point to the same or a higher layer, or involve a folder the doc does not place. */
function layerViolations(imports: readonly FolderImport[], layers: ReadonlyMap<string, number>): string[] {
  const out: string[] = [];
  for (const im of imports) {
    const from = layers.get(im.fromFolder);
    const to = layers.get(im.toFolder);
    if (from === undefined || to === undefined) {
      out.push(`${im.where} → ${im.target}: ${from === undefined ? im.fromFolder : im.toFolder} has no layer in docs/architecture.md`);
    } else if (to >= from) {
      out.push(`${im.where} → ${im.target}: ${im.fromFolder} (layer ${from}) may not import ${im.toFolder} (layer ${to}${to === from ? ', a peer' : ''})`);
    }
  }
  return out;
}

/** Cycles between folders (strongly connected components of the folder graph), each with the imports that make it. */
function folderCycles(imports: readonly FolderImport[]): string[] {
  const edges = new Map<string, Map<string, FolderImport>>();
  for (const im of imports) {
    let m = edges.get(im.fromFolder);
    if (!m) edges.set(im.fromFolder, (m = new Map()));
    if (!m.has(im.toFolder)) m.set(im.toFolder, im);
    if (!edges.has(im.toFolder)) edges.set(im.toFolder, new Map());
  }
  // Tarjan's algorithm.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)!.keys()) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) components.push(c.sort());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return components.map((c) => {
    const inside = c.flatMap((a) => [...edges.get(a)!].filter(([b]) => c.includes(b)).map(([b, im]) => `  ${a} → ${b}: ${im.where} → ${im.target}`));
    return `cycle between ${c.join(', ')}:\n${inside.join('\n')}`;
  });
}

describe('architecture: imports between top-level folders of src/ follow docs/architecture.md', () => {
  const layers = readLayers(readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8'));
  const imports = folderImports();

  it('the checks catch an upward import, a peer import and a cycle (synthetic imports)', () => {
    const im = (where: string, fromFolder: string, toFolder: string): FolderImport => ({ where, target: `src/${toFolder}/x.ts`, fromFolder, toFolder });
    const order = new Map([['low', 1], ['high', 2], ['peer', 2]]);
    assert.deepEqual(layerViolations([im('src/high/a.ts:1', 'high', 'low')], order), []);
    assert.deepEqual(layerViolations([im('src/low/a.ts:3', 'low', 'high')], order), ['src/low/a.ts:3 → src/high/x.ts: low (layer 1) may not import high (layer 2)']);
    assert.deepEqual(layerViolations([im('src/peer/a.ts:1', 'peer', 'high')], order), ['src/peer/a.ts:1 → src/high/x.ts: peer (layer 2) may not import high (layer 2, a peer)']);
    assert.match(layerViolations([im('src/new/a.ts:1', 'new', 'low')], order)[0]!, /new has no layer/);
    assert.deepEqual(folderCycles([im('src/a/1.ts:1', 'a', 'b'), im('src/b/1.ts:1', 'b', 'c'), im('src/c/1.ts:1', 'c', 'low')]), []);
    const cycles = folderCycles([im('src/a/1.ts:1', 'a', 'b'), im('src/b/1.ts:2', 'b', 'c'), im('src/c/1.ts:3', 'c', 'a'), im('src/c/1.ts:4', 'c', 'low')]);
    assert.equal(cycles.length, 1);
    assert.match(cycles[0]!, /^cycle between a, b, c:/);
    assert.match(cycles[0]!, /c → a: src\/c\/1\.ts:3 → src\/a\/x\.ts/);
  });

  it('the doc places every top-level folder of src/, and only folders that exist', () => {
    const folders = readdirSync(join(ROOT, 'src'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    const missing = folders.filter((f) => !layers.has(f));
    assert.deepEqual(missing, [], `folders of src/ without a line in docs/architecture.md's layer order: ${missing.join(', ')}`);
    const stale = [...layers.keys()].filter((f) => f !== BASE && !folders.includes(f));
    assert.deepEqual(stale, [], `docs/architecture.md lists folders that src/ does not have: ${stale.join(', ')}`);
    assert.ok(imports.length > 50, `expected to find the imports between folders, found ${imports.length}`);
  });

  it('every import between folders points to a lower layer', () => {
    const bad = layerViolations(imports, layers);
    assert.deepEqual(bad, [], `imports against the layer order of docs/architecture.md:\n${bad.join('\n')}`);
  });

  it('no import cycle between folders', () => {
    const cycles = folderCycles(imports);
    assert.deepEqual(cycles, [], cycles.join('\n'));
  });
});

