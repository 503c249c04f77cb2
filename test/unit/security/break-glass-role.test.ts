/**
 * Break-glass only by a clinician. The role is the Fabric CA attribute medbridge.role in the
 * caller's certificate (extension 1.2.3.4.5.6.7.8.1), read with fabric-shim's own
 * ClientIdentity as on a peer; a plain member, an admin or a privacy officer of the org is
 * refused with FORBIDDEN_ROLE and nothing is written.
 */
import { ClientIdentity } from 'fabric-shim';
import type { ChaincodeStub } from 'fabric-shim';
import { createOrg, type TestOrg } from '../../fixtures/pki';
import type { FakeIdentity, FakeLedger } from '../support/fake-ledger';
import { breakGlassTx, channel, consentCaller, expectRejected, HOUR, newKey, T0, type KeyHolder } from '../consent/support';

/** What the chaincode's ClientIdentity reads from a certificate, as on a real peer. */
function attributesOf(mspId: string, certPem: string): Record<string, string> {
  const stub = { getChannelID: () => 'chain-a', getTxID: () => 'tx', getCreator: () => ({ mspid: mspId, idBytes: Buffer.from(certPem) }) };
  const ci = new ClientIdentity(stub as unknown as ChaincodeStub);
  const role = ci.getAttributeValue('medbridge.role');
  return role === null ? {} : { 'medbridge.role': role };
}

async function identity(org: TestOrg, kind: 'client' | 'admin', cn: string, attributes?: Record<string, string>): Promise<FakeIdentity> {
  const issued = await (kind === 'admin' ? org.admin(cn, { attributes }) : org.client(cn, { attributes }));
  return { mspId: org.mspId, certPem: issued.certPem, attributes: attributesOf(org.mspId, issued.certPem) };
}

describe('break-glass only by a clinician', () => {
  let A: TestOrg;
  let C: TestOrg;
  let ids: Record<'custodian' | 'clinician' | 'member' | 'admin' | 'officer' | 'forgedRole', FakeIdentity>;
  let ledger: FakeLedger;
  let call: ReturnType<typeof consentCaller>;
  let patient: KeyHolder;
  // Sent privately to the custodian's peers (HospitalA's), as the opener's gateway sends it.
  const open = (who: FakeIdentity) =>
    call(who, T0 + HOUR, (c, ctx) => breakGlassTx(patient.patientId, '', 'HospitalAMSP', 'unconscious in emergency room', '60')(c, ctx), 'HospitalAMSP');

  beforeAll(async () => {
    [A, C] = await Promise.all([createOrg('HospitalAMSP'), createOrg('HospitalCMSP')]);
    ids = {
      custodian: await identity(A, 'client', 'gateway-a'),
      clinician: await identity(C, 'client', 'dr-c', { 'medbridge.role': 'clinician' }),
      member: await identity(C, 'client', 'clerk-c'),
      admin: await identity(C, 'admin', 'admin-c'),
      officer: await identity(C, 'client', 'po-c', { 'medbridge.role': 'privacy-officer' }),
      forgedRole: await identity(C, 'client', 'clerk-c2', { 'medbridge.role': 'surgeon' }),
    };
  });

  beforeEach(async () => {
    ledger = await channel('chain-a', ['HospitalAMSP', 'HospitalCMSP'], ids.custodian);
    call = consentCaller(ledger);
    patient = newKey();
    await call(ids.custodian, T0, (c, ctx) => c.RegisterPatient(ctx, patient.publicKey));
    await call(ids.custodian, T0, (c, ctx) => c.AnchorRecord(ctx, 'obs-0001', patient.patientId, 'Observation', '1'.repeat(64)));
  });

  it('reads the clinician role from the certificate attribute as the peer does', () => {
    expect(ids.clinician.attributes).toEqual({ 'medbridge.role': 'clinician' });
    expect(ids.member.attributes).toEqual({});
  });

  it.each(['member', 'admin', 'officer', 'forgedRole'] as const)('refuses break-glass by a %s identity (FORBIDDEN_ROLE), changing nothing', async (who) => {
    await expectRejected(ledger, () => open(ids[who]), 'FORBIDDEN_ROLE');
  });

  it('opens emergency access for a clinician and records the role that opened it', async () => {
    const e = await open(ids.clinician);
    expect(e).toMatchObject({ org: 'HospitalCMSP', custodian: 'HospitalAMSP', openedByRole: 'clinician', review: { status: 'pending' } });
  });
});
