/**
 * Consent on the real network (chain-a: HospitalA + HospitalC): a patient key generated here
 * signs a grant and a revocation; HospitalA's gateway identity only carries them.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { Contract } from '@hyperledger/fabric-gateway';
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
import { connectOrg, type OrgConnection } from '../../gateway/src/fabric/connection';
import { loadProfile } from '../../gateway/src/fabric/profile';
import { codeOf } from './support/chain-ops';

const CHANNEL = 'chain-a';
const DAY = 86_400_000;

describe('Consent on chain-a through the peer Gateway service', () => {
  let a: OrgConnection;
  let c: OrgConnection;
  let consentA: Contract;
  let consentC: Contract;

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

  const text = (b: Uint8Array) => JSON.parse(Buffer.from(b).toString('utf8')) as Record<string, unknown>;
  const submit = async (k: Contract, fn: string, ...args: string[]) => text(await k.submitTransaction(fn, ...args));
  const evaluate = async (k: Contract, fn: string, ...args: string[]) => text(await k.evaluateTransaction(fn, ...args));

  beforeAll(() => {
    a = connectOrg(loadProfile('HospitalA'));
    c = connectOrg(loadProfile('HospitalC'));
    consentA = a.contract(CHANNEL, 'Consent');
    consentC = c.contract(CHANNEL, 'Consent');
  });

  afterAll(() => {
    a?.close();
    c?.close();
  });

  it('registers the patient at HospitalA and anchors a record', async () => {
    expect(await submit(consentA, 'RegisterPatient', publicKey)).toMatchObject({ patientId, registeredBy: ['HospitalAMSP'] });
    expect(await submit(consentA, 'AnchorRecord', recordId, patientId, 'Observation', anchored)).toMatchObject({ version: 1, custodian: 'HospitalAMSP' });
    expect(await evaluate(consentC, 'VerifyRecordHash', recordId, anchored, '')).toMatchObject({ match: true });
  });

  it('refuses HospitalC amending a record HospitalA holds', async () => {
    expect(await codeOf(consentC.submitTransaction('AmendRecord', recordId, createHash('sha256').update('x').digest('hex'), '1'))).toBe('NOT_CUSTODIAN');
    expect(await evaluate(consentC, 'GetRecord', recordId)).toMatchObject({ version: 1, hash: anchored });
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
    const stored = await submit(consentA, 'GrantConsent', JSON.stringify(grant));
    consentId = stored.consentId as string;
    expect(stored).toMatchObject({ effectiveStatus: 'active', version: 1 });
    expect(await codeOf(consentA.submitTransaction('GrantConsent', JSON.stringify(grant)))).toBe('NONCE_REPLAYED');
    expect(await submit(consentA, 'LogAccess', 'HospitalBMSP', recordId, 'TREAT', 'it-1')).toMatchObject({ allowed: true, consentId });
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
    expect(await codeOf(consentA.submitTransaction('GrantConsent', JSON.stringify(forged)))).toBe('PATIENT_SIGNATURE_INVALID');
  });

  it('revokes the grant; the next access is refused and both are in the patient-readable log', async () => {
    const revocation = signPatientMessage(buildConsentRevocation(header(), consentId), privateKey);
    expect(await submit(consentA, 'RevokeConsent', JSON.stringify(revocation))).toMatchObject({ status: 'revoked', version: 2 });
    expect(await submit(consentA, 'LogAccess', 'HospitalBMSP', recordId, 'TREAT', 'it-2')).toMatchObject({ allowed: false, reason: 'consent-revoked' });
    const read = signPatientMessage(buildAccessLogRead(header()), privateKey);
    const log = (await evaluate(consentC, 'ListAccessLogSigned', JSON.stringify(read), '', '')) as { items: Array<Record<string, unknown>> };
    expect(log.items.map((e) => [e.requestId, e.allowed])).toEqual([
      ['it-1', true],
      ['it-2', false],
    ]);
  });
});
