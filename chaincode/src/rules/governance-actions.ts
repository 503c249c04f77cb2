/**
 * The allowlist of governance actions (PROTOCOL.md "Governance"). A proposal carries one
 * action; it runs only when admins of every member org approved. Parsing is structural;
 * the governance contract checks each action against state when it executes.
 */
import { fail } from '../errors';
import { asObject, reqArray, reqId } from '../protocol/fields';
import { Limits } from '../protocol/limits';
import { parseNodeList, type VerificationNodeList } from '../protocol/node-list';
import { isPacketType, type PacketType } from '../protocol/packet';
import { parseOrgTrust, type OrgTrust } from '../protocol/path-proof';
import { parseRateLimit, type RateLimit } from './route-rules';

export type GovernanceAction =
  | { kind: 'set-node-list'; list: VerificationNodeList }
  | { kind: 'register-remote'; chainId: string; orgs: OrgTrust[]; nodeList: VerificationNodeList; schemes: string[] }
  | { kind: 'remove-remote'; chainId: string }
  | { kind: 'open-route'; routeId: string; counterparty: string; packetTypes: PacketType[]; rateLimit: RateLimit; schemes?: string[] }
  | { kind: 'update-route'; routeId: string; packetTypes: PacketType[]; rateLimit: RateLimit }
  | { kind: 'pause-route'; routeId: string }
  | { kind: 'resume-route'; routeId: string }
  | { kind: 'unfreeze-route'; routeId: string }
  | { kind: 'add-remote-root'; chainId: string; mspId: string; rootCert: string }
  | { kind: 'retire-remote-root'; chainId: string; mspId: string; rootCert: string };

export const ActionKinds = ['set-node-list', 'register-remote', 'remove-remote', 'open-route', 'update-route', 'pause-route', 'resume-route', 'unfreeze-route', 'add-remote-root', 'retire-remote-root'] as const;

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
      asObject(o, C, 'action', ['kind', 'chainId', 'orgs', 'nodeList', 'schemes']);
      const chainId = reqId(o, 'chainId', C, 'action');
      const orgs = reqArray(o, 'orgs', C, 'action', Limits.maxRemoteOrgs, 1).map((org, i) => parseOrgTrust(org, `org ${i}`));
      orgs.sort((a, b) => (a.mspId < b.mspId ? -1 : a.mspId > b.mspId ? 1 : 0));
      return { kind: 'register-remote', chainId, orgs, nodeList: parseNodeList(o.nodeList), schemes: proofSchemes(o) };
    }
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
    default:
      fail(C, `action.kind must be one of ${ActionKinds.join(', ')}`);
  }
}
