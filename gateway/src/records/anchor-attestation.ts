/**
 * Record anchor attestations between hospitals on different chains (PROTOCOL.md "Record
 * anchor attestation"). A requester that is not a member of the record's chain cannot read
 * the anchor itself; instead of trusting the custodian's word for it, it checks a threshold
 * of that chain's verification nodes endorsing the anchor, against that chain's list AS
 * REGISTERED ON THE REQUESTER'S OWN CHAIN (CrossChain:GetRemoteChain there), with the same
 * verifier packets use (path-proof, threshold, signatures), then the salted hash.
 *
 * Custodian side: `collectAnchorAttestation` asks every peer of its chain to endorse
 * CrossChain:GetRecordAnchorAttestation(recordId, version).
 */
import {
  type ExcludedNode,
  linkAcceptor,
  MedbridgeError,
  type OrgTrust,
  parseProof,
  type PolicyHolder,
  type PrivateRecordAnchorRef,
  type Proof,
  type RecordAnchorRef,
  type RemoteView,
  type VerificationNodeList,
  verifyPrivateRecordAnchorAttestation,
  verifyRecordAnchorAttestation,
} from '@medbridge/chaincode';
import { createHash } from 'node:crypto';
import { ClientError } from '../errors';
import type { FabricClient } from '../fabric/client';
import { Chaincode, orAbsent } from '../fabric/contracts';
import { buildPrivateRecordAnchorProof, buildRecordAnchorProof, type SourceChain } from '../proofs';

/** What the custodian sends beside a record: the anchor as its chain's nodes state it, and their proof. */
export interface AnchorAttestation {
  anchor: RecordAnchorRef;
  proof: Proof;
}

/**
 * What the custodian sends beside a record anchored privately (chaincode/CONSENT.md "Private
 * patients and anchors"): its chain's nodes state the hash of the stored version; the custodian
 * adds the version's exact bytes (`versionBytes`), from which the requester reads the record's
 * salted hash once they hash to `versionDigest`.
 */
export interface PrivateAnchorAttestation {
  privateAnchor: PrivateRecordAnchorRef;
  proof: Proof;
  versionBytes: string;
}

/** Endorsements of a private anchor's version hash by `chain`'s listed peers, with the version's bytes the custodian holds. */
export async function collectPrivateAnchorAttestation(chain: SourceChain, recordId: string, version: number, custodian: string, versionBytes: string, knownEpoch?: number): Promise<PrivateAnchorAttestation> {
  const built = await buildPrivateRecordAnchorProof(chain, recordId, version, custodian, knownEpoch);
  const m = JSON.parse(built.message.toString('utf8')) as PrivateRecordAnchorRef & { domain: string };
  return {
    privateAnchor: { chainId: m.chainId, recordId: m.recordId, version: m.version, custodian: m.custodian, versionDigest: m.versionDigest },
    proof: built.proof,
    versionBytes,
  };
}

/** Endorsements of the record anchor by `chain`'s listed peers, with links from `knownEpoch`. */
export async function collectAnchorAttestation(chain: SourceChain, recordId: string, version: number, knownEpoch?: number): Promise<AnchorAttestation> {
  const built = await buildRecordAnchorProof(chain, recordId, version, knownEpoch);
  const m = JSON.parse(built.message.toString('utf8')) as RecordAnchorRef & { domain: string };
  return { anchor: { chainId: m.chainId, recordId: m.recordId, version: m.version, hash: m.hash }, proof: built.proof };
}

/**
 * The output of CrossChain:GetRemoteChain as the verifier wants it: with the nodes excluded
 * there and the trust policy of that chain (the same link checks ReceivePacket applies).
 */
export function remoteViewOf(
  registered: PolicyHolder & { orgs: OrgTrust[]; schemes: string[]; list: VerificationNodeList; excluded?: ExcludedNode[] },
): RemoteView {
  return {
    trust: { chainId: registered.chainId, orgs: registered.orgs },
    list: registered.list,
    schemes: registered.schemes,
    excluded: registered.excluded ?? [],
    acceptLink: linkAcceptor(registered),
  };
}

/**
 * The views of `chainIds` registered on the requester's own channels (the first channel that
 * registered each wins); chains registered nowhere are left out.
 */
export async function readTrustedChains(client: FabricClient, ownChannels: readonly string[], chainIds: readonly string[]): Promise<RemoteView[]> {
  const views: RemoteView[] = [];
  for (const chainId of chainIds) {
    for (const channel of ownChannels) {
      const r = await orAbsent(new Chaincode(client, channel).crossChain.getRemoteChain(chainId), ['UNKNOWN_CHAIN', 'NOT_FOUND']);
      if (r) {
        views.push(remoteViewOf(r));
        break;
      }
    }
  }
  return views;
}

/**
 * Checks an attestation for (recordId, version) whose salted hash the requester computed as
 * `hash`, against the views its own chain registered. Throws a ClientError with the
 * protocol's code: ANCHOR_UNATTESTED (none sent), UNKNOWN_CHAIN (the anchor's chain is not
 * registered on the requester's chain), the verifier's codes (THRESHOLD_NOT_MET,
 * SIGNATURE_INVALID, SIGNER_NOT_IN_LIST, UNKNOWN_ROOT, EPOCH_*, ...), or RECORD_HASH_MISMATCH
 * when the attested anchor is for another record, version or hash.
 */
export function verifyAnchorAttestation(
  attestation: unknown,
  trusted: readonly RemoteView[],
  expected: { recordId: string; version: number; hash: string },
  atMs: number,
): RemoteView {
  // A private anchor is checked down to the plain anchor its version bytes name; both then meet the same comparison.
  const { view, anchor } =
    attestation !== null && typeof attestation === 'object' && 'privateAnchor' in attestation
      ? verifiedPrivateAnchor(attestation as PrivateAnchorAttestation, trusted, expected.recordId, atMs)
      : verifiedAnchor(parseAttestation(attestation), trusted, expected.recordId, atMs);
  if (anchor.recordId !== expected.recordId || anchor.version !== expected.version) {
    throw new ClientError('RECORD_HASH_MISMATCH', 'rejected', `the attestation is for ${anchor.recordId} v${anchor.version}, not ${expected.recordId} v${expected.version}; refused`);
  }
  if (anchor.hash !== expected.hash) {
    throw new ClientError('RECORD_HASH_MISMATCH', 'rejected', `record ${expected.recordId} v${expected.version} does not hash to the anchor ${anchor.chainId} attests; refused`);
  }
  return view;
}

/** The requester's view of `chainId` and the proof checked against it with `verify` (the chaincode's own parser and verifier); the verifier's code otherwise. */
function checkedAgainst(chainId: string, trusted: readonly RemoteView[], recordId: string, proof: unknown, verify: (view: RemoteView, proof: Proof) => void): RemoteView {
  const view = trusted.find((v) => v.trust.chainId === chainId);
  if (!view) throw new ClientError('UNKNOWN_CHAIN', 'rejected', `the record's anchor is on ${chainId}, which none of your chains registered; cannot verify it`);
  try {
    // The proof is parsed with the chaincode's own parser: the same limits and field checks.
    verify(view, parseProof(JSON.stringify(proof)));
  } catch (e) {
    if (e instanceof MedbridgeError) throw new ClientError(e.code, 'rejected', `anchor attestation of ${recordId} refused: ${e.detail}`, { cause: e });
    throw e;
  }
  return view;
}

function verifiedAnchor(att: { anchor: RecordAnchorRef; proof: unknown }, trusted: readonly RemoteView[], recordId: string, atMs: number): { view: RemoteView; anchor: RecordAnchorRef } {
  const view = checkedAgainst(att.anchor.chainId, trusted, recordId, att.proof, (v, proof) => verifyRecordAnchorAttestation(v, proof, atMs, att.anchor));
  return { view, anchor: att.anchor };
}

function parseAttestation(value: unknown): { anchor: RecordAnchorRef; proof: unknown } {
  if (value === undefined || value === null) {
    throw new ClientError('ANCHOR_UNATTESTED', 'rejected', 'the custodian sent no attestation of the anchor by its chain; the record cannot be verified and is refused');
  }
  const a = (typeof value === 'string' ? (JSON.parse(value) as unknown) : value) as Partial<AnchorAttestation>;
  if (!hasFields(a.anchor, { chainId: 'string', recordId: 'string', version: 'number', hash: 'string' }) || !isObject(a.proof)) {
    throw new ClientError('MALFORMED_PROOF', 'rejected', 'the anchor attestation is malformed');
  }
  const anchor = a.anchor as RecordAnchorRef;
  return { anchor: { chainId: anchor.chainId, recordId: anchor.recordId, version: anchor.version, hash: anchor.hash }, proof: a.proof };
}

const isObject = (v: unknown): v is object => typeof v === 'object' && v !== null;

/** Whether `o` is an object with each named field of the given type. */
function hasFields(o: unknown, fields: Record<string, 'string' | 'number'>): boolean {
  return isObject(o) && Object.entries(fields).every(([name, type]) => typeof (o as Record<string, unknown>)[name] === type);
}

/**
 * A private anchor's attestation checked: the nodes' proof over the version's hash, the version
 * bytes the custodian sent hashing to it and naming the attested record and version
 * (RECORD_HASH_MISMATCH otherwise). Returns the plain anchor those bytes name.
 */
function verifiedPrivateAnchor(att: PrivateAnchorAttestation, trusted: readonly RemoteView[], recordId: string, atMs: number): { view: RemoteView; anchor: RecordAnchorRef } {
  const fields = { chainId: 'string', recordId: 'string', version: 'number', custodian: 'string', versionDigest: 'string' } as const;
  if (!hasFields(att.privateAnchor, fields) || typeof att.versionBytes !== 'string' || !isObject(att.proof)) {
    throw new ClientError('MALFORMED_PROOF', 'rejected', 'the private anchor attestation is malformed');
  }
  const anchor = att.privateAnchor;
  const view = checkedAgainst(anchor.chainId, trusted, recordId, att.proof, (v, proof) => verifyPrivateRecordAnchorAttestation(v, proof, atMs, anchor));
  if (createHash('sha256').update(att.versionBytes, 'utf8').digest('hex') !== anchor.versionDigest) {
    throw new ClientError('RECORD_HASH_MISMATCH', 'rejected', `the anchored version of ${recordId} the custodian sent does not hash to what ${anchor.chainId}'s nodes attest; refused`);
  }
  let v: { recordId?: unknown; version?: unknown; hash?: unknown };
  try {
    v = JSON.parse(att.versionBytes) as typeof v;
  } catch {
    throw new ClientError('MALFORMED_PROOF', 'rejected', 'the anchored version the custodian sent is not JSON');
  }
  if (v.recordId !== anchor.recordId || v.version !== anchor.version || typeof v.hash !== 'string') {
    throw new ClientError('RECORD_HASH_MISMATCH', 'rejected', `the anchored version the custodian sent is not version ${anchor.version} of ${anchor.recordId}; refused`);
  }
  return { view, anchor: { chainId: anchor.chainId, recordId: anchor.recordId, version: anchor.version, hash: v.hash } };
}
