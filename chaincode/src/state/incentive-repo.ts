/**
 * Where the value ledger lives in world state (chaincode/INCENTIVES.md "State"): accounts,
 * stakes, escrows, the supply, the mint log, slash records, the parameters and the value
 * proposals. Only the Incentive contract and its hooks use these; everything else reads
 * through them.
 */
import type { ChaincodeStub } from 'fabric-shim';
import { DEFAULT_PARAMS, type IncentiveParams } from '../rules/parameter-safety';
import type { SlashRecord } from '../rules/slashing';
import type { ValueProposal } from '../rules/value-actions';
import { type Account, type AccountId, emptyAccount, type Escrow, type MintRecord, type Stake, type Supply } from '../rules/value-rules';
import { key, KeyTypes, pad } from './keys';
import { exists, getJson, listAllByPartialKey, listByPartialKey, listEntriesByPartialKey, putJson, type Page } from './store';

/** Parameters as stored: the set in force and when/how it was set. */
export interface ParamsRecord {
  params: IncentiveParams;
  setAtMs: number;
  authorisedBy: string;
}

/**
 * The parameters in force and whether governance has switched value transfer on for this
 * channel. Until the first SetParams, fees are optional (no minimum) and routes need no
 * stakes, so a channel that does not use credits keeps working; DEFAULT_PARAMS are only
 * the defaults for fee split and slashing arithmetic then.
 */
export async function loadParams(stub: ChaincodeStub): Promise<{ params: IncentiveParams; active: boolean }> {
  const record = await getJson<ParamsRecord>(stub, key(stub, KeyTypes.Params));
  return record ? { params: record.params, active: true } : { params: DEFAULT_PARAMS, active: false };
}

export async function putParams(stub: ChaincodeStub, record: ParamsRecord): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.Params), record);
}

/**
 * A reward an acknowledgement paid to an account, kept under its own key until the account is
 * next written (INCENTIVES.md "State"). Every acknowledgement pays the same signer nodes and
 * relayer org; were each payout a read-modify-write of the account, any two acknowledgements in
 * one block would conflict and the relay could settle about one packet per block across all
 * routes. Writing one new key per payout, acknowledgements never conflict with each other.
 */
export interface Credit {
  account: AccountId;
  amount: number;
  routeId: string;
  sequence: number;
  atMs: number;
}

/** Per transaction: the credits folded into an account by loadAccount, deleted when it is written. */
interface Folded {
  keys: string[];
  total: number;
  written: boolean;
}
const foldedByTx = new WeakMap<ChaincodeStub, Map<AccountId, Folded>>();

/** What `byTx` holds for this transaction's stub, made on first use. */
function ofTx<T>(byTx: WeakMap<ChaincodeStub, T>, stub: ChaincodeStub, make: () => T): T {
  let v = byTx.get(stub);
  if (v === undefined) {
    v = make();
    byTx.set(stub, v);
  }
  return v;
}

function foldedIn(stub: ChaincodeStub): Map<AccountId, Folded> {
  return ofTx(foldedByTx, stub, () => new Map());
}

/** The account as stored, without its credits (one point read). */
export async function loadAccountRecord(stub: ChaincodeStub, id: AccountId): Promise<Account> {
  const record = await getJson<Account>(stub, key(stub, KeyTypes.Account, id));
  recordsReadIn(stub).set(id, record !== undefined);
  return record ?? emptyAccount(id);
}

/**
 * The account with every credit folded into its balance (a range read over its credits, in key
 * order). If the transaction then writes the account (putAccount), the credits folded here are
 * deleted in the same transaction, so a credit is counted exactly once: in the account or beside it.
 */
export async function loadAccount(stub: ChaincodeStub, id: AccountId): Promise<Account> {
  const record = await loadAccountRecord(stub, id);
  const folded = foldedIn(stub);
  let f = folded.get(id);
  if (!f) {
    const credits = await listEntriesByPartialKey<Credit>(stub, KeyTypes.Credit, [id]);
    f = { keys: credits.map((c) => c.key), total: credits.reduce((sum, c) => sum + c.value.amount, 0), written: false };
    folded.set(id, f);
  }
  // Once written, the record read back (own-writes view) already holds the credits.
  return f.written ? record : { ...record, balance: record.balance + f.total };
}

/**
 * The account for a debit of `amount`: the stored record when it covers the amount (a point
 * read, so a send does not conflict with acknowledgements crediting the same org in the same
 * block), else with its credits folded in (loadAccount).
 */
export async function loadAccountToDebit(stub: ChaincodeStub, id: AccountId, amount: number): Promise<Account> {
  const record = await loadAccountRecord(stub, id);
  if (record.balance >= amount && !foldedIn(stub).has(id)) return record;
  return loadAccount(stub, id);
}

export async function putAccount(stub: ChaincodeStub, account: Account): Promise<void> {
  const f = foldedIn(stub).get(account.id);
  if (f && !f.written) {
    for (const k of f.keys) await stub.deleteState(k);
    f.written = true;
  }
  await putJson(stub, key(stub, KeyTypes.Account, account.id), account);
  await markOpened(stub, account.id);
}

/**
 * The account's opening mark (KeyTypes.AccountOpened): written in the transaction that first
 * writes the account record, never rewritten. Payouts ask it, not the record, whether the
 * account exists: every send of an org rewrites the org's record (its fee), so an
 * acknowledgement that read the record to pay that org (its relayer) would fail validation
 * whenever a send of the org committed between its endorsement and its own commit, which under
 * load is nearly always. The mark's version never changes once written.
 */
async function markOpened(stub: ChaincodeStub, id: AccountId): Promise<void> {
  const known = openedIn(stub);
  if (known.has(id)) return;
  known.add(id);
  const existed = recordsReadIn(stub).get(id);
  // A record this transaction read as stored is not new: it is marked, or (written before marks
  // existed) its first payout marks it. Only a new record needs its mark, and a send, which
  // reads its payer's record, makes no extra round trip for it.
  if (existed === true) return;
  const mark = key(stub, KeyTypes.AccountOpened, id);
  if (existed === false || !(await exists(stub, mark))) await putJson(stub, mark, { account: id });
}

/** Accounts this transaction knows to be marked (a batch's sends and payouts ask once per account). */
const openedByTx = new WeakMap<ChaincodeStub, Set<AccountId>>();
/** Account records this transaction read: whether each was stored. */
const recordsByTx = new WeakMap<ChaincodeStub, Map<AccountId, boolean>>();

function openedIn(stub: ChaincodeStub): Set<AccountId> {
  return ofTx(openedByTx, stub, () => new Set());
}

function recordsReadIn(stub: ChaincodeStub): Map<AccountId, boolean> {
  return ofTx(recordsByTx, stub, () => new Map());
}

/**
 * Pays `credit` to its account under its own key; creates the account record the first time (so
 * that listings show it). Reads the opening mark only; an account written before marks existed
 * has its record read once, by the payout that then marks it.
 */
export async function putCredit(stub: ChaincodeStub, credit: Credit): Promise<void> {
  const known = openedIn(stub);
  if (!known.has(credit.account) && !(await exists(stub, key(stub, KeyTypes.AccountOpened, credit.account)))) {
    const accountKey = key(stub, KeyTypes.Account, credit.account);
    if (!(await exists(stub, accountKey))) await putJson(stub, accountKey, emptyAccount(credit.account));
    await putJson(stub, key(stub, KeyTypes.AccountOpened, credit.account), { account: credit.account });
  }
  known.add(credit.account);
  await putJson(stub, key(stub, KeyTypes.Credit, credit.account, credit.routeId, pad(credit.sequence)), credit);
}

/** A page of accounts, each with its credits folded into its balance (read-only). */
export async function listAccounts(stub: ChaincodeStub, pageSize: number, bookmark: string): Promise<Page<Account>> {
  const page = await listByPartialKey<Account>(stub, KeyTypes.Account, [], pageSize, bookmark);
  const items: Account[] = [];
  for (const a of page.items) items.push(await loadAccount(stub, a.id));
  return { ...page, items };
}

export async function loadStake(stub: ChaincodeStub, nodeId: string): Promise<Stake | undefined> {
  return getJson<Stake>(stub, key(stub, KeyTypes.Stake, nodeId));
}

export async function putStake(stub: ChaincodeStub, stake: Stake): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.Stake, stake.nodeId), stake);
}

export async function listStakes(stub: ChaincodeStub, pageSize: number, bookmark: string): Promise<Page<Stake>> {
  return listByPartialKey<Stake>(stub, KeyTypes.Stake, [], pageSize, bookmark);
}

/** Every stake, in node id order. */
export async function listAllStakes(stub: ChaincodeStub): Promise<Stake[]> {
  return listAllByPartialKey<Stake>(stub, KeyTypes.Stake, []);
}

export async function loadEscrow(stub: ChaincodeStub, routeId: string, sequence: number): Promise<Escrow | undefined> {
  return getJson<Escrow>(stub, key(stub, KeyTypes.Escrow, routeId, pad(sequence)));
}

export async function putEscrow(stub: ChaincodeStub, escrow: Escrow): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.Escrow, escrow.routeId, pad(escrow.sequence)), escrow);
}

export async function listEscrows(stub: ChaincodeStub, pageSize: number, bookmark: string): Promise<Page<Escrow>> {
  return listByPartialKey<Escrow>(stub, KeyTypes.Escrow, [], pageSize, bookmark);
}

export async function loadSupply(stub: ChaincodeStub): Promise<Supply> {
  return (await getJson<Supply>(stub, key(stub, KeyTypes.Supply))) ?? { total: 0, mints: 0 };
}

export async function putSupply(stub: ChaincodeStub, supply: Supply): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.Supply), supply);
}

export async function putMintRecord(stub: ChaincodeStub, record: MintRecord): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.MintLog, pad(record.seq)), record);
}

export async function listMintRecords(stub: ChaincodeStub, pageSize: number, bookmark: string): Promise<Page<MintRecord>> {
  return listByPartialKey<MintRecord>(stub, KeyTypes.MintLog, [], pageSize, bookmark);
}

export async function loadSlash(stub: ChaincodeStub, nodeId: string): Promise<SlashRecord | undefined> {
  return getJson<SlashRecord>(stub, key(stub, KeyTypes.Slash, nodeId));
}

export async function putSlash(stub: ChaincodeStub, record: SlashRecord): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.Slash, record.nodeId), record);
}

export async function loadValueProposal(stub: ChaincodeStub, proposalId: string): Promise<ValueProposal | undefined> {
  return getJson<ValueProposal>(stub, key(stub, KeyTypes.ValueProposal, proposalId));
}

export async function putValueProposal(stub: ChaincodeStub, proposal: ValueProposal): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.ValueProposal, proposal.proposalId), proposal);
}
