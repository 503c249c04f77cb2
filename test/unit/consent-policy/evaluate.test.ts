/**
 * The consent evaluator (rules/consent-policy.ts): every provision element, nesting,
 * deny-over-permit, the purpose-of-use hierarchy, periods and data periods. Every policy is
 * run through the strict parser first, as the contract will.
 */
import { parseConsentPolicy, type ConsentPolicy, type Provision } from '../../../chaincode/src/protocol/consent-policy';
import {
  evaluateConsentPolicy,
  MAX_POLICY_PERIOD_MS,
  permittedRecipientOrgs,
  reachOutside,
  validatePolicyForGrant,
  type AccessRequest,
} from '../../../chaincode/src/rules/consent-policy';
import { codeOf, DAY, policy, request, T0, type RequestOverrides } from './support';

function decide(p: ConsentPolicy, r: RequestOverrides | AccessRequest = {}) {
  const req = 'actor' in r && 'record' in r && (r as AccessRequest).record.recordId !== undefined ? (r as AccessRequest) : request(r as RequestOverrides);
  return evaluateConsentPolicy(parseConsentPolicy(p), req);
}

/** Base deny with one permit provision: the request is permitted exactly when the provision applies. */
function permitsWhen(p: Provision, r: RequestOverrides): boolean {
  return decide(policy('deny', [p]), r).decision === 'permit';
}

describe('base decision', () => {
  it('holds when no provision applies, with path [] and reason base', () => {
    expect(decide(policy('deny'))).toEqual({ decision: 'deny', path: [], reason: 'base' });
    expect(decide(policy('permit'))).toEqual({ decision: 'permit', path: [], reason: 'base' });
    expect(decide(policy('deny', [{ purposes: ['HRESCH'] }]))).toEqual({ decision: 'deny', path: [], reason: 'base' });
  });

  it('denies every request outside the consent period, even under a base permit', () => {
    const p = policy('permit', undefined, { period: { start: T0, end: T0 + DAY } });
    expect(decide(p, { time: T0 - 1 })).toEqual({ decision: 'deny', path: [], reason: 'outside-consent-period' });
    expect(decide(p, { time: T0 })).toEqual({ decision: 'permit', path: [], reason: 'base' });
    expect(decide(p, { time: T0 + DAY - 1 }).decision).toBe('permit');
    expect(decide(p, { time: T0 + DAY })).toEqual({ decision: 'deny', path: [], reason: 'outside-consent-period' });
  });

  it('reads an open-ended consent period as unbounded on that side', () => {
    expect(decide(policy('permit', undefined, { period: { start: T0 } }), { time: T0 + 1000 * DAY }).decision).toBe('permit');
    expect(decide(policy('permit', undefined, { period: { end: T0 } }), { time: T0 - 1000 * DAY }).decision).toBe('permit');
  });
});

describe('every provision element', () => {
  it('period: the access time in [start, end)', () => {
    const p: Provision = { period: { start: T0, end: T0 + DAY } };
    expect(permitsWhen(p, { time: T0 - 1 })).toBe(false);
    expect(permitsWhen(p, { time: T0 })).toBe(true);
    expect(permitsWhen(p, { time: T0 + DAY - 1 })).toBe(true);
    expect(permitsWhen(p, { time: T0 + DAY })).toBe(false);
  });

  it('actor org: the requester org', () => {
    const p: Provision = { actors: [{ participation: 'recipient', org: 'HospitalBMSP' }] };
    expect(permitsWhen(p, {})).toBe(true);
    expect(permitsWhen(p, { actor: { org: 'HospitalCMSP' } })).toBe(false);
  });

  it('actor role: the requester role', () => {
    const p: Provision = { actors: [{ participation: 'recipient', role: 'clinician' }] };
    expect(permitsWhen(p, {})).toBe(true);
    expect(permitsWhen(p, { actor: { role: 'member' } })).toBe(false);
    expect(permitsWhen(p, { actor: { role: null } })).toBe(false);
  });

  it('actor practitioner: the pseudonymous practitioner within its org', () => {
    const p: Provision = { actors: [{ participation: 'recipient', org: 'HospitalBMSP', practitioner: 'dr-x' }] };
    expect(permitsWhen(p, { actor: { practitioner: 'dr-x' } })).toBe(true);
    expect(permitsWhen(p, { actor: { practitioner: 'dr-y' } })).toBe(false);
    expect(permitsWhen(p, { actor: { practitioner: null } })).toBe(false);
    expect(permitsWhen(p, { actor: { org: 'HospitalCMSP', practitioner: 'dr-x' } })).toBe(false);
  });

  it('actor care team: the care team within its org', () => {
    const p: Provision = { actors: [{ participation: 'recipient', org: 'HospitalBMSP', careTeam: 'ct-7' }] };
    expect(permitsWhen(p, { actor: { careTeam: 'ct-7' } })).toBe(true);
    expect(permitsWhen(p, { actor: { careTeam: 'ct-8' } })).toBe(false);
    expect(permitsWhen(p, { actor: { org: 'HospitalCMSP', careTeam: 'ct-7' } })).toBe(false);
  });

  it('actor custodian and author: the org holding and the org that authored the record', () => {
    const custodian: Provision = { actors: [{ participation: 'custodian', org: 'HospitalAMSP' }] };
    expect(permitsWhen(custodian, {})).toBe(true);
    expect(permitsWhen(custodian, { record: { custodian: 'HospitalCMSP' } })).toBe(false);
    const author: Provision = { actors: [{ participation: 'author', org: 'LabMSP' }] };
    expect(permitsWhen(author, { record: { authorOrg: 'LabMSP' } })).toBe(true);
    expect(permitsWhen(author, {})).toBe(false);
  });

  it('actors: OR within one participation, AND across participations', () => {
    const p: Provision = {
      actors: [
        { participation: 'custodian', org: 'HospitalAMSP' },
        { participation: 'recipient', org: 'HospitalBMSP' },
        { participation: 'recipient', org: 'HospitalCMSP' },
      ],
    };
    expect(permitsWhen(p, {})).toBe(true);
    expect(permitsWhen(p, { actor: { org: 'HospitalCMSP' } })).toBe(true);
    expect(permitsWhen(p, { actor: { org: 'HospitalDMSP' } })).toBe(false);
    expect(permitsWhen(p, { record: { custodian: 'HospitalDMSP' } })).toBe(false);
  });

  it('action: access requests match access and disclose, not correct', () => {
    expect(permitsWhen({ actions: ['access'] }, {})).toBe(true);
    expect(permitsWhen({ actions: ['disclose'] }, {})).toBe(true);
    expect(permitsWhen({ actions: ['correct'] }, {})).toBe(false);
    expect(permitsWhen({ actions: ['access'] }, { action: 'correct' })).toBe(false);
  });

  it('purpose: the requested purpose or a descendant of a listed one', () => {
    expect(permitsWhen({ purposes: ['TREAT'] }, { purpose: 'TREAT' })).toBe(true);
    expect(permitsWhen({ purposes: ['HPAYMT', 'TREAT'] }, { purpose: 'HPAYMT' })).toBe(true);
    expect(permitsWhen({ purposes: ['TREAT'] }, { purpose: 'HRESCH' })).toBe(false);
  });

  it('security label, sensitivity: the record carries the code', () => {
    const p: Provision = { securityLabels: ['PSY'] };
    expect(permitsWhen(p, { record: { securityLabels: ['R', 'PSY'] } })).toBe(true);
    expect(permitsWhen(p, { record: { securityLabels: ['R', 'HIV'] } })).toBe(false);
    expect(permitsWhen({ securityLabels: ['HIV', 'PSY'] }, { record: { securityLabels: ['HIV'] } })).toBe(true);
  });

  it('security label, confidentiality: a high-water mark (R covers U..R, not V); no code reads as N', () => {
    const r: Provision = { securityLabels: ['R'] };
    for (const c of ['U', 'L', 'M', 'N', 'R']) expect(permitsWhen(r, { record: { securityLabels: [c] } })).toBe(true);
    expect(permitsWhen(r, { record: { securityLabels: ['V'] } })).toBe(false);
    const n: Provision = { securityLabels: ['N'] };
    expect(permitsWhen(n, { record: { securityLabels: ['R'] } })).toBe(false);
    expect(permitsWhen(n, { record: { securityLabels: [] } })).toBe(true);
    expect(permitsWhen({ securityLabels: ['M'] }, { record: { securityLabels: ['PSY'] } })).toBe(false);
  });

  it('resource type: the record resource type', () => {
    const p: Provision = { resourceTypes: ['DiagnosticReport', 'Observation'] };
    expect(permitsWhen(p, {})).toBe(true);
    expect(permitsWhen(p, { record: { resourceType: 'MedicationRequest' } })).toBe(false);
  });

  it('document class: a coding the custodian assigned, system and code', () => {
    const lab = { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' };
    const p: Provision = { documentClasses: [lab] };
    expect(permitsWhen(p, { record: { documentClasses: [lab] } })).toBe(true);
    expect(permitsWhen(p, { record: { documentClasses: [{ ...lab, code: 'imaging' }] } })).toBe(false);
    expect(permitsWhen(p, { record: { documentClasses: [{ system: 'http://loinc.org', code: 'laboratory' }] } })).toBe(false);
    expect(permitsWhen(p, {})).toBe(false);
  });

  it('data period: the record data date in [start, end), independent of the access time', () => {
    const y2024 = { start: Date.UTC(2024, 0, 1), end: Date.UTC(2025, 0, 1) };
    const p: Provision = { dataPeriod: y2024 };
    expect(permitsWhen(p, { record: { dataDate: Date.UTC(2024, 6, 1) } })).toBe(true);
    expect(permitsWhen(p, { record: { dataDate: y2024.end } })).toBe(false);
    expect(permitsWhen(p, { record: { dataDate: y2024.start - 1 } })).toBe(false);
    expect(permitsWhen(p, { record: { dataDate: y2024.start }, time: T0 + 900 * DAY })).toBe(true);
  });

  it('records: the record id', () => {
    const p: Provision = { records: ['obs-1', 'obs-2'] };
    expect(permitsWhen(p, {})).toBe(true);
    expect(permitsWhen(p, { record: { recordId: 'obs-3' } })).toBe(false);
  });

  it('policy basis: the policy the request is made under; a request under none does not match', () => {
    const p: Provision = { purposes: ['HRESCH'], policies: ['https://irb.example.org/studies/42'] };
    expect(permitsWhen(p, { purpose: 'CLINTRCH', policy: 'https://irb.example.org/studies/42' })).toBe(true);
    expect(permitsWhen(p, { purpose: 'CLINTRCH', policy: 'https://irb.example.org/studies/43' })).toBe(false);
    expect(permitsWhen(p, { purpose: 'CLINTRCH' })).toBe(false);
  });

  it('criteria combine with AND: one mismatch keeps the provision from applying', () => {
    const p: Provision = { actors: [{ participation: 'recipient', org: 'HospitalBMSP' }], purposes: ['TREAT'], resourceTypes: ['Observation'] };
    expect(permitsWhen(p, {})).toBe(true);
    expect(permitsWhen(p, { purpose: 'HPAYMT' })).toBe(false);
    expect(permitsWhen(p, { record: { resourceType: 'Condition' } })).toBe(false);
  });

  it('a provision without criteria always applies', () => {
    expect(decide(policy('permit', [{}]))).toEqual({ decision: 'deny', path: [0], reason: 'provision' });
  });
});

describe('nesting', () => {
  /** Permit all; deny PSY; except for Dr X's care team at HospitalBMSP. */
  const nested = policy('permit', [
    {
      securityLabels: ['PSY'],
      provisions: [{ actors: [{ participation: 'recipient', org: 'HospitalBMSP', careTeam: 'ct-dr-x' }] }],
    },
  ]);

  it('permit all, deny PSY, except for Dr X care team: each level decides its own requests', () => {
    expect(decide(nested)).toEqual({ decision: 'permit', path: [], reason: 'base' });
    expect(decide(nested, { record: { securityLabels: ['R', 'PSY'] } })).toEqual({ decision: 'deny', path: [0], reason: 'provision' });
    expect(decide(nested, { record: { securityLabels: ['R', 'PSY'] }, actor: { careTeam: 'ct-dr-x' } })).toEqual({
      decision: 'permit',
      path: [0, 0],
      reason: 'provision',
    });
    expect(decide(nested, { record: { securityLabels: ['PSY'] }, actor: { org: 'HospitalCMSP', careTeam: 'ct-dr-x' } }).decision).toBe('deny');
  });

  it('depth 3: deny all, permit B for TREAT, except PSY, except in an emergency', () => {
    const p = policy('deny', [
      {
        actors: [{ participation: 'recipient', org: 'HospitalBMSP' }],
        purposes: ['TREAT'],
        provisions: [{ securityLabels: ['PSY'], provisions: [{ purposes: ['ETREAT'] }] }],
      },
    ]);
    const psy = { record: { securityLabels: ['R', 'PSY'] } };
    expect(decide(p)).toEqual({ decision: 'permit', path: [0], reason: 'provision' });
    expect(decide(p, psy)).toEqual({ decision: 'deny', path: [0, 0], reason: 'provision' });
    expect(decide(p, { ...psy, purpose: 'ETREAT' })).toEqual({ decision: 'permit', path: [0, 0, 0], reason: 'provision' });
    expect(decide(p, { ...psy, purpose: 'BTG' })).toEqual({ decision: 'permit', path: [0, 0, 0], reason: 'provision' });
    expect(decide(p, { ...psy, purpose: 'ETREAT', actor: { org: 'HospitalCMSP' } })).toEqual({ decision: 'deny', path: [], reason: 'base' });
  });

  it('an exception only applies within its parent: a nested provision never applies on its own', () => {
    const p = policy('deny', [{ purposes: ['HPAYMT'], provisions: [{ purposes: ['TREAT'] }] }]);
    expect(decide(p)).toEqual({ decision: 'deny', path: [], reason: 'base' });
  });

  it('supports the stated maximum depth', () => {
    let inner: Provision = { records: ['obs-1'] };
    for (let i = 0; i < 4; i++) inner = { purposes: ['TREAT'], provisions: [inner] };
    const deep = policy('deny', [inner]);
    expect(decide(deep)).toEqual({ decision: 'permit', path: [0, 0, 0, 0, 0], reason: 'provision' });
    expect(decide(deep, { record: { recordId: 'obs-2' } })).toEqual({ decision: 'deny', path: [0, 0, 0, 0], reason: 'provision' });
  });
});

describe('deny over permit at the same level', () => {
  it('an applying sibling whose outcome is deny wins over one whose outcome is permit', () => {
    const p = policy('deny', [
      { actors: [{ participation: 'recipient', org: 'HospitalBMSP' }], provisions: [{ securityLabels: ['PSY'] }] },
      { purposes: ['TREAT'] },
    ]);
    const psy = { record: { securityLabels: ['PSY'] } };
    expect(decide(p)).toEqual({ decision: 'permit', path: [0], reason: 'provision' });
    expect(decide(p, psy)).toEqual({ decision: 'deny', path: [0, 0], reason: 'provision' });
    const swapped = policy('deny', [p.provisions![1]!, p.provisions![0]!]);
    expect(decide(swapped, psy)).toEqual({ decision: 'deny', path: [1, 0], reason: 'provision' });
  });

  it('between siblings with the same outcome the lowest index is reported', () => {
    const p = policy('permit', [{ purposes: ['TREAT'] }, { resourceTypes: ['Observation'] }]);
    expect(decide(p)).toEqual({ decision: 'deny', path: [0], reason: 'provision' });
    expect(decide(p, { purpose: 'HPAYMT' })).toEqual({ decision: 'deny', path: [1], reason: 'provision' });
  });
});

describe('purpose-of-use hierarchy', () => {
  it('a consent for a parent purpose covers its children and grandchildren', () => {
    for (const purpose of ['TREAT', 'ETREAT', 'BTG', 'ERTREAT', 'CLINTRL', 'POPHLTH']) {
      expect(permitsWhen({ purposes: ['TREAT'] }, { purpose })).toBe(true);
    }
    for (const purpose of ['HRESCH', 'CLINTRCH', 'CLINTRCHNPC']) expect(permitsWhen({ purposes: ['HRESCH'] }, { purpose })).toBe(true);
    expect(permitsWhen({ purposes: ['HPAYMT'] }, { purpose: 'ELIGVER' })).toBe(true);
  });

  it('a consent for a child purpose does not cover its parent or its siblings', () => {
    expect(permitsWhen({ purposes: ['ETREAT'] }, { purpose: 'TREAT' })).toBe(false);
    expect(permitsWhen({ purposes: ['ETREAT'] }, { purpose: 'CLINTRL' })).toBe(false);
    expect(permitsWhen({ purposes: ['CLINTRCH'] }, { purpose: 'HRESCH' })).toBe(false);
  });

  it('a deny of a parent purpose applies to its children (deny TREAT refuses BTG)', () => {
    const p = policy('permit', [{ purposes: ['TREAT'] }]);
    expect(decide(p, { purpose: 'BTG' })).toEqual({ decision: 'deny', path: [0], reason: 'provision' });
    expect(decide(p, { purpose: 'HMARKT' }).decision).toBe('permit');
  });
});

describe('requests', () => {
  it('refuses a malformed request with INVALID_ARGUMENT', () => {
    const p = parseConsentPolicy(policy('permit'));
    const bad: RequestOverrides[] = [
      { purpose: 'NOPE' },
      { action: 'read' as never },
      { actor: { org: 'bad org' } },
      { actor: { role: 'surgeon' } },
      { record: { resourceType: 'Observaton' } },
      { record: { securityLabels: ['XYZ'] } },
      { record: { securityLabels: ['N', 'R'] } },
      { record: { documentClasses: [{ system: 'no scheme', code: 'x' }] } },
      { policy: ' spaced' },
    ];
    for (const o of bad) expect(codeOf(() => evaluateConsentPolicy(p, request(o)))).toBe('INVALID_ARGUMENT');
  });
});

describe('grant-time checks', () => {
  const bounded = (start: number, end: number) => parseConsentPolicy(policy('permit', undefined, { period: { start, end } }));

  it('accepts a bounded period of at most 5 years that has not ended', () => {
    expect(() => validatePolicyForGrant(bounded(T0, T0 + MAX_POLICY_PERIOD_MS), T0)).not.toThrow();
  });

  it('refuses an open, too long or ended period', () => {
    expect(codeOf(() => validatePolicyForGrant(parseConsentPolicy(policy('permit')), T0))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => validatePolicyForGrant(parseConsentPolicy(policy('permit', undefined, { period: { start: T0 } })), T0))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => validatePolicyForGrant(bounded(T0, T0 + MAX_POLICY_PERIOD_MS + 1), T0))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => validatePolicyForGrant(bounded(T0 - 2 * DAY, T0 - DAY), T0))).toBe('CONSENT_EXPIRED');
  });
});

describe('permittedRecipientOrgs', () => {
  it('is any org under a base permit or a permit that names no recipient org', () => {
    expect(permittedRecipientOrgs(policy('permit'))).toEqual({ any: true });
    expect(permittedRecipientOrgs(policy('deny', [{ purposes: ['TREAT'] }]))).toEqual({ any: true });
    expect(permittedRecipientOrgs(policy('deny', [{ actors: [{ participation: 'recipient', role: 'clinician' }] }]))).toEqual({ any: true });
  });

  it('lists the orgs named by permits, restricted by their ancestors', () => {
    const p = policy('deny', [
      { actors: [{ participation: 'recipient', org: 'HospitalCMSP' }, { participation: 'recipient', org: 'HospitalBMSP' }] },
      {
        actors: [{ participation: 'recipient', org: 'HospitalDMSP' }],
        provisions: [{ securityLabels: ['PSY'], provisions: [{ purposes: ['ETREAT'] }] }],
      },
    ]);
    expect(permittedRecipientOrgs(p)).toEqual({ any: false, orgs: ['HospitalBMSP', 'HospitalCMSP', 'HospitalDMSP'] });
    expect(permittedRecipientOrgs(policy('deny'))).toEqual({ any: false, orgs: [] });
  });
});

describe('reachOutside', () => {
  const members = ['HospitalAMSP', 'HospitalCMSP'];
  it('keeps the orgs not among the members, and every org as it is', () => {
    expect(reachOutside({ any: false, orgs: ['HospitalCMSP'] }, members)).toEqual({ any: false, orgs: [] });
    expect(reachOutside({ any: false, orgs: ['HospitalBMSP', 'HospitalCMSP', 'HospitalDMSP'] }, members)).toEqual({ any: false, orgs: ['HospitalBMSP', 'HospitalDMSP'] });
    expect(reachOutside({ any: false, orgs: [] }, members)).toEqual({ any: false, orgs: [] });
    expect(reachOutside(permittedRecipientOrgs(policy('permit')), members)).toEqual({ any: true });
  });
});
