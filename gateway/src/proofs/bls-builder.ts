/**
 * Builder of scheme `bls12381-aggregate` (chaincode/BLS.md "Relay side"): ask each listed
 * node's signer service for its partial signature on the message named by (route, sequence) or
 * epoch, verify, drop and log bad or missing ones with the node id, aggregate the rest, and
 * require the list's thresholds. The relay reads the message itself from its own connection only
 * to verify the partials; the destination rebuilds it from its own state and trusts nothing here.
 */
import { aggregatePartials, blsKeyOf, BLS_CURRENT_VERSION, BLS_SCHEME, type PartialSignature } from '@medbridge/chaincode';
import type { VerificationNodeList } from '@medbridge/chaincode';
import { silentLogger } from '../logger';
import type { PeerFailure } from './endorsements';
import type { ProofOptions, SchemeBuilder, Signed, SignTask } from './scheme-builder';
import { requestPartial, type SignRequest } from './signer-client';

interface Aggregated {
  signatures: { signature: string; signers: string };
  signers: string[];
  failures: PeerFailure[];
}

/** Collects, verifies and aggregates partial signatures of `list`'s nodes over `message`. */
export async function collectAggregate(list: VerificationNodeList, message: Buffer, what: SignRequest, options: ProofOptions): Promise<Aggregated> {
  const log = options.logger ?? silentLogger;
  const listed = new Set(list.subgroups.flatMap((s) => s.nodes.map((n) => n.nodeId)));
  const endpoints = (options.signers ?? []).filter((e) => listed.has(e.nodeId));
  const failures: PeerFailure[] = [];
  const answers = await Promise.all(
    endpoints.map(async (e): Promise<PartialSignature | undefined> => {
      try {
        return await requestPartial(e, what, options.deadlineMs, BLS_CURRENT_VERSION);
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        failures.push({ peer: e.nodeId, error });
        log.warn({ nodeId: e.nodeId, request: what, error }, 'BLS signer gave no signature');
        return undefined;
      }
    }),
  );
  const partials = answers.filter((p): p is PartialSignature => p !== undefined);
  let result;
  try {
    result = aggregatePartials(list, message, partials, BLS_CURRENT_VERSION);
  } catch (err) {
    const detail = failures.map((f) => `${f.peer}: ${f.error}`).join('; ');
    if (err instanceof Error && detail !== '') err.message = `${err.message} (signers without a signature: ${detail})`;
    throw err;
  }
  for (const d of result.dropped) {
    failures.push({ peer: d.nodeId, error: `${d.code}: ${d.reason}` });
    log.warn({ nodeId: d.nodeId, request: what, code: d.code, reason: d.reason }, 'dropped a BLS partial signature');
  }
  log.debug({ request: what, signers: result.signers, epoch: list.epoch }, 'aggregated BLS signatures');
  return { signatures: result.proof.signatures, signers: result.signers, failures };
}

/** Bits set in a base64 bitmap. */
function bitsSet(bitmap: string): number {
  let n = 0;
  for (const byte of Buffer.from(bitmap, 'base64')) for (let b = byte; b !== 0; b &= b - 1) n++;
  return n;
}

export const blsBuilder: SchemeBuilder = {
  scheme: BLS_SCHEME,
  // Version 2: native pairing on signers and verifiers where blst loads (chaincode/BLS.md).
  version: BLS_CURRENT_VERSION,
  usesSignerServices: true,

  /** Every node of the list has a registered BLS key. */
  canSign: (list) => list.subgroups.flatMap((s) => s.nodes).every((n) => blsKeyOf(n) !== undefined),

  async sign({ source, list, statement, accept, options }: SignTask): Promise<Signed> {
    // Signer services sign packets, acknowledgements and epoch links (signer/server.ts), nothing else.
    if (statement.kind === 'record-anchor' || statement.kind === 'private-record-anchor') throw new Error(`${BLS_SCHEME} signers do not attest record anchors; use scheme 1`);
    // Signer services sign single packets and acknowledgements only (PROTOCOL.md "Batches"): a relay sends such routes one packet at a time.
    if (statement.kind === 'packet-batch' || statement.kind === 'ack-batch' || statement.kind === 'packet-runs' || statement.kind === 'ack-runs') throw new Error(`${BLS_SCHEME} signers do not sign batch statements; use scheme 1 or single packets`);
    const message = await source.crossChain.statement(statement);
    accept(message);
    const { signatures, failures } = await collectAggregate(list, message, statement, options);
    return { message, signatures, failures };
  },

  /** Nodes named in the bitmap of a non-empty aggregate signature. */
  countSigners(signatures) {
    const s = signatures as { signature?: unknown; signers?: unknown } | undefined;
    if (typeof s?.signature !== 'string' || s.signature === '' || typeof s.signers !== 'string') return 0;
    return bitsSet(s.signers);
  },
};
