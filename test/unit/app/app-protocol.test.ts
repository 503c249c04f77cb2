/**
 * The patient app's pure parts: the request form it signs is byte for byte the server's, and the
 * plain-language summary says who, what, why and until when.
 */
import { buildConsentPolicyGrant, canonicalBytes, evaluateConsentPolicy, importFhirConsent, parseConsentPolicy, SENSITIVITY_CODES as SENSITIVITY } from '@medbridge/chaincode';
import { requestForm as serverForm } from '../../../gateway/src/api/request-signing';
import { requestForm as deviceForm } from '../../../gateway/app/src/request-form';
import { consentPlacement, EXCEPT_LABELS, exceptionPolicy, exceptionSummary, grantSummary, LABEL_WORDS, labelWords, logWords, policyWords } from '../../../gateway/app/src/summary';
import { CONFIDENTIALITY_ORDER, SENSITIVITY_CODES } from '../../../chaincode/src/protocol/consent-policy/vocabulary';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

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

  describe('a grant with exceptions ("everything except my psychiatry records")', () => {
    const start = Date.UTC(2026, 11, 1);
    const terms = { grantee: 'HospitalCMSP', scope: { recordIds: ['obs-1'], categories: ['Observation'] }, actions: ['read' as const], purposes: ['TREAT'], period: { start, end: start + 30 * 86_400_000 } };
    const policy = exceptionPolicy(terms, ['PSY', 'HIV']);
    const record = (recordId: string, resourceType: string, securityLabels: string[]) => ({ recordId, resourceType, securityLabels, dataDate: start, authorOrg: 'HospitalAMSP', custodian: 'HospitalAMSP', documentClasses: [] });
    const ask = (org: string, rec: ReturnType<typeof record>, purpose = 'TREAT') =>
      evaluateConsentPolicy(parseConsentPolicy(buildConsentPolicyGrant({ channel: 'chain-a', patientId: `pt_${'b'.repeat(64)}`, signer: 'c'.repeat(64), nonce: 'nonce-nonce-0001', issuedAt: start }, policy).policy), {
        actor: { org, role: null, practitioner: null, careTeam: null },
        action: 'access',
        purpose,
        policy: null,
        record: rec,
        time: start + 86_400_000,
      });

    it('is a policy the chaincode accepts as the patient signs it, and decides as its words say', () => {
      expect(ask('HospitalCMSP', record('obs-2', 'Observation', ['R']))).toEqual({ decision: 'permit', path: [1], reason: 'provision' });
      expect(ask('HospitalCMSP', record('obs-1', 'Condition', []))).toEqual({ decision: 'permit', path: [0], reason: 'provision' });
      // The exception holds under both permits: a PSY record by id, an HIV one by kind.
      expect(ask('HospitalCMSP', record('obs-1', 'Condition', ['PSY']))).toEqual({ decision: 'deny', path: [0, 0], reason: 'provision' });
      expect(ask('HospitalCMSP', record('obs-3', 'Observation', ['HIV', 'R']))).toEqual({ decision: 'deny', path: [1, 0], reason: 'provision' });
      // Nobody else, no other kind, no other purpose (a child of TREAT is covered, research is not).
      expect(ask('HospitalBMSP', record('obs-2', 'Observation', []))).toMatchObject({ decision: 'deny', path: [] });
      expect(ask('HospitalCMSP', record('cond-9', 'Condition', []))).toMatchObject({ decision: 'deny', path: [] });
      expect(ask('HospitalCMSP', record('obs-2', 'Observation', []), 'ETREAT')).toMatchObject({ decision: 'permit' });
      expect(ask('HospitalCMSP', record('obs-2', 'Observation', []), 'HRESCH')).toMatchObject({ decision: 'deny', path: [] });
    });

    it('says what stays closed before signing, and reads the signed policy back in words', () => {
      expect(exceptionSummary(terms, ['PSY', 'HIV'])).toBe(`${grantSummary(terms)} Records labelled psychiatry (PSY) and HIV/AIDS (HIV) stay closed to them, even those named above.`);
      expect(policyWords(policy)).toBe(
        'Nobody may read your records from 1 December 2026 until 31 December 2026; but HospitalCMSP may read record obs-1, for your treatment, except records labelled HIV/AIDS (HIV) and psychiatry (PSY); ' +
          'and HospitalCMSP may read your measurements and test results (Observation), for your treatment, except records labelled HIV/AIDS (HIV) and psychiatry (PSY)',
      );
      // Any policy reads, not only the app's: HL7's notOrg (permit all, deny one org).
      const notOrg = importFhirConsent(JSON.parse(readFileSync(join(__dirname, '../../fixtures/fhir-consent-examples/r5/consent-example-notOrg.json'), 'utf8')) as unknown).policy;
      expect(policyWords(notOrg)).toBe('Any organisation may read your records; but f001 may not read your records');
      expect(policyWords({ format: 'medbridge/consent-policy/v2', decision: 'permit', provisions: [{ securityLabels: ['PSY'], provisions: [{ actors: [{ participation: 'recipient', org: 'HospitalCMSP', careTeam: 'ct-dr-x' }] }] }] })).toBe(
        'Any organisation may read your records; but nobody may read your records labelled psychiatry (PSY), except HospitalCMSP (care team ct-dr-x) may read your records',
      );
    });

    it('offers sensitivity codes the chaincode knows, each with its words', () => {
      expect(EXCEPT_LABELS.every((c) => (SENSITIVITY as readonly string[]).includes(c) && LABEL_WORDS[c] !== undefined)).toBe(true);
    });
  });

  it("puts a record's security labels in words, for every code the chaincode knows", () => {
    expect(Object.keys(LABEL_WORDS).sort()).toEqual([...CONFIDENTIALITY_ORDER, ...SENSITIVITY_CODES].sort());
    expect(labelWords(['PSY', 'R'])).toBe('psychiatry (PSY), restricted (R)');
    expect(labelWords([])).toBe('no label (normal confidentiality)');
  });
});
