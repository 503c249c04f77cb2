/**
 * Record anchor attestations: chain A's nodes endorse GetRecordAnchorAttestation (the
 * record-anchor message built by each peer from its own ledger); a requester on chain B
 * checks it against chain A's list as registered on chain B, with the packet verifier.
 */
import { packetMessage, recordAnchorMessage } from '../../../chaincode/src/protocol/commitment';
import { listHash } from '../../../chaincode/src/protocol/node-list';
import type { RecordAnchor, RecordVersion } from '../../../chaincode/src/rules/record-rules';
import { key, KeyTypes, pad } from '../../../chaincode/src/state/keys';
import { putJson } from '../../../chaincode/src/state/store';
import { remoteViewOf, verifyAnchorAttestation, type AnchorAttestation } from '../../../gateway/src/records/anchor-attestation';
import { expectRejected, TwoChains } from './harness';
import { endorse, firstOfEach, signatureSet } from './support';

const RECORD = 'rec-attest-1';
const HASH_V1 = 'a'.repeat(64);
const HASH_V2 = 'b'.repeat(64);
const FORGED_CODE = 'COMMITMENT_MISMATCH';

async function anchored(): Promise<TwoChains> {
  const t = await (await TwoChains.create()).setup();
  // The record as Consent:AnchorRecord and AmendRecord leave it: head at v2, v1 in the history.
  await t.a.ledger.invoke({ identity: t.a.user, timeMs: t.tick() }, async (ctx) => {
    const base = { recordId: RECORD, patientId: 'pt-1', custodian: 'HospitalAMSP', category: 'Observation', txId: 'tx' };
    const v1: RecordVersion = { ...base, version: 1, hash: HASH_V1, time: t.now, previous: null } as unknown as RecordVersion;
    const v2: RecordVersion = { ...base, version: 2, hash: HASH_V2, time: t.now, previous: 'x' } as unknown as RecordVersion;
    const head: RecordAnchor = { ...base, hash: HASH_V2, version: 2, createdAt: t.now, updatedAt: t.now };
    await putJson(ctx.stub, key(ctx.stub, KeyTypes.Record, RECORD), head);
    await putJson(ctx.stub, key(ctx.stub, KeyTypes.RecordVersion, RECORD, pad(1)), v1);
    await putJson(ctx.stub, key(ctx.stub, KeyTypes.RecordVersion, RECORD, pad(2)), v2);
  });
  return t;
}

async function message(t: TwoChains, version: string): Promise<Buffer> {
  const text = await t.a.ledger.invoke({ identity: t.a.user, timeMs: t.now }, (ctx) => t.cc.GetRecordAnchorAttestation(ctx, RECORD, version));
  return Buffer.from(text, 'utf8');
}

async function viewOnB(t: TwoChains) {
  const text = await t.b.ledger.invoke({ identity: t.b.user, timeMs: t.now }, (ctx) => t.cc.GetRemoteChain(ctx, 'chain-a'));
  return remoteViewOf(JSON.parse(text) as Parameters<typeof remoteViewOf>[0]);
}

function attestation(msg: Buffer, proof: ReturnType<TwoChains['proof']>): AnchorAttestation {
  const m = JSON.parse(msg.toString('utf8')) as { chainId: string; recordId: string; version: number; hash: string };
  return { anchor: { chainId: m.chainId, recordId: m.recordId, version: m.version, hash: m.hash }, proof };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

describe('record anchor attestation message (chaincode)', () => {
  it('is the domain-separated anchor of the head or of a given version, bound to the current list', async () => {
    const t = await anchored();
    const list = t.a.lists.get(1)!;
    const ref = { epoch: 1, listHash: listHash(list) };
    expect((await message(t, '')).equals(recordAnchorMessage({ chainId: 'chain-a', recordId: RECORD, version: 2, hash: HASH_V2 }, ref))).toBe(true);
    const v1 = JSON.parse((await message(t, '1')).toString('utf8')) as Record<string, unknown>;
    expect(v1).toEqual({ domain: 'medbridge/record-anchor/v1', chainId: 'chain-a', recordId: RECORD, version: 1, hash: HASH_V1, epoch: 1, listHash: ref.listHash });
  });

  it('refuses a record or version that is not anchored, and a caller that is not a member, changing nothing', async () => {
    const t = await anchored();
    await expectRejected(t.a.ledger, 'NOT_FOUND', () => t.a.ledger.invoke({ identity: t.a.user, timeMs: t.now }, (ctx) => t.cc.GetRecordAnchorAttestation(ctx, 'rec-none', '')));
    await expectRejected(t.a.ledger, 'NOT_FOUND', () => t.a.ledger.invoke({ identity: t.a.user, timeMs: t.now }, (ctx) => t.cc.GetRecordAnchorAttestation(ctx, RECORD, '3')));
    await expectRejected(t.a.ledger, 'INVALID_ARGUMENT', () => t.a.ledger.invoke({ identity: t.a.user, timeMs: t.now }, (ctx) => t.cc.GetRecordAnchorAttestation(ctx, RECORD, '0')));
    await expectRejected(t.a.ledger, 'NOT_A_MEMBER', () => t.a.ledger.invoke({ identity: t.b.user, timeMs: t.now }, (ctx) => t.cc.GetRecordAnchorAttestation(ctx, RECORD, '')));
  });
});

describe('requester check of a record anchor attestation', () => {
  let t: TwoChains;
  let msg: Buffer;
  let view: Awaited<ReturnType<typeof viewOnB>>;
  const expected = { recordId: RECORD, version: 2, hash: HASH_V2 };

  beforeAll(async () => {
    t = await anchored();
    msg = await message(t, '2');
    view = await viewOnB(t);
  });

  it('accepts the anchor endorsed by a threshold of the record chain, checked against the list registered on its own chain', () => {
    expect(verifyAnchorAttestation(attestation(msg, t.proof(msg)), [view], expected, t.now).trust.chainId).toBe('chain-a');
    // Also through the string form a custodian's JSON answer may carry.
    expect(verifyAnchorAttestation(JSON.stringify(attestation(msg, t.proof(msg))), [view], expected, t.now).trust.chainId).toBe('chain-a');
  });

  it('refuses an attestation below a subgroup threshold with THRESHOLD_NOT_MET', () => {
    const onlyHospitalA = [t.a.chain.nodes[0]![0]!];
    expect(codeOf(() => verifyAnchorAttestation(attestation(msg, t.proof(msg, { signers: onlyHospitalA })), [view], expected, t.now))).toBe('THRESHOLD_NOT_MET');
  });

  it('refuses a forged anchor (a hash the nodes did not endorse) with COMMITMENT_MISMATCH', () => {
    const forged = attestation(msg, t.proof(msg));
    forged.anchor.hash = 'c'.repeat(64);
    expect(codeOf(() => verifyAnchorAttestation(forged, [view], { ...expected, hash: 'c'.repeat(64) }, t.now))).toBe(FORGED_CODE);
  });

  it('refuses signatures over other bytes than the peers returned with SIGNATURE_INVALID', () => {
    const proof = t.proof(msg);
    proof.signatures = firstOfEach(t.a.chain).map((n) => endorse(n, msg, { signOver: Buffer.from('something else') }));
    expect(codeOf(() => verifyAnchorAttestation(attestation(msg, proof), [view], expected, t.now))).toBe('SIGNATURE_INVALID');
  });

  it('refuses an attestation signed by nodes of another chain with SIGNER_NOT_IN_LIST', () => {
    const proof = { ...signatureSet(firstOfEach(t.b.chain), msg), epoch: 1, links: [] };
    expect(codeOf(() => verifyAnchorAttestation(attestation(msg, proof), [view], expected, t.now))).toBe('SIGNER_NOT_IN_LIST');
  });

  it('refuses a packet commitment presented as an anchor attestation (domain separation)', () => {
    const other = packetMessage(
      { sourceChain: 'chain-a', destChain: 'chain-b', routeId: 'r', sequence: 1, type: 'ping', payload: {}, timeoutMs: 1, sentAtMs: 0, sender: 'HospitalAMSP' } as never,
      { epoch: 1, listHash: (JSON.parse(msg.toString('utf8')) as { listHash: string }).listHash },
    );
    expect(codeOf(() => verifyAnchorAttestation(attestation(msg, t.proof(other)), [view], expected, t.now))).toBe(FORGED_CODE);
  });

  it('refuses a record whose salted hash is not the attested anchor with RECORD_HASH_MISMATCH', () => {
    expect(codeOf(() => verifyAnchorAttestation(attestation(msg, t.proof(msg)), [view], { ...expected, hash: 'd'.repeat(64) }, t.now))).toBe('RECORD_HASH_MISMATCH');
    expect(codeOf(() => verifyAnchorAttestation(attestation(msg, t.proof(msg)), [view], { ...expected, version: 1 }, t.now))).toBe('RECORD_HASH_MISMATCH');
  });

  it('refuses a missing attestation (ANCHOR_UNATTESTED) and a chain its own chain never registered (UNKNOWN_CHAIN)', () => {
    expect(codeOf(() => verifyAnchorAttestation(undefined, [view], expected, t.now))).toBe('ANCHOR_UNATTESTED');
    expect(codeOf(() => verifyAnchorAttestation(attestation(msg, t.proof(msg)), [], expected, t.now))).toBe('UNKNOWN_CHAIN');
  });
});
