/**
 * Relay side of scheme `bls12381-aggregate` (chaincode/BLS.md "Relay side"): ask each listed
 * node's signer service for its partial signature on the message named by (route, sequence) or
 * epoch, verify, drop and log bad or missing ones with the node id, aggregate the rest, and
 * require the list's thresholds. The relay reads the message itself from its own connection only
 * to verify the partials; the destination rebuilds it from its own state and trusts nothing here.
 */
import { aggregatePartials, blsKeyOf, BLS_SCHEME, BLS_SCHEME_VERSION, type PartialSignature } from '@medbridge/chaincode/dist/protocol/bls';
import type { VerificationNodeList } from '@medbridge/chaincode/dist/protocol/node-list';
import type { Proof, SignatureSet } from '@medbridge/chaincode/dist/protocol/proof';
import { silentLogger, type Logger } from '../logger';
import type { PeerFailure } from './endorsements';
import { evaluate, nodeListAt, type BuiltProof, type SourceChain } from './proof-builder';
import { requestPartial, type SignerEndpoint, type SignRequest } from './signer-client';

export type SchemeName = 'fabric-endorsement' | typeof BLS_SCHEME;

/** How to build a proof; all optional, the default is scheme 1 exactly as before. */
export interface ProofOptions {
  /** The scheme the route registered (default 'fabric-endorsement'). */
  scheme?: SchemeName;
  /** Signer services of the source chain's verification nodes (needed for the aggregate scheme). */
  signers?: readonly SignerEndpoint[];
  /**
   * Scheme of epoch links. 'auto' (default): the aggregate scheme when `scheme` is aggregate and
   * every node of the list that signs the link has a BLS key, else scheme 1 (links follow the
   * schemes the destination registered for the source chain, not the route's).
   */
  linkScheme?: 'auto' | SchemeName;
  /** Per-signer request deadline (default 15 s). */
  deadlineMs?: number;
  logger?: Logger;
}

/** The scheme of the link signed by `signingList`. */
export function linkSchemeFor(signingList: VerificationNodeList, options: ProofOptions): SchemeName {
  const wanted = options.linkScheme ?? 'auto';
  if (wanted !== 'auto') return wanted;
  if (options.scheme !== BLS_SCHEME) return 'fabric-endorsement';
  const nodes = signingList.subgroups.flatMap((s) => s.nodes);
  return nodes.every((n) => blsKeyOf(n) !== undefined) ? BLS_SCHEME : 'fabric-endorsement';
}

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
        return await requestPartial(e, what, options.deadlineMs);
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
    result = aggregatePartials(list, message, partials);
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

/** Aggregate proof over the packet or ack message of (routeId, sequence), signed by the current list (no links yet). */
export async function blsStatementProof(
  source: SourceChain,
  fn: 'GetPacketCommitment' | 'GetAckCommitment',
  routeId: string,
  sequence: number,
  options: ProofOptions,
): Promise<BuiltProof> {
  const current = await nodeListAt(source, '');
  const message = Buffer.from(await evaluate(source, fn, [routeId, String(sequence)]), 'utf8');
  const epoch = (JSON.parse(message.toString('utf8')) as { epoch: number }).epoch;
  if (epoch !== current.epoch) throw new Error(`the source read epoch ${epoch} while its list is at ${current.epoch}; retry`);
  const kind = fn === 'GetPacketCommitment' ? 'packet' : 'ack';
  const { signatures, failures } = await collectAggregate(current, message, { kind, routeId, sequence }, options);
  const proof: Proof = { scheme: BLS_SCHEME, version: BLS_SCHEME_VERSION, epoch, links: [], signatures };
  return { proof, message, failures };
}

/** The signature part of the link to list `toEpoch`, aggregated from the nodes of `previous`. */
export async function blsEpochLink(source: SourceChain, previous: VerificationNodeList, toEpoch: number, options: ProofOptions): Promise<SignatureSet> {
  const message = Buffer.from(await evaluate(source, 'GetEpochLinkMessage', [String(toEpoch)]), 'utf8');
  const { signatures } = await collectAggregate(previous, message, { kind: 'epoch-link', toEpoch }, options);
  return { scheme: BLS_SCHEME, version: BLS_SCHEME_VERSION, signatures };
}
