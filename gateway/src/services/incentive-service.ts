/**
 * Value transfer on one channel (the Incentive contract, chaincode/INCENTIVES.md): balances,
 * stakes, fee escrows, governance of minting and parameters, and slashing evidence.
 *
 * `IncentiveService` is one org's view (reads with any identity; stake and approval calls
 * need the org's admin). `ValueGovernance` holds the admin of every member org that has a
 * profile here (the embedded network) and runs a value action through all approvals.
 * `SettlementWatcher` waits for a packet's fee to be settled, by the source chain's events.
 *
 * @example
 *   const value = new IncentiveService(new Chaincode(FabricClient.open('HospitalA'), 'chain-a'));
 *   const { balance } = await value.balance('org:HospitalAMSP');
 *   const snapshot = await value.snapshot(); // supply, sums of balances and stakes
 */
import type {
  Account,
  Escrow,
  IncentiveParams,
  MintRecord,
  ParamsInForce,
  Payout,
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
import type { Logger } from 'pino';
import { ClientError, usageError } from '../errors';
import { FabricClient } from '../fabric/client';
import { allPages, Chaincode, orAbsent, SettlementEvents, type IncentiveClient, type Submitted } from '../fabric/contracts';
import { loadProfile, profilesForChannel, type Profile } from '../fabric/profile';
import { silentLogger } from '../logger';
import { PacketEventWatcher } from './packet-event-watcher';

/** A stake as listed (`stakes()`), or with its signer status and slash record (`stake()`). */
export type StakeRecord = Stake & Partial<Pick<StakeStatus, 'countsAsSigner' | 'slash'>>;

/** The chaincode's own types: one definition for both sides. */
export type { Account, Escrow, IncentiveParams, Payout, SlashRecord, ValueAction, ValueProposal };

/** Totals of one channel's value ledger at one moment. */
export interface ValueSnapshot {
  /** Everything ever minted. */
  supply: number;
  mints: number;
  /** Sum of every account balance (orgs, nodes, treasury). */
  balances: number;
  /** Sum of every stake, bonded and unbonding. */
  stakes: number;
  /** supply - balances - stakes: what fee escrows hold (conservation: never negative). */
  escrowed: number;
  accounts: Account[];
  stakeRecords: StakeRecord[];
}

const PAGE = 200;

/**
 * An account id from what a person types: `org:<MSP>`, `node:<nodeId>`, `treasury`, an
 * MSP id (`HospitalAMSP`), an org name with a profile (`HospitalA`), or a node (peer) name.
 */
export function accountIdOf(text: string): string {
  if (text === 'treasury' || text.startsWith('org:') || text.startsWith('node:')) return text;
  if (/MSP$/.test(text)) return `org:${text}`;
  if (text.includes('.')) return `node:${text}`;
  try {
    return `org:${loadProfile(text).mspId}`;
  } catch {
    throw usageError(`account ${text}: use org:<MSP id>, node:<node id>, treasury, an MSP id or an org name with a profile`);
  }
}

export class IncentiveService {
  constructor(readonly chaincode: Chaincode) {}

  get channel(): string {
    return this.chaincode.channel;
  }

  private get incentive(): IncentiveClient {
    return this.chaincode.incentive;
  }

  balance(accountId: string): Promise<Account> {
    return this.incentive.getBalance(accountId);
  }

  /** Every account, all pages, in key order. */
  accounts(): Promise<Account[]> {
    return allPages((page) => this.incentive.listAccounts({ ...page, pageSize: PAGE }));
  }

  /** Every stake, all pages, in key order. */
  stakes(): Promise<StakeRecord[]> {
    return allPages((page) => this.incentive.listStakes({ ...page, pageSize: PAGE }));
  }

  /** A node's stake, whether it counts as a signer, and its slash record; NOT_FOUND when it has none. */
  stakeStatus(nodeId: string): Promise<StakeStatus> {
    return this.incentive.getStake(nodeId);
  }

  /** A node's stake, or undefined when it has none. */
  stake(nodeId: string): Promise<StakeStatus | undefined> {
    return orAbsent(this.stakeStatus(nodeId));
  }

  /** A packet's fee escrow; NOT_FOUND when it has none (value transfer off when it was sent). */
  feeEscrow(routeId: string, sequence: number): Promise<Escrow> {
    return this.incentive.getEscrow(routeId, sequence);
  }

  /** A packet's fee escrow, or undefined when it has none. */
  escrow(routeId: string, sequence: number): Promise<Escrow | undefined> {
    return orAbsent(this.feeEscrow(routeId, sequence));
  }

  params(): Promise<ParamsInForce> {
    return this.incentive.getParams();
  }

  supply(): Promise<Supply> {
    return this.incentive.getSupply();
  }

  proposal(proposalId: string): Promise<ValueProposal> {
    return this.incentive.getValueProposal(proposalId);
  }

  mints(): Promise<MintRecord[]> {
    return allPages((page) => this.incentive.listMints({ ...page, pageSize: PAGE }));
  }

  deposit(nodeId: string, amount: number): Promise<Submitted<StakeChange>> {
    return this.incentive.deposit(nodeId, amount);
  }

  unbond(nodeId: string, amount: number): Promise<Submitted<StakeChange>> {
    return this.incentive.unbond(nodeId, amount);
  }

  withdraw(nodeId: string): Promise<Submitted<StakeWithdrawal>> {
    return this.incentive.withdraw(nodeId);
  }

  transfer(from: string, to: string, amount: number): Promise<Submitted<TransferResult>> {
    return this.incentive.transfer(from, to, amount);
  }

  /** This org's approval of a value action (the last member's approval executes it). */
  approve(action: ValueAction): Promise<Submitted<ValueProposal>> {
    return this.incentive.approveAction(action);
  }

  /** Approves an existing proposal by id (its action is read back from the chain). */
  async approveProposal(proposalId: string): Promise<Submitted<ValueProposal>> {
    return this.approve((await this.proposal(proposalId)).action);
  }

  /** Slashing evidence (conflict or uncommitted, INCENTIVES.md "Evidence"); the caller's org is the reporter. */
  submitEvidence(evidence: SlashingEvidence): Promise<Submitted<SlashRecord>> {
    return this.incentive.submitEvidence(evidence);
  }

  /** Supply, balances and stakes at one moment (several reads: quiet channels only). */
  async snapshot(): Promise<ValueSnapshot> {
    const [supply, accounts, stakeRecords] = [await this.supply(), await this.accounts(), await this.stakes()];
    const balances = accounts.reduce((s, a) => s + a.balance, 0);
    const stakes = stakeRecords.reduce((s, r) => s + r.bonded + r.unbonding.reduce((u, e) => u + e.amount, 0), 0);
    return { supply: supply.total, mints: supply.mints, balances, stakes, escrowed: supply.total - balances - stakes, accounts, stakeRecords };
  }
}

/** What ensureValueTransfer did (empty when everything was in place). */
export interface ValueSetup {
  steps: string[];
  params: IncentiveParams;
}

/**
 * The admins of every member org of a channel that has a profile here, acting together:
 * value actions run through every approval, and the embedded network's value transfer is
 * switched on (funds, stakes, parameters) idempotently.
 */
export class ValueGovernance {
  private readonly admins = new Map<string, IncentiveService>();

  constructor(
    readonly channel: string,
    private readonly log: Logger = silentLogger,
  ) {}

  get members(): Profile[] {
    const orgs = profilesForChannel(this.channel);
    if (orgs.length === 0) throw usageError(`no org profile is a member of ${this.channel}`);
    return orgs;
  }

  /** The Incentive service of an org's admin (opened once). */
  admin(p: Profile): IncentiveService {
    let s = this.admins.get(p.mspId);
    if (!s) {
      s = new IncentiveService(new Chaincode(FabricClient.open(p, { identity: 'admin', logger: this.log }), this.channel));
      this.admins.set(p.mspId, s);
    }
    return s;
  }

  /** Approves `action` with every member org not yet on it; returns the executed proposal. */
  async approveAll(action: ValueAction): Promise<ValueProposal> {
    let p: ValueProposal | undefined;
    for (const org of this.members) {
      if (p?.status === 'executed') break;
      if (p?.approvals.includes(org.mspId)) continue;
      p = (await this.admin(org).approve(action)).result;
    }
    if (!p || p.status !== 'executed') {
      throw new ClientError('INTERNAL', 'other', `value action ${p?.proposalId ?? action.kind} on ${this.channel} is still pending; approvals: ${p?.approvals.join(', ') ?? ''}`);
    }
    this.log.info({ channel: this.channel, kind: action.kind, proposalId: p.proposalId }, 'value action executed');
    return p;
  }

  /**
   * Value transfer on, idempotently: each member org holds at least `orgFloor` credits
   * (minted by all members when below), each peer of a member org holds a counting stake
   * deposited by its own org (list changes and route openings require it), and the
   * parameters are set (`params`, or the ones in force) when value transfer is still off.
   */
  async ensureValueTransfer(opts: { params?: IncentiveParams; orgFloor?: number } = {}): Promise<ValueSetup> {
    const steps: string[] = [];
    const members = this.members;
    const first = this.admin(members[0] as Profile);
    const current = await first.params();
    const params = current.active ? current.params : (opts.params ?? current.params);
    for (const org of members) {
      const floor = (opts.orgFloor ?? 100_000_000) + params.minStake * org.peers.length;
      const account = `org:${org.mspId}`;
      const { balance } = await first.balance(account);
      if (balance < floor) {
        const { mints } = await first.supply();
        const amount = floor - balance;
        await this.approveAll({ kind: 'mint', to: account, amount, memo: `fund ${account} (mint ${mints + 1})` });
        steps.push(`minted ${amount} to ${account} (every member approved)`);
      }
    }
    for (const org of members) {
      const mine = this.admin(org);
      for (const peer of org.peers) {
        const stake = await mine.stake(peer.name);
        if (stake?.status === 'slashed') continue;
        const missing = params.minStake - (stake?.bonded ?? 0);
        if (missing > 0) {
          await mine.deposit(peer.name, missing);
          steps.push(`${org.mspId} staked ${missing} for ${peer.name}`);
        }
      }
    }
    if (!current.active) {
      await this.approveAll({ kind: 'set-params', params, memo: `value transfer on ${this.channel}` });
      steps.push(`parameters set on ${this.channel} (every member approved): minFee ${params.minFee}, minStake ${params.minStake}`);
    }
    return { steps, params };
  }

  close(): void {
    for (const s of this.admins.values()) s.chaincode.client.close();
    this.admins.clear();
  }
}

/** How a packet's fee ended on the source chain. */
export interface Settlement {
  routeId: string;
  sequence: number;
  event: (typeof SettlementEvents)[number];
  txId: string;
  blockNumber: bigint;
}

/**
 * Waits for packets to be acknowledged (or timed out) on their source chain, by the chain's
 * own events: start it before sending, then `waitFor(route, sequence)`.
 */
export class SettlementWatcher extends PacketEventWatcher<(typeof SettlementEvents)[number], Settlement> {
  constructor(chaincode: Chaincode) {
    super(
      chaincode,
      SettlementEvents,
      (e) => ({ routeId: e.payload.routeId, sequence: e.payload.sequence, event: e.name, txId: e.txId, blockNumber: e.blockNumber }),
      'was not acknowledged',
    );
  }
}
