/**
 * The patient app's pure parts: the request form it signs is byte for byte the server's, and the
 * plain-language summary says who, what, why and until when.
 */
import { canonicalBytes } from '@medbridge/chaincode';
import { requestForm as serverForm } from '../../../gateway/src/api/request-signing';
import { requestForm as deviceForm } from '../../../gateway/app/src/request-form';
import { consentPlacement, grantSummary, LABEL_WORDS, labelWords, logWords } from '../../../gateway/app/src/summary';
import { CONFIDENTIALITY_ORDER, SENSITIVITY_CODES } from '../../../chaincode/src/protocol/consent-policy/vocabulary';
import { createHash } from 'node:crypto';

describe('patient app', () => {
  it("signs the server's request form: same canonical bytes for the same request", () => {
    const body = '{"publicKey":"AAAA"}';
    const hash = createHash('sha256').update(body).digest('hex');
    const device = deviceForm('post', '/v1/enrolments/ABCD-EFGH-JKMN', hash, 'pt_' + 'a'.repeat(64), 1_760_000_000_000, 'nonce-nonce-nonce-1');
    const server = serverForm({ method: 'POST', path: '/v1/enrolments/ABCD-EFGH-JKMN', body }, 'pt_' + 'a'.repeat(64), 1_760_000_000_000, 'nonce-nonce-nonce-1');
    expect(canonicalBytes(device).equals(canonicalBytes(server))).toBe(true);
  });

  it('summarises a grant in plain words before it is signed', () => {
    const start = Date.UTC(2026, 11, 1);
    const text = grantSummary({ grantee: 'HospitalBMSP', scope: { recordIds: ['obs-1'], categories: ['Observation'] }, actions: ['read'], purposes: ['TREAT'], period: { start, end: start + 30 * 86_400_000 } });
    expect(text).toBe(
      'HospitalBMSP may read record obs-1 and your measurements and test results (Observation), only for your treatment, from 1 December 2026 until 31 December 2026 (30 days). ' +
        'They cannot change your records or pass them on. You can take this back at any time; what they already read stays in your access log.',
    );
  });

  it('marks refusals and break-glass in the access-log timeline', () => {
    const base = { requester: 'HospitalBMSP', recordId: 'obs-1', purpose: 'TREAT', reason: 'consent' };
    expect(logWords({ ...base, kind: 'access', allowed: true }).tone).toBe('allowed');
    expect(logWords({ ...base, kind: 'access', allowed: false, reason: 'no-consent' }).tone).toBe('refused');
    expect(logWords({ ...base, kind: 'emergency-opened', allowed: true }).tone).toBe('emergency');
  });

  it("keeps a consent private at the hospital when the grantee is on the hospital's chain, and says who reads it when it must cross", () => {
    const hospital = { mspId: 'HospitalAMSP', members: ['HospitalAMSP', 'HospitalCMSP'] };
    expect(consentPlacement(hospital, ' HospitalCMSP ')).toEqual({
      canKeep: true,
      words: 'Keep this consent private at HospitalAMSP: no other member of the chain can read it; it covers only the records HospitalAMSP holds',
    });
    // Before the patient names anyone, the choice shows as the default it will be.
    expect(consentPlacement(hospital, '').canKeep).toBe(true);
    expect(consentPlacement(hospital, 'HospitalBMSP')).toEqual({
      canKeep: false,
      words: "HospitalBMSP is not on HospitalAMSP's chain, so this consent is carried to its chain: it is recorded on this chain's ledger, where HospitalAMSP, HospitalCMSP can read it",
    });
    // Membership is exact: no prefix or case folding decides that an org is on this chain.
    expect(consentPlacement(hospital, 'hospitalcmsp').canKeep).toBe(false);
    expect(consentPlacement(hospital, 'HospitalC').canKeep).toBe(false);
  });

  it("puts a record's security labels in words, for every code the chaincode knows", () => {
    expect(Object.keys(LABEL_WORDS).sort()).toEqual([...CONFIDENTIALITY_ORDER, ...SENSITIVITY_CODES].sort());
    expect(labelWords(['PSY', 'R'])).toBe('psychiatry (PSY), restricted (R)');
    expect(labelWords([])).toBe('no label (normal confidentiality)');
  });
});
