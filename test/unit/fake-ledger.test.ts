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
