/**
 * Layers that only look down (STYLE.md, README "Architecture"), for the whole of chaincode/src:
 *
 *   index.ts (and any other entry module at the top)
 *   contracts/   the transaction surface: parse, authorise, load, decide, write, emit
 *   state/       keys and one repository per domain; used by contracts only
 *   rules/       pure decisions over plain data
 *   protocol/    packets, proofs, encoding, verification
 *   errors.ts    the floor
 *
 * A file may import from its own layer or any layer below, never above, and no set of files
 * imports itself in a circle, type-only imports included.
 */
import { join, relative } from 'node:path';
import { circles, graphOf, SRC, sources } from './import-graph';

const LAYERS = ['errors.ts', 'protocol', 'rules', 'state', 'contracts'] as const;
const TOP = LAYERS.length;

/** The layer of a source file: its first path segment under chaincode/src; entry modules at the top. */
function layerOf(file: string): number {
  const first = relative(SRC, file).split('/')[0]!;
  const i = (LAYERS as readonly string[]).indexOf(first);
  return i === -1 ? TOP : i;
}

/** Every import that runs from a lower layer to a higher one, as `from -> to`. */
function upwardImports(graph: Map<string, string[]>): string[] {
  return [...graph].flatMap(([from, targets]) =>
    targets.filter((to) => layerOf(to) > layerOf(from)).map((to) => `${relative(SRC, from)} -> ${relative(SRC, to)}`),
  );
}

describe('chaincode layer imports', () => {
  const files = sources(SRC);
  const graph = graphOf(files);

  it('reads every layer of chaincode/src', () => {
    const layers = new Set(files.map(layerOf));
    expect([...layers].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(files.length).toBeGreaterThan(60);
  });

  it('has no import that runs up a layer (rules and protocol never import contracts or state)', () => {
    expect(upwardImports(graph)).toEqual([]);
  });

  it('holds no import circle anywhere, type-only imports included', () => {
    expect(circles(graph)).toEqual([]);
  });

  it('keeps state to the contracts: only contracts and the entry modules import state/', () => {
    const users = [...graph]
      .filter(([from, targets]) => layerOf(from) < layerOf(join(SRC, 'state', 'x.ts')) && targets.some((t) => t.startsWith(join(SRC, 'state') + '/')))
      .map(([from]) => relative(SRC, from));
    expect(users).toEqual([]);
  });

  it('finds an upward import and a circle when there is one (the checks can fail)', () => {
    const rule = join(SRC, 'rules', 'a.ts');
    const context = join(SRC, 'contracts', 'tx-context.ts');
    const repo = join(SRC, 'state', 'b.ts');
    expect(upwardImports(new Map([[rule, [context]]]))).toEqual(['rules/a.ts -> contracts/tx-context.ts']);
    expect(upwardImports(new Map([[repo, [rule]]]))).toEqual([]);
    expect(circles(new Map([[rule, [repo]], [repo, [rule]]]))).toEqual([['rules/a.ts', 'state/b.ts']]);
  });
});
