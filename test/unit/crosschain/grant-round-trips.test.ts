/**
 * What a share costs at endorsement in requests to the peer (test/unit/support/ledger-calls.ts):
 * CrossChain:GrantAndSend on the home chain and ReceivePacket of its consent.grant packet on the
 * destination. Each request is a round trip the node shim makes one after another, so the lists
 * below are pinned: a change that adds a read shows here, and whoever makes it says why.
 */
import type { Context } from 'fabric-contract-api';
import { ConsentContract } from '../../../chaincode/src/contracts/consent-contract';
import { IncentiveContract } from '../../../chaincode/src/contracts/incentive-contract';
import { registerIncentiveHooks } from '../../../chaincode/src/contracts/incentive-hooks';
import { canonicalize } from '../../../chaincode/src/protocol/canonical-json';
import type { Packet } from '../../../chaincode/src/protocol/packet';
import { DEFAULT_PARAMS } from '../../../chaincode/src/rules/parameter-safety';
import { DAY, newKey, signedGrant, terms, type KeyHolder } from '../consent/support';
import { callShapes, withLedgerCalls, type LedgerCall } from '../support/ledger-calls';
import { MINUTE, ROUTE, TwoChains } from './harness';
import { chainTrust, createChain, nodeList } from './support';

const consent = new ConsentContract();
const incentive = new IncentiveContract();

beforeAll(() => registerIncentiveHooks());

/** The grant's checks and writes (Consent:GrantConsent's), in order. */
const GRANT_CHECKS = [
  'get mb.members', // caller is a member (then read again by the grant's checks and the send: remembered)
  'get mb.patient', // the patient is registered
  'get mb.nonce', // the signer's nonce is unused
  'get mb.consent', // the consent does not exist yet
];
const GRANT_WRITES = ['put mb.consent'];
/** The patient's first consent since the (patient, scope) index indexes the patient's earlier consents and marks the patient. */
const FIRST_OF_PATIENT = ['get mb.patient-consents-indexed', 'range mb.consent-by-patient' /* read to its end: no close */, 'put mb.patient-consents-indexed'];
/** Every later consent of the patient finds the mark. */
const LATER_OF_PATIENT = ['get mb.patient-consents-indexed'];
/** Indexed under the patient, and under (patient, scope) for its one record; then the nonce. */
const GRANT_END = ['put mb.consent-by-patient', 'put mb.consent-by-patient-scope', 'put mb.nonce'];
/** The send: the route with its send state, then the fee hook's value transfer parameters. */
const SEND_READS = ['get mb.route', 'get mb.route-send', 'get mb.params'];
const SEND_WRITES = ['put mb.pkt', 'put mb.route-send'];
/**
 * With value transfer on, the packet has no escrow yet and the fee moves from the sender org's
 * account into it. Off, neither is read (incentive-hooks.ts onPacketSent: there is none).
 */
const FEE = ['get mb.escrow', 'get mb.account', 'put mb.account', 'put mb.escrow'];

/** ReceivePacket of a consent.grant: the route, what this chain trusts of the source, the receipt; the handler's mirror. */
const RECEIVE_CONSENT_GRANT = [
  'get mb.members',
  'get mb.route',
  'get mb.remote',
  'get mb.remote-nodelist',
  'range mb.remote-excluded', // read to its end: no close
  'get mb.receipt',
  // the handler's own member check reads the member set again, through its buffered view: remembered
  'get mb.remote-consent',
  'put mb.remote-consent',
  'put mb.remote-consent-by-grantee',
  'put mb.receipt',
  'put mb.ack',
  'put mb.route',
];

describe('round trips of a share at endorsement', () => {
  let t: TwoChains;
  let patient: KeyHolder;

  async function setUp(valueTransfer: boolean): Promise<void> {
    t = await TwoChains.create({ peersPerOrg: 1 });
    await t.setup();
    if (valueTransfer) {
      for (const admin of t.a.admins) await t.a.ledger.invoke({ identity: admin, timeMs: t.tick() }, (ctx) => incentive.SetParams(ctx, JSON.stringify(DEFAULT_PARAMS), 'on'));
      for (const admin of t.a.admins) await t.a.ledger.invoke({ identity: admin, timeMs: t.tick() }, (ctx) => incentive.Mint(ctx, 'org:HospitalAMSP', '1000000', 'fees'));
    }
    patient = newKey();
    await t.a.ledger.invoke({ identity: t.a.user, timeMs: t.tick() }, (ctx) => consent.RegisterPatient(ctx, patient.publicKey));
  }

  async function grantAndSend(args: object = { routeId: ROUTE }): Promise<{ packet: Packet; calls: LedgerCall[] }> {
    const signed = JSON.stringify(signedGrant('chain-a', patient, terms({ period: { start: t.now, end: t.now + 30 * DAY } }), patient, t.now));
    const { result, calls } = await withLedgerCalls(t.a.ledger, { identity: t.a.user, timeMs: t.tick() }, (ctx: Context) =>
      t.cc.GrantAndSend(ctx, signed, 'chain-b', JSON.stringify(args)),
    );
    // The result is canonical JSON, its `sent` the PacketSent event's payload.
    expect(result).toBe(canonicalize(JSON.parse(result)));
    const out = JSON.parse(result) as { sent: { packet: Packet } };
    expect(t.a.ledger.events.at(-1)).toEqual(expect.objectContaining({ name: 'PacketSent', payload: out.sent }));
    return { packet: out.sent.packet, calls };
  }

  it("GrantAndSend, value transfer off: the patient's first consent, then a later one", async () => {
    await setUp(false);
    const first = await grantAndSend();
    expect(callShapes(first.calls)).toEqual([...GRANT_CHECKS, ...GRANT_WRITES, ...FIRST_OF_PATIENT, ...GRANT_END, ...SEND_READS, ...SEND_WRITES]);
    expect(first.calls).toHaveLength(16);
    const later = await grantAndSend();
    expect(callShapes(later.calls)).toEqual([...GRANT_CHECKS, ...GRANT_WRITES, ...LATER_OF_PATIENT, ...GRANT_END, ...SEND_READS, ...SEND_WRITES]);
    expect(later.calls).toHaveLength(14);
  });

  it('GrantAndSend, value transfer on: the fee adds the payer account and the escrow', async () => {
    await setUp(true);
    await grantAndSend();
    const later = await grantAndSend();
    expect(callShapes(later.calls)).toEqual([...GRANT_CHECKS, ...GRANT_WRITES, ...LATER_OF_PATIENT, ...GRANT_END, ...SEND_READS, ...FEE, ...SEND_WRITES]);
    expect(later.calls).toHaveLength(18);
  });

  it('GrantAndSend naming no route: the routes are listed, and only the send state of the one to the destination is read', async () => {
    await setUp(false);
    // A second remote chain with its own route, so that the list holds a route that does not lead to chain-b.
    const c = await createChain('chain-c', ['HospitalEMSP'], 1);
    await t.govern(t.a, { kind: 'register-remote', chainId: 'chain-c', orgs: chainTrust(c).orgs, nodeList: nodeList(c, 1), schemes: ['fabric-endorsement'] });
    await t.govern(t.a, { kind: 'open-route', routeId: 'route-ac', counterparty: 'chain-c', packetTypes: ['ping'], rateLimit: { maxPackets: 100, windowMs: MINUTE } });
    await grantAndSend();
    const later = await grantAndSend({});
    const send = ['range mb.route' /* read to its end: no close */, 'get mb.route-send', 'get mb.params'];
    expect(callShapes(later.calls)).toEqual([...GRANT_CHECKS, ...GRANT_WRITES, ...LATER_OF_PATIENT, ...GRANT_END, ...send, ...SEND_WRITES]);
    expect(later.calls.filter((call) => call.key.startsWith('mb.route-send/')).map((call) => call.key)).toEqual([`mb.route-send/${ROUTE}`, `mb.route-send/${ROUTE}`]);
  });

  it('ReceivePacket of the consent.grant packet on the destination', async () => {
    await setUp(false);
    const { packet } = await grantAndSend();
    const proof = t.proof(await t.packetCommitment(packet.sequence));
    const { result, calls } = await withLedgerCalls(t.b.ledger, { identity: t.b.user, timeMs: t.tick() }, (ctx: Context) =>
      t.cc.ReceivePacket(ctx, JSON.stringify(packet), JSON.stringify(proof)),
    );
    expect(JSON.parse(result)).toMatchObject({ outcome: 'success', sequence: packet.sequence });
    expect(result).toBe(canonicalize(JSON.parse(result)));
    expect(t.b.ledger.events.at(-1)).toEqual(expect.objectContaining({ name: 'PacketReceived', payload: JSON.parse(result) as unknown }));
    expect(callShapes(calls)).toEqual(RECEIVE_CONSENT_GRANT);
    expect(calls).toHaveLength(12);
  });
});
