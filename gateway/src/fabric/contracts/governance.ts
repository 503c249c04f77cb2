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
import { ClientError } from '../../errors';
import { ContractClient, orAbsent, type Submitted } from './contract';

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

  /**
   * The proposal once this client's peer has it, waiting at most `waitMs` (then PROPOSAL_NOT_FOUND):
   * for an approval right after the propose, since a submit returns when the proposer's peer
   * committed and another org's peer may be a block behind.
   */
  async proposalOnPeer(proposalId: string, waitMs: number): Promise<GovernanceProposal> {
    const until = Date.now() + waitMs;
    for (;;) {
      const p = await orAbsent(this.getProposal(proposalId), ['PROPOSAL_NOT_FOUND']);
      if (p !== undefined) return p;
      if (Date.now() > until) throw new ClientError('PROPOSAL_NOT_FOUND', 'rejected', `proposal ${proposalId} is not on this org's peer after ${waitMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
