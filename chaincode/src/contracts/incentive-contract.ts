/**
 * Incentive: the value ledger's transaction surface (chaincode/INCENTIVES.md). Each method
 * parses and authorises, loads, lets a pure rule decide (rules/value-rules, fee-split,
 * slashing, parameter-safety, value-actions), writes, and emits one event. Fees move
 * inside CrossChain's own transactions through incentive-hooks.ts, not here.
 *
 * Who may do what:
 *  - an org's admin moves its org account (`org:<mspId>`) and the reward accounts
 *    (`node:<nodeId>`) of the nodes its org staked, and deposits/unbonds/withdraws their stake;
 *  - minting, parameter changes and treasury spends need every member org's admin to
 *    approve the same action (Mint, SetParams, TreasuryTransfer: each org calls it with the
 *    same arguments; the last approval executes it);
 *  - any member may submit slashing evidence and is paid the reporter share.
 */
import { Context, Info, Transaction } from 'fabric-contract-api';
import { MedbridgeContract } from './medbridge-contract';
import { check, fail } from '../errors';
import { canonicalize, parseJson } from '../protocol/canonical-json';
import { judgeEvidence, applySlash } from '../rules/slashing';
import { markExecuted } from '../rules/approval';
import { approve, approvedByAll, parseValueAction, type ValueAction, valueActionId } from '../rules/value-actions';
import {
  type Account,
  depositStake,
  mint,
  orgAccount,
  parseAccountId,
  requireAmount,
  requireName,
  transfer,
  TREASURY,
  unbondStake,
  withdrawStake,
} from '../rules/value-rules';
import * as repo from '../state/crosschain-repo';
import * as state from '../state/incentive-repo';
import { readEvidence } from './incentive-evidence';
import { emit, parsePageSize, parseSequence, requireMember, requireMemberAdmin, txTimeMs, type Caller } from './tx-context';

function parseAmountArg(text: string, what: string): number {
  check(/^[0-9]{1,16}$/.test(text), 'INVALID_ARGUMENT', `${what} must be a decimal integer`);
  return requireAmount(Number(text), what);
}

/**
 * Checks that the caller controls `accountId`: its own org's account, or the reward account
 * of its own node (the org this chain's list names for it; for a node not listed, the org
 * that staked it).
 */
async function requireControls(ctx: Context, who: Caller, accountId: string): Promise<void> {
  const { kind, name } = parseAccountId(accountId);
  if (kind === 'org' && name === who.mspId) return;
  if (kind === 'node') {
    const owner = (await listedOrgOf(ctx, name)) ?? (await state.loadStake(ctx.stub, name))?.ownerMspId;
    if (owner === who.mspId) return;
  }
  fail('UNAUTHORIZED', `${who.mspId} does not control ${accountId}`);
}

@Info({ title: 'Incentive', description: 'Credits, stakes, fees, rewards and slashing for verification nodes and relayers' })
export class IncentiveContract extends MedbridgeContract {
  constructor() {
    super('Incentive');
  }

  /** Balance of an account: `org:<mspId>`, `node:<nodeId>` or `treasury`. */
  @Transaction(false)
  async GetBalance(ctx: Context, accountId: string): Promise<string> {
    parseAccountId(accountId);
    return canonicalize(await state.loadAccount(ctx.stub, accountId));
  }

  /** Accounts in key order, a page at a time: {items, bookmark}. */
  @Transaction(false)
  async ListAccounts(ctx: Context, pageSize: string, bookmark: string): Promise<string> {
    return canonicalize(await state.listAccounts(ctx.stub, parsePageSize(pageSize), bookmark));
  }

  /** Moves credits from an account the caller's org controls. Caller: admin of a member org. */
  @Transaction()
  async Transfer(ctx: Context, fromAccount: string, toAccount: string, amountText: string): Promise<string> {
    const { who } = await requireMemberAdmin(ctx);
    const amount = parseAmountArg(amountText, 'amount');
    parseAccountId(toAccount);
    check(fromAccount !== TREASURY, 'UNAUTHORIZED', 'the treasury is spent only by TreasuryTransfer');
    await requireControls(ctx, who, fromAccount);
    const out = transfer(await state.loadAccount(ctx.stub, fromAccount), await state.loadAccount(ctx.stub, toAccount), amount);
    await state.putAccount(ctx.stub, out.from);
    await state.putAccount(ctx.stub, out.to);
    const result = { from: out.from, to: out.to, amount, txId: ctx.stub.getTxID() };
    emit(ctx, 'ValueTransferred', result);
    return canonicalize(result);
  }

  /**
   * Approves minting `amount` new credits to `toAccount` (memo names the decision). Executes,
   * logging a MintRecord, when every member org's admin approved the same action.
   */
  @Transaction()
  async Mint(ctx: Context, toAccount: string, amountText: string, memo: string): Promise<string> {
    return this.approveAction(ctx, { kind: 'mint', to: toAccount, amount: parseAmountArg(amountText, 'amount'), memo });
  }

  /** Approves a new parameter set (checked: PARAMETERS_UNSAFE if the game breaks). Executes on the last approval. */
  @Transaction()
  async SetParams(ctx: Context, paramsJson: string, memo: string): Promise<string> {
    return this.approveAction(ctx, { kind: 'set-params', params: parseJson(paramsJson, 'paramsJson'), memo });
  }

  /** Approves paying `amount` from the treasury to `toAccount`. Executes on the last approval. */
  @Transaction()
  async TreasuryTransfer(ctx: Context, toAccount: string, amountText: string, memo: string): Promise<string> {
    return this.approveAction(ctx, { kind: 'treasury-transfer', to: toAccount, amount: parseAmountArg(amountText, 'amount'), memo });
  }

  @Transaction(false)
  async GetParams(ctx: Context): Promise<string> {
    const { params, active } = await state.loadParams(ctx.stub);
    return canonicalize({ active, params });
  }

  /** Total supply (everything minted) and the number of mints. */
  @Transaction(false)
  async GetSupply(ctx: Context): Promise<string> {
    return canonicalize(await state.loadSupply(ctx.stub));
  }

  @Transaction(false)
  async ListMints(ctx: Context, pageSize: string, bookmark: string): Promise<string> {
    return canonicalize(await state.listMintRecords(ctx.stub, parsePageSize(pageSize), bookmark));
  }

  @Transaction(false)
  async GetValueProposal(ctx: Context, proposalId: string): Promise<string> {
    const p = await state.loadValueProposal(ctx.stub, proposalId);
    if (!p) fail('PROPOSAL_NOT_FOUND', `value proposal ${proposalId} does not exist`);
    return canonicalize(p);
  }

  /** The escrow of a packet's fee, if any. */
  @Transaction(false)
  async GetEscrow(ctx: Context, routeId: string, sequenceText: string): Promise<string> {
    const sequence = parseSequence(sequenceText);
    const e = await state.loadEscrow(ctx.stub, requireName(routeId, 'route id'), sequence);
    if (!e) fail('NOT_FOUND', `no fee escrow for ${routeId}#${sequenceText}`);
    return canonicalize(e);
  }

  /**
   * Locks `amount` from the caller's org account as the node's stake. Only the node's own
   * org stakes it: a node in this chain's current list only by the org the list names; a node
   * not listed yet by the org that claims it with its first deposit, a claim that counts
   * only if the list that adds the node names the same org (requireListStaked refuses the
   * list otherwise, and a foreign stake never counts or earns). Caller: admin of a member org.
   */
  @Transaction()
  async Deposit(ctx: Context, nodeId: string, amountText: string): Promise<string> {
    const { who } = await requireMemberAdmin(ctx);
    requireName(nodeId, 'node id');
    const amount = parseAmountArg(amountText, 'amount');
    const listedMsp = await listedOrgOf(ctx, nodeId);
    if (listedMsp !== undefined && listedMsp !== who.mspId) {
      fail('UNAUTHORIZED', `node ${nodeId} is a node of ${listedMsp}; only ${listedMsp} may stake it`);
    }
    const out = depositStake(await state.loadStake(ctx.stub, nodeId), nodeId, await state.loadAccount(ctx.stub, orgAccount(who.mspId)), amount);
    await state.putStake(ctx.stub, out.stake);
    await state.putAccount(ctx.stub, out.owner);
    const result = { stake: out.stake, amount };
    emit(ctx, 'StakeDeposited', result);
    return canonicalize(result);
  }

  /** Starts unbonding `amount` of the node's bonded stake; withdrawable after the unbonding period. */
  @Transaction()
  async Unbond(ctx: Context, nodeId: string, amountText: string): Promise<string> {
    const { who } = await requireMemberAdmin(ctx);
    const stake = await this.ownedStake(ctx, who, nodeId);
    const amount = parseAmountArg(amountText, 'amount');
    const { params } = await state.loadParams(ctx.stub);
    const next = unbondStake(stake, amount, txTimeMs(ctx), params.unbondingPeriodMs);
    await state.putStake(ctx.stub, next);
    const result = { stake: next, amount };
    emit(ctx, 'StakeUnbonding', result);
    return canonicalize(result);
  }

  /** Pays every released unbonding entry of the node back to its owner org (UNBONDING if none). */
  @Transaction()
  async Withdraw(ctx: Context, nodeId: string): Promise<string> {
    const { who } = await requireMemberAdmin(ctx);
    const stake = await this.ownedStake(ctx, who, nodeId);
    const out = withdrawStake(stake, await state.loadAccount(ctx.stub, orgAccount(stake.ownerMspId)), txTimeMs(ctx));
    await state.putStake(ctx.stub, out.stake);
    await state.putAccount(ctx.stub, out.owner);
    const result = { stake: out.stake, owner: out.owner, amount: out.amount };
    emit(ctx, 'StakeWithdrawn', result);
    return canonicalize(result);
  }

  @Transaction(false)
  async GetStake(ctx: Context, nodeId: string): Promise<string> {
    const stake = await state.loadStake(ctx.stub, requireName(nodeId, 'node id'));
    if (!stake) fail('NOT_FOUND', `node ${nodeId} has no stake`);
    const { params, active } = await state.loadParams(ctx.stub);
    const counts = !active || (stake.status === 'active' && stake.bonded >= params.minStake);
    return canonicalize({ ...stake, countsAsSigner: counts, slash: (await state.loadSlash(ctx.stub, nodeId)) ?? null });
  }

  @Transaction(false)
  async ListStakes(ctx: Context, pageSize: string, bookmark: string): Promise<string> {
    return canonicalize(await state.listStakes(ctx.stub, parsePageSize(pageSize), bookmark));
  }

  /**
   * Evidence that a node of this chain equivocated (two different packets signed for one
   * route and sequence) or signed a packet this chain never committed (format in
   * incentive-evidence.ts). Valid evidence slashes the node's stake, pays the caller's org
   * the reporter share, and marks the node for removal at the next epoch; invalid
   * evidence is EVIDENCE_INVALID and changes nothing. Caller: any member.
   */
  @Transaction()
  async SubmitEvidence(ctx: Context, evidenceJson: string): Promise<string> {
    const who = await requireMember(ctx);
    const offence = judgeEvidence(await readEvidence(ctx, evidenceJson));
    const { params } = await state.loadParams(ctx.stub);
    const out = applySlash(
      offence,
      await state.loadStake(ctx.stub, offence.nodeId),
      await state.loadAccount(ctx.stub, orgAccount(who.mspId)),
      await state.loadAccount(ctx.stub, TREASURY),
      params,
      txTimeMs(ctx),
    );
    await state.putStake(ctx.stub, out.stake);
    await state.putAccount(ctx.stub, out.reporter);
    await state.putAccount(ctx.stub, out.treasury);
    await state.putSlash(ctx.stub, out.record);
    emit(ctx, 'NodeSlashed', out.record);
    return canonicalize(out.record);
  }

  private async ownedStake(ctx: Context, who: Caller, nodeId: string): Promise<NonNullable<Awaited<ReturnType<typeof state.loadStake>>>> {
    const stake = await state.loadStake(ctx.stub, requireName(nodeId, 'node id'));
    if (!stake) fail('NOT_FOUND', `node ${nodeId} has no stake`);
    if (stake.ownerMspId !== who.mspId) fail('UNAUTHORIZED', `the stake of ${nodeId} belongs to ${stake.ownerMspId}`);
    return stake;
  }

  /** Records the caller org's approval of a value action; executes it when all member orgs approved. */
  private async approveAction(ctx: Context, raw: unknown): Promise<string> {
    const { who, set } = await requireMemberAdmin(ctx);
    const action = parseValueAction(raw);
    const now = txTimeMs(ctx);
    const proposal = approve(await state.loadValueProposal(ctx.stub, valueActionId(action)), action, who.mspId, now);
    if (!approvedByAll(proposal, set.members)) {
      await state.putValueProposal(ctx.stub, proposal);
      emit(ctx, 'ValueProposal', { proposalId: proposal.proposalId, kind: action.kind, approvals: proposal.approvals, status: proposal.status });
      return canonicalize(proposal);
    }
    const executed = markExecuted(proposal, now);
    const writes = await planValueAction(ctx, action, proposal.proposalId, now);
    await state.putValueProposal(ctx.stub, executed);
    await writes.apply();
    emit(ctx, writes.event, { proposalId: proposal.proposalId, approvals: executed.approvals, ...writes.payload });
    return canonicalize(executed);
  }
}

/** The node's org if this chain's current list names the node. */
async function listedOrgOf(ctx: Context, nodeId: string): Promise<string | undefined> {
  const list = await repo.getCurrentList(ctx.stub);
  for (const s of list?.subgroups ?? []) {
    for (const n of s.nodes) if (n.nodeId === nodeId) return n.mspId;
  }
  return undefined;
}

/** Validates an approved value action against state and returns its writes (nothing written yet). */
async function planValueAction(
  ctx: Context,
  action: ValueAction,
  proposalId: string,
  now: number,
): Promise<{ apply: () => Promise<void>; event: string; payload: object }> {
  const stub = ctx.stub;
  switch (action.kind) {
    case 'mint': {
      const out = mint(await state.loadSupply(stub), await state.loadAccount(stub, action.to), action.amount, {
        authorisedBy: proposalId,
        txId: stub.getTxID(),
        txTimeMs: now,
      });
      return {
        event: 'Minted',
        payload: { record: out.record, supply: out.supply },
        apply: async () => {
          await state.putSupply(stub, out.supply);
          await state.putAccount(stub, out.to);
          await state.putMintRecord(stub, out.record);
        },
      };
    }
    case 'set-params':
      return {
        event: 'ParamsSet',
        payload: { params: action.params },
        apply: async () => state.putParams(stub, { params: action.params, setAtMs: now, authorisedBy: proposalId }),
      };
    case 'treasury-transfer': {
      const out = transfer(await state.loadAccount(stub, TREASURY), await state.loadAccount(stub, action.to), action.amount);
      const accounts: Account[] = [out.from, out.to];
      return {
        event: 'TreasuryTransferred',
        payload: { to: action.to, amount: action.amount },
        apply: async () => {
          for (const a of accounts) await state.putAccount(stub, a);
        },
      };
    }
  }
}
