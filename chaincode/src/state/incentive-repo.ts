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
import { getJson, listAllByPartialKey, listByPartialKey, putJson, type Page } from './store';

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

export async function loadAccount(stub: ChaincodeStub, id: AccountId): Promise<Account> {
  return (await getJson<Account>(stub, key(stub, KeyTypes.Account, id))) ?? emptyAccount(id);
}

export async function putAccount(stub: ChaincodeStub, account: Account): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.Account, account.id), account);
}

export async function listAccounts(stub: ChaincodeStub, pageSize: number, bookmark: string): Promise<Page<Account>> {
  return listByPartialKey<Account>(stub, KeyTypes.Account, [], pageSize, bookmark);
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
