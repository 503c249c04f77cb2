/**
 * Two chains on fake ledgers, set up the way governance sets up real ones: bootstrap,
 * each chain's own node list (epoch 1), each registered as the other's remote, and a
 * route between them. Packets are sent on chain A and proven to chain B with synthetic
 * Fabric endorsements of the bytes chain A's GetPacketCommitment returns.
 */
import { CrossChainContract } from '../../../chaincode/src/contracts/crosschain-contract';
import { GovernanceContract } from '../../../chaincode/src/contracts/governance-contract';
import { parseNodeList, type VerificationNodeList } from '../../../chaincode/src/protocol/node-list';
import type { Packet } from '../../../chaincode/src/protocol/packet';
import type { EpochLink, Proof } from '../../../chaincode/src/protocol/proof';
import type { Issued } from '../../fixtures/pki';
import { FakeLedger, type FakeIdentity } from '../support/fake-ledger';
import { chainTrust, createChain, firstOfEach, nodeList, signatureSet, type TestChain, type TestNode } from './support';

export const ROUTE = 'route-ab';
export const MINUTE = 60_000;

export interface Side {
  chain: TestChain;
  ledger: FakeLedger;
  admins: FakeIdentity[];
  user: FakeIdentity;
  /** Lists by epoch, as set by governance. */
  lists: Map<number, VerificationNodeList>;
}

function identity(mspId: string, issued: Issued): FakeIdentity {
  return { mspId, certPem: issued.certPem };
}

export class TwoChains {
  readonly gov = new GovernanceContract();
  readonly cc = new CrossChainContract();
  /** Transaction time; tests move it forward. */
  now = Date.now();

  private constructor(
    readonly a: Side,
    readonly b: Side,
  ) {}

  static async create(opts: { peersPerOrg?: number } = {}): Promise<TwoChains> {
    const side = async (chainId: string, msps: string[]): Promise<Side> => {
      const chain = await createChain(chainId, msps, opts.peersPerOrg ?? 2);
      const admins = await Promise.all(chain.orgs.map(async (o) => identity(o.mspId, await o.admin(`admin.${o.mspId}`))));
      const user = identity(chain.orgs[0]!.mspId, await chain.orgs[0]!.client(`relayer.${chainId}`));
      return { chain, ledger: new FakeLedger(chainId), admins, user, lists: new Map() };
    };
    return new TwoChains(await side('chain-a', ['HospitalAMSP', 'HospitalCMSP']), await side('chain-b', ['HospitalBMSP', 'HospitalDMSP']));
  }

  tick(ms = 1000): number {
    this.now += ms;
    return this.now;
  }

  /** Proposes with the first member admin and approves with every other one. */
  async govern(side: Side, action: unknown): Promise<unknown> {
    const [first, ...rest] = side.admins;
    const proposed = JSON.parse(await side.ledger.invoke({ identity: first!, timeMs: this.tick() }, (ctx) => this.gov.Propose(ctx, JSON.stringify(action)))) as {
      proposalId: string;
    };
    let last: unknown = proposed;
    for (const admin of rest) {
      last = JSON.parse(await side.ledger.invoke({ identity: admin, timeMs: this.tick() }, (ctx) => this.gov.Approve(ctx, proposed.proposalId)));
    }
    return last;
  }

  async bootstrap(side: Side): Promise<void> {
    await side.ledger.invoke({ identity: side.admins[0]!, timeMs: this.tick() }, (ctx) =>
      this.gov.Bootstrap(ctx, '', JSON.stringify(side.chain.orgs.map((o) => o.mspId))),
    );
  }

  async setList(side: Side, list: VerificationNodeList): Promise<void> {
    await this.govern(side, { kind: 'set-node-list', list });
    // Keep the list as the chaincode normalises it, so hashes match.
    side.lists.set(list.epoch, parseNodeList(list));
  }

  async register(on: Side, remote: Side, extra: { revokedSerials?: string[] } = {}): Promise<void> {
    const trust = chainTrust(remote.chain);
    await this.govern(on, {
      kind: 'register-remote',
      chainId: remote.chain.chainId,
      orgs: trust.orgs.map((o, i) => (i === 0 && extra.revokedSerials ? { ...o, revokedSerials: extra.revokedSerials } : o)),
      nodeList: remote.lists.get(1),
      schemes: ['fabric-endorsement'],
    });
  }

  async openRoute(side: Side, counterparty: string, rateLimit = { maxPackets: 100, windowMs: MINUTE }, routeId = ROUTE): Promise<void> {
    await this.govern(side, { kind: 'open-route', routeId, counterparty, packetTypes: ['consent.grant', 'consent.revoke', 'consent.sealed', 'ping'], rateLimit });
  }

  /** Epoch 1 lists (every node, threshold 1 per org, rule all), remotes registered both ways, route open. */
  async setup(opts: { listA?: VerificationNodeList; revokedOnB?: string[]; rateLimit?: { maxPackets: number; windowMs: number } } = {}): Promise<this> {
    await this.bootstrap(this.a);
    await this.bootstrap(this.b);
    await this.setList(this.a, opts.listA ?? nodeList(this.a.chain, 1));
    await this.setList(this.b, nodeList(this.b.chain, 1));
    await this.register(this.b, this.a, { revokedSerials: opts.revokedOnB });
    await this.register(this.a, this.b);
    await this.openRoute(this.a, 'chain-b', opts.rateLimit);
    await this.openRoute(this.b, 'chain-a', opts.rateLimit);
    return this;
  }

  /** A ping from A to B; `routeId` is needed once several routes lead to B. */
  async sendPing(payload: unknown = { n: 1 }, timeoutAfterMs?: number, routeId?: string): Promise<Packet> {
    const out = await this.a.ledger.invoke({ identity: this.a.user, timeMs: this.tick() }, (ctx) =>
      this.cc.SendPacket(ctx, 'chain-b', 'ping', JSON.stringify({ payload, timeoutAfterMs, routeId })),
    );
    return (JSON.parse(out) as { packet: Packet }).packet;
  }

  /** What chain A's peers return (and endorse) for GetPacketCommitment. */
  async packetCommitment(sequence: number): Promise<Buffer> {
    const text = await this.a.ledger.invoke({ identity: this.a.user, timeMs: this.now }, (ctx) => this.cc.GetPacketCommitment(ctx, ROUTE, String(sequence)));
    return Buffer.from(text, 'utf8');
  }

  async ackCommitment(sequence: number): Promise<Buffer> {
    const text = await this.b.ledger.invoke({ identity: this.b.user, timeMs: this.now }, (ctx) => this.cc.GetAckCommitment(ctx, ROUTE, String(sequence)));
    return Buffer.from(text, 'utf8');
  }

  async linkMessage(toEpoch: number): Promise<Buffer> {
    const text = await this.a.ledger.invoke({ identity: this.a.user, timeMs: this.now }, (ctx) => this.cc.GetEpochLinkMessage(ctx, String(toEpoch)));
    return Buffer.from(text, 'utf8');
  }

  /** A proof over `message` signed by `signers` (default: the first node of each of A's orgs). */
  proof(message: Buffer, opts: { signers?: TestNode[]; epoch?: number; links?: EpochLink[] } = {}): Proof {
    return { ...signatureSet(opts.signers ?? firstOfEach(this.a.chain), message), epoch: opts.epoch ?? 1, links: opts.links ?? [] };
  }

  /** An epoch link of chain A to `toEpoch`, endorsed by `signers` of the previous list. */
  async link(toEpoch: number, signers: TestNode[]): Promise<EpochLink> {
    const message = await this.linkMessage(toEpoch);
    return { chainId: 'chain-a', fromEpoch: toEpoch - 1, toEpoch, newList: this.a.lists.get(toEpoch)!, proof: signatureSet(signers, message) };
  }

  async receive(packet: unknown, proof: unknown): Promise<Record<string, unknown>> {
    const out = await this.b.ledger.invoke({ identity: this.b.user, timeMs: this.tick() }, (ctx) =>
      this.cc.ReceivePacket(ctx, JSON.stringify(packet), typeof proof === 'string' ? proof : JSON.stringify(proof)),
    );
    return JSON.parse(out) as Record<string, unknown>;
  }

  async recordTimeout(packet: unknown, proof: unknown): Promise<Record<string, unknown>> {
    const out = await this.b.ledger.invoke({ identity: this.b.user, timeMs: this.tick() }, (ctx) =>
      this.cc.RecordTimeout(ctx, JSON.stringify(packet), JSON.stringify(proof)),
    );
    return JSON.parse(out) as Record<string, unknown>;
  }

  async receipt(sequence: number): Promise<Record<string, unknown>> {
    const out = await this.b.ledger.invoke({ identity: this.b.user, timeMs: this.now }, (ctx) => this.cc.GetReceipt(ctx, ROUTE, String(sequence)));
    return JSON.parse(out) as Record<string, unknown>;
  }

  async routeOn(side: Side): Promise<Record<string, unknown>> {
    return JSON.parse(await side.ledger.invoke({ identity: side.user, timeMs: this.now }, (ctx) => this.cc.GetRoute(ctx, ROUTE))) as Record<string, unknown>;
  }

  /** Sends a ping and delivers it to B with a valid proof. */
  async deliverPing(payload: unknown = { n: 1 }): Promise<{ packet: Packet; result: Record<string, unknown> }> {
    const packet = await this.sendPing(payload);
    const proof = this.proof(await this.packetCommitment(packet.sequence));
    return { packet, result: await this.receive(packet, proof) };
  }
}

/** Runs `fn`, expects it to fail with `code`, and checks that `ledger` did not change. */
export async function expectRejected(ledger: FakeLedger, code: string, fn: () => Promise<unknown>): Promise<void> {
  const before = ledger.snapshot();
  const events = ledger.events.length;
  let error: unknown;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeDefined();
  expect((error as { code?: string }).code).toBe(code);
  expect(ledger.snapshot()).toEqual(before);
  expect(ledger.events.length).toBe(events);
}
