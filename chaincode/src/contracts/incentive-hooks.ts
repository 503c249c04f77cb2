/**
 * What the CrossChain contract calls inside its own transactions to move value with its
 * packets (chaincode/INCENTIVES.md "Hooks"). Each hook reads and validates everything,
 * then writes; it emits no event (the calling transaction emits its one event), so call it
 * after the caller's own checks and before the caller's event.
 *
 *  - SendPacket          -> onPacketSent: the fee leaves the sender org into escrow;
 *  - AcknowledgePacket   -> onPacketAcknowledged: the escrow is split between staked signers
 *                           of the accepted proof and the relayer, once;
 *  - TimeoutPacket       -> onPacketTimedOut: the escrow returns to the sender org, once;
 *  - OpenRoute           -> requireRouteStakes: the nodes that will sign hold a counting stake;
 *  - proof verification  -> isSignerStaked: a node without a counting stake does not count.
 *
 * Until governance first sets parameters (Incentive:SetParams), value transfer is off for
 * the channel: fees are optional and stakes are not required (see state/incentive-repo.ts).
 */
import type { Context } from 'fabric-contract-api';
import { check, fail } from '../errors';
import { markPaid, splitFee, type FeeSplit } from '../rules/fee-split';
import {
  escrowFee,
  type Escrow,
  foreignStakes,
  isName,
  isStaked,
  orgAccount,
  payoutTotals,
  refundEscrow,
  requireAmount,
  requireName,
  type Stake,
} from '../rules/value-rules';
import type { VerificationNodeList } from '../protocol/node-list';
import { getCurrentList } from '../state/crosschain-repo';
import { listAllStakes, loadAccount, loadAccountToDebit, loadEscrow, loadParams, loadStake, putAccount, putCredit, putEscrow } from '../state/incentive-repo';
import { registerCrossChainHooks, type CrossChainHooks, type PacketLifecycleEvent } from './crosschain-hooks';
import { txTimeMs } from './tx-context';

export interface PacketRef {
  routeId: string;
  sequence: number;
}

function requirePacketRef(p: PacketRef): void {
  requireName(p.routeId, 'route id');
  check(Number.isSafeInteger(p.sequence) && p.sequence >= 1, 'INVALID_ARGUMENT', 'sequence must be a positive integer');
}

/**
 * SendPacket: holds `fee` from org `payerMspId` in escrow for (routeId, sequence).
 * Fails INSUFFICIENT_FUNDS if the fee is below the minimum or the org cannot pay it,
 * ALREADY_EXISTS if the packet already has an escrow. Returns the escrow, or undefined
 * when value transfer is off and the fee is 0 (nothing to hold, and nothing held to look up).
 */
export async function onPacketSent(
  ctx: Context,
  input: PacketRef & { payerMspId: string; fee: number },
): Promise<Escrow | undefined> {
  requirePacketRef(input);
  requireName(input.payerMspId, 'payer MSP id');
  requireAmount(input.fee, 'fee', { allowZero: true });
  const { params, active } = await loadParams(ctx.stub);
  // No escrow to find: while value transfer is off it always was (parameters, once set, stay),
  // so the send hook has held none on this channel, and no other send has this packet's route
  // and sequence (a route's sequence only grows). Not reading the key saves a round trip on
  // every send of a channel without credits.
  if (!active && input.fee === 0) return undefined;
  const existing = await loadEscrow(ctx.stub, input.routeId, input.sequence);
  const payer = await loadAccountToDebit(ctx.stub, orgAccount(input.payerMspId), input.fee);
  const out = escrowFee(existing, payer, input, input.fee, active ? params.minFee : 0, txTimeMs(ctx));
  await putAccount(ctx.stub, out.payer);
  await putEscrow(ctx.stub, out.escrow);
  return out.escrow;
}

/**
 * AcknowledgePacket: pays the escrowed fee of (routeId, sequence): each signer in
 * `signerNodeIds` with a counting stake gets floor(pool / n), the relayer org
 * `relayerId` (an MSP id) the rest. Fails ESCROW_SETTLED if already paid or refunded,
 * DUPLICATE_SIGNER on a repeated node id. Returns undefined when the packet has no escrow.
 */
export async function onPacketAcknowledged(
  ctx: Context,
  input: PacketRef & { signerNodeIds: readonly string[]; relayerId: string },
): Promise<{ escrow: Escrow; split: FeeSplit } | undefined> {
  requirePacketRef(input);
  requireName(input.relayerId, 'relayer MSP id');
  check(Array.isArray(input.signerNodeIds), 'INVALID_ARGUMENT', 'signer node ids must be a list');
  for (const id of input.signerNodeIds) requireName(id, 'signer node id');
  const escrow = await loadEscrow(ctx.stub, input.routeId, input.sequence);
  if (!escrow) return undefined;
  const { params } = await loadParams(ctx.stub);
  const listedOrgs = await currentListOrgs(ctx);
  const stakes = new Map<string, Stake>();
  for (const id of [...new Set(input.signerNodeIds)].sort()) {
    const s = await loadStake(ctx.stub, id);
    // A stake held by another org than the node's own (a claim made before the node was
    // listed) earns nothing: the node's share goes where an unstaked signer's goes.
    if (s && ownedByListedOrg(s, listedOrgs)) stakes.set(id, s);
  }
  const split = splitFee(escrow, input.signerNodeIds, input.relayerId, stakes, params);
  const now = txTimeMs(ctx);
  const paid = markPaid(escrow, split, now);
  // Each payout under its own key (incentive-repo.ts Credit): acknowledgements of any routes
  // pay the same accounts without conflicting; the account folds them in when next written.
  for (const [account, amount] of payoutTotals(split.payouts)) {
    await putCredit(ctx.stub, { account, amount, routeId: input.routeId, sequence: input.sequence, atMs: now });
  }
  await putEscrow(ctx.stub, paid);
  return { escrow: paid, split };
}

/**
 * TimeoutPacket: returns the escrowed fee of (routeId, sequence) to its payer org.
 * Fails ESCROW_SETTLED if already paid or refunded; undefined when there is no escrow.
 */
export async function onPacketTimedOut(ctx: Context, input: PacketRef): Promise<Escrow | undefined> {
  requirePacketRef(input);
  const escrow = await loadEscrow(ctx.stub, input.routeId, input.sequence);
  if (!escrow) return undefined;
  const payer = await loadAccount(ctx.stub, orgAccount(escrow.payerMspId));
  const out = refundEscrow(escrow, payer, txTimeMs(ctx));
  await putAccount(ctx.stub, out.payer);
  await putEscrow(ctx.stub, out.escrow);
  return out.escrow;
}

/**
 * OpenRoute: every node that will sign for the route must hold a counting stake
 * (active, at least minStake bonded). Fails INSUFFICIENT_STAKE naming the others.
 * Writes nothing.
 */
export async function requireRouteStakes(ctx: Context, nodeIds: readonly string[]): Promise<void> {
  check(Array.isArray(nodeIds) && nodeIds.length > 0, 'INVALID_ARGUMENT', 'a route needs at least one signing node');
  for (const id of nodeIds) requireName(id, 'node id');
  const { params, active } = await loadParams(ctx.stub);
  if (!active) return;
  const missing: string[] = [];
  for (const id of [...new Set(nodeIds)].sort()) {
    if (!isStaked(await loadStake(ctx.stub, id), params.minStake)) missing.push(id);
  }
  if (missing.length > 0) {
    fail('INSUFFICIENT_STAKE', `nodes without a stake of at least ${params.minStake} bonded: ${missing.join(', ')}; deposit with Incentive:Deposit`);
  }
}

/**
 * Governance set-node-list: every node of the new list holds a counting stake (so no slashed
 * node stays listed), deposited by the node's own org as the list names it. A stake another
 * org deposited for the node before it was listed is INSUFFICIENT_STAKE here: the list is
 * what binds a node to its org, and only that org stakes it (INCENTIVES.md "Who stakes a node").
 */
export async function requireListStaked(ctx: Context, list: VerificationNodeList): Promise<void> {
  const nodes = list.subgroups.flatMap((s) => s.nodes.map((n) => ({ nodeId: n.nodeId, mspId: n.mspId })));
  await requireRouteStakes(
    ctx,
    nodes.map((n) => n.nodeId),
  );
  const { active } = await loadParams(ctx.stub);
  if (!active) return;
  const stakes = new Map<string, Stake>();
  for (const n of nodes) {
    const s = await loadStake(ctx.stub, n.nodeId);
    if (s) stakes.set(n.nodeId, s);
  }
  const foreign = foreignStakes(nodes, stakes);
  if (foreign.length > 0) {
    fail('INSUFFICIENT_STAKE', `only a node's own org stakes it; stakes held by another org: ${foreign.join(', ')}`);
  }
}

/** nodeId -> MSP id of every node of this chain's current list (empty before the first list). */
async function currentListOrgs(ctx: Context): Promise<Map<string, string>> {
  const list = await getCurrentList(ctx.stub);
  const out = new Map<string, string>();
  for (const s of list?.subgroups ?? []) for (const n of s.nodes) out.set(n.nodeId, n.mspId);
  return out;
}

/** A stake counts for a listed node only if the node's own org holds it. */
function ownedByListedOrg(stake: Stake, listedOrgs: ReadonlyMap<string, string>): boolean {
  const org = listedOrgs.get(stake.nodeId);
  return org === undefined || org === stake.ownerMspId;
}

/** Governance open-route: the nodes of this chain's current list, which will sign for the route, are staked. */
export async function requireCurrentListStaked(ctx: Context): Promise<void> {
  const { active } = await loadParams(ctx.stub);
  if (!active) return;
  const list = await getCurrentList(ctx.stub);
  if (!list) fail('INSUFFICIENT_STAKE', 'this chain has no verification node list whose stakes could back a route');
  await requireListStaked(ctx, list);
}

/** Whether the node counts as a signer: true while value transfer is off, else an active stake >= minStake. */
export async function isSignerStaked(ctx: Context, nodeId: string): Promise<boolean> {
  requireName(nodeId, 'node id');
  const { params, active } = await loadParams(ctx.stub);
  if (!active) return true;
  const stake = await loadStake(ctx.stub, nodeId);
  return isStaked(stake, params.minStake) && !!stake && ownedByListedOrg(stake, await currentListOrgs(ctx));
}

/**
 * Nodes slashed on this chain, which governance must leave out of the next verification
 * node list (sorted). Governance's list change should refuse a list that names one.
 */
export async function nodesMarkedForRemoval(ctx: Context): Promise<string[]> {
  const stakes = await listAllStakes(ctx.stub);
  return stakes.filter((s) => s.removeAtNextEpoch).map((s) => s.nodeId);
}

/**
 * The nodes a fee pays on acknowledgement. Preferred: the nodes of THIS chain whose
 * signatures were in the packet proof the destination accepted, carried back inside the
 * signed acknowledgement as `packetSigners` (their stake, reward account and slashing all
 * live on this chain). Until the acknowledgement carries it, the signers of the accepted
 * acknowledgement proof are paid, if they hold a counting stake on this chain.
 */
export function rewardedSigners(e: PacketLifecycleEvent): string[] {
  const carried = (e.ack as { packetSigners?: unknown } | undefined)?.packetSigners;
  // An id that cannot name a node of this chain is simply not paid: what the destination
  // attests must never keep a packet from settling.
  const named = Array.isArray(carried) && carried.every((id) => typeof id === 'string') ? (carried as string[]).filter(isName) : [];
  return named.length > 0 ? named : (e.signers ?? []).filter(isName);
}

/** Adapter from the cross-chain packet lifecycle to the hooks above. */
export const incentiveCrossChainHooks: CrossChainHooks = {
  async onSend(ctx, e) {
    // SendPacket carries no fee argument yet: the sender pays the minimum fee in force
    // (none while value transfer is off).
    const { params, active } = await loadParams(ctx.stub);
    await onPacketSent(ctx, { routeId: e.packet.routeId, sequence: e.packet.sequence, payerMspId: e.packet.sender, fee: active ? params.minFee : 0 });
  },
  async onAcknowledge(ctx, e) {
    await onPacketAcknowledged(ctx, {
      routeId: e.packet.routeId,
      sequence: e.packet.sequence,
      signerNodeIds: rewardedSigners(e),
      relayerId: e.submitter.mspId,
    });
  },
  async onTimeout(ctx, e) {
    await onPacketTimedOut(ctx, { routeId: e.packet.routeId, sequence: e.packet.sequence });
  },
};

/** Plugs value transfer into every CrossChain transaction (index.ts calls this once). */
export function registerIncentiveHooks(): void {
  registerCrossChainHooks(incentiveCrossChainHooks);
}
