/**
 * Time is the submitter's: the proposal's timestamp is what every rule on transaction time
 * reads. Every medbridge contract refuses, before any function runs, a proposal whose
 * timestamp is further than MAX_CLOCK_SKEW_MS from the endorsing peer's clock (CLOCK_SKEW),
 * so a member cannot, e.g., record a packet timeout seconds after sending by claiming a
 * later time. The check writes nothing.
 */
import type { Context } from 'fabric-contract-api';
import { ConsentContract } from '../../../chaincode/src/contracts/consent-contract';
import { CrossChainContract } from '../../../chaincode/src/contracts/crosschain-contract';
import { GovernanceContract } from '../../../chaincode/src/contracts/governance-contract';
import { IncentiveContract } from '../../../chaincode/src/contracts/incentive-contract';
import { SystemContract } from '../../../chaincode/src/contracts/system-contract';
import { checkClockSkew, MAX_CLOCK_SKEW_MS, requireTimestampNearPeerClock } from '../../../chaincode/src/contracts/tx-context';
import { MedbridgeError } from '../../../chaincode/src/errors';
import { createOrg } from '../../fixtures/pki';
import { FakeLedger, type FakeIdentity } from '../support/fake-ledger';
import { expectRejected, TwoChains } from '../crosschain/harness';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as MedbridgeError).code;
  }
};

describe('the clock-skew bound', () => {
  const peerNow = 1_800_000_000_000;

  it('is 60 seconds either way, inclusive', () => {
    expect(MAX_CLOCK_SKEW_MS).toBe(60_000);
    for (const skew of [0, 1, -1, 60_000, -60_000]) expect(codeOf(() => checkClockSkew(peerNow + skew, peerNow))).toBeUndefined();
    for (const skew of [60_001, -60_001, 3_600_000, -86_400_000]) expect(codeOf(() => checkClockSkew(peerNow + skew, peerNow))).toBe('CLOCK_SKEW');
  });

  it('refuses a timestamp that is not a number', () => {
    expect(codeOf(() => checkClockSkew(Number.NaN, peerNow))).toBe('CLOCK_SKEW');
  });

  it('reads the proposal timestamp of the transaction', async () => {
    const org = await createOrg('HospitalAMSP');
    const who: FakeIdentity = { mspId: org.mspId, certPem: (await org.client('u')).certPem };
    const ledger = new FakeLedger('chain-a');
    await ledger.invoke({ identity: who, timeMs: peerNow + 61_000 }, async (ctx) => {
      expect(codeOf(() => requireTimestampNearPeerClock(ctx, peerNow))).toBe('CLOCK_SKEW');
      expect(codeOf(() => requireTimestampNearPeerClock(ctx, peerNow + 2_000))).toBeUndefined();
    });
  });
});

describe('every contract refuses a skewed proposal before its function runs', () => {
  const contracts = [new ConsentContract(), new CrossChainContract(), new GovernanceContract(), new IncentiveContract(), new SystemContract()];

  it.each(contracts.map((c) => [c.getName(), c] as const))('%s: beforeTransaction refuses a timestamp an hour ahead or behind, accepts the peer clock', async (_name, contract) => {
    const org = await createOrg('HospitalAMSP');
    const who: FakeIdentity = { mspId: org.mspId, certPem: (await org.client('u')).certPem };
    const ledger = new FakeLedger('chain-a');
    const before = (ctx: Context) => contract.beforeTransaction(ctx);
    for (const shift of [3_600_000, -3_600_000]) {
      await expectRejected(ledger, 'CLOCK_SKEW', () => ledger.invoke({ identity: who, timeMs: Date.now() + shift }, before));
    }
    await ledger.invoke({ identity: who, timeMs: Date.now() }, before);
  });

  it('refuses the timeout of a packet recorded by claiming a later time, leaving the packet pending', async () => {
    const t = await TwoChains.create({ peersPerOrg: 1 });
    t.now = Date.now();
    await t.setup();
    const packet = await t.sendPing({ n: 1 }, 60_000);
    // The attack: the destination's member claims the packet's timeout has passed.
    const claimed = packet.timeoutMs + 1;
    await expectRejected(t.b.ledger, 'CLOCK_SKEW', () =>
      t.b.ledger.invoke({ identity: t.b.user, timeMs: claimed }, async (ctx) => {
        await t.cc.beforeTransaction(ctx);
        return t.cc.RecordTimeout(ctx, JSON.stringify(packet), '{}');
      }),
    );
    // No receipt of any kind on the destination: the packet is still pending there.
    await expect(t.receipt(packet.sequence)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
