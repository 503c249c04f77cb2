/**
 * The `Governance` contract: the channel's member set and the proposals its member orgs'
 * admins approve (PROTOCOL.md "Governance").
 *
 * @example
 *   const p = await admin.governance.propose({ kind: 'pause-route', routeId: 'r1' });
 *   await other.governance.approve(p.result.proposalId);
 */
import type { GovernanceAction, GovernanceProposal, MemberSet } from '@medbridge/chaincode';
import type { FabricClient } from '../client';
import { ContractClient, type Submitted } from './contract';

export const GovernanceTransactions = {
  Bootstrap: 'submit',
  GetMembers: 'evaluate',
  Propose: 'submit',
  Approve: 'submit',
  GetProposal: 'evaluate',
} as const;

export class GovernanceClient extends ContractClient<typeof GovernanceTransactions> {
  constructor(client: FabricClient, channel: string) {
    super(client, channel, 'Governance', GovernanceTransactions);
  }

  /** Writes the channel's member set once ('' chain id = the channel name). Caller: admin of a listed org. */
  bootstrap(chainId: string, members: readonly string[]): Promise<Submitted<MemberSet>> {
    return this.submit('Bootstrap', [chainId, JSON.stringify(members)]);
  }

  /** The chain id and the member orgs of this channel. */
  getMembers(): Promise<MemberSet> {
    return this.evaluate('GetMembers');
  }

  /** Proposes one action; the proposer's org approves at once (executes if that is every required org). */
  propose(action: GovernanceAction): Promise<Submitted<GovernanceProposal>> {
    return this.submit('Propose', [JSON.stringify(action)]);
  }

  /** The caller org's approval; the last required approval executes the action. */
  approve(proposalId: string): Promise<Submitted<GovernanceProposal>> {
    return this.submit('Approve', [proposalId]);
  }

  getProposal(proposalId: string): Promise<GovernanceProposal> {
    return this.evaluate('GetProposal', [proposalId]);
  }
}
