/**
 * Layers that only look down (STYLE.md): the protocol module is the floor the chaincode's rules
 * and contracts and the gateway stand on, so it imports nothing above it (no contracts/, rules/,
 * state/) and holds no import circle, type-only imports included. The import graph is read from
 * the sources with the TypeScript scanner, the same one tsc uses.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';

const SRC = resolve(__dirname, '../../../chaincode/src');
const PROTOCOL = join(SRC, 'protocol');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Relative imports of one file, resolved to source files (`./x` -> x.ts or x/index.ts). */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => {
      const base = resolve(dirname(file), name);
      for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) {
        try {
          if (statSync(candidate).isFile()) return candidate;
        } catch {
          // not this one
        }
      }
      throw new Error(`${relative(SRC, file)} imports ${name}, which does not resolve`);
    });
}

function graphOf(files: readonly string[]): Map<string, string[]> {
  return new Map(files.map((f) => [f, importsOf(f)]));
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function circles(graph: Map<string, string[]>): string[][] {
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
        component.push(relative(SRC, w));
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe('chaincode protocol module imports', () => {
  const files = sources(PROTOCOL);

  it('imports nothing from the rooms above it (contracts, rules, state)', () => {
    const upward = files.flatMap((f) =>
      importsOf(f)
        .filter((target) => !target.startsWith(`${PROTOCOL}/`) && target !== join(SRC, 'errors.ts'))
        .map((target) => `${relative(SRC, f)} -> ${relative(SRC, target)}`),
    );
    expect(files.length).toBeGreaterThan(20);
    expect(upward).toEqual([]);
  });

  it('holds no import circle, type-only imports included', () => {
    expect(circles(graphOf(files))).toEqual([]);
  });

  it('finds a circle when there is one (the check can fail)', () => {
    const a = join(PROTOCOL, 'a.ts');
    const b = join(PROTOCOL, 'b.ts');
    expect(circles(new Map([[a, [b]], [b, [a]]]))).toEqual([['protocol/a.ts', 'protocol/b.ts']]);
  });
});
