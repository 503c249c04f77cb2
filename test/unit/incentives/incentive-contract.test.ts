import { IncentiveContract } from '../../../chaincode/src/contracts/incentive-contract';
import { DEFAULT_PARAMS } from '../../../chaincode/src/rules/parameter-safety';
import { accounts, balanceOf, circulating, createChannel, supply, tx, type Channel } from './support';

const c = new IncentiveContract();
const A = 'HospitalAMSP';
const C = 'HospitalCMSP';

async function expectRejected(ch: Channel, code: string, fn: () => Promise<unknown>): Promise<void> {
  const before = ch.ledger.snapshot();
  const events = ch.ledger.events.length;
  await expect(fn()).rejects.toMatchObject({ code });
  expect(ch.ledger.snapshot()).toEqual(before);
  expect(ch.ledger.events.length).toBe(events);
}

/** Both member admins approve the same mint. */
async function mintTo(ch: Channel, account: string, amount: number, memo: string): Promise<void> {
  await tx(ch, ch.admins[0]!, (ctx) => c.Mint(ctx, account, String(amount), memo));
  await tx(ch, ch.admins[1]!, (ctx) => c.Mint(ctx, account, String(amount), memo));
}

async function setParams(ch: Channel, params: object, memo: string): Promise<void> {
  await tx(ch, ch.admins[0]!, (ctx) => c.SetParams(ctx, JSON.stringify(params), memo));
  await tx(ch, ch.admins[1]!, (ctx) => c.SetParams(ctx, JSON.stringify(params), memo));
}

describe('Incentive contract: minting through governance', () => {
  it('mints only when every member org admin approved the same action, and logs the mint', async () => {
    const ch = await createChannel();
    const first = JSON.parse(await tx(ch, ch.admins[0]!, (ctx) => c.Mint(ctx, `org:${A}`, '5000', 'seed-1')));
    expect(first).toMatchObject({ status: 'pending', approvals: [A] });
    expect(supply(ch.ledger).total).toBe(0);
    const second = JSON.parse(await tx(ch, ch.admins[1]!, (ctx) => c.Mint(ctx, `org:${A}`, '5000', 'seed-1')));
    expect(second).toMatchObject({ status: 'executed', approvals: [A, C] });
    expect(supply(ch.ledger)).toEqual({ total: 5000, mints: 1 });
    expect(balanceOf(ch.ledger, `org:${A}`)).toBe(5000);
    const log = JSON.parse(await tx(ch, ch.users[0]!, (ctx) => c.ListMints(ctx, '', '')));
    expect(log.items).toEqual([expect.objectContaining({ seq: 0, to: `org:${A}`, amount: 5000, authorisedBy: second.proposalId })]);
    expect(ch.ledger.events.map((e) => e.name)).toEqual(['ValueProposal', 'Minted']);
  });

  it('refuses a second approval by the same org and a re-run of an executed mint (ALREADY_APPROVED)', async () => {
    const ch = await createChannel();
    await tx(ch, ch.admins[0]!, (ctx) => c.Mint(ctx, `org:${A}`, '10', 'm'));
    await expectRejected(ch, 'ALREADY_APPROVED', () => tx(ch, ch.admins[0]!, (ctx) => c.Mint(ctx, `org:${A}`, '10', 'm')));
    await tx(ch, ch.admins[1]!, (ctx) => c.Mint(ctx, `org:${A}`, '10', 'm'));
    await expectRejected(ch, 'ALREADY_APPROVED', () => tx(ch, ch.admins[1]!, (ctx) => c.Mint(ctx, `org:${A}`, '10', 'm')));
  });

  it('refuses minting by a non-admin identity (FORBIDDEN_ROLE)', async () => {
    const ch = await createChannel();
    await expectRejected(ch, 'FORBIDDEN_ROLE', () => tx(ch, ch.users[0]!, (ctx) => c.Mint(ctx, `org:${A}`, '10', 'm')));
  });

  it('treats different amounts as different actions: one org cannot complete another org\'s approval', async () => {
    const ch = await createChannel();
    await tx(ch, ch.admins[0]!, (ctx) => c.Mint(ctx, `org:${A}`, '10', 'm'));
    await tx(ch, ch.admins[1]!, (ctx) => c.Mint(ctx, `org:${A}`, '11', 'm'));
    expect(supply(ch.ledger).total).toBe(0);
  });
});

describe('Incentive contract: parameters', () => {
  it('refuses an unsafe parameter set at the first approval (PARAMETERS_UNSAFE) and changes nothing', async () => {
    const ch = await createChannel();
    await expectRejected(ch, 'PARAMETERS_UNSAFE', () =>
      tx(ch, ch.admins[0]!, (ctx) => c.SetParams(ctx, JSON.stringify({ ...DEFAULT_PARAMS, minStake: 10 }), 'p1')),
    );
  });

  it('switches value transfer on when all member orgs approved a safe set', async () => {
    const ch = await createChannel();
    expect(JSON.parse(await tx(ch, ch.users[0]!, (ctx) => c.GetParams(ctx)))).toMatchObject({ active: false });
    await setParams(ch, DEFAULT_PARAMS, 'p1');
    expect(JSON.parse(await tx(ch, ch.users[0]!, (ctx) => c.GetParams(ctx)))).toEqual({ active: true, params: DEFAULT_PARAMS });
  });
});

describe('Incentive contract: transfers', () => {
  it('lets an org admin move its own org credits', async () => {
    const ch = await createChannel();
    await mintTo(ch, `org:${A}`, 1000, 'm');
    await tx(ch, ch.admins[0]!, (ctx) => c.Transfer(ctx, `org:${A}`, `org:${C}`, '400'));
    expect(balanceOf(ch.ledger, `org:${A}`)).toBe(600);
    expect(balanceOf(ch.ledger, `org:${C}`)).toBe(400);
    expect(circulating(ch.ledger)).toBe(supply(ch.ledger).total);
  });

  it('refuses moving another org\'s credits (UNAUTHORIZED), too much (INSUFFICIENT_FUNDS), or the treasury', async () => {
    const ch = await createChannel();
    await mintTo(ch, `org:${A}`, 1000, 'm');
    await expectRejected(ch, 'UNAUTHORIZED', () => tx(ch, ch.admins[1]!, (ctx) => c.Transfer(ctx, `org:${A}`, `org:${C}`, '1')));
    await expectRejected(ch, 'INSUFFICIENT_FUNDS', () => tx(ch, ch.admins[0]!, (ctx) => c.Transfer(ctx, `org:${A}`, `org:${C}`, '1001')));
    await expectRejected(ch, 'UNAUTHORIZED', () => tx(ch, ch.admins[0]!, (ctx) => c.Transfer(ctx, 'treasury', `org:${C}`, '1')));
    await expectRejected(ch, 'INVALID_ARGUMENT', () => tx(ch, ch.admins[0]!, (ctx) => c.Transfer(ctx, `org:${A}`, `org:${C}`, '-1')));
    await expectRejected(ch, 'FORBIDDEN_ROLE', () => tx(ch, ch.users[0]!, (ctx) => c.Transfer(ctx, `org:${A}`, `org:${C}`, '1')));
  });

  it('lists accounts in key order, a page at a time', async () => {
    const ch = await createChannel();
    await mintTo(ch, `org:${A}`, 1000, 'm');
    await tx(ch, ch.admins[0]!, (ctx) => c.Transfer(ctx, `org:${A}`, `org:${C}`, '1'));
    await tx(ch, ch.admins[0]!, (ctx) => c.Transfer(ctx, `org:${A}`, 'node:peer0.x', '1'));
    const p1 = JSON.parse(await tx(ch, ch.users[0]!, (ctx) => c.ListAccounts(ctx, '2', '')));
    expect(p1.items.map((a: { id: string }) => a.id)).toEqual(['node:peer0.x', `org:${A}`]);
    const p2 = JSON.parse(await tx(ch, ch.users[0]!, (ctx) => c.ListAccounts(ctx, '2', p1.bookmark)));
    expect(p2.items.map((a: { id: string }) => a.id)).toEqual([`org:${C}`]);
    expect(p2.bookmark).toBe('');
    expect(accounts(ch.ledger)).toHaveLength(3);
  });
});

describe('Incentive contract: stake', () => {
  async function staked(): Promise<Channel> {
    const ch = await createChannel();
    await setParams(ch, DEFAULT_PARAMS, 'p');
    await mintTo(ch, `org:${A}`, 5_000_000, 'm');
    await tx(ch, ch.admins[0]!, (ctx) => c.Deposit(ctx, 'peer0.a', String(DEFAULT_PARAMS.minStake)));
    return ch;
  }

  it('locks a deposit from the caller org and counts the node as a signer', async () => {
    const ch = await staked();
    const s = JSON.parse(await tx(ch, ch.users[0]!, (ctx) => c.GetStake(ctx, 'peer0.a')));
    expect(s).toMatchObject({ ownerMspId: A, bonded: DEFAULT_PARAMS.minStake, countsAsSigner: true, status: 'active' });
    expect(balanceOf(ch.ledger, `org:${A}`)).toBe(5_000_000 - DEFAULT_PARAMS.minStake);
    expect(circulating(ch.ledger)).toBe(supply(ch.ledger).total);
  });

  it('refuses a deposit by another org for a node it does not own (UNAUTHORIZED)', async () => {
    const ch = await staked();
    await mintTo(ch, `org:${C}`, 10, 'mc');
    await expectRejected(ch, 'UNAUTHORIZED', () => tx(ch, ch.admins[1]!, (ctx) => c.Deposit(ctx, 'peer0.a', '10')));
  });

  it('pays unbonded stake back only after the unbonding period, in transaction time', async () => {
    const ch = await staked();
    await tx(ch, ch.admins[0]!, (ctx) => c.Unbond(ctx, 'peer0.a', '1000'));
    const s = JSON.parse(await tx(ch, ch.users[0]!, (ctx) => c.GetStake(ctx, 'peer0.a')));
    expect(s.countsAsSigner).toBe(false);
    await expectRejected(ch, 'UNBONDING', () => tx(ch, ch.admins[0]!, (ctx) => c.Withdraw(ctx, 'peer0.a')));
    ch.now.ms += DEFAULT_PARAMS.unbondingPeriodMs;
    const out = JSON.parse(await tx(ch, ch.admins[0]!, (ctx) => c.Withdraw(ctx, 'peer0.a')));
    expect(out.amount).toBe(1000);
    expect(balanceOf(ch.ledger, `org:${A}`)).toBe(5_000_000 - DEFAULT_PARAMS.minStake + 1000);
    expect(circulating(ch.ledger)).toBe(supply(ch.ledger).total);
  });

  it('lets only the owner org unbond or withdraw (UNAUTHORIZED)', async () => {
    const ch = await staked();
    await expectRejected(ch, 'UNAUTHORIZED', () => tx(ch, ch.admins[1]!, (ctx) => c.Unbond(ctx, 'peer0.a', '1')));
    await expectRejected(ch, 'UNAUTHORIZED', () => tx(ch, ch.admins[1]!, (ctx) => c.Withdraw(ctx, 'peer0.a')));
    await expectRejected(ch, 'INSUFFICIENT_STAKE', () =>
      tx(ch, ch.admins[0]!, (ctx) => c.Unbond(ctx, 'peer0.a', String(DEFAULT_PARAMS.minStake + 1))),
    );
  });

  it('lets the owner org move the rewards of its node', async () => {
    const ch = await staked();
    await tx(ch, ch.admins[0]!, (ctx) => c.Transfer(ctx, `org:${A}`, 'node:peer0.a', '50'));
    await tx(ch, ch.admins[0]!, (ctx) => c.Transfer(ctx, 'node:peer0.a', `org:${A}`, '20'));
    expect(balanceOf(ch.ledger, 'node:peer0.a')).toBe(30);
    await expectRejected(ch, 'UNAUTHORIZED', () => tx(ch, ch.admins[1]!, (ctx) => c.Transfer(ctx, 'node:peer0.a', `org:${C}`, '1')));
  });

  it('spends the treasury only through all-member approval', async () => {
    const ch = await staked();
    await tx(ch, ch.admins[0]!, (ctx) => c.Transfer(ctx, `org:${A}`, 'node:peer0.a', '50'));
    // Nothing in the treasury yet: the approval that would execute is refused.
    await tx(ch, ch.admins[0]!, (ctx) => c.TreasuryTransfer(ctx, `org:${C}`, '5', 't'));
    await expectRejected(ch, 'INSUFFICIENT_FUNDS', () => tx(ch, ch.admins[1]!, (ctx) => c.TreasuryTransfer(ctx, `org:${C}`, '5', 't')));
  });
});
