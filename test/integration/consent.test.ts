/**
 * Consent on the real network (chain-a: HospitalA + HospitalC): a patient key generated here
 * signs a grant and a revocation; HospitalA's gateway identity only carries them.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  buildAccessLogRead,
  buildConsentGrant,
  buildConsentRevocation,
  exportPublicKey,
  type HeaderInput,
  keyIdOf,
  patientIdOf,
  recordHash,
  signPatientMessage,
} from '@medbridge/chaincode';
import { FabricClient } from '../../gateway/src/fabric/client';
import { Chaincode, type ConsentClient } from '../../gateway/src/fabric/contracts';
import { codeOf } from './support/chain-ops';

const CHANNEL = 'chain-a';
const DAY = 86_400_000;

describe('Consent on chain-a through the peer Gateway service', () => {
  let a: FabricClient;
  let c: FabricClient;
  let consentA: ConsentClient;
  let consentC: ConsentClient;

  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const publicKey = exportPublicKey(privateKey);
  const patientId = patientIdOf(publicKey);
  const recordId = `it-obs-${randomBytes(6).toString('hex')}`;
  const anchored = recordHash(randomBytes(32), Buffer.from('{"resourceType":"Observation","status":"final"}'));
  const header = (): HeaderInput => ({
    channel: CHANNEL,
    patientId,
    signer: keyIdOf(publicKey),
    nonce: randomBytes(18).toString('base64url'),
    issuedAt: Date.now(),
  });

  beforeAll(() => {
    a = FabricClient.open('HospitalA');
    c = FabricClient.open('HospitalC');
    consentA = new Chaincode(a, CHANNEL).consent;
    consentC = new Chaincode(c, CHANNEL).consent;
  });

  afterAll(() => {
    a?.close();
    c?.close();
  });

  it('registers the patient at HospitalA and anchors a record', async () => {
    expect((await consentA.registerPatient(publicKey)).result).toMatchObject({ patientId, registeredBy: ['HospitalAMSP'] });
    expect((await consentA.anchorRecord({ recordId, patientId, category: 'Observation', hash: anchored })).result).toMatchObject({ version: 1, custodian: 'HospitalAMSP' });
    expect(await consentC.verifyRecordHash(recordId, anchored)).toMatchObject({ match: true });
  });

  it('refuses HospitalC amending a record HospitalA holds', async () => {
    expect(await codeOf(consentC.amendRecord(recordId, createHash('sha256').update('x').digest('hex'), 1))).toBe('NOT_CUSTODIAN');
    expect(await consentC.getRecord(recordId)).toMatchObject({ version: 1, hash: anchored });
  });

  let consentId = '';
  it('stores a patient-signed grant for HospitalB and logs a granted access', async () => {
    const now = Date.now();
    const grant = signPatientMessage(
      buildConsentGrant(header(), {
        grantee: 'HospitalBMSP',
        scope: { recordIds: [], categories: ['Observation'] },
        actions: ['read'],
        purposes: ['TREAT'],
        period: { start: now - 60_000, end: now + 30 * DAY },
      }),
      privateKey,
    );
    const { result: stored } = await consentA.grantConsent(grant);
    consentId = stored.consentId;
    expect(stored).toMatchObject({ effectiveStatus: 'active', version: 1 });
    expect(await codeOf(consentA.grantConsent(grant))).toBe('NONCE_REPLAYED');
    expect((await consentA.logAccess('HospitalBMSP', recordId, 'TREAT', 'it-1')).result).toMatchObject({ allowed: true, consentId });
  });

  it('refuses a grant whose signature is forged', async () => {
    const mallory = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const m = buildConsentGrant(header(), {
      grantee: 'HospitalCMSP',
      scope: { recordIds: [recordId], categories: [] },
      actions: ['read'],
      purposes: ['HRESCH'],
      period: { start: Date.now(), end: Date.now() + DAY },
    });
    const forged = { ...signPatientMessage(m, mallory), publicKey };
    expect(await codeOf(consentA.grantConsent(forged))).toBe('PATIENT_SIGNATURE_INVALID');
  });

  it('revokes the grant; the next access is refused and both are in the patient-readable log', async () => {
    const revocation = signPatientMessage(buildConsentRevocation(header(), consentId), privateKey);
    expect((await consentA.revokeConsent(revocation)).result).toMatchObject({ status: 'revoked', version: 2 });
    expect((await consentA.logAccess('HospitalBMSP', recordId, 'TREAT', 'it-2')).result).toMatchObject({ allowed: false, reason: 'consent-revoked' });
    const read = signPatientMessage(buildAccessLogRead(header()), privateKey);
    const log = await consentC.listAccessLogSigned(read);
    expect(log.items.map((e) => [e.requestId, e.allowed])).toEqual([
      ['it-1', true],
      ['it-2', false],
    ]);
  });
});
