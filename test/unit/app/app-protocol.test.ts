/**
 * The patient app's pure parts: the request form it signs is byte for byte the server's, and the
 * plain-language summary says who, what, why and until when.
 */
import { buildConsentPolicyGrant, canonicalBytes, evaluateConsentPolicy, exportFhirConsent, importFhirConsent, parseConsentPolicy, SENSITIVITY_CODES as SENSITIVITY } from '@medbridge/chaincode';
import { requestForm as serverForm } from '../../../gateway/src/api/request-signing';
import { requestForm as deviceForm } from '../../../gateway/app/src/request-form';
import { consentPlacement, unreachableWords, EXCEPT_LABELS, exceptionPolicy, exceptionSummary, grantSummary, LABEL_WORDS, labelWords, logWords, MAX_FHIR_FILE_BYTES, policyPlacement, policyWords, prepareFhirGrant } from '../../../gateway/app/src/summary';
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

  describe('where a consent lives and where it goes', () => {
    const hospital = { mspId: 'HospitalAMSP', members: ['HospitalAMSP', 'HospitalCMSP'], chains: [{ chainId: 'chain-b', orgs: ['HospitalBMSP', 'HospitalDMSP'] }] };
    const privately = { heldPrivately: true };
    const publicly = { heldPrivately: false };

    it('keeps a consent for an org of this chain at the hospital, with no choice for a patient it registered privately', () => {
      expect(consentPlacement(hospital, ' HospitalCMSP ', privately)).toEqual({
        canChoosePublic: false,
        shareTo: [],
        unreachable: [],
        anyOrg: false,
        keptWords: 'Kept privately by HospitalAMSP: no other member of the chain can read it; it covers only the records HospitalAMSP holds',
        publicWords: "Recorded on this chain's ledger: HospitalAMSP, HospitalCMSP can read it",
      });
      // A patient registered publicly may record it on the ledger instead; before anyone is named, nothing is carried.
      expect(consentPlacement(hospital, 'HospitalCMSP', publicly).canChoosePublic).toBe(true);
      expect(consentPlacement(hospital, '', privately)).toMatchObject({ shareTo: [], unreachable: [] });
    });

    it('shares a consent for an org of another chain sealed with that chain, and names who can read it there', () => {
      const p = consentPlacement(hospital, 'HospitalBMSP', privately);
      expect(p).toMatchObject({ shareTo: ['chain-b'], unreachable: [] });
      expect(p.keptWords).toBe(
        'Kept privately by HospitalAMSP and shared sealed with chain-b (only HospitalBMSP can read it there, fetched from HospitalAMSP): no other member of either chain can read it; it covers only the records HospitalAMSP holds',
      );
      expect(consentPlacement(hospital, 'HospitalBMSP', publicly).publicWords).toBe(
        "Recorded on this chain's ledger, where HospitalAMSP, HospitalCMSP can read it, and carried to chain-b, where every member can read it",
      );
    });

    it('says plainly when an org is on no chain the hospital reaches; membership is exact, no prefix or case folding', () => {
      const p = consentPlacement(hospital, 'HospitalXMSP', privately);
      expect(p).toMatchObject({ shareTo: [], unreachable: ['HospitalXMSP'] });
      expect(unreachableWords(hospital, p)).toBe("HospitalXMSP is not on HospitalAMSP's chain or on a chain HospitalAMSP carries consents to: this consent cannot reach it");
      expect(unreachableWords(hospital, consentPlacement(hospital, 'HospitalCMSP', privately))).toBe('');
      expect(consentPlacement(hospital, 'hospitalcmsp', privately).unreachable).toEqual(['hospitalcmsp']);
      expect(consentPlacement(hospital, 'HospitalB', privately).unreachable).toEqual(['HospitalB']);
      // A hospital that reaches no other chain (or an older server that does not say): every outside org is unreachable.
      expect(consentPlacement({ mspId: 'HospitalAMSP', members: ['HospitalAMSP'] }, 'HospitalBMSP', privately).unreachable).toEqual(['HospitalBMSP']);
    });
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

  describe('a FHIR Consent file, mapped on the device', () => {
    const example = (v: 'r4' | 'r5', name: string) => readFileSync(join(__dirname, `../../fixtures/fhir-consent-examples/${v}/consent-example-${name}.json`), 'utf8');
    const now = Date.UTC(2026, 11, 1);
    const DAY = 86_400_000;

    it("maps HL7's notSecLabel (R5) to the policy the CLI signs, bounds its period by the days chosen, and says what it left out", () => {
      const g = prepareFhirGrant(example('r5', 'notSecLabel'), { now, days: 30 });
      expect(g.version).toBe('R5');
      expect(g.policy).toEqual(parseConsentPolicy({ ...importFhirConsent(JSON.parse(example('r5', 'notSecLabel'))).policy, period: { start: now, end: now + 30 * DAY } }, { order: 'normalize' }));
      expect(g.periodFilled).toEqual(['start', 'end']);
      expect(g.notCarried.length).toBeGreaterThan(0);
      expect(g.notCarried.every((path) => path.startsWith('Consent.'))).toBe(true);
      // What it signs is what the patient is shown: the deny of the labels is in the words.
      expect(policyWords(g.policy)).toMatch(/^Any organisation may read your records from 1 December 2026 until 31 December 2026; but nobody may read your records labelled /);
    });

    it('keeps the bounds a file states, and fills only the missing one', () => {
      const policy = parseConsentPolicy({ format: 'medbridge/consent-policy/v2', decision: 'deny', period: { end: now + 90 * DAY }, provisions: [{ actors: [{ participation: 'recipient', org: 'HospitalCMSP' }], purposes: ['HRESCH'] }] }, { order: 'normalize' });
      const g = prepareFhirGrant(JSON.stringify(exportFhirConsent(policy)), { now, days: 30 });
      expect(g.policy.period).toEqual({ start: now, end: now + 90 * DAY });
      expect(g.periodFilled).toEqual(['start']);
    });

    it('maps R4 as well (notOrg)', () => {
      const g = prepareFhirGrant(example('r4', 'notOrg'), { now, days: 7 });
      expect(g.version).toBe('R4');
      expect(g.policy.decision).toBe('permit');
      expect(g.policy.provisions?.[0]?.actors?.[0]).toMatchObject({ participation: 'recipient' });
    });

    it('refuses what it cannot enforce with the element path, and what is not a FHIR Consent, each with its code', () => {
      expect(() => prepareFhirGrant(example('r5', 'notThis'), { now, days: 30 })).toThrow(/^FHIR_ELEMENT_UNSUPPORTED: .*Consent\.provision\[0\]\.data\[0\]\.meaning/);
      expect(() => prepareFhirGrant('{"resourceType": "Consent",', { now, days: 30 })).toThrow(/^FHIR_CONSENT_INVALID: the file is not JSON$/);
      expect(() => prepareFhirGrant('{"resourceType": "Patient"}', { now, days: 30 })).toThrow(/^FHIR_CONSENT_INVALID: resourceType must be "Consent"/);
      expect(() => prepareFhirGrant(' '.repeat(MAX_FHIR_FILE_BYTES + 1), { now, days: 30 })).toThrow(/^FHIR_CONSENT_INVALID: the file is larger than 256 KiB$/);
    });

    it('places the policy by whom it can permit: kept, shared sealed with each outside chain, and an any-org policy kept here and carried nowhere', () => {
      const hospital = { mspId: 'HospitalAMSP', members: ['HospitalAMSP', 'HospitalCMSP'], chains: [{ chainId: 'chain-b', orgs: ['HospitalBMSP'] }] };
      const forOrgs = (...orgs: string[]) => parseConsentPolicy({ format: 'medbridge/consent-policy/v2', decision: 'deny', provisions: orgs.map((org) => ({ actors: [{ participation: 'recipient', org }] })) }, { order: 'normalize' });
      const o = { heldPrivately: true };
      expect(policyPlacement(hospital, forOrgs('HospitalCMSP'), o)).toEqual(consentPlacement(hospital, 'HospitalCMSP', o));
      expect(policyPlacement(hospital, forOrgs('HospitalCMSP', 'HospitalBMSP'), o)).toEqual(consentPlacement(hospital, 'HospitalBMSP', o));
      expect(policyPlacement(hospital, forOrgs('HospitalBMSP', 'HospitalDMSP'), o)).toMatchObject({ shareTo: ['chain-b'], unreachable: ['HospitalDMSP'] });
      const anyone = policyPlacement(hospital, importFhirConsent(JSON.parse(example('r5', 'notOrg'))).policy, o);
      expect(anyone).toMatchObject({ anyOrg: true, shareTo: [], unreachable: [] });
      expect(anyone.keptWords).toBe('Kept privately by HospitalAMSP: it lets any organisation read, but only the records HospitalAMSP holds and only when they ask HospitalAMSP; it is not carried to other chains');
    });
  });

  it("puts a record's security labels in words, for every code the chaincode knows", () => {
    expect(Object.keys(LABEL_WORDS).sort()).toEqual([...CONFIDENTIALITY_ORDER, ...SENSITIVITY_CODES].sort());
    expect(labelWords(['PSY', 'R'])).toBe('psychiatry (PSY), restricted (R)');
    expect(labelWords([])).toBe('no label (normal confidentiality)');
  });
});
