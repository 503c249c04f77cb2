import { SystemContract } from '../../chaincode/src/contracts/system-contract';
import { createOrg } from '../fixtures/pki';
import { FakeLedger } from './support/fake-ledger';

describe('System contract on the fake ledger', () => {
  it('records a heartbeat with the transaction time and the caller org', async () => {
    const org = await createOrg('HospitalAMSP');
    const user = await org.client('user1');
    const ledger = new FakeLedger('chain-a');
    const c = new SystemContract();
    const identity = { mspId: org.mspId, certPem: user.certPem };
    await ledger.invoke({ identity, timeMs: 1_700_000_000_123 }, (ctx) => c.Heartbeat(ctx, 'hello'));
    const last = await ledger.invoke({ identity, timeMs: 1_700_000_001_000 }, (ctx) => c.LastHeartbeat(ctx, org.mspId));
    expect(JSON.parse(last)).toMatchObject({ mspId: 'HospitalAMSP', note: 'hello', txTimeMs: 1_700_000_000_123 });
    expect(ledger.events.map((e) => e.name)).toEqual(['Heartbeat']);
  });

  it('derives the role from the NodeOU of the caller certificate', async () => {
    const org = await createOrg('HospitalBMSP');
    const admin = await org.admin('admin');
    const ledger = new FakeLedger('chain-b');
    const out = await ledger.invoke({ identity: { mspId: org.mspId, certPem: admin.certPem }, timeMs: 5000 }, (ctx) =>
      new SystemContract().Ping(ctx),
    );
    expect(JSON.parse(out)).toEqual({ channel: 'chain-b', mspId: 'HospitalBMSP', role: 'admin', txTimeMs: 5000 });
  });
});

describe('private data on the fake ledger, as Fabric keeps it', () => {
  const identity = { mspId: 'HospitalAMSP', certPem: '' };
  const C = '_implicit_org_HospitalAMSP';

  it('refuses any write after a range query over private data, and commits nothing of that transaction', async () => {
    const ledger = new FakeLedger('chain-a');
    const written = ledger.invoke({ identity, timeMs: 1 }, async (ctx) => {
      await ctx.stub.getPrivateDataByPartialCompositeKey(C, 'mb.x', []);
      await ctx.stub.putPrivateData(C, 'k', Buffer.from('v'));
      return 'done';
    });
    await expect(written).rejects.toThrow(/queries on pvt data; writes are not allowed/);
    const publicWrite = ledger.invoke({ identity, timeMs: 2 }, async (ctx) => {
      await ctx.stub.getPrivateDataByPartialCompositeKey(C, 'mb.x', []);
      await ctx.stub.putState('k', Buffer.from('v'));
    });
    await expect(publicWrite).rejects.toThrow(/writes are not allowed/);
    expect(ledger.privateState.size).toBe(0);
    expect(ledger.state.size).toBe(0);
  });

  it('lets point reads of private data feed writes, and reads a collection only on its own org’s peer', async () => {
    const ledger = new FakeLedger('chain-a');
    await ledger.invoke({ identity, timeMs: 1 }, async (ctx) => ctx.stub.putPrivateData(C, 'k', Buffer.from('v1')));
    await ledger.invoke({ identity, timeMs: 2 }, async (ctx) => {
      const v = Buffer.from(await ctx.stub.getPrivateData(C, 'k')).toString('utf8');
      await ctx.stub.putPrivateData(C, 'k', Buffer.from(`${v}+v2`));
    });
    expect(ledger.privateState.get(C)?.get('k')?.toString('utf8')).toBe('v1+v2');
    const elsewhere = ledger.invoke({ identity, timeMs: 3, peerMsp: 'HospitalCMSP' }, async (ctx) => ctx.stub.getPrivateData(C, 'k'));
    await expect(elsewhere).rejects.toThrow(/not available on a peer of HospitalCMSP/);
  });
});
