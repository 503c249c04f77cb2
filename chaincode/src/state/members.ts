/**
 * Who belongs to this channel's consortium, as medbridge sees it: the chain id that
 * other chains know this channel by, and the MSP ids of its member orgs. Written once by
 * `Governance:Bootstrap`; later changes go through governance proposals.
 */
import type { ChaincodeStub } from 'fabric-shim';
import type { Context } from 'fabric-contract-api';
import { fail } from '../errors';
import { caller, type Caller } from '../contracts/tx-context';
import { key, KeyTypes } from './keys';
import { getJson } from './store';

export interface MemberSet {
  chainId: string;
  /** MSP ids, sorted, unique. */
  members: string[];
}

export async function findMemberSet(stub: ChaincodeStub): Promise<MemberSet | undefined> {
  return getJson<MemberSet>(stub, key(stub, KeyTypes.Members));
}

export async function getMemberSet(stub: ChaincodeStub): Promise<MemberSet> {
  const set = await findMemberSet(stub);
  if (!set) fail('NOT_BOOTSTRAPPED', 'this channel has no medbridge member set yet; run Governance:Bootstrap');
  return set;
}

export async function isMember(stub: ChaincodeStub, mspId: string): Promise<boolean> {
  return (await getMemberSet(stub)).members.includes(mspId);
}

/** The caller, after checking that its org is a member of this channel's consortium. */
export async function requireMember(ctx: Context): Promise<Caller> {
  const who = caller(ctx);
  const set = await getMemberSet(ctx.stub);
  if (!set.members.includes(who.mspId)) fail('NOT_A_MEMBER', `${who.mspId} is not a member of ${set.chainId}`);
  return who;
}
