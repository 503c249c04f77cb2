/**
 * The value ledger of one channel as pure decisions: accounts, transfers, governance
 * minting, stake deposits and unbonding, and fee escrow. Every function takes plain
 * records and returns the records to write; none touches a stub, none throws after it
 * has computed a partial result, so a contract can validate everything before it writes.
 *
 * Conservation (chaincode/INCENTIVES.md "Conservation"): for every operation except
 * `mint`, the sum of account balances + held escrow + stake (bonded and unbonding) is
 * unchanged; `mint` raises it and the supply by exactly the minted amount.
 *
 * Amounts are credits: non-negative safe integers. The supply is capped at MAX_SUPPLY,
 * so no sum of parts of it can leave the safe-integer range.
 */
import { check, fail } from '../errors';

/** Upper bound of the total supply (and so of every balance, stake and escrow). */
export const MAX_SUPPLY = 1_000_000_000_000_000; // 1e15 < 2^53 / 8

/** Identifiers in account ids: short, printable, no key separators (as protocol ids). */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const MAX_NAME_CHARS = 128;

export type AccountKind = 'org' | 'node' | 'treasury';

/**
 * `org:<mspId>` (an org; also where its relayer's rewards and its refunds go),
 * `node:<nodeId>` (a verification node's rewards), `treasury` (slashed stake not paid to
 * reporters; spent only by governance).
 */
export type AccountId = string;

export const TREASURY: AccountId = 'treasury';

export interface Account {
  id: AccountId;
  balance: number;
}

export interface Supply {
  /** Everything ever minted; equals balances + held escrow + stakes at all times. */
  total: number;
  /** Number of mint operations, the sequence of the next MintRecord. */
  mints: number;
}

export interface MintRecord {
  seq: number;
  to: AccountId;
  amount: number;
  /** What authorised it (a governance proposal id). */
  authorisedBy: string;
  txId: string;
  txTimeMs: number;
}

export interface UnbondingEntry {
  amount: number;
  /** Transaction time from which the amount may be withdrawn. */
  releaseAtMs: number;
}

export interface Stake {
  nodeId: string;
  /** The org that deposits for the node, controls its reward account and receives withdrawals. */
  ownerMspId: string;
  /** Counts for signing; slashable. */
  bonded: number;
  /** Leaving, still slashable until released; in release order. */
  unbonding: UnbondingEntry[];
  status: 'active' | 'slashed';
  /** Set by a slash: governance must drop the node from the verification node list at the next epoch. */
  removeAtNextEpoch: boolean;
}

export interface Escrow {
  routeId: string;
  sequence: number;
  payerMspId: string;
  amount: number;
  status: 'held' | 'paid' | 'refunded';
  sentAtMs: number;
  settledAtMs?: number;
  /** Who received what when the escrow was paid or refunded (sorted by account id). */
  payouts?: Payout[];
}

export interface Payout {
  account: AccountId;
  amount: number;
}

// ---------------------------------------------------------------- identifiers

export function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_NAME_CHARS && NAME_RE.test(value);
}

export function requireName(value: unknown, what: string): string {
  if (!isName(value)) fail('INVALID_ARGUMENT', `${what} must be 1..${MAX_NAME_CHARS} characters of [A-Za-z0-9._:-]`);
  return value;
}

export function orgAccount(mspId: string): AccountId {
  return `org:${requireName(mspId, 'MSP id')}`;
}

export function nodeAccount(nodeId: string): AccountId {
  return `node:${requireName(nodeId, 'node id')}`;
}

export function parseAccountId(id: unknown): { kind: AccountKind; name: string } {
  if (id === TREASURY) return { kind: 'treasury', name: '' };
  if (typeof id === 'string') {
    const colon = id.indexOf(':');
    const kind = id.slice(0, colon);
    const name = id.slice(colon + 1);
    if (colon > 0 && (kind === 'org' || kind === 'node') && isName(name)) return { kind, name };
  }
  fail('INVALID_ARGUMENT', `account id must be org:<mspId>, node:<nodeId> or ${TREASURY}`);
}

// ---------------------------------------------------------------- amounts

export function requireAmount(value: unknown, what: string, opts: { allowZero?: boolean } = {}): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > MAX_SUPPLY) {
    fail('INVALID_ARGUMENT', `${what} must be an integer in 0..${MAX_SUPPLY}`);
  }
  if (value === 0 && !opts.allowZero) fail('INVALID_ARGUMENT', `${what} must be positive`);
  return value;
}

export function emptyAccount(id: AccountId): Account {
  parseAccountId(id);
  return { id, balance: 0 };
}

export function totalStake(stake: Stake): number {
  return stake.unbonding.reduce((sum, e) => sum + e.amount, stake.bonded);
}

// ---------------------------------------------------------------- operations

/** Moves `amount` between two distinct accounts; the payer must hold it. */
export function transfer(from: Account, to: Account, amount: number): { from: Account; to: Account } {
  requireAmount(amount, 'amount');
  check(from.id !== to.id, 'INVALID_ARGUMENT', 'cannot transfer to the same account');
  check(from.balance >= amount, 'INSUFFICIENT_FUNDS', `${from.id} holds ${from.balance}, needs ${amount}`);
  return { from: { ...from, balance: from.balance - amount }, to: { ...to, balance: to.balance + amount } };
}

/** Governance minting: the only operation that changes the supply; returns its log record. */
export function mint(
  supply: Supply,
  to: Account,
  amount: number,
  meta: { authorisedBy: string; txId: string; txTimeMs: number },
): { supply: Supply; to: Account; record: MintRecord } {
  requireAmount(amount, 'amount');
  parseAccountId(to.id);
  check(
    supply.total + amount <= MAX_SUPPLY,
    'PARAMETERS_UNSAFE',
    `minting ${amount} would take the supply past ${MAX_SUPPLY}`,
  );
  check(meta.authorisedBy.length > 0, 'UNAUTHORIZED', 'minting needs a governance authorisation');
  const record: MintRecord = { seq: supply.mints, to: to.id, amount, ...meta };
  return {
    supply: { total: supply.total + amount, mints: supply.mints + 1 },
    to: { ...to, balance: to.balance + amount },
    record,
  };
}

/** The owner org locks `amount` from its account as the node's bonded stake. */
export function depositStake(
  stake: Stake | undefined,
  nodeId: string,
  ownerAccount: Account,
  amount: number,
): { stake: Stake; owner: Account } {
  requireName(nodeId, 'node id');
  requireAmount(amount, 'amount');
  const owner = parseAccountId(ownerAccount.id);
  check(owner.kind === 'org', 'INVALID_ARGUMENT', 'stake is deposited from an org account');
  if (stake) {
    check(stake.nodeId === nodeId, 'INVALID_ARGUMENT', 'stake record of another node');
    check(
      stake.ownerMspId === owner.name,
      'UNAUTHORIZED',
      `node ${nodeId} is staked by ${stake.ownerMspId}; only that org may add stake`,
    );
    check(stake.status === 'active', 'INVALID_ARGUMENT', `node ${nodeId} was slashed and cannot be staked again`);
  }
  check(ownerAccount.balance >= amount, 'INSUFFICIENT_FUNDS', `${ownerAccount.id} holds ${ownerAccount.balance}, needs ${amount}`);
  const base: Stake = stake ?? {
    nodeId,
    ownerMspId: owner.name,
    bonded: 0,
    unbonding: [],
    status: 'active',
    removeAtNextEpoch: false,
  };
  return {
    stake: { ...base, bonded: base.bonded + amount },
    owner: { ...ownerAccount, balance: ownerAccount.balance - amount },
  };
}

/** Starts unbonding `amount` of bonded stake; it stays slashable until `nowMs + unbondingPeriodMs`. */
export function unbondStake(stake: Stake, amount: number, nowMs: number, unbondingPeriodMs: number): Stake {
  requireAmount(amount, 'amount');
  check(stake.bonded >= amount, 'INSUFFICIENT_STAKE', `node ${stake.nodeId} has ${stake.bonded} bonded, asked ${amount}`);
  const releaseAtMs = nowMs + unbondingPeriodMs;
  check(Number.isSafeInteger(releaseAtMs), 'INVALID_ARGUMENT', 'release time out of range');
  // Entries stay in release order: time only moves forward and the period is the same
  // for all entries made under one parameter set; sort anyway in case the period shrank.
  const unbonding = [...stake.unbonding, { amount, releaseAtMs }].sort((a, b) => a.releaseAtMs - b.releaseAtMs);
  return { ...stake, bonded: stake.bonded - amount, unbonding };
}

/** Pays every released unbonding entry back to the owner org; fails UNBONDING if none is released. */
export function withdrawStake(stake: Stake, ownerAccount: Account, nowMs: number): { stake: Stake; owner: Account; amount: number } {
  check(ownerAccount.id === `org:${stake.ownerMspId}`, 'UNAUTHORIZED', `stake of ${stake.nodeId} returns only to org:${stake.ownerMspId}`);
  const released = stake.unbonding.filter((e) => e.releaseAtMs <= nowMs);
  const kept = stake.unbonding.filter((e) => e.releaseAtMs > nowMs);
  if (released.length === 0) {
    const next = kept[0];
    fail('UNBONDING', next ? `nothing released yet; next release at ${next.releaseAtMs}` : `node ${stake.nodeId} has nothing unbonding`);
  }
  const amount = released.reduce((s, e) => s + e.amount, 0);
  return {
    stake: { ...stake, unbonding: kept },
    owner: { ...ownerAccount, balance: ownerAccount.balance + amount },
    amount,
  };
}

/** Whether a node's stake lets it count as a signer: active and at least `minStake` bonded. */
export function isStaked(stake: Stake | undefined, minStake: number): boolean {
  return !!stake && stake.status === 'active' && stake.bonded >= minStake && stake.bonded > 0;
}

/**
 * Only a node's own org stakes it: the nodes (of a list) whose stake is held by an org other
 * than the one the list names for them, as `nodeId (staked by X, a node of Y)`, in node order.
 * A stake deposited for a node before it was listed is a claim; the list is what binds the
 * node to its org, so a claim by another org never counts and never earns.
 */
export function foreignStakes(nodes: readonly { nodeId: string; mspId: string }[], stakes: ReadonlyMap<string, Stake>): string[] {
  const out: string[] = [];
  for (const n of [...nodes].sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0))) {
    const s = stakes.get(n.nodeId);
    if (s && s.ownerMspId !== n.mspId) out.push(`${n.nodeId} (staked by ${s.ownerMspId}, a node of ${n.mspId})`);
  }
  return out;
}

/** Fee escrow when a packet is sent: the payer org's fee leaves its account and is held per (route, sequence). */
export function escrowFee(
  existing: Escrow | undefined,
  payer: Account,
  packet: { routeId: string; sequence: number },
  fee: number,
  minFee: number,
  nowMs: number,
): { escrow: Escrow; payer: Account } {
  requireName(packet.routeId, 'route id');
  check(Number.isSafeInteger(packet.sequence) && packet.sequence >= 1, 'INVALID_ARGUMENT', 'sequence must be a positive integer');
  requireAmount(fee, 'fee', { allowZero: true });
  check(existing === undefined, 'ALREADY_EXISTS', `fee for ${packet.routeId}#${packet.sequence} is already escrowed`);
  check(fee >= minFee, 'INSUFFICIENT_FUNDS', `fee ${fee} is below the minimum fee ${minFee}`);
  const p = parseAccountId(payer.id);
  check(p.kind === 'org', 'INVALID_ARGUMENT', 'the payer of a packet fee is an org');
  check(payer.balance >= fee, 'INSUFFICIENT_FUNDS', `${payer.id} holds ${payer.balance}, the fee is ${fee}`);
  return {
    escrow: {
      routeId: packet.routeId,
      sequence: packet.sequence,
      payerMspId: p.name,
      amount: fee,
      status: 'held',
      sentAtMs: nowMs,
    },
    payer: { ...payer, balance: payer.balance - fee },
  };
}

/** Refund on timeout: the whole held fee returns to the payer, once. */
export function refundEscrow(escrow: Escrow, payer: Account, nowMs: number): { escrow: Escrow; payer: Account } {
  requireHeld(escrow);
  check(payer.id === `org:${escrow.payerMspId}`, 'INVALID_ARGUMENT', `refund goes to org:${escrow.payerMspId}`);
  return {
    escrow: { ...escrow, status: 'refunded', settledAtMs: nowMs, payouts: [{ account: payer.id, amount: escrow.amount }] },
    payer: { ...payer, balance: payer.balance + escrow.amount },
  };
}

export function requireHeld(escrow: Escrow): void {
  check(
    escrow.status === 'held',
    'ESCROW_SETTLED',
    `fee for ${escrow.routeId}#${escrow.sequence} was already ${escrow.status}; nothing is paid twice`,
  );
}

/** What `payouts` pay each account, summed, zero amounts left out, in account id order. */
export function payoutTotals(payouts: readonly Payout[]): Array<[AccountId, number]> {
  const out = new Map<AccountId, number>();
  for (const p of payouts) {
    if (p.amount === 0) continue;
    const total = (out.get(p.account) ?? 0) + p.amount;
    check(Number.isSafeInteger(total), 'INVALID_ARGUMENT', `payout to ${p.account} overflows`);
    out.set(p.account, total);
  }
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Sum of balances + held escrow + stakes: the quantity that only minting changes. */
export function valueInCirculation(accounts: Iterable<Account>, escrows: Iterable<Escrow>, stakes: Iterable<Stake>): number {
  let sum = 0;
  for (const a of accounts) sum += a.balance;
  for (const e of escrows) if (e.status === 'held') sum += e.amount;
  for (const s of stakes) sum += totalStake(s);
  return sum;
}
