/**
 * The `Incentive` contract: credits, stakes, fee escrows, value actions approved by every
 * member org (mint, parameters, treasury), and slashing evidence (chaincode/INCENTIVES.md).
 * Amounts are whole credits.
 *
 * @example
 *   const { balance } = await cc.incentive.getBalance('org:HospitalAMSP');
 *   await admin.incentive.deposit('peer0.hospitala.example.com', 1000);
 */
import type {
  Account,
  Escrow,
  IncentiveParams,
  MintRecord,
  Page,
  PageRequest,
  ParamsInForce,
  SlashingEvidence,
  SlashRecord,
  Stake,
  StakeChange,
  StakeStatus,
  StakeWithdrawal,
  Supply,
  TransferResult,
  ValueAction,
  ValueProposal,
} from '@medbridge/chaincode';
import type { FabricClient } from '../client';
import { ContractClient, pageArgs, type Submitted } from './contract';

export const IncentiveTransactions = {
  GetBalance: 'evaluate',
  ListAccounts: 'evaluate',
  Transfer: 'submit',
  Mint: 'submit',
  SetParams: 'submit',
  TreasuryTransfer: 'submit',
  GetParams: 'evaluate',
  GetSupply: 'evaluate',
  ListMints: 'evaluate',
  GetValueProposal: 'evaluate',
  GetEscrow: 'evaluate',
  Deposit: 'submit',
  Unbond: 'submit',
  Withdraw: 'submit',
  GetStake: 'evaluate',
  ListStakes: 'evaluate',
  SubmitEvidence: 'submit',
} as const;

export class IncentiveClient extends ContractClient<typeof IncentiveTransactions> {
  constructor(client: FabricClient, channel: string) {
    super(client, channel, 'Incentive', IncentiveTransactions);
  }

  // ---------------------------------------------------------------- accounts

  /** Balance of `org:<mspId>`, `node:<nodeId>` or `treasury`. */
  getBalance(accountId: string): Promise<Account> {
    return this.evaluate('GetBalance', [accountId]);
  }

  listAccounts(page?: PageRequest): Promise<Page<Account>> {
    return this.evaluate('ListAccounts', pageArgs(page));
  }

  /** Moves credits from an account the caller's org controls (caller: admin of a member org). */
  transfer(fromAccount: string, toAccount: string, amount: number): Promise<Submitted<TransferResult>> {
    return this.submit('Transfer', [fromAccount, toAccount, String(amount)]);
  }

  // ---------------------------------------------------------------- value actions (every member org approves)

  /** This org's approval of minting `amount` to `toAccount`; the last approval executes it. */
  mint(toAccount: string, amount: number, memo: string): Promise<Submitted<ValueProposal>> {
    return this.submit('Mint', [toAccount, String(amount), memo]);
  }

  /** This org's approval of a parameter set (PARAMETERS_UNSAFE if it breaks the game). */
  setParams(params: IncentiveParams, memo: string): Promise<Submitted<ValueProposal>> {
    return this.submit('SetParams', [JSON.stringify(params), memo]);
  }

  /** This org's approval of paying `amount` from the treasury to `toAccount`. */
  treasuryTransfer(toAccount: string, amount: number, memo: string): Promise<Submitted<ValueProposal>> {
    return this.submit('TreasuryTransfer', [toAccount, String(amount), memo]);
  }

  /** This org's approval of `action`, through the transaction of its kind. */
  approveAction(action: ValueAction): Promise<Submitted<ValueProposal>> {
    switch (action.kind) {
      case 'mint':
        return this.mint(action.to, action.amount, action.memo);
      case 'treasury-transfer':
        return this.treasuryTransfer(action.to, action.amount, action.memo);
      case 'set-params':
        return this.setParams(action.params, action.memo);
    }
  }

  getValueProposal(proposalId: string): Promise<ValueProposal> {
    return this.evaluate('GetValueProposal', [proposalId]);
  }

  getParams(): Promise<ParamsInForce> {
    return this.evaluate('GetParams');
  }

  /** Everything minted, and the number of mints. */
  getSupply(): Promise<Supply> {
    return this.evaluate('GetSupply');
  }

  listMints(page?: PageRequest): Promise<Page<MintRecord>> {
    return this.evaluate('ListMints', pageArgs(page));
  }

  /** The fee escrow of a packet. */
  getEscrow(routeId: string, sequence: number): Promise<Escrow> {
    return this.evaluate('GetEscrow', [routeId, String(sequence)]);
  }

  // ---------------------------------------------------------------- stakes

  /** Locks `amount` from the caller org's account as the node's stake (caller: the node's own org's admin). */
  deposit(nodeId: string, amount: number): Promise<Submitted<StakeChange>> {
    return this.submit('Deposit', [nodeId, String(amount)]);
  }

  /** Starts unbonding `amount` of the node's bonded stake. */
  unbond(nodeId: string, amount: number): Promise<Submitted<StakeChange>> {
    return this.submit('Unbond', [nodeId, String(amount)]);
  }

  /** Pays every released unbonding entry back to the owner org. */
  withdraw(nodeId: string): Promise<Submitted<StakeWithdrawal>> {
    return this.submit('Withdraw', [nodeId]);
  }

  getStake(nodeId: string): Promise<StakeStatus> {
    return this.evaluate('GetStake', [nodeId]);
  }

  listStakes(page?: PageRequest): Promise<Page<Stake>> {
    return this.evaluate('ListStakes', pageArgs(page));
  }

  // ---------------------------------------------------------------- slashing

  /** Evidence that a node of this chain equivocated or signed an uncommitted packet; the caller's org reports. */
  submitEvidence(evidence: SlashingEvidence): Promise<Submitted<SlashRecord>> {
    return this.submit('SubmitEvidence', [JSON.stringify(evidence)]);
  }
}
