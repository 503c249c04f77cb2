/**
 * A source tree's relative import graph, read with the TypeScript scanner (the one tsc uses):
 * static imports and re-exports, type-only ones included, `import()` and `require()` of a
 * literal path. For the structure tests (layers that only look down, no circles).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';

/** Every .ts source under `dir` (declaration files left out), sorted. */
export function sources(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return sources(path);
      return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
    });
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Relative imports of one file, resolved to source files (`./x` -> x.ts or x/index.ts). */
export function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => {
      const base = resolve(dirname(file), name);
      const found = [`${base}.ts`, join(base, 'index.ts')].find(isFile);
      if (!found) throw new Error(`${file} imports ${name}, which does not resolve`);
      return found;
    });
}

/** File -> the files it imports. */
export function graphOf(files: readonly string[]): Map<string, string[]> {
  return new Map(files.map((f) => [f, importsOf(f)]));
}

/**
 * Strongly connected components with more than one node, or a node importing itself (Tarjan),
 * each sorted, named relative to `root` when one is given.
 */
export function circles(graph: ReadonlyMap<string, readonly string[]>, root?: string): string[][] {
  const name = (v: string) => (root === undefined ? v : relative(root, v));
  let index = 0;
  const stack: string[] = [];
  const on = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) {
        low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        component.push(name(w));
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}
