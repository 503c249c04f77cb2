/**
 * The signer bitmap: which nodes of the list (in signer order, see signer-table.ts) signed.
 *
 * Bit i (0-based position in signer order) is bit (i mod 8), least significant first, of byte
 * floor(i / 8). The bitmap is exactly ceil(n / 8) bytes for a list of n nodes, the unused high
 * bits of the last byte are zero, and at least one bit is set. Anything else is refused: a
 * bitmap has exactly one encoding for one set of signers.
 */
import { fail } from '../../errors';

export function encodeBitmap(positions: readonly number[], nodeCount: number): Uint8Array {
  const bytes = new Uint8Array(Math.ceil(nodeCount / 8));
  for (const i of positions) {
    if (!Number.isInteger(i) || i < 0 || i >= nodeCount) fail('BITMAP_INVALID', `position ${i} is outside a list of ${nodeCount} nodes`);
    bytes[i >> 3] = (bytes[i >> 3] ?? 0) | (1 << (i & 7));
  }
  return bytes;
}

/** The set positions, ascending. */
export function decodeBitmap(bytes: Uint8Array, nodeCount: number): number[] {
  const expected = Math.ceil(nodeCount / 8);
  if (nodeCount <= 0) fail('BITMAP_INVALID', 'the list has no nodes');
  if (bytes.length > expected) fail('BITMAP_INVALID', `bitmap of ${bytes.length} bytes is longer than a list of ${nodeCount} nodes (${expected} bytes)`);
  if (bytes.length < expected) fail('BITMAP_INVALID', `bitmap of ${bytes.length} bytes is shorter than a list of ${nodeCount} nodes (${expected} bytes)`);
  const positions: number[] = [];
  for (let i = 0; i < expected * 8; i += 1) {
    if ((((bytes[i >> 3] ?? 0) >> (i & 7)) & 1) === 0) continue;
    if (i >= nodeCount) fail('BITMAP_INVALID', `bitmap names position ${i}, beyond a list of ${nodeCount} nodes`);
    positions.push(i);
  }
  if (positions.length === 0) fail('BITMAP_INVALID', 'bitmap names no signer');
  return positions;
}
