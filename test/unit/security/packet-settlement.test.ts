/**
 * Every sent packet reaches a terminal state (acknowledged, error-acknowledged or timed
 * out), whatever its payload, and its escrowed fee is released. Tested for every packet
 * type at its size limits through the real CrossChain contract with the incentive hooks,
 * on two fake ledgers with synthetic Fabric endorsements.
 */
import type { Context } from 'fabric-contract-api';
import { ConsentContract } from '../../../chaincode/src/contracts/consent-contract';
import { IncentiveContract } from '../../../chaincode/src/contracts/incentive-contract';
import { registerIncentiveHooks } from '../../../chaincode/src/contracts/incentive-hooks';
import { MAX_CONSENT_PAYLOAD_BYTES, REVOCATION_ALLOWANCE_BYTES } from '../../../chaincode/src/contracts/consent-bridge';
import { MAX_HANDLER_RESULT_BYTES } from '../../../chaincode/src/contracts/packet-handlers';
import { buildConsentRevocation, buildGuardianDelegation, signPatientMessage } from '../../../chaincode/src/protocol/patient-messages';
import { canonicalBytes } from '../../../chaincode/src/protocol/canonical-json';
import { Limits } from '../../../chaincode/src/protocol/limits';
import type { Packet } from '../../../chaincode/src/protocol/packet';
import { DEFAULT_PARAMS } from '../../../chaincode/src/rules/parameter-safety';
import type { FakeIdentity } from '../support/fake-ledger';
import { expectRejected, ROUTE, TwoChains } from '../crosschain/harness';
import { firstOfEach, signatureSet } from '../crosschain/support';
import { newKey, signedGrant, signedRevocation, terms } from '../consent/support';
import { circulating, escrows, supply } from '../incentives/support';

const inc = new IncentiveContract();
const consent = new ConsentContract();
const A = 'HospitalAMSP';
const C = 'HospitalCMSP';
const S = DEFAULT_PARAMS.minStake;
const DAY = 86_400_000;

beforeAll(() => registerIncentiveHooks());

async function onA<T>(t: TwoChains, who: FakeIdentity, fn: (ctx: Context) => Promise<T>): Promise<T> {
  return t.a.ledger.invoke({ identity: who, timeMs: t.tick() }, fn);
}

/** Two chains with a route, value transfer on chain A, its first nodes staked. */
async function chains(): Promise<TwoChains> {
  const t = await TwoChains.create({ peersPerOrg: 1 });
  t.now = Date.now();
  await t.setup();
  for (const admin of t.a.admins) await onA(t, admin, (ctx) => inc.SetParams(ctx, JSON.stringify(DEFAULT_PARAMS), 'on'));
  for (const org of [A, C]) for (const admin of t.a.admins) await onA(t, admin, (ctx) => inc.Mint(ctx, `org:${org}`, String(10 * S), `seed ${org}`));
  await onA(t, t.a.admins[0]!, (ctx) => inc.Deposit(ctx, t.a.chain.nodes[0]![0]!.nodeId, String(S)));
  await onA(t, t.a.admins[1]!, (ctx) => inc.Deposit(ctx, t.a.chain.nodes[1]![0]!.nodeId, String(S)));
  return t;
}

/** A ping payload {s: "x…"} that makes the packet exactly `bytes` long when sent at the next tick. */
function pingPayloadFor(t: TwoChains, sequence: number, bytes: number): { s: string } {
  const at = t.now + 1000;
  const model = { sourceChain: 'chain-a', destChain: 'chain-b', routeId: ROUTE, sequence, type: 'ping', payload: { s: '' }, timeoutMs: at + 3_600_000, sentAtMs: at, sender: A };
  return { s: 'x'.repeat(bytes - canonicalBytes(model).length) };
}

async function send(t: TwoChains, type: string, args: object): Promise<Packet> {
  const out = await onA(t, t.a.user, (ctx) => t.cc.SendPacket(ctx, 'chain-b', type, JSON.stringify(args)));
  return (JSON.parse(out) as { packet: Packet }).packet;
}

/** Receives on B, then acknowledges on A with the destination's signed acknowledgement. */
async function deliverAndAcknowledge(t: TwoChains, packet: Packet): Promise<{ ack: Record<string, unknown>; settled: Record<string, unknown> }> {
  const received = await t.receive(packet, t.proof(await t.packetCommitment(packet.sequence)));
  const ackProof = { ...signatureSet(firstOfEach(t.b.chain), await t.ackCommitment(packet.sequence)), epoch: 1, links: [] };
  const settled = JSON.parse(await onA(t, t.a.user, (ctx) => t.cc.AcknowledgePacket(ctx, JSON.stringify(received.ack), JSON.stringify(ackProof)))) as Record<string, unknown>;
  return { ack: received.ack as Record<string, unknown>, settled };
}

function escrowOf(t: TwoChains, sequence: number) {
  return escrows(t.a.ledger).find((e) => e.routeId === ROUTE && e.sequence === sequence);
}

describe('every sent packet can settle, at the size limits of every packet type', () => {
  it('ping of exactly the packet limit: received, answered with a PROOF_TOO_LARGE error acknowledgement, settled, fee paid', async () => {
    const t = await chains();
    const packet = await send(t, 'ping', { payload: pingPayloadFor(t, 1, Limits.maxPacketBytes) });
    expect(canonicalBytes(packet).length).toBe(Limits.maxPacketBytes);
    expect(escrowOf(t, 1)).toMatchObject({ status: 'held', amount: DEFAULT_PARAMS.minFee });
    const { ack, settled } = await deliverAndAcknowledge(t, packet);
    expect(ack).toMatchObject({ outcome: 'error' });
    expect(ack.error).toMatch(/^PROOF_TOO_LARGE: /);
    expect(canonicalBytes(ack).length).toBeLessThanOrEqual(Limits.maxPacketBytes);
    expect(settled).toMatchObject({ status: 'failed', outcome: 'error' });
    expect(escrowOf(t, 1)).toMatchObject({ status: 'paid' });
    expect(circulating(t.a.ledger)).toBe(supply(t.a.ledger).total);
  });

  it('ping one byte over the packet limit is never sent (PROOF_TOO_LARGE), changing nothing', async () => {
    const t = await chains();
    const payload = pingPayloadFor(t, 1, Limits.maxPacketBytes + 1);
    await expectRejected(t.a.ledger, 'PROOF_TOO_LARGE', () => send(t, 'ping', { payload }));
  });

  it('ping whose echo is exactly the largest handler result is acknowledged with success; one byte more is an error acknowledgement', async () => {
    const t = await chains();
    // result = {"pong":{"s":"…"}}: 9 bytes around the payload.
    const fits = { s: 'x'.repeat(MAX_HANDLER_RESULT_BYTES - canonicalBytes({ pong: { s: '' } }).length) };
    expect(canonicalBytes({ pong: fits }).length).toBe(MAX_HANDLER_RESULT_BYTES);
    const first = await deliverAndAcknowledge(t, await send(t, 'ping', { payload: fits }));
    expect(first.ack).toMatchObject({ outcome: 'success', result: { pong: fits } });
    expect(first.settled).toMatchObject({ status: 'acknowledged' });
    const over = { s: `${fits.s}x` };
    const second = await deliverAndAcknowledge(t, await send(t, 'ping', { payload: over }));
    expect(second.ack).toMatchObject({ outcome: 'error' });
    expect(second.settled).toMatchObject({ status: 'failed' });
    expect(escrows(t.a.ledger).map((e) => e.status)).toEqual(['paid', 'paid']);
  });

  it('ping of exactly the packet limit that times out on the destination: timed out on the source, fee refunded', async () => {
    const t = await chains();
    const at = t.now + 1000;
    const model = { sourceChain: 'chain-a', destChain: 'chain-b', routeId: ROUTE, sequence: 1, type: 'ping', payload: { s: '' }, timeoutMs: at + 1000, sentAtMs: at, sender: A };
    const payload = { s: 'x'.repeat(Limits.maxPacketBytes - canonicalBytes(model).length) };
    const packet = await send(t, 'ping', { payload, timeoutAfterMs: 1000 });
    expect(canonicalBytes(packet).length).toBe(Limits.maxPacketBytes);
    t.tick(5000);
    const recorded = await t.recordTimeout(packet, t.proof(await t.packetCommitment(packet.sequence)));
    const ackProof = { ...signatureSet(firstOfEach(t.b.chain), await t.ackCommitment(packet.sequence)), epoch: 1, links: [] };
    const settled = JSON.parse(await onA(t, t.a.user, (ctx) => t.cc.TimeoutPacket(ctx, JSON.stringify(recorded.ack), JSON.stringify(ackProof))));
    expect(settled).toMatchObject({ status: 'timed-out', outcome: 'timeout' });
    expect(escrowOf(t, 1)).toMatchObject({ status: 'refunded' });
  });

  it('consent.grant and consent.revoke of the largest consent the home chain accepts: sent, received, acknowledged, fees paid', async () => {
    const t = await chains();
    const patient = newKey();
    await onA(t, t.a.user, (ctx) => consent.RegisterPatient(ctx, patient.publicKey));
    // 100 record ids of 128 characters (the most the parser accepts) and categories of 64
    // characters: the largest number of categories the home chain accepts, found by bisection.
    const recordIds = Array.from({ length: 100 }, (_, i) => `r${i.toString().padStart(3, '0')}`.padEnd(128, 'x'));
    const categories = (n: number) => Array.from({ length: n }, (_, i) => `C${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}`.padEnd(64, 'z'));
    const purposes = ['TREAT', 'ETREAT', 'HPAYMT', 'HOPERAT', 'HRESCH', 'PUBHLTH', 'PATRQT'];
    const grantWith = (n: number) =>
      onA(t, t.a.user, (ctx) =>
        consent.GrantConsent(ctx, JSON.stringify(signedGrant('chain-a', patient, terms({ scope: { recordIds, categories: categories(n) }, purposes, period: { start: t.now, end: t.now + 30 * DAY } }), patient, t.now))),
      );
    let lo = 0;
    let hi = 100;
    await expectRejected(t.a.ledger, 'PROOF_TOO_LARGE', () => grantWith(hi));
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      const before = t.a.ledger.snapshot();
      try {
        await grantWith(mid);
        lo = mid;
      } catch (e) {
        expect((e as { code?: string }).code).toBe('PROOF_TOO_LARGE');
        expect(t.a.ledger.snapshot()).toEqual(before);
        hi = mid;
      }
    }
    await expectRejected(t.a.ledger, 'PROOF_TOO_LARGE', () => grantWith(lo + 1));
    const granted = JSON.parse(await grantWith(lo)) as { consentId: string };
    const grant = await send(t, 'consent.grant', { consentId: granted.consentId });
    // Within an envelope's slack and one category of the room a consent may take.
    expect(canonicalBytes(grant).length).toBeGreaterThan(Limits.maxPacketBytes - REVOCATION_ALLOWANCE_BYTES - 1024);
    const g = await deliverAndAcknowledge(t, grant);
    expect(g.settled).toMatchObject({ status: 'acknowledged', outcome: 'success' });

    await onA(t, t.a.user, (ctx) => consent.RevokeConsent(ctx, JSON.stringify(signedRevocation('chain-a', patient, granted.consentId, patient, t.now))));
    const revoke = await send(t, 'consent.revoke', { consentId: granted.consentId });
    expect(canonicalBytes(revoke).length).toBeGreaterThan(canonicalBytes(grant).length);
    expect(canonicalBytes(revoke).length).toBeLessThanOrEqual(Limits.maxPacketBytes);
    const r = await deliverAndAcknowledge(t, revoke);
    expect(r.settled).toMatchObject({ status: 'acknowledged', outcome: 'success' });
    expect(escrows(t.a.ledger).map((e) => e.status)).toEqual(['paid', 'paid']);
  });

  it('allows for the largest revocation a guardian can sign when it sizes a consent', () => {
    const patient = newKey();
    const guardian = newKey();
    const longest = { channel: 'c'.repeat(100), nonce: 'n'.repeat(128), issuedAt: Number.MAX_SAFE_INTEGER };
    const h = (signer: typeof patient) => ({ channel: longest.channel, patientId: patient.patientId, signer: signer.keyId, nonce: longest.nonce, issuedAt: longest.issuedAt });
    const revocation = signPatientMessage(buildConsentRevocation(h(guardian), `cs_${'f'.repeat(64)}`), guardian.privateKey);
    const delegation = signPatientMessage(buildGuardianDelegation(h(patient), { publicKey: guardian.publicKey, notAfter: Number.MAX_SAFE_INTEGER }), patient.privateKey);
    // Revoking replaces two nulls with these and 'active' with 'revoked'.
    const added = canonicalBytes(revocation).length + canonicalBytes(delegation).length - 2 * 'null'.length + 1;
    expect(added).toBeLessThanOrEqual(REVOCATION_ALLOWANCE_BYTES);
    expect(MAX_CONSENT_PAYLOAD_BYTES).toBeLessThan(Limits.maxPacketBytes);
  });

  it('bounds the handler result so that the largest acknowledgement fits the limit', () => {
    expect(MAX_HANDLER_RESULT_BYTES).toBeGreaterThan(16 * 1024);
    expect(MAX_HANDLER_RESULT_BYTES).toBeLessThan(Limits.maxPacketBytes);
  });
});
