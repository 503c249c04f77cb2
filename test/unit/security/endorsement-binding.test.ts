/**
 * Scheme 1 binds each endorsement to the query that produced it, not to the hope that no
 * function ever echoes caller bytes: the proof carries the proposal, whose hash the endorser
 * signed, and the verifier checks channel (= the signing chain's id), chaincode, function and
 * arguments. A chain's id is its channel name from bootstrap on.
 */
import { ENDORSEMENT_VERSION } from '../../../chaincode/src/protocol/scheme-endorsement';
import { proposalBytes } from '../../fixtures/endorsement';
import { FakeLedger } from '../support/fake-ledger';
import { expectRejected, TwoChains } from '../crosschain/harness';
import { firstOfEach, signatureSet, type EndorseOptions } from '../crosschain/support';

describe('scheme 1 endorsements are bound to their proposal', () => {
  let t: TwoChains;
  beforeEach(async () => {
    t = await (await TwoChains.create()).setup();
  });

  async function attempt(opts: EndorseOptions, mutate: (p: Record<string, unknown>) => Record<string, unknown> = (p) => p) {
    const packet = await t.sendPing({ n: 1 });
    const message = await t.packetCommitment(packet.sequence);
    const proof = mutate({ ...signatureSet(firstOfEach(t.a.chain), message, opts), epoch: 1, links: [] });
    return { packet, message, proof };
  }

  it('accepts the endorsement of the query that returns the message', async () => {
    const { packet, proof } = await attempt({});
    expect(proof.version).toBe(ENDORSEMENT_VERSION);
    expect((await t.receive(packet, proof)).outcome).toBe('success');
  });

  it('refuses the same bytes returned by another function (an echo)', async () => {
    const { packet, proof } = await attempt({ fn: 'CrossChain:GetRoute', args: ['route-ab'] });
    await expectRejected(t.b.ledger, 'PROPOSAL_MISMATCH', () => t.receive(packet, proof));
  });

  it('refuses the right function called with other arguments', async () => {
    const { packet, proof } = await attempt({ args: ['route-ab', '2'] });
    await expectRejected(t.b.ledger, 'PROPOSAL_MISMATCH', () => t.receive(packet, proof));
  });

  it('refuses an endorsement made on another channel', async () => {
    const { packet, proof } = await attempt({ channel: 'chain-c' });
    await expectRejected(t.b.ledger, 'WRONG_CHANNEL', () => t.receive(packet, proof));
  });

  it('refuses a proposal to another chaincode', async () => {
    const { packet, proof } = await attempt({ proposalChaincode: 'other-cc' });
    await expectRejected(t.b.ledger, 'PROPOSAL_MISMATCH', () => t.receive(packet, proof));
  });

  it('refuses a carried proposal other than the one the endorser signed', async () => {
    // A relay that swaps in an innocent-looking proposal: its hash is not the signed one.
    const innocent = proposalBytes('chain-a', 'medbridge', 'CrossChain:GetPacketCommitment', ['route-ab', '1']);
    const { packet, proof } = await attempt({ fn: 'CrossChain:GetRoute', args: ['route-ab'], carryProposal: innocent });
    await expectRejected(t.b.ledger, 'PROPOSAL_MISMATCH', () => t.receive(packet, proof));
  });

  it('refuses version 1 (no proposal) and a version 2 signature without its proposal', async () => {
    const { packet, proof } = await attempt({}, (p) => ({ ...p, version: 1 }));
    await expectRejected(t.b.ledger, 'UNSUPPORTED_SCHEME', () => t.receive(packet, proof));
    const stripped = {
      ...proof,
      version: ENDORSEMENT_VERSION,
      signatures: (proof.signatures as Array<Record<string, unknown>>).map(({ proposal: _p, ...rest }) => rest),
    };
    await expectRejected(t.b.ledger, 'MALFORMED_PROOF', () => t.receive(packet, stripped));
  });
});

describe('chain id and channel name', () => {
  it('refuses to bootstrap a channel under another chain id', async () => {
    const t = await TwoChains.create();
    const ledger = new FakeLedger('chain-a');
    await expectRejected(ledger, 'WRONG_CHANNEL', () =>
      ledger.invoke({ identity: t.a.admins[0]!, timeMs: t.tick() }, (ctx) => t.gov.Bootstrap(ctx, 'chain-b', JSON.stringify(['HospitalAMSP', 'HospitalCMSP']))),
    );
    await ledger.invoke({ identity: t.a.admins[0]!, timeMs: t.tick() }, (ctx) => t.gov.Bootstrap(ctx, 'chain-a', JSON.stringify(['HospitalAMSP', 'HospitalCMSP'])));
    expect(JSON.parse(await ledger.invoke({ identity: t.a.admins[0]!, timeMs: t.now }, (ctx) => t.gov.GetMembers(ctx)))).toMatchObject({ chainId: 'chain-a' });
  });
});
