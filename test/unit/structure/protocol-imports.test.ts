/**
 * Layers that only look down (STYLE.md): the protocol module is the floor the chaincode's rules
 * and contracts and the gateway stand on, so it imports nothing above it (no contracts/, rules/,
 * state/) and holds no import circle, type-only imports included (import-graph.ts reads the
 * graph; layer-imports.test.ts checks the whole of chaincode/src).
 */
import { join, relative } from 'node:path';
import { circles, graphOf, importsOf, SRC, sources } from './import-graph';

const PROTOCOL = join(SRC, 'protocol');

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
