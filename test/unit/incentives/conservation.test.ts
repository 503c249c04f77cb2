/**
 * Property tests: random (seeded) sequences of every value operation, valid and invalid,
 * through the Incentive contract and the cross-chain hooks on the fake ledger. After each
 * step: balances + held escrow + stakes equal the minted supply, nothing is negative, a
 * rejected step changed nothing, and a node account grows only when an acknowledgement
 * named it as a signer while it held a counting stake.
 */
import { IncentiveContract } from '../../../chaincode/src/contracts/incentive-contract';
import { onPacketAcknowledged, onPacketSent, onPacketTimedOut } from '../../../chaincode/src/contracts/incentive-hooks';
import { MedbridgeError } from '../../../chaincode/src/errors';
import { DEFAULT_PARAMS } from '../../../chaincode/src/rules/parameter-safety';
import { isStaked } from '../../../chaincode/src/rules/value-rules';
import { Prng } from './prng';
import { accounts, circulating, createChannel, escrows, stakes, supply, tx, type Channel } from './support';

const c = new IncentiveContract();
const ORGS = ['HospitalAMSP', 'HospitalCMSP'];
const NODES = ['peer0.a', 'peer1.a', 'peer0.c', 'peer1.c'];
const PARAMS = { ...DEFAULT_PARAMS, maxPacketValue: 1_000, minStake: 2_000, reportCost: 10, unbondingPeriodMs: 20, evidenceWindowMs: 10 };

interface Step {
  name: string;
  run: () => Promise<unknown>;
  /** Node accounts that may legitimately grow in this step. */
  mayReward?: string[];
}

function randomStep(ch: Channel, rng: Prng, sent: Array<{ routeId: string; sequence: number }>): Step {
  const org = rng.int(0, ORGS.length - 1);
  const admin = ch.admins[org]!;
  const mspId = ORGS[org]!;
  const amount = rng.pick([0, 1, 50, 999, 2_000, 3_000, 100_000, 50_000_000]);
  const node = rng.pick(NODES);
  switch (rng.int(0, 9)) {
    case 0:
      return {
        name: `mint ${amount}`,
        run: async () => {
          const to = rng.pick([...ORGS.map((o) => `org:${o}`), `node:${node}`]);
          const memo = `m${rng.int(0, 3)}`;
          await tx(ch, ch.admins[0]!, (ctx) => c.Mint(ctx, to, String(amount), memo));
          await tx(ch, ch.admins[1]!, (ctx) => c.Mint(ctx, to, String(amount), memo));
        },
      };
    case 1:
      return {
        name: `transfer ${amount}`,
        run: () => tx(ch, admin, (ctx) => c.Transfer(ctx, rng.pick([`org:${mspId}`, `node:${node}`]), rng.pick([...ORGS.map((o) => `org:${o}`), `node:${node}`]), String(amount))),
      };
    case 2:
      return { name: `deposit ${node} ${amount}`, run: () => tx(ch, admin, (ctx) => c.Deposit(ctx, node, String(amount))) };
    case 3:
      return { name: `unbond ${node} ${amount}`, run: () => tx(ch, admin, (ctx) => c.Unbond(ctx, node, String(amount))) };
    case 4:
      return {
        name: `withdraw ${node}`,
        run: async () => {
          ch.now.ms += rng.int(0, 25);
          return tx(ch, admin, (ctx) => c.Withdraw(ctx, node));
        },
      };
    case 5:
    case 6: {
      const sequence = rng.int(1, 12);
      return {
        name: `send a-b#${sequence}`,
        run: async () => {
          const fee = rng.pick([0, 99, 100, 101, 777, 5_000]);
          await tx(ch, ch.users[org]!, (ctx) => onPacketSent(ctx, { routeId: 'a-b', sequence, payerMspId: mspId, fee }));
          sent.push({ routeId: 'a-b', sequence });
        },
      };
    }
    case 7:
    case 8: {
      const p = sent.length > 0 && rng.next() < 0.9 ? rng.pick(sent) : { routeId: 'a-b', sequence: rng.int(1, 12) };
      const signers = rng.subset(NODES);
      if (rng.next() < 0.05) signers.push(signers[0]!);
      const before = stakes(ch.ledger);
      const eligible = signers.filter((id) => isStaked(before.find((s) => s.nodeId === id), PARAMS.minStake)).map((id) => `node:${id}`);
      return {
        name: `ack ${p.routeId}#${p.sequence} by ${signers.join(',')}`,
        mayReward: eligible,
        run: () => tx(ch, ch.users[1 - org]!, (ctx) => onPacketAcknowledged(ctx, { ...p, signerNodeIds: signers, relayerId: ORGS[1 - org]! })),
      };
    }
    default: {
      const p = sent.length > 0 ? rng.pick(sent) : { routeId: 'a-b', sequence: 1 };
      return { name: `timeout ${p.routeId}#${p.sequence}`, run: () => tx(ch, ch.users[org]!, (ctx) => onPacketTimedOut(ctx, p)) };
    }
  }
}

describe('value conservation over random operation sequences', () => {
  it('keeps balances + escrow + stakes equal to the minted supply and never pays twice (40 seeded sequences of 80 steps)', async () => {
    let accepted = 0;
    let rejected = 0;
    const settled = { paid: 0, refunded: 0, rewardedNodes: 0 };
    for (let seed = 1; seed <= 40; seed++) {
      const rng = new Prng(seed);
      const ch = await createChannel();
      await tx(ch, ch.admins[0]!, (ctx) => c.SetParams(ctx, JSON.stringify(PARAMS), 'p'));
      await tx(ch, ch.admins[1]!, (ctx) => c.SetParams(ctx, JSON.stringify(PARAMS), 'p'));
      const sent: Array<{ routeId: string; sequence: number }> = [];
      for (let i = 0; i < 80; i++) {
        const step = randomStep(ch, rng, sent);
        const before = ch.ledger.snapshot();
        const nodeBalancesBefore = new Map(accounts(ch.ledger).filter((a) => a.id.startsWith('node:')).map((a) => [a.id, a.balance]));
        try {
          await step.run();
          accepted++;
        } catch (e) {
          if (!(e instanceof MedbridgeError)) throw e;
          rejected++;
          // Mint runs two transactions; only a rejection in a single-transaction step must leave state untouched.
          if (!step.name.startsWith('mint')) expect({ step: step.name, state: ch.ledger.snapshot() }).toEqual({ step: step.name, state: before });
        }
        const ctxt = `seed ${seed} step ${i} (${step.name})`;
        expect({ ctxt, circulating: circulating(ch.ledger) }).toEqual({ ctxt, circulating: supply(ch.ledger).total });
        for (const a of accounts(ch.ledger)) expect(a.balance).toBeGreaterThanOrEqual(0);
        for (const s of stakes(ch.ledger)) {
          expect(s.bonded).toBeGreaterThanOrEqual(0);
          for (const u of s.unbonding) expect(u.amount).toBeGreaterThan(0);
        }
        for (const a of accounts(ch.ledger).filter((x) => x.id.startsWith('node:'))) {
          const grew = a.balance > (nodeBalancesBefore.get(a.id) ?? 0);
          if (grew && !step.name.startsWith('mint') && !step.name.startsWith('transfer')) {
            expect({ ctxt, rewarded: a.id, allowed: step.mayReward?.includes(a.id) ?? false }).toEqual({ ctxt, rewarded: a.id, allowed: true });
          }
        }
        for (const e of escrows(ch.ledger)) {
          if (e.status !== 'held') expect((e.payouts ?? []).reduce((x, p) => x + p.amount, 0)).toBe(e.amount);
        }
      }
      for (const e of escrows(ch.ledger)) {
        if (e.status === 'paid') settled.paid++;
        if (e.status === 'refunded') settled.refunded++;
        settled.rewardedNodes += (e.payouts ?? []).filter((p) => p.account.startsWith('node:')).length;
      }
    }
    // The generator must exercise both paths, or the property says little.
    expect(accepted).toBeGreaterThan(300);
    expect(rejected).toBeGreaterThan(300);
    expect(settled.paid).toBeGreaterThan(20);
    expect(settled.refunded).toBeGreaterThan(20);
    expect(settled.rewardedNodes).toBeGreaterThan(10);
  });
});
