/**
 * A two-org channel on the fake ledger for the incentive contract and hooks: member set
 * written as Governance:Bootstrap writes it, admin identities per org, and helpers to read
 * every value record (to check conservation and "nothing changed").
 */
import type { Context } from 'fabric-contract-api';
import { canonicalBytes } from '../../../chaincode/src/protocol/canonical-json';
import type { Credit } from '../../../chaincode/src/state/incentive-repo';
import { key, KeyTypes } from '../../../chaincode/src/state/keys';
import type { Account, Escrow, Stake, Supply } from '../../../chaincode/src/rules/value-rules';
import { valueInCirculation } from '../../../chaincode/src/rules/value-rules';
import { createOrg, type TestOrg } from '../../fixtures/pki';
import { FakeLedger, type FakeIdentity } from '../support/fake-ledger';

export interface Channel {
  ledger: FakeLedger;
  orgs: TestOrg[];
  admins: FakeIdentity[];
  users: FakeIdentity[];
  now: { ms: number };
}

export const T0 = 1_800_000_000_000;

export async function createChannel(chainId = 'chain-a', mspIds = ['HospitalAMSP', 'HospitalCMSP']): Promise<Channel> {
  const ledger = new FakeLedger(chainId);
  const orgs: TestOrg[] = [];
  const admins: FakeIdentity[] = [];
  const users: FakeIdentity[] = [];
  for (const mspId of mspIds) {
    const org = await createOrg(mspId);
    orgs.push(org);
    admins.push({ mspId, certPem: (await org.admin(`admin.${mspId}`)).certPem });
    users.push({ mspId, certPem: (await org.client(`user.${mspId}`)).certPem });
  }
  const now = { ms: T0 };
  await ledger.invoke({ identity: admins[0]!, timeMs: now.ms }, async (ctx) => {
    await ctx.stub.putState(key(ctx.stub, KeyTypes.Members), canonicalBytes({ chainId, members: [...mspIds].sort() }));
  });
  return { ledger, orgs, admins, users, now };
}

/** Runs `fn` as one transaction of `identity`, one millisecond after the previous one. */
export async function tx<T>(ch: Channel, identity: FakeIdentity, fn: (ctx: Context) => Promise<T>): Promise<T> {
  ch.now.ms += 1;
  return ch.ledger.invoke({ identity, timeMs: ch.now.ms }, fn);
}

function valuesOf<T>(ledger: FakeLedger, type: string): T[] {
  const prefix = `\u0000${type}\u0000`;
  return [...ledger.state.entries()]
    .filter(([k]) => k.startsWith(prefix))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, v]) => JSON.parse(v.toString('utf8')) as T);
}

/** Every account with the credits not yet folded into it (state/incentive-repo.ts Credit) added to its balance, as GetBalance reads it. */
export function accounts(ledger: FakeLedger): Account[] {
  const pending = new Map<string, number>();
  for (const c of credits(ledger)) pending.set(c.account, (pending.get(c.account) ?? 0) + c.amount);
  return valuesOf<Account>(ledger, KeyTypes.Account).map((a) => ({ ...a, balance: a.balance + (pending.get(a.id) ?? 0) }));
}
/** Rewards paid by acknowledgements and not yet folded into their accounts. */
export function credits(ledger: FakeLedger): Credit[] {
  return valuesOf<Credit>(ledger, KeyTypes.Credit);
}
export function stakes(ledger: FakeLedger): Stake[] {
  return valuesOf<Stake>(ledger, KeyTypes.Stake);
}
export function escrows(ledger: FakeLedger): Escrow[] {
  return valuesOf<Escrow>(ledger, KeyTypes.Escrow);
}
export function supply(ledger: FakeLedger): Supply {
  return valuesOf<Supply>(ledger, KeyTypes.Supply)[0] ?? { total: 0, mints: 0 };
}
export function balanceOf(ledger: FakeLedger, id: string): number {
  return accounts(ledger).find((a) => a.id === id)?.balance ?? 0;
}

/** sum(balances) + held escrow + stakes, which must equal the minted supply. */
export function circulating(ledger: FakeLedger): number {
  return valueInCirculation(accounts(ledger), escrows(ledger), stakes(ledger));
}

/** Writes value records directly (test setup only; the contract tests mint through governance). */
export async function seed(ch: Channel, records: { accounts?: Account[]; stakes?: Stake[] }): Promise<void> {
  await ch.ledger.invoke({ identity: ch.admins[0]!, timeMs: ch.now.ms }, async (ctx) => {
    let total = supply(ch.ledger).total;
    for (const a of records.accounts ?? []) {
      await ctx.stub.putState(key(ctx.stub, KeyTypes.Account, a.id), canonicalBytes(a));
      total += a.balance;
    }
    for (const s of records.stakes ?? []) {
      await ctx.stub.putState(key(ctx.stub, KeyTypes.Stake, s.nodeId), canonicalBytes(s));
      total += s.bonded + s.unbonding.reduce((x, e) => x + e.amount, 0);
    }
    await ctx.stub.putState(key(ctx.stub, KeyTypes.Supply), canonicalBytes({ total, mints: 1 }));
  });
}

export function activeStake(nodeId: string, ownerMspId: string, bonded: number): Stake {
  return { nodeId, ownerMspId, bonded, unbonding: [], status: 'active', removeAtNextEpoch: false };
}

/** Switches value transfer on with `params` (as an executed SetParams would). */
export async function activate(ch: Channel, params: object): Promise<void> {
  await ch.ledger.invoke({ identity: ch.admins[0]!, timeMs: ch.now.ms }, async (ctx) => {
    await ctx.stub.putState(key(ctx.stub, KeyTypes.Params), canonicalBytes({ params, setAtMs: ch.now.ms, authorisedBy: 'test' }));
  });
}
