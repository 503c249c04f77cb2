/**
 * The import graph of chaincode/src for the structure tests. The reader (TypeScript scanner,
 * type-only imports included) is the one the gateway's layer test uses: ../support/import-graph.
 */
import { resolve } from 'node:path';
import { circles as circlesNamedUnder } from '../support/import-graph';

export { graphOf, importsOf, sources } from '../support/import-graph';

export const SRC = resolve(__dirname, '../../../chaincode/src');

/** Circles of the graph, each sorted, files named relative to chaincode/src. */
export function circles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  return circlesNamedUnder(graph, SRC);
}
