/**
 * The allowlist of governance actions (PROTOCOL.md "Governance"). A proposal carries one
 * action; it runs only when admins of every member org approved (remove-node: every member
 * org but the one whose node the evidence accuses; see requiredApprovers; the approval rule
 * itself is rules/approval.ts). Parsing is structural;
 * the governance contract checks each action against state when it executes.
 */
import { fail } from '../errors';
import { canonicalHash, type Json } from '../protocol/canonical-json';
import { asObject, reqArray, reqId } from '../protocol/fields';
import { Limits } from '../protocol/limits';
import { parseNodeList, type VerificationNodeList } from '../protocol/node-list';
import { isPacketType, type PacketType } from '../protocol/packet';
import { parseOrgTrust, type OrgTrust } from '../protocol/path-proof';
import { addApproval, type Approvals } from './approval';
import { parseRateLimit, type RateLimit } from './route-rules';
import { parseTrustPolicy, type TrustPolicy } from './trust-policy';

export type GovernanceAction =
  | { kind: 'set-node-list'; list: VerificationNodeList }
  | { kind: 'register-remote'; chainId: string; orgs: OrgTrust[]; nodeList: VerificationNodeList; schemes: string[]; policy?: TrustPolicy }
  | { kind: 'set-remote-policy'; chainId: string; policy: TrustPolicy }
  | { kind: 'remove-remote'; chainId: string }
  | { kind: 'open-route'; routeId: string; counterparty: string; packetTypes: PacketType[]; rateLimit: RateLimit; schemes?: string[] }
  | { kind: 'update-route'; routeId: string; packetTypes: PacketType[]; rateLimit: RateLimit }
  | { kind: 'pause-route'; routeId: string }
  | { kind: 'resume-route'; routeId: string }
  | { kind: 'unfreeze-route'; routeId: string }
  | { kind: 'add-remote-root'; chainId: string; mspId: string; rootCert: string }
  | { kind: 'retire-remote-root'; chainId: string; mspId: string; rootCert: string }
  | { kind: 'remove-node'; nodeId: string; evidence: Json }
  | { kind: 'admit-member'; mspId: string };

export const ActionKinds = ['set-node-list', 'register-remote', 'set-remote-policy', 'remove-remote', 'open-route', 'update-route', 'pause-route', 'resume-route', 'unfreeze-route', 'add-remote-root', 'retire-remote-root', 'remove-node', 'admit-member'] as const;

const C = 'INVALID_ARGUMENT' as const;

function packetTypes(o: Record<string, unknown>): PacketType[] {
  const types = reqArray(o, 'packetTypes', C, 'action', 16, 1).map((t) => {
    if (!isPacketType(t)) fail('PACKET_TYPE_NOT_ALLOWED', `packet type ${String(t)} is not allowlisted`);
    return t;
  });
  return [...new Set(types)].sort();
}

function proofSchemes(o: Record<string, unknown>): string[] {
  return [...new Set(reqArray(o, 'schemes', C, 'action', 8, 1).map((s, i) => reqId({ s }, 's', C, `scheme ${i}`)))].sort();
}

export function parseAction(value: unknown): GovernanceAction {
  const o = asObject(value, C, 'action');
  switch (o.kind) {
    case 'set-node-list':
      asObject(o, C, 'action', ['kind', 'list']);
      return { kind: 'set-node-list', list: parseNodeList(o.list) };
    case 'register-remote': {
      asObject(o, C, 'action', ['kind', 'chainId', 'orgs', 'nodeList', 'schemes', 'policy']);
      const chainId = reqId(o, 'chainId', C, 'action');
      const orgs = reqArray(o, 'orgs', C, 'action', Limits.maxRemoteOrgs, 1).map((org, i) => parseOrgTrust(org, `org ${i}`));
      orgs.sort((a, b) => (a.mspId < b.mspId ? -1 : a.mspId > b.mspId ? 1 : 0));
      const registered = { kind: 'register-remote' as const, chainId, orgs, nodeList: parseNodeList(o.nodeList), schemes: proofSchemes(o) };
      // Optional: the trust floor and trusting period (rules/trust-policy.ts); absent keeps the current one.
      return o.policy === undefined ? registered : { ...registered, policy: parseTrustPolicy(o.policy) };
    }
    case 'set-remote-policy':
      asObject(o, C, 'action', ['kind', 'chainId', 'policy']);
      return { kind: 'set-remote-policy', chainId: reqId(o, 'chainId', C, 'action'), policy: parseTrustPolicy(o.policy) };
    case 'remove-remote':
      asObject(o, C, 'action', ['kind', 'chainId']);
      return { kind: 'remove-remote', chainId: reqId(o, 'chainId', C, 'action') };
    case 'open-route':
      asObject(o, C, 'action', ['kind', 'routeId', 'counterparty', 'packetTypes', 'rateLimit', 'schemes']);
      return {
        kind: 'open-route',
        routeId: reqId(o, 'routeId', C, 'action'),
        counterparty: reqId(o, 'counterparty', C, 'action'),
        packetTypes: packetTypes(o),
        rateLimit: parseRateLimit(o.rateLimit),
        // Optional: the proof schemes this route accepts; absent = every scheme registered for the counterparty.
        ...(o.schemes === undefined ? {} : { schemes: proofSchemes(o) }),
      };
    case 'update-route':
      asObject(o, C, 'action', ['kind', 'routeId', 'packetTypes', 'rateLimit']);
      return { kind: 'update-route', routeId: reqId(o, 'routeId', C, 'action'), packetTypes: packetTypes(o), rateLimit: parseRateLimit(o.rateLimit) };
    case 'pause-route':
    case 'resume-route':
    case 'unfreeze-route':
      asObject(o, C, 'action', ['kind', 'routeId']);
      return { kind: o.kind, routeId: reqId(o, 'routeId', C, 'action') };
    case 'add-remote-root':
    case 'retire-remote-root': {
      // CA roll-over of one org of a registered remote chain (NETWORKS.md "Remote chain lifecycle").
      asObject(o, C, 'action', ['kind', 'chainId', 'mspId', 'rootCert']);
      const chainId = reqId(o, 'chainId', C, 'action');
      const mspId = reqId(o, 'mspId', C, 'action');
      const [rootCert] = parseOrgTrust({ mspId, rootCerts: [o.rootCert], intermediateCerts: [], revokedSerials: [] }, 'action').rootCerts;
      return { kind: o.kind, chainId, mspId, rootCert: rootCert! };
    }
    case 'remove-node': {
      // Removal of a node of this chain that verified evidence shows misbehaving (slashing.ts
      // offences); the evidence is checked against state when the action executes.
      asObject(o, C, 'action', ['kind', 'nodeId', 'evidence']);
      const nodeId = reqId(o, 'nodeId', C, 'action');
      asObject(o.evidence, 'EVIDENCE_INVALID', 'action.evidence');
      return { kind: 'remove-node', nodeId, evidence: o.evidence as Json };
    }
    case 'admit-member': {
      asObject(o, C, 'action', ['kind', 'mspId']);
      return { kind: 'admit-member', mspId: reqId(o, 'mspId', C, 'action') };
    }
    default:
      fail(C, `action.kind must be one of ${ActionKinds.join(', ')}`);
  }
}

/**
 * The member orgs whose admins must approve `action`. Every member, except that removing a
 * node for a proven offence does not need the approval of the node's own org (`accusedMspId`),
 * which would otherwise veto its own node's removal. A chain of one org still needs that org.
 */
export function requiredApprovers(members: readonly string[], action: GovernanceAction, accusedMspId?: string): string[] {
  if (action.kind !== 'remove-node' || accusedMspId === undefined) return [...members];
  const others = members.filter((m) => m !== accusedMspId);
  return others.length > 0 ? others : [...members];
}

/** A governance proposal as stored; its id is the id of the transaction that proposed it. */
export interface GovernanceProposal extends Approvals {
  action: GovernanceAction;
  actionHash: string;
  proposer: string;
  createdAtMs: number;
}

const PROPOSAL = { noun: 'proposal' } as const;

/** A new proposal of `action`, approved at once by the proposer's org. */
export function propose(action: GovernanceAction, proposer: string, proposalId: string, nowMs: number): GovernanceProposal {
  const fresh: GovernanceProposal = {
    proposalId,
    action,
    actionHash: canonicalHash(action),
    proposer,
    approvals: [],
    status: 'pending',
    createdAtMs: nowMs,
  };
  return addApproval(fresh, proposer, PROPOSAL);
}

/** `mspId`'s approval of a stored proposal (ALREADY_APPROVED when executed or approved by that org before). */
export function approveProposal(proposal: GovernanceProposal, mspId: string): GovernanceProposal {
  return addApproval(proposal, mspId, PROPOSAL);
}

/** What the GovernanceProposal event carries. */
export function proposalSummary(p: GovernanceProposal): object {
  return { proposalId: p.proposalId, kind: p.action.kind, actionHash: p.actionHash, approvals: p.approvals, status: p.status };
}

/**
 * The list after removing `nodeId` from `list` at the next epoch: its subgroup keeps its
 * threshold unless fewer nodes remain (then all remaining nodes must sign); a subgroup left
 * empty leaves the list, and a k-of-m rule keeps k unless fewer subgroups remain.
 */
export function listWithout(list: VerificationNodeList, nodeId: string): VerificationNodeList {
  if (!list.subgroups.some((s) => s.nodes.some((n) => n.nodeId === nodeId))) {
    fail('NOT_FOUND', `node ${nodeId} is not in list epoch ${list.epoch} of ${list.chainId}`);
  }
  const subgroups = list.subgroups
    .map((s) => {
      const nodes = s.nodes.filter((n) => n.nodeId !== nodeId);
      return { ...s, nodes, threshold: Math.min(s.threshold, nodes.length) };
    })
    .filter((s) => s.nodes.length > 0);
  if (subgroups.length === 0) fail('INVALID_NODE_LIST', `removing ${nodeId} would leave ${list.chainId} without verification nodes`);
  const rule = list.rule.kind === 'k-of-m' ? { kind: 'k-of-m' as const, k: Math.min(list.rule.k, subgroups.length) } : list.rule;
  return parseNodeList({ chainId: list.chainId, epoch: list.epoch + 1, subgroups, rule });
}
