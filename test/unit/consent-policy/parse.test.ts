/**
 * The strict parser of the consent language and its canonical form: anything unknown or
 * unevaluable is refused with its own code and the element named; one meaning has one
 * encoding and one hash.
 */
import { canonicalBytes } from '../../../chaincode/src/protocol/canonical-json';
import {
  canonicalPolicy,
  consentPolicyHash,
  consentPolicyText,
  normalizeConsentPolicy,
  parseConsentPolicy,
  PolicyFormats,
  PolicyLimits,
  PURPOSE_OF_USE_PARENT,
  purposeAncestry,
  type ConsentPolicy,
  type Provision,
} from '../../../chaincode/src/protocol/consent-policy';
import { Formats } from '../../../chaincode/src/protocol/patient-messages';
import { errorOf, policy, T0 } from './support';

const full: Provision = {
  period: { start: T0, end: T0 + 1000 },
  actors: [
    { participation: 'author', org: 'LabMSP' },
    { participation: 'custodian', org: 'HospitalAMSP' },
    { participation: 'recipient', org: 'HospitalBMSP', role: 'clinician', practitioner: 'dr-x' },
  ],
  actions: ['access', 'disclose'],
  purposes: ['HRESCH', 'TREAT'],
  securityLabels: ['PSY', 'R'],
  resourceTypes: ['DiagnosticReport', 'Observation'],
  documentClasses: [{ system: 'http://loinc.org', code: '11502-2' }],
  dataPeriod: { start: Date.UTC(2024, 0, 1), end: Date.UTC(2025, 0, 1) },
  records: ['obs-1', 'obs-2'],
  policies: ['https://irb.example.org/studies/42'],
  provisions: [{ securityLabels: ['HIV'] }],
};

describe('parseConsentPolicy accepts', () => {
  it('a policy using every element, unchanged, as a fresh copy', () => {
    const p = policy('deny', [full], { period: { start: T0, end: T0 + 10_000 } });
    const parsed = parseConsentPolicy(p);
    expect(parsed).toEqual(p);
    expect(parsed.provisions![0]).not.toBe(p.provisions![0]);
  });

  it('the smallest policy: a format and a decision', () => {
    expect(parseConsentPolicy({ format: 'medbridge/consent-policy/v2', decision: 'deny' })).toEqual(policy('deny'));
  });

  it('a practitioner without its org in a provision whose effect is deny', () => {
    const p = policy('permit', [{ actors: [{ participation: 'recipient', practitioner: 'dr-x' }] }]);
    expect(parseConsentPolicy(p)).toEqual(p);
  });
});

describe('parseConsentPolicy refuses, naming the element', () => {
  const cases: [string, unknown, string, string][] = [
    ['a non-object', 'permit', 'CONSENT_POLICY_INVALID', 'policy must be an object'],
    ['another format', { format: 'v1', decision: 'deny' }, 'CONSENT_POLICY_INVALID', 'policy.format'],
    ['a missing decision', { format: 'medbridge/consent-policy/v2' }, 'CONSENT_POLICY_INVALID', 'policy.decision'],
    ['an unknown top-level field', { ...policy('deny'), grantee: 'HospitalBMSP' }, 'CONSENT_POLICY_INVALID', 'unknown field "grantee"'],
    ['an unknown provision field', policy('deny', [{ code: ['x'] } as never]), 'CONSENT_POLICY_INVALID', 'policy.provisions[0] has an unknown field "code"'],
    ['an empty criterion', policy('deny', [{ purposes: [] }]), 'CONSENT_POLICY_INVALID', 'policy.provisions[0].purposes is empty'],
    ['empty provisions', policy('deny', []), 'CONSENT_POLICY_INVALID', 'policy.provisions is empty'],
    ['an unknown purpose', policy('deny', [{ purposes: ['TREATMENT'] }]), 'CONSENT_POLICY_INVALID', 'policy.provisions[0].purposes[0] must be an HL7 v3 PurposeOfUse code'],
    ['an unknown security label', policy('deny', [{ securityLabels: ['XYZ'] }]), 'CONSENT_POLICY_INVALID', 'securityLabels[0]'],
    ['an unknown action', policy('deny', [{ actions: ['read' as never] }]), 'CONSENT_POLICY_INVALID', 'actions[0]'],
    ['a misspelt resource type', policy('deny', [{ resourceTypes: ['Observaton'] }]), 'CONSENT_POLICY_INVALID', 'resourceTypes[0]'],
    ['a malformed record id', policy('deny', [{ records: ['bad id'] }]), 'CONSENT_POLICY_INVALID', 'records[0] is malformed'],
    ['a coding without system', policy('deny', [{ documentClasses: [{ code: 'x' } as never] }]), 'CONSENT_POLICY_INVALID', 'documentClasses[0].system'],
    ['an unknown participation', policy('deny', [{ actors: [{ participation: 'patient' } as never] }]), 'CONSENT_POLICY_INVALID', 'actors[0].participation'],
    ['a custodian actor with a role', policy('deny', [{ actors: [{ participation: 'custodian', org: 'A', role: 'admin' } as never] }]), 'CONSENT_POLICY_INVALID', 'unknown field "role"'],
    ['a recipient naming nobody', policy('deny', [{ actors: [{ participation: 'recipient' }] }]), 'CONSENT_POLICY_INVALID', 'must name an org, a role'],
    ['an unknown requester role', policy('deny', [{ actors: [{ participation: 'recipient', role: 'surgeon' }] }]), 'CONSENT_POLICY_INVALID', 'actors[0].role'],
    ['a practitioner and a care team in one actor', policy('deny', [{ actors: [{ participation: 'recipient', org: 'B', practitioner: 'p', careTeam: 't' }] }]), 'CONSENT_POLICY_INVALID', 'both a practitioner and a care team'],
    ['a permit for a practitioner of no org', policy('deny', [{ actors: [{ participation: 'recipient', practitioner: 'dr-x' }] }]), 'CONSENT_POLICY_INVALID', 'without naming its org'],
    ['a permit for a care team of no org, nested', policy('permit', [{ purposes: ['HMARKT'], provisions: [{ actors: [{ participation: 'recipient', careTeam: 'ct' }] }] }]), 'CONSENT_POLICY_INVALID', 'policy.provisions[0].provisions[0].actors[0] permits'],
    ['an empty period', policy('deny', [{ period: {} }]), 'CONSENT_POLICY_INVALID', 'policy.provisions[0].period must have a start, an end or both'],
    ['a period ending before it starts', policy('deny', undefined, { period: { start: T0, end: T0 } }), 'CONSENT_POLICY_INVALID', 'policy.period.end must be after'],
    ['a fractional time', policy('deny', [{ dataPeriod: { start: 1.5 } }]), 'CONSENT_POLICY_INVALID', 'dataPeriod.start'],
    ['a time before 1900', policy('deny', [{ dataPeriod: { start: PolicyLimits.minTime - 1 } }]), 'CONSENT_POLICY_INVALID', 'dataPeriod.start'],
    ['a list out of canonical order', policy('deny', [{ purposes: ['TREAT', 'HRESCH'] }]), 'CONSENT_POLICY_INVALID', 'purposes must be sorted'],
    ['a duplicate', policy('deny', [{ records: ['a', 'a'] }]), 'CONSENT_POLICY_INVALID', 'records must be sorted and free of duplicates'],
    ['a prototype key', JSON.parse('{"format":"medbridge/consent-policy/v2","decision":"deny","__proto__":{"x":1}}'), 'CONSENT_POLICY_INVALID', 'unknown field "__proto__"'],
  ];
  it.each(cases)('%s', (_name, input, code, fragment) => {
    const message = errorOf(() => parseConsentPolicy(input));
    expect(message.startsWith(`${code}: `)).toBe(true);
    expect(message).toContain(fragment);
  });
});

describe('limits', () => {
  const chain = (depth: number): Provision => (depth === 1 ? { records: ['r'] } : { records: ['r'], provisions: [chain(depth - 1)] });

  it(`nests up to depth ${PolicyLimits.maxDepth} and refuses deeper with CONSENT_POLICY_TOO_LARGE`, () => {
    expect(() => parseConsentPolicy(policy('deny', [chain(PolicyLimits.maxDepth)]))).not.toThrow();
    expect(errorOf(() => parseConsentPolicy(policy('deny', [chain(PolicyLimits.maxDepth + 1)])))).toMatch(/^CONSENT_POLICY_TOO_LARGE: .*nests deeper than 5/);
  });

  it(`holds at most ${PolicyLimits.maxProvisions} provisions`, () => {
    // four top-level provisions with n - 1 exceptions each: 4n provisions at every depth
    const many = (n: number) =>
      policy('deny', Array.from({ length: 4 }, (_, i) => ({ records: [`r-${i}`], provisions: Array.from({ length: n - 1 }, (_, j) => ({ records: [`r-${i}-${j}`] })) })));
    expect(() => parseConsentPolicy(many(PolicyLimits.maxProvisions / 4))).not.toThrow();
    expect(errorOf(() => parseConsentPolicy(many(PolicyLimits.maxProvisions / 4 + 1)))).toMatch(/^CONSENT_POLICY_TOO_LARGE: policy has more than 32 provisions/);
  });

  it(`holds at most ${PolicyLimits.maxListEntries} entries per criterion`, () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `r-${String(i).padStart(3, '0')}`);
    expect(() => parseConsentPolicy(policy('deny', [{ records: ids(PolicyLimits.maxListEntries) }]))).not.toThrow();
    expect(errorOf(() => parseConsentPolicy(policy('deny', [{ records: ids(PolicyLimits.maxListEntries + 1) }])))).toMatch(/^CONSENT_POLICY_TOO_LARGE: policy.provisions\[0\].records has more than 32/);
  });

  it(`is at most ${PolicyLimits.maxBytes} bytes as canonical JSON`, () => {
    const long = (i: number) => `r-${String(i).padStart(3, '0')}-${'x'.repeat(110)}`;
    const big = policy('deny', Array.from({ length: 4 }, (_, p) => ({ records: Array.from({ length: 20 }, (_, i) => long(p * 100 + i)) })));
    expect(errorOf(() => parseConsentPolicy(big))).toMatch(/^CONSENT_POLICY_TOO_LARGE: policy is \d+ bytes as canonical JSON, more than 8192/);
  });
});

describe('canonical form', () => {
  const unordered = {
    provisions: [{ purposes: ['TREAT', 'HRESCH', 'TREAT'], actors: [{ org: 'B', participation: 'recipient' }, { participation: 'custodian', org: 'A' }] }],
    decision: 'deny',
    format: 'medbridge/consent-policy/v2',
  };

  it('sorts and de-duplicates lists; the strict parser then accepts it unchanged', () => {
    const c = canonicalPolicy(unordered);
    expect(c.provisions![0]!.purposes).toEqual(['HRESCH', 'TREAT']);
    expect(c.provisions![0]!.actors).toEqual([{ participation: 'custodian', org: 'A' }, { participation: 'recipient', org: 'B' }]);
    expect(parseConsentPolicy(c)).toEqual(c);
  });

  it('gives one text and one hash whatever the key and list order', () => {
    const reordered = { format: 'medbridge/consent-policy/v2', decision: 'deny', provisions: [{ actors: [{ participation: 'custodian', org: 'A' }, { participation: 'recipient', org: 'B' }], purposes: ['HRESCH', 'TREAT'] }] };
    expect(consentPolicyText(reordered)).toBe(consentPolicyText(unordered));
    expect(consentPolicyHash(reordered)).toBe(consentPolicyHash(unordered));
    expect(consentPolicyText(unordered)).toBe('{"decision":"deny","format":"medbridge/consent-policy/v2","provisions":[{"actors":[{"org":"A","participation":"custodian"},{"org":"B","participation":"recipient"}],"purposes":["HRESCH","TREAT"]}]}');
  });

  it('keeps provision order: it decides which path is reported', () => {
    const a = { records: ['a'] };
    const b = { records: ['b'] };
    expect(consentPolicyHash(policy('deny', [a, b]))).not.toBe(consentPolicyHash(policy('deny', [b, a])));
  });

  it('normalizeConsentPolicy on a typed policy agrees with canonicalPolicy', () => {
    expect(normalizeConsentPolicy(unordered as ConsentPolicy)).toEqual(canonicalPolicy(unordered));
  });

  it('measures size as the canonical bytes measure it', () => {
    const p = parseConsentPolicy(policy('deny', [full]));
    expect(JSON.stringify(p).length).toBe(canonicalBytes(p).length);
  });
});

describe('vocabulary', () => {
  it('keeps the identifier formats of the patient messages', () => {
    expect(PolicyFormats.mspId.source).toBe(Formats.mspId.source);
    expect(PolicyFormats.recordId.source).toBe(Formats.recordId.source);
  });

  it('holds the purpose-of-use hierarchy as a tree rooted in the top-level purposes', () => {
    const roots = Object.entries(PURPOSE_OF_USE_PARENT).filter(([, parent]) => parent === null).map(([c]) => c).sort();
    expect(roots).toEqual(['HMARKT', 'HOPERAT', 'HPAYMT', 'HRESCH', 'PATRQT', 'PUBHLTH', 'TREAT']);
    for (const code of Object.keys(PURPOSE_OF_USE_PARENT)) {
      const chain = purposeAncestry(code);
      expect(chain.length).toBeLessThanOrEqual(4);
      expect(roots).toContain(chain[chain.length - 1]);
    }
    expect(purposeAncestry('BTG')).toEqual(['BTG', 'ETREAT', 'TREAT']);
    expect(purposeAncestry('CLINTRL')).toEqual(['CLINTRL', 'TREAT']);
  });
});
