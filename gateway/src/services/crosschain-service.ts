/**
 * Packets and the cross-chain state of one channel, as one org sees it: the one place a
 * packet is sent from (consents and pings), and the reads the CLI and the demo show (node
 * list, remote chains, routes, proposals, sent packets and receipts). Governance changes
 * are CrossChainAdmin's.
 *
 * @example
 *   const xc = new CrossChainService(new Chaincode(FabricClient.open('HospitalA'), 'chain-a'));
 *   const { result } = await xc.sendConsent('chain-b', consentId);   // type from the consent's state
 *   await xc.sendPing('chain-b', { hello: 1 }, { routeId: 'a-b' });
 */
import type {
  GovernanceProposal,
  NodeListAt,
  Page,
  PacketType,
  ReceiptRecord,
  RemoteChainRecord,
  RouteRecord,
  SendPacketArgs,
  SendPacketResult,
  SentPacketRecord,
} from '@medbridge/chaincode';
import { ClientError } from '../errors';
import type { Chaincode, Submitted } from '../fabric/contracts';
import { SendBatcher } from './send-batcher';

export interface SendOptions {
  /** Needed when several routes lead to the destination. */
  routeId?: string;
  /** Default 1 h. */
  timeoutAfterMs?: number;
}

/** The packet type that carries a consent in its current state: its grant, or its revocation once revoked. */
export function consentPacketType(status: string): 'consent.grant' | 'consent.revoke' {
  return status === 'revoked' ? 'consent.revoke' : 'consent.grant';
}

/** A chain this one can carry consents to: registered here, with an open route from here, and the orgs it trusts there. */
export interface ReachableChain {
  chainId: string;
  /** MSP ids of the remote chain's orgs, as registered here (sorted). */
  orgs: string[];
  /** Packet types its open routes carry (sorted, each once). */
  packetTypes: string[];
}

/** The chains a patient's consent can be carried to from this one, in chain order. */
export async function reachableChains(chaincode: Chaincode): Promise<ReachableChain[]> {
  const [remotes, routes] = await Promise.all([chaincode.crossChain.listRemoteChains(), chaincode.crossChain.listRoutes()]);
  const out: ReachableChain[] = [];
  for (const remote of [...remotes].sort((a, b) => (a.chainId < b.chainId ? -1 : 1))) {
    const open = routes.filter((r) => r.counterparty === remote.chainId && r.status === 'open');
    if (open.length > 0) out.push({ chainId: remote.chainId, orgs: remote.orgs.map((o) => o.mspId).sort(), packetTypes: [...new Set(open.flatMap((r) => r.packetTypes))].sort() });
  }
  return out;
}

/**
 * The route a packet of `type` goes to `destChain` on: the first open one (by id) that carries
 * that type. ROUTE_NOT_OPEN when none does, naming what the open routes carry.
 */
export function routeFor(routes: readonly RouteRecord[], destChain: string, type: string): string {
  const open = routes.filter((r) => r.counterparty === destChain && r.status === 'open').sort((a, b) => (a.routeId < b.routeId ? -1 : 1));
  const route = open.find((r) => r.packetTypes.includes(type));
  if (route) return route.routeId;
  throw new ClientError('ROUTE_NOT_OPEN', 'rejected', open.length === 0 ? `no open route leads to ${destChain}` : `no open route to ${destChain} carries ${type} packets (${open.map((r) => `${r.routeId}: ${r.packetTypes.join(', ')}`).join('; ')})`);
}

export class CrossChainService {
  /** Sends that arrive while one is in flight go together in the next transaction (send-batcher.ts). */
  private readonly sends: SendBatcher;

  constructor(readonly chaincode: Chaincode) {
    this.sends = new SendBatcher(chaincode.crossChain);
  }

  get channel(): string {
    return this.chaincode.channel;
  }

  /**
   * Sends a packet (the one place packets are submitted from the gateway): at once when no
   * send of this service is in flight, else in one batch with the others that wait for it.
   */
  send(destChain: string, type: PacketType, args: SendPacketArgs): Promise<Submitted<SendPacketResult>> {
    return this.sends.send(destChain, type, args);
  }

  /**
   * Sends a consent to its grantee's chain. Without `type`, the consent's current state
   * decides (consentPacketType); the chaincode builds the payload from the ledger.
   */
  async sendConsent(destChain: string, consentId: string, opts: SendOptions & { type?: PacketType } = {}): Promise<Submitted<SendPacketResult>> {
    const type = opts.type ?? consentPacketType((await this.chaincode.consent.getConsent(consentId)).status);
    return this.send(destChain, type, { ...routing(opts), consentId });
  }

  /** Sends the digest of a consent this org sealed (Consent:SealConsent's `ref`) as a consent.sealed packet. */
  sendSealedConsent(destChain: string, ref: string, opts: SendOptions = {}): Promise<Submitted<SendPacketResult>> {
    return this.send(destChain, 'consent.sealed', { ...routing(opts), ref });
  }

  /** Sends a ping (or `type`, for a route's own packet types) carrying `payload`. */
  sendPing(destChain: string, payload: unknown, opts: SendOptions & { type?: PacketType } = {}): Promise<Submitted<SendPacketResult>> {
    return this.send(destChain, opts.type ?? 'ping', { ...routing(opts), payload });
  }

  /** A governance proposal of this channel and its approvals. */
  proposal(proposalId: string): Promise<GovernanceProposal> {
    return this.chaincode.governance.getProposal(proposalId);
  }

  nodeList(epoch?: number): Promise<NodeListAt> {
    return this.chaincode.crossChain.getNodeList(epoch);
  }

  remoteChains(): Promise<RemoteChainRecord[]> {
    return this.chaincode.crossChain.listRemoteChains();
  }

  route(routeId: string): Promise<RouteRecord> {
    return this.chaincode.crossChain.getRoute(routeId);
  }

  routes(): Promise<RouteRecord[]> {
    return this.chaincode.crossChain.listRoutes();
  }

  /** A packet sent from this channel, with its status. */
  sent(routeId: string, sequence: number): Promise<SentPacketRecord> {
    return this.chaincode.crossChain.getPacket(routeId, sequence);
  }

  /** The receipt of a packet received on this channel. */
  received(routeId: string, sequence: number): Promise<ReceiptRecord> {
    return this.chaincode.crossChain.getReceipt(routeId, sequence);
  }

  /** Packets sent on a route from this channel (one page). */
  sentPackets(routeId: string, pageSize = 100, bookmark = ''): Promise<Page<SentPacketRecord>> {
    return this.chaincode.crossChain.listPackets(routeId, { pageSize, bookmark });
  }

  /** Packets received on a route here (one page). */
  receipts(routeId: string, pageSize = 100, bookmark = ''): Promise<Page<ReceiptRecord>> {
    return this.chaincode.crossChain.listReceipts(routeId, { pageSize, bookmark });
  }
}

/** routeId and timeoutAfterMs, in that order, only when given (the argsJson the chaincode reads). */
function routing(opts: SendOptions): { routeId?: string; timeoutAfterMs?: number } {
  return {
    ...(opts.routeId === undefined ? {} : { routeId: opts.routeId }),
    ...(opts.timeoutAfterMs === undefined ? {} : { timeoutAfterMs: opts.timeoutAfterMs }),
  };
}
