/**
 * A destination's trust floor per remote chain, set by its own governance: whoever holds the
 * source's current threshold can sign an epoch link to any list, but the destination follows
 * it only if the new list keeps at least the floor's subgroups, required subgroups and
 * per-subgroup threshold, and drops at most the floor's share of nodes. Anything below needs
 * the destination's governance.
 */
import { parseNodeList } from '../../../chaincode/src/protocol/node-list';
import { expectRejected, TwoChains } from '../crosschain/harness';
import { nodeList, type TestNode } from '../crosschain/support';

const DAY = 86_400_000;
const STRICT = { minSubgroups: 2, minRequired: 2, minThreshold: 1, maxReplacedBps: 5000, trustingPeriodMs: 7 * DAY, retiredKeysSlashableMs: 14 * DAY };

describe('trust floor per remote chain', () => {
  let t: TwoChains;
  let a0: TestNode;
  let a1: TestNode;
  let c0: TestNode;

  beforeEach(async () => {
    t = await (await TwoChains.create()).setup();
    [a0, a1] = t.a.chain.nodes[0] as [TestNode, TestNode];
    c0 = t.a.chain.nodes[1]![0]!;
  });

  const remoteOnB = async () =>
    JSON.parse(await t.b.ledger.invoke({ identity: t.b.user, timeMs: t.now }, (ctx) => t.cc.GetRemoteChain(ctx, 'chain-a'))) as {
      epoch: number;
      policy: typeof STRICT;
    };

  /** A rotates to `rows` at epoch 2; a ping sent afterwards, proven by `signers` with the link signed by a0 and c0. */
  async function shrinkAndProve(rows: TestNode[][], signers: TestNode[]) {
    await t.setList(t.a, nodeList(t.a.chain, 2, { nodes: rows }));
    const packet = await t.sendPing({ n: 1 });
    const proof = t.proof(await t.packetCommitment(packet.sequence), { signers, epoch: 2, links: [await t.link(2, [a0, c0])] });
    return { packet, proof };
  }

  it('is set by governance and shown with the remote chain', async () => {
    expect((await remoteOnB()).policy).toMatchObject({ minSubgroups: 1, maxReplacedBps: 10000 });
    await t.govern(t.b, { kind: 'set-remote-policy', chainId: 'chain-a', policy: STRICT });
    expect((await remoteOnB()).policy).toEqual(STRICT);
  });

  it('refuses a link shrinking the list to one node of one org, and changes nothing', async () => {
    await t.govern(t.b, { kind: 'set-remote-policy', chainId: 'chain-a', policy: STRICT });
    const { packet, proof } = await shrinkAndProve([[a0]], [a0]);
    await expectRejected(t.b.ledger, 'TRUST_FLOOR_VIOLATED', () => t.receive(packet, proof));
    expect((await remoteOnB()).epoch).toBe(1);
  });

  it('without a floor set, follows the same link (the protocol minimum)', async () => {
    const { packet, proof } = await shrinkAndProve([[a0]], [a0]);
    expect((await t.receive(packet, proof)).outcome).toBe('success');
    expect((await remoteOnB()).epoch).toBe(2);
  });

  it('refuses a link dropping more than the floor share of nodes', async () => {
    await t.govern(t.b, { kind: 'set-remote-policy', chainId: 'chain-a', policy: { ...STRICT, maxReplacedBps: 2500 } });
    const { packet, proof } = await shrinkAndProve([[a0], [c0]], [a0, c0]);
    await expectRejected(t.b.ledger, 'TRUST_FLOOR_VIOLATED', () => t.receive(packet, proof));
  });

  it('follows a link that stays above the floor', async () => {
    await t.govern(t.b, { kind: 'set-remote-policy', chainId: 'chain-a', policy: STRICT });
    const { packet, proof } = await shrinkAndProve([[a0], [c0]], [a0, c0]);
    expect((await t.receive(packet, proof)).outcome).toBe('success');
  });

  it('refuses a link below the per-subgroup threshold floor', async () => {
    await t.govern(t.b, { kind: 'set-remote-policy', chainId: 'chain-a', policy: { ...STRICT, minThreshold: 2, maxReplacedBps: 10000 } });
    // Epoch 1 has threshold 1 (below this floor too): the floor binds what a link adopts, not what governance registered.
    const { packet, proof } = await shrinkAndProve([[a0, a1], [c0]], [a0, c0]);
    await expectRejected(t.b.ledger, 'TRUST_FLOOR_VIOLATED', () => t.receive(packet, proof));
  });

  it("lets the destination's governance adopt a list below the floor itself", async () => {
    await t.govern(t.b, { kind: 'set-remote-policy', chainId: 'chain-a', policy: STRICT });
    const { packet, proof } = await shrinkAndProve([[a0]], [a0]);
    await expectRejected(t.b.ledger, 'TRUST_FLOOR_VIOLATED', () => t.receive(packet, proof));
    const trust = (await remoteOnB()) as unknown as { orgs: unknown[] };
    await t.govern(t.b, { kind: 'register-remote', chainId: 'chain-a', orgs: trust.orgs, nodeList: parseNodeList(t.a.lists.get(2)), schemes: ['fabric-endorsement'] });
    expect((await remoteOnB()).policy).toEqual(STRICT);
    const direct = t.proof(await t.packetCommitment(packet.sequence), { signers: [a0], epoch: 2 });
    expect((await t.receive(packet, direct)).outcome).toBe('success');
  });

  it('refuses a policy whose trusting period is not shorter than the slashable period', async () => {
    const [first] = t.b.admins;
    const action = { kind: 'set-remote-policy', chainId: 'chain-a', policy: { ...STRICT, trustingPeriodMs: 14 * DAY } };
    await expectRejected(t.b.ledger, 'PARAMETERS_UNSAFE', () => t.b.ledger.invoke({ identity: first!, timeMs: t.tick() }, (ctx) => t.gov.Propose(ctx, JSON.stringify(action))));
  });

  it('refuses a policy for a chain that is not registered', async () => {
    const [first] = t.b.admins;
    const action = { kind: 'set-remote-policy', chainId: 'chain-z', policy: STRICT };
    await expectRejected(t.b.ledger, 'UNKNOWN_CHAIN', () => t.b.ledger.invoke({ identity: first!, timeMs: t.tick() }, (ctx) => t.gov.Propose(ctx, JSON.stringify(action))));
  });
});
