/**
 * Governance: the channel's own consortium decides (PROTOCOL.md "Governance").
 * Bootstrap writes the member set once; every later change is a proposal carrying one
 * allowlisted action, executed in the transaction in which the last required member org's
 * admin approves: every member org, except that removing a node for proven misbehaviour
 * (remove-node) does not wait for the accused node's org. This is the only way to set this chain's node list outside an epoch link,
 * to trust a remote chain, or to open, pause, resume, update or unfreeze a route.
 */
import { X509Certificate } from 'node:crypto';
import { Context, Info, Transaction } from 'fabric-contract-api';
import { MedbridgeContract } from './medbridge-contract';
import { fail } from '../errors';
import { canonicalize, parseJson } from '../protocol/canonical-json';
import { isProtocolId } from '../protocol/limits';
import { listHash } from '../protocol/node-list';
import { checkChainTrust, verifyCertPath } from '../protocol/path-proof';
import { knownSchemes } from '../protocol/schemes';
import { isApproved, markExecuted } from '../rules/approval';
import {
  approveProposal,
  listWithout,
  parseAction,
  proposalSummary,
  propose,
  requiredApprovers,
  type GovernanceAction,
} from '../rules/governance-actions';
import { rollRoot } from '../rules/root-rollover';
import { changeRoute, openRoute } from '../rules/route-rules';
import { judgeEvidence } from '../rules/slashing';
import { readEvidence } from './incentive-evidence';
import * as repo from '../state/crosschain-repo';
import { findMemberSet, getMemberSet, getProposal, putMemberSet, putProposal, type MemberSet } from '../state/governance-repo';
import { nodesMarkedForRemoval, requireCurrentListStaked, requireListStaked } from './incentive-hooks';
import { emit, requireMemberAdmin, requireRole, txTimeMs } from './tx-context';

export type { GovernanceProposal } from '../rules/governance-actions';

/** The org of the node a remove-node action accuses, from this chain's current list. */
async function accusedOrg(ctx: Context, action: GovernanceAction): Promise<string | undefined> {
  if (action.kind !== 'remove-node') return undefined;
  const list = await repo.getCurrentList(ctx.stub);
  return list?.subgroups.flatMap((s) => s.nodes).find((n) => n.nodeId === action.nodeId)?.mspId;
}

async function allApproved(ctx: Context, set: MemberSet, action: GovernanceAction, approvals: string[]): Promise<boolean> {
  return isApproved(approvals, requiredApprovers(set.members, action, await accusedOrg(ctx, action)));
}

@Info({ title: 'Governance', description: 'Channel membership and cross-chain configuration, by approval of the member orgs' })
export class GovernanceContract extends MedbridgeContract {
  constructor() {
    super('Governance');
  }

  /**
   * Writes this channel's member set once. membersJson: `["HospitalAMSP","HospitalCMSP"]`
   * (or `{"members":[...]}`); chainId must be '' or the channel name (a chain's id is its
   * channel name). Caller: admin of a listed org.
   */
  @Transaction()
  async Bootstrap(ctx: Context, chainId: string, membersJson: string): Promise<string> {
    const who = requireRole(ctx, 'admin');
    const parsed = parseJson(membersJson, 'membersJson');
    const raw = Array.isArray(parsed) ? parsed : (parsed as { members?: unknown } | null)?.members;
    if (!Array.isArray(raw) || raw.length === 0 || raw.length > 32) fail('INVALID_ARGUMENT', 'membersJson must list 1..32 MSP ids');
    for (const m of raw) if (!isProtocolId(m)) fail('INVALID_ARGUMENT', `member ${String(m)} is not an MSP id`);
    const members = [...new Set(raw as string[])].sort();
    if (members.length !== raw.length) fail('INVALID_ARGUMENT', 'membersJson lists an org twice');
    // A chain's id is its channel name: scheme-1 endorsements are bound to the channel they were
    // made on, and the verifier expects the channel a remote chain's id names (PROTOCOL.md).
    const id = chainId === '' ? ctx.stub.getChannelID() : chainId;
    if (id !== ctx.stub.getChannelID()) fail('WRONG_CHANNEL', `chainId ${id} must be this channel's name, ${ctx.stub.getChannelID()}`);
    if (!isProtocolId(id)) fail('INVALID_ARGUMENT', 'chainId must be an identifier');
    if (!members.includes(who.mspId)) fail('NOT_A_MEMBER', `${who.mspId} is not in the member list it bootstraps`);
    if (await findMemberSet(ctx.stub)) fail('ALREADY_EXISTS', 'this channel is already bootstrapped');
    const set: MemberSet = { chainId: id, members };
    await putMemberSet(ctx.stub, set);
    emit(ctx, 'Bootstrapped', set);
    return canonicalize(set);
  }

  @Transaction(false)
  async GetMembers(ctx: Context): Promise<string> {
    return canonicalize(await getMemberSet(ctx.stub));
  }

  /**
   * Proposes one action (actionJson: see rules/governance-actions.ts); the proposer's org
   * approves it at once. Returns the proposal; its id is this transaction's id.
   */
  @Transaction()
  async Propose(ctx: Context, actionJson: string): Promise<string> {
    const { who, set } = await requireMemberAdmin(ctx);
    const action = parseAction(parseJson(actionJson, 'actionJson'));
    const now = txTimeMs(ctx);
    let proposal = propose(action, who.mspId, ctx.stub.getTxID(), now);
    // Validate against current state now, so a proposal that cannot execute is refused early.
    const plan = await planAction(ctx, action, now);
    if (await allApproved(ctx, set, action, proposal.approvals)) {
      await plan();
      proposal = markExecuted(proposal, now);
    }
    await putProposal(ctx.stub, proposal);
    emit(ctx, 'GovernanceProposal', proposalSummary(proposal));
    return canonicalize(proposal);
  }

  /** Approves a pending proposal for the caller's org; executes it when every required member org approved. */
  @Transaction()
  async Approve(ctx: Context, proposalId: string): Promise<string> {
    const { who, set } = await requireMemberAdmin(ctx);
    const proposal = await getProposal(ctx.stub, proposalId);
    if (!proposal) fail('PROPOSAL_NOT_FOUND', `proposal ${proposalId} does not exist`);
    const now = txTimeMs(ctx);
    let next = approveProposal(proposal, who.mspId);
    if (await allApproved(ctx, set, next.action, next.approvals)) {
      const plan = await planAction(ctx, next.action, now);
      await plan();
      next = markExecuted(next, now);
    }
    await putProposal(ctx.stub, next);
    emit(ctx, 'GovernanceProposal', proposalSummary(next));
    return canonicalize(next);
  }

  @Transaction(false)
  async GetProposal(ctx: Context, proposalId: string): Promise<string> {
    const proposal = await getProposal(ctx.stub, proposalId);
    if (!proposal) fail('PROPOSAL_NOT_FOUND', `proposal ${proposalId} does not exist`);
    return canonicalize(proposal);
  }
}

/**
 * Checks an action against current state and returns the writes that execute it. Every
 * check happens before the first write, so a refused action changes nothing.
 */
async function planAction(ctx: Context, action: GovernanceAction, now: number): Promise<() => Promise<void>> {
  const stub = ctx.stub;
  const set = await getMemberSet(stub);
  switch (action.kind) {
    case 'set-node-list': {
      const list = action.list;
      if (list.chainId !== set.chainId) fail('INVALID_NODE_LIST', `list is for ${list.chainId}; this chain is ${set.chainId}`);
      const head = await repo.getListHead(stub);
      const expected = head ? head.epoch + 1 : 1;
      if (list.epoch !== expected) fail('EPOCH_SKIPPED', `the next list of ${set.chainId} is epoch ${expected}, not ${list.epoch}`);
      for (const s of list.subgroups) {
        if (!set.members.includes(s.mspId)) fail('INVALID_NODE_LIST', `${s.mspId} is not a member of ${set.chainId}`);
      }
      // A slashed node leaves at the next epoch; every listed node must hold its stake.
      const removed = new Set(await nodesMarkedForRemoval(ctx));
      for (const s of list.subgroups) {
        for (const n of s.nodes) {
          if (removed.has(n.nodeId)) fail('INVALID_NODE_LIST', `node ${n.nodeId} was slashed and must leave the list`);
        }
      }
      await requireListStaked(ctx, list);
      return async () => {
        await repo.putLocalList(stub, list);
      };
    }
    case 'register-remote': {
      if (action.chainId === set.chainId) fail('INVALID_ARGUMENT', 'a chain cannot register itself as a remote');
      const trust = { chainId: action.chainId, orgs: action.orgs };
      checkChainTrust(trust);
      const list = action.nodeList;
      if (list.chainId !== action.chainId) fail('INVALID_NODE_LIST', `node list is for ${list.chainId}, not ${action.chainId}`);
      for (const s of action.schemes) {
        if (!knownSchemes().includes(s)) fail('UNSUPPORTED_SCHEME', `proof scheme ${s} is not supported here`);
      }
      for (const s of list.subgroups) {
        for (const n of s.nodes) {
          verifyCertPath({
            cert: new X509Certificate(n.certPem),
            mspId: n.mspId,
            trust,
            extraIntermediates: [],
            atMs: now,
            what: `certificate of node ${n.nodeId}`,
          });
        }
      }
      const existing = await repo.getRemote(stub, action.chainId);
      if (existing && list.epoch < existing.epoch) {
        fail('EPOCH_STALE', `${action.chainId} is known at epoch ${existing.epoch}; governance cannot roll it back to ${list.epoch}`);
      }
      const policy = action.policy ?? existing?.policy;
      return async () => {
        await repo.putRemoteList(stub, list);
        await repo.putRemote(stub, {
          chainId: action.chainId,
          orgs: action.orgs,
          schemes: action.schemes,
          epoch: list.epoch,
          listHash: listHash(list),
          updatedAtMs: now,
          // Governance vouches for this list now: the trusting period starts again.
          epochAdoptedAtMs: now,
          ...(policy === undefined ? {} : { policy }),
        });
      };
    }
    case 'set-remote-policy': {
      const remote = await repo.getRemote(stub, action.chainId);
      if (!remote) fail('UNKNOWN_CHAIN', `${action.chainId} is not registered`);
      return async () => repo.putRemote(stub, { ...remote, policy: action.policy, updatedAtMs: now, epochAdoptedAtMs: remote.epochAdoptedAtMs ?? remote.updatedAtMs });
    }
    case 'remove-node': {
      // The evidence is verified here, against this chain's own lists, before anything is written.
      const offence = judgeEvidence(await readEvidence(ctx, JSON.stringify(action.evidence)));
      if (offence.nodeId !== action.nodeId) fail('EVIDENCE_INVALID', `the evidence accuses ${offence.nodeId}, not ${action.nodeId}`);
      const current = await repo.getCurrentList(stub);
      if (!current) fail('NOT_FOUND', 'this chain has no verification node list');
      const next = listWithout(current, action.nodeId);
      await requireListStaked(ctx, next);
      return async () => {
        await repo.putLocalList(stub, next);
      };
    }
    case 'remove-remote': {
      if (!(await repo.getRemote(stub, action.chainId))) fail('UNKNOWN_CHAIN', `${action.chainId} is not registered`);
      return async () => repo.deleteRemote(stub, action.chainId);
    }
    case 'open-route': {
      const route = openRoute(action, await repo.getRoute(stub, action.routeId), await repo.getRemote(stub, action.counterparty), now);
      // Opening a route is the deployment the signers answer for: they must be staked.
      await requireCurrentListStaked(ctx);
      return async () => repo.putRoute(stub, route);
    }
    case 'add-remote-root':
    case 'retire-remote-root': {
      const remote = await repo.getRemote(stub, action.chainId);
      if (!remote) fail('UNKNOWN_CHAIN', `${action.chainId} is not registered`);
      const latest = action.kind === 'retire-remote-root' ? await repo.getRemoteList(stub, action.chainId, remote.epoch) : undefined;
      const orgs = rollRoot(remote, action, latest, now);
      return async () => repo.putRemote(stub, { ...remote, orgs, updatedAtMs: now });
    }
    case 'admit-member': {
      // An org the channel's configuration update already added (network/DEPLOY.md path A): from
      // now on it is a member like the bootstrapped ones, and a required approver of every
      // later proposal. Fabric, not this contract, decides which MSPs may transact at all.
      if (set.members.includes(action.mspId)) fail('ALREADY_EXISTS', `${action.mspId} is already a member of ${set.chainId}`);
      if (set.members.length >= 32) fail('INVALID_ARGUMENT', `${set.chainId} has 32 members, the most a member set holds`);
      const next: MemberSet = { chainId: set.chainId, members: [...set.members, action.mspId].sort() };
      return async () => putMemberSet(stub, next);
    }
    case 'update-route':
    case 'pause-route':
    case 'resume-route':
    case 'unfreeze-route': {
      const route = await repo.getRoute(stub, action.routeId);
      if (!route) fail('ROUTE_NOT_OPEN', `route ${action.routeId} does not exist`);
      const next = changeRoute(route, action, now);
      return async () => repo.putRoute(stub, next);
    }
  }
}
