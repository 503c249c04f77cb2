/**
 * Layers that only look down (STYLE.md), in the gateway: entry points (CLI, demo, bench, soak) stand on
 * the HTTP API (which `medbridge serve` starts), which stands on the services (relay, record exchange, admin services, BLS signer), which stand on proof
 * building, which stands on the Fabric client, which stands on configuration, logging and
 * errors (and the HTTP limits every server applies). A file imports from its own room, a room beside it on the same floor, or a floor
 * below; never from above, and no files or rooms import each other in a circle (type-only
 * imports included). A new room fails here until it is given its floor.
 */
import { join, relative, resolve, sep } from 'node:path';
import { circles, graphOf, sources } from '../support/import-graph';

const SRC = resolve(__dirname, '../../../gateway/src');

/** Rooms (a folder, or a file directly under gateway/src), top floor first. */
const FLOORS: ReadonlyArray<readonly string[]> = [
  ['bench', 'soak'],
  ['cli', 'demo'],
  ['api'],
  ['services', 'relay', 'records', 'signer'],
  ['proofs'],
  ['fabric'],
  ['config.ts', 'logger.ts', 'errors.ts', 'http-limits.ts', 'source-commit.ts'],
];

const floorOf = new Map(FLOORS.flatMap((rooms, floor) => rooms.map((room) => [room, floor] as const)));

/** A file's room: the first part of its path under gateway/src. */
function roomOf(file: string): string {
  return relative(SRC, file).split(sep)[0]!;
}

/** `a -> b` for every import from one room to a room on a higher floor. */
function upwardImports(graph: ReadonlyMap<string, readonly string[]>): string[] {
  return [...graph].flatMap(([file, targets]) =>
    targets
      .filter((target) => floorOf.get(roomOf(target))! < floorOf.get(roomOf(file))!)
      .map((target) => `${relative(SRC, file)} -> ${relative(SRC, target)}`),
  );
}

/** Room -> the other rooms its files import. */
function roomGraph(graph: ReadonlyMap<string, readonly string[]>): Map<string, string[]> {
  const rooms = new Map<string, Set<string>>();
  for (const [file, targets] of graph) {
    const from = roomOf(file);
    const set = rooms.get(from) ?? new Set<string>();
    for (const t of targets) if (roomOf(t) !== from) set.add(roomOf(t));
    rooms.set(from, set);
  }
  return new Map([...rooms].map(([room, set]) => [room, [...set].sort()]));
}

describe('gateway import layers', () => {
  const files = sources(SRC);
  const graph = graphOf(files);

  it('places every room of gateway/src on a floor', () => {
    expect(files.length).toBeGreaterThan(50);
    expect([...new Set(files.map(roomOf))].filter((room) => !floorOf.has(room))).toEqual([]);
  });

  it('imports nothing from a floor above', () => {
    expect(upwardImports(graph)).toEqual([]);
  });

  it('holds no import circle between files, type-only imports included', () => {
    expect(circles(graph, SRC)).toEqual([]);
  });

  it('holds no import circle between rooms', () => {
    expect(circles(roomGraph(graph))).toEqual([]);
  });

  it('finds an upward import and a circle when there is one (the checks can fail)', () => {
    const config = join(SRC, 'config.ts');
    const profile = join(SRC, 'fabric', 'profile.ts');
    const logger = join(SRC, 'logger.ts');
    const client = join(SRC, 'fabric', 'client.ts');
    const bad = new Map([
      [config, [profile]],
      [profile, [config]],
      [logger, [config]],
      [client, [logger]],
    ]);
    expect(upwardImports(bad)).toEqual(['config.ts -> fabric/profile.ts']);
    expect(circles(bad, SRC)).toEqual([['config.ts', 'fabric/profile.ts']]);
    expect(circles(roomGraph(bad))).toEqual([['config.ts', 'fabric', 'logger.ts']]);
  });
});
