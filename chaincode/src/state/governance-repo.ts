/**
 * Governance state (PROTOCOL.md "Governance"): the member set of this channel's consortium
 * (the chain id other chains know this channel by, and the MSP ids of its member orgs),
 * written once by `Governance:Bootstrap`, and the governance proposals.
 */
import type { ChaincodeStub } from 'fabric-shim';
import { fail } from '../errors';
import type { GovernanceProposal } from '../rules/governance-actions';
import { key, KeyTypes } from './keys';
import { getJson, putJson } from './store';

export interface MemberSet {
  chainId: string;
  /** MSP ids, sorted, unique. */
  members: string[];
}

export async function findMemberSet(stub: ChaincodeStub): Promise<MemberSet | undefined> {
  return getJson<MemberSet>(stub, key(stub, KeyTypes.Members));
}

/** The member set; NOT_BOOTSTRAPPED before Governance:Bootstrap. */
export async function getMemberSet(stub: ChaincodeStub): Promise<MemberSet> {
  const set = await findMemberSet(stub);
  if (!set) fail('NOT_BOOTSTRAPPED', 'this channel has no medbridge member set yet; run Governance:Bootstrap');
  return set;
}

export async function putMemberSet(stub: ChaincodeStub, set: MemberSet): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.Members), set);
}

export async function getProposal(stub: ChaincodeStub, proposalId: string): Promise<GovernanceProposal | undefined> {
  return getJson<GovernanceProposal>(stub, key(stub, KeyTypes.Proposal, proposalId));
}

export async function putProposal(stub: ChaincodeStub, proposal: GovernanceProposal): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.Proposal, proposal.proposalId), proposal);
}
