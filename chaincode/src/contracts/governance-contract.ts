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
import { canonicalHash, canonicalize, parseJson } from '../protocol/canonical-json';
import { isProtocolId, Limits } from '../protocol/limits';
import { listHash } from '../protocol/node-list';
import { checkChainTrust, verifyCertPath, type ChainTrust } from '../protocol/path-proof';
import { knownSchemes } from '../protocol/schemes';
import { listWithout, parseAction, requiredApprovers, type GovernanceAction } from '../rules/governance-actions';
import { judgeEvidence } from '../rules/slashing';
import { readEvidence } from './incentive-evidence';
import * as repo from '../state/crosschain-repo';
import { key, KeyTypes } from '../state/keys';
import { findMemberSet, getMemberSet, type MemberSet } from '../state/members';
import { getJson, putJson } from '../state/store';
import { nodesMarkedForRemoval, requireCurrentListStaked, requireListStaked } from './incentive-hooks';
import { requireRole, txTimeMs, type Caller } from './tx-context';

export interface GovernanceProposal {
  proposalId: string;
  action: GovernanceAction;
  actionHash: string;
  proposer: string;
  /** MSP ids whose admins approved, sorted. */
  approvals: string[];
  status: 'pending' | 'executed';
  createdAtMs: number;
  executedAtMs?: number;
}

async function requireMemberAdmin(ctx: Context): Promise<{ who: Caller; set: MemberSet }> {
  const who = requireRole(ctx, 'admin');
  const set = await getMemberSet(ctx.stub);
  if (!set.members.includes(who.mspId)) fail('NOT_A_MEMBER', `${who.mspId} is not a member of ${set.chainId}`);
  return { who, set };
}

/** The org of the node a remove-node action accuses, from this chain's current list. */
async function accusedOrg(ctx: Context, action: GovernanceAction): Promise<string | undefined> {
  if (action.kind !== 'remove-node') return undefined;
  const head = await repo.getListHead(ctx.stub);
  const list = head ? await repo.getLocalList(ctx.stub, head.epoch) : undefined;
  return list?.subgroups.flatMap((s) => s.nodes).find((n) => n.nodeId === action.nodeId)?.mspId;
}

async function allApproved(ctx: Context, set: MemberSet, action: GovernanceAction, approvals: string[]): Promise<boolean> {
  return requiredApprovers(set.members, action, await accusedOrg(ctx, action)).every((m) => approvals.includes(m));
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
    await putJson(ctx.stub, key(ctx.stub, KeyTypes.Members), set);
    ctx.stub.setEvent('Bootstrapped', Buffer.from(canonicalize(set)));
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
    const proposal: GovernanceProposal = {
      proposalId: ctx.stub.getTxID(),
      action,
      actionHash: canonicalHash(action),
      proposer: who.mspId,
      approvals: [who.mspId],
      status: 'pending',
      createdAtMs: now,
    };
    // Validate against current state now, so a proposal that cannot execute is refused early.
    const plan = await planAction(ctx, action, now);
    if (await allApproved(ctx, set, action, proposal.approvals)) {
      await plan();
      proposal.status = 'executed';
      proposal.executedAtMs = now;
    }
    await putJson(ctx.stub, key(ctx.stub, KeyTypes.Proposal, proposal.proposalId), proposal);
    ctx.stub.setEvent('GovernanceProposal', Buffer.from(canonicalize(summary(proposal))));
    return canonicalize(proposal);
  }

  /** Approves a pending proposal for the caller's org; executes it when every required member org approved. */
  @Transaction()
  async Approve(ctx: Context, proposalId: string): Promise<string> {
    const { who, set } = await requireMemberAdmin(ctx);
    const k = key(ctx.stub, KeyTypes.Proposal, proposalId);
    const proposal = await getJson<GovernanceProposal>(ctx.stub, k);
    if (!proposal) fail('PROPOSAL_NOT_FOUND', `proposal ${proposalId} does not exist`);
    if (proposal.status !== 'pending') fail('ALREADY_APPROVED', `proposal ${proposalId} was already executed`);
    if (proposal.approvals.includes(who.mspId)) fail('ALREADY_APPROVED', `${who.mspId} already approved proposal ${proposalId}`);
    const now = txTimeMs(ctx);
    const next: GovernanceProposal = { ...proposal, approvals: [...proposal.approvals, who.mspId].sort() };
    if (await allApproved(ctx, set, next.action, next.approvals)) {
      const plan = await planAction(ctx, next.action, now);
      await plan();
      next.status = 'executed';
      next.executedAtMs = now;
    }
    await putJson(ctx.stub, k, next);
    ctx.stub.setEvent('GovernanceProposal', Buffer.from(canonicalize(summary(next))));
    return canonicalize(next);
  }

  @Transaction(false)
  async GetProposal(ctx: Context, proposalId: string): Promise<string> {
    const proposal = await getJson<GovernanceProposal>(ctx.stub, key(ctx.stub, KeyTypes.Proposal, proposalId));
    if (!proposal) fail('PROPOSAL_NOT_FOUND', `proposal ${proposalId} does not exist`);
    return canonicalize(proposal);
  }
}

/** Whether a node certificate has a valid path to the roots of `trust` now (any failure: no). */
function chainsTo(certPem: string, mspId: string, trust: ChainTrust, atMs: number, nodeId: string): boolean {
  try {
    verifyCertPath({ cert: new X509Certificate(certPem), mspId, trust, extraIntermediates: [], atMs, what: `certificate of node ${nodeId}` });
    return true;
  } catch {
    return false;
  }
}

function summary(p: GovernanceProposal): object {
  return { proposalId: p.proposalId, kind: p.action.kind, actionHash: p.actionHash, approvals: p.approvals, status: p.status };
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
      const head = await repo.getListHead(stub);
      const current = head ? await repo.getLocalList(stub, head.epoch) : undefined;
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
      if (await repo.getRoute(stub, action.routeId)) fail('ALREADY_EXISTS', `route ${action.routeId} exists`);
      const remote = await repo.getRemote(stub, action.counterparty);
      if (!remote) fail('UNKNOWN_CHAIN', `${action.counterparty} is not a registered remote chain`);
      for (const s of action.schemes ?? []) {
        if (!remote.schemes.includes(s)) fail('UNSUPPORTED_SCHEME', `proof scheme ${s} is not registered for ${action.counterparty}`);
      }
      // Opening a route is the deployment the signers answer for: they must be staked.
      await requireCurrentListStaked(ctx);
      return async () =>
        repo.putRoute(stub, {
          routeId: action.routeId,
          counterparty: action.counterparty,
          status: 'open',
          packetTypes: action.packetTypes,
          rateLimit: action.rateLimit,
          ...(action.schemes === undefined ? {} : { schemes: action.schemes }),
          nextSendSequence: 1,
          nextRecvSequence: 1,
          sendWindow: { start: 0, count: 0 },
          recvWindow: { start: 0, count: 0 },
          updatedAtMs: now,
        });
    }
    case 'add-remote-root':
    case 'retire-remote-root': {
      const remote = await repo.getRemote(stub, action.chainId);
      if (!remote) fail('UNKNOWN_CHAIN', `${action.chainId} is not registered`);
      const org = remote.orgs.find((o) => o.mspId === action.mspId);
      if (!org) fail('NOT_FOUND', `${action.mspId} is not a registered org of ${action.chainId}`);
      const fp = new X509Certificate(action.rootCert).fingerprint256;
      const has = org.rootCerts.some((r) => new X509Certificate(r).fingerprint256 === fp);
      let rootCerts: string[];
      if (action.kind === 'add-remote-root') {
        if (has) fail('ALREADY_EXISTS', `this root is already registered for ${action.mspId} of ${action.chainId}`);
        if (org.rootCerts.length >= Limits.maxCertsPerOrg) fail('INVALID_ARGUMENT', `${action.mspId} already has ${Limits.maxCertsPerOrg} roots; retire one first`);
        rootCerts = [...org.rootCerts, action.rootCert];
      } else {
        if (!has) fail('NOT_FOUND', `this root is not registered for ${action.mspId} of ${action.chainId}`);
        if (org.rootCerts.length === 1) fail('INVALID_ARGUMENT', `${action.mspId} of ${action.chainId} would have no root left; add its new root first (add-remote-root)`);
        // Retire only once no node of the latest known list still chains to this root.
        const list = await repo.getRemoteList(stub, action.chainId, remote.epoch);
        const only = { chainId: action.chainId, orgs: [{ ...org, rootCerts: [action.rootCert] }] };
        for (const s of list?.subgroups ?? []) {
          for (const n of s.nodes.filter((x) => x.mspId === action.mspId)) {
            if (chainsTo(n.certPem, n.mspId, only, now, n.nodeId)) {
              fail('ROOT_IN_USE', `node ${n.nodeId} of ${action.chainId}'s list at epoch ${remote.epoch} still chains to this root; retire it once a list without its certificates is known here`);
            }
          }
        }
        rootCerts = org.rootCerts.filter((r) => new X509Certificate(r).fingerprint256 !== fp);
      }
      const orgs = remote.orgs.map((o) => (o.mspId === action.mspId ? { ...o, rootCerts } : o));
      checkChainTrust({ chainId: action.chainId, orgs });
      return async () => repo.putRemote(stub, { ...remote, orgs, updatedAtMs: now });
    }
    case 'update-route':
    case 'pause-route':
    case 'resume-route':
    case 'unfreeze-route': {
      const route = await repo.getRoute(stub, action.routeId);
      if (!route) fail('ROUTE_NOT_OPEN', `route ${action.routeId} does not exist`);
      let next: repo.RouteRecord;
      if (action.kind === 'update-route') {
        next = { ...route, packetTypes: action.packetTypes, rateLimit: action.rateLimit };
      } else if (action.kind === 'pause-route') {
        if (route.status !== 'open') fail('ROUTE_NOT_OPEN', `route ${action.routeId} is ${route.status}, not open`);
        next = { ...route, status: 'paused' };
      } else if (action.kind === 'resume-route') {
        if (route.status !== 'paused') fail('ROUTE_NOT_OPEN', `route ${action.routeId} is ${route.status}, not paused`);
        next = { ...route, status: 'open' };
      } else {
        if (route.status !== 'frozen') fail('ROUTE_NOT_OPEN', `route ${action.routeId} is ${route.status}, not frozen`);
        const { frozenReason: _dropped, ...rest } = route;
        next = { ...rest, status: 'open' };
      }
      next.updatedAtMs = now;
      return async () => repo.putRoute(stub, next);
    }
  }
}
