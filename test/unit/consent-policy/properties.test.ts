/**
 * Properties of the consent language over generated policies and requests: the evaluator is
 * deterministic and reports a path that explains its decision, a deny added never grants
 * anything, the canonical form does not depend on key or list order, FHIR export imports
 * back unchanged, and the parsers only ever fail with their own codes.
 */
import fc from 'fast-check';
import {
  CONSENT_POLICY_FORMAT,
  consentPolicyHash,
  consentPolicyText,
  decisionAtDepth,
  parseConsentPolicy,
  type ActorCriterion,
  type ConsentPolicy,
  type Provision,
} from '../../../chaincode/src/protocol/consent-policy';
import { exportFhirConsent, importFhirConsent } from '../../../chaincode/src/protocol/fhir-consent';
import { applies, evaluateConsentPolicy, type AccessRequest } from '../../../chaincode/src/rules/consent-policy';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { anyJson, outcomeOf, RUNS } from '../property/arbitraries';
import { DAY, T0 } from './support';

// ------------------------------------------------------------------ generators

const orgs = ['HospitalAMSP', 'HospitalBMSP', 'HospitalCMSP'] as const;
const sub = <T>(xs: readonly T[]) => fc.subarray([...xs], { minLength: 1 });
const time = fc.integer({ min: T0 - 10 * DAY, max: T0 + 10 * DAY });
const period = fc
  .tuple(fc.option(time, { nil: undefined }), fc.option(fc.integer({ min: 1, max: 5 * DAY }), { nil: undefined }))
  .filter(([s, len]) => s !== undefined || len !== undefined)
  .map(([start, len]) => (start === undefined ? { end: T0 + (len as number) } : len === undefined ? { start } : { start, end: start + len }));

const actor: fc.Arbitrary<ActorCriterion> = fc.oneof(
  fc.record({ participation: fc.constant('custodian' as const), org: fc.constantFrom(...orgs) }),
  fc.record({ participation: fc.constant('author' as const), org: fc.constantFrom(...orgs) }),
  fc.record({ participation: fc.constant('recipient' as const), org: fc.constantFrom(...orgs) }),
  fc.record({ participation: fc.constant('recipient' as const), role: fc.constantFrom('clinician', 'member') }),
  fc.record({ participation: fc.constant('recipient' as const), org: fc.constantFrom(...orgs), practitioner: fc.constantFrom('dr-x', 'dr-y') }),
  fc.record({ participation: fc.constant('recipient' as const), org: fc.constantFrom(...orgs), careTeam: fc.constantFrom('ct-1', 'ct-2') }),
);

/** Zero to two criteria per provision, so that provisions often apply. */
const criteria: fc.Arbitrary<Provision> = fc
  .array(
    fc.oneof(
      period.map((period) => ({ period })),
      fc.array(actor, { minLength: 1, maxLength: 3 }).map((actors) => ({ actors })),
      sub(['access', 'correct', 'disclose'] as const).map((actions) => ({ actions })),
      sub(['BTG', 'CLINTRCH', 'ETREAT', 'HPAYMT', 'HRESCH', 'PUBHLTH', 'TREAT']).map((purposes) => ({ purposes })),
      sub(['HIV', 'N', 'PSY', 'R', 'V']).map((securityLabels) => ({ securityLabels })),
      sub(['Condition', 'Observation']).map((resourceTypes) => ({ resourceTypes })),
      sub([
        { system: 'http://loinc.org', code: 'a' },
        { system: 'http://loinc.org', code: 'b' },
      ]).map((documentClasses) => ({ documentClasses })),
      period.map((dataPeriod) => ({ dataPeriod })),
      sub(['r1', 'r2']).map((records) => ({ records })),
      sub(['p1', 'p2']).map((policies) => ({ policies })),
    ),
    { maxLength: 2 },
  )
  .map((cs) => Object.assign({}, ...cs) as Provision);

const provision: fc.Arbitrary<Provision> = fc.letrec<{ p: Provision }>((tie) => ({
  p: fc.tuple(criteria, fc.option(fc.array(tie('p'), { minLength: 1, maxLength: 2 }), { nil: undefined, depthSize: 'small' })).map(([c, children]) => (children ? { ...c, provisions: children } : { ...c })),
})).p;

/** Valid policies in canonical order (generated ones the parser refuses, e.g. too deep, are skipped). */
const validPolicy: fc.Arbitrary<ConsentPolicy> = fc
  .record({ decision: fc.constantFrom('permit' as const, 'deny' as const), period: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: period }), provisions: fc.option(fc.array(provision, { minLength: 1, maxLength: 3 }), { nil: undefined }) })
  .map((p) => outcomeOf(() => parseConsentPolicy(JSON.parse(JSON.stringify({ format: CONSENT_POLICY_FORMAT, ...p })) as unknown, { order: 'normalize' })))
  .filter((o) => o.ok)
  .map((o) => (o as { ok: true; value: ConsentPolicy }).value);

const accessRequest: fc.Arbitrary<AccessRequest> = fc.record({
  actor: fc.record({
    org: fc.constantFrom(...orgs),
    role: fc.constantFrom('clinician', 'member', null),
    practitioner: fc.constantFrom('dr-x', 'dr-y', null),
    careTeam: fc.constantFrom('ct-1', 'ct-2', null),
  }),
  action: fc.constantFrom('access' as const, 'correct' as const),
  purpose: fc.constantFrom('TREAT', 'ETREAT', 'BTG', 'HRESCH', 'CLINTRCHNPC', 'HPAYMT', 'HMARKT'),
  policy: fc.constantFrom('p1', 'p2', null),
  time,
  record: fc.record({
    recordId: fc.constantFrom('r1', 'r2', 'r3'),
    resourceType: fc.constantFrom('Observation', 'Condition', 'Procedure'),
    securityLabels: fc.tuple(fc.constantFrom([], ['N'], ['R'], ['V']), fc.subarray(['HIV', 'PSY'])).map(([c, s]) => [...c, ...s]),
    dataDate: time,
    authorOrg: fc.constantFrom(...orgs),
    custodian: fc.constantFrom(...orgs),
    documentClasses: fc.subarray([{ system: 'http://loinc.org', code: 'a' }]),
  }),
});

/** The same JSON with every object's keys in reverse order and every criterion list reversed. */
function reorder(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) {
    const items = v.map((x) => reorder(x));
    return key === 'provisions' ? items : items.reverse();
  }
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).reverse().map(([k, x]) => [k, reorder(x, k)]));
}

function provisionAt(p: ConsentPolicy, path: number[]): Provision[] {
  const chain: Provision[] = [];
  let level = p.provisions ?? [];
  for (const i of path) {
    const next = level[i] as Provision;
    chain.push(next);
    level = next.provisions ?? [];
  }
  return chain;
}

// ------------------------------------------------------------------ properties

describe('evaluator', () => {
  it('is deterministic: the same decision for the same policy and request, however the policy was written', () => {
    fc.assert(
      fc.property(validPolicy, accessRequest, (p, r) => {
        const d = evaluateConsentPolicy(p, r);
        expect(evaluateConsentPolicy(p, r)).toEqual(d);
        expect(evaluateConsentPolicy(parseConsentPolicy(JSON.parse(consentPolicyText(reorder(p)))), structuredClone(r))).toEqual(d);
      }),
      RUNS,
    );
  });

  it('reports a path that explains the decision: every provision on it applies, and its depth gives the decision', () => {
    fc.assert(
      fc.property(validPolicy, accessRequest, (p, r) => {
        const d = evaluateConsentPolicy(p, r);
        if (d.reason !== 'provision') {
          expect(d.path).toEqual([]);
          expect(d.decision).toBe(d.reason === 'base' ? p.decision : 'deny');
          return;
        }
        const chain = provisionAt(p, d.path);
        expect(chain.every((x) => applies(x, r))).toBe(true);
        expect(d.decision).toBe(decisionAtDepth(p.decision, d.path.length));
        expect((chain[chain.length - 1]!.provisions ?? []).some((x) => applies(x, r))).toBe(false);
      }),
      RUNS,
    );
  });

  it('never grants more when a deny is added: a top-level provision under a base permit cannot turn a deny into a permit', () => {
    fc.assert(
      fc.property(validPolicy, provision, accessRequest, (p, extra, r) => {
        const base: ConsentPolicy = { ...p, decision: 'permit' };
        const added = outcomeOf(() => parseConsentPolicy({ ...base, provisions: [...(base.provisions ?? []), extra] }, { order: 'normalize' }));
        if (!added.ok) return;
        if (evaluateConsentPolicy(added.value, r).decision === 'permit') expect(evaluateConsentPolicy(parseConsentPolicy(base), r).decision).toBe('permit');
      }),
      RUNS,
    );
  });
});

describe('canonical form', () => {
  it('does not depend on key order or criterion list order', () => {
    fc.assert(
      fc.property(validPolicy, (p) => {
        expect(consentPolicyText(reorder(p))).toBe(consentPolicyText(p));
        expect(consentPolicyHash(reorder(p))).toBe(consentPolicyHash(p));
        expect(parseConsentPolicy(JSON.parse(consentPolicyText(p)))).toEqual(p);
      }),
      RUNS,
    );
  });
});

describe('FHIR', () => {
  it('exports every valid policy to an R5 Consent that imports back to the same policy', () => {
    fc.assert(
      fc.property(validPolicy, (p) => {
        const back = importFhirConsent(JSON.parse(JSON.stringify(exportFhirConsent(p))));
        expect(back.policy).toEqual(p);
        expect(back.notCarried).toEqual([]);
      }),
      RUNS,
    );
  });
});

// ------------------------------------------------------------------ parsers fail closed, with their codes

const POLICY_CODES = ['CONSENT_POLICY_INVALID', 'CONSENT_POLICY_TOO_LARGE'];
const FHIR_CODES = ['FHIR_CONSENT_INVALID', 'FHIR_ELEMENT_UNSUPPORTED', ...POLICY_CODES];

/** Replaces, removes or adds one value somewhere inside a JSON document. */
function mutateSomewhere(doc: unknown): fc.Arbitrary<unknown> {
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]): void => {
    paths.push(path);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(doc, []);
  return fc.tuple(fc.constantFrom(...paths), fc.constantFrom('replace', 'remove', 'add'), anyJson, fc.string({ minLength: 1, maxLength: 10 })).map(([path, how, value, key]) => {
    const copy = structuredClone(doc);
    if (path.length === 0) return value;
    const parent = path.slice(0, -1).reduce<any>((o, k) => o[k], copy);
    const last = path[path.length - 1] as string | number;
    const target = parent[last];
    if (how === 'replace') parent[last] = value;
    else if (how === 'remove') {
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete parent[last];
    }
    else if (typeof target === 'object' && target !== null && !Array.isArray(target) && key !== '__proto__') target[key] = value;
    else parent[last] = value;
    return copy;
  });
}

describe('parsers never throw anything but their own codes', () => {
  it('parseConsentPolicy: any JSON', () => {
    fc.assert(
      fc.property(anyJson, (v) => {
        const out = outcomeOf(() => parseConsentPolicy(v));
        if (!out.ok) expect(POLICY_CODES).toContain(out.code);
      }),
      RUNS,
    );
  });

  it('parseConsentPolicy: a valid policy with one value replaced, removed or added anywhere', () => {
    fc.assert(
      fc.property(validPolicy.chain((p) => mutateSomewhere(p)), (v) => {
        for (const order of ['strict', 'normalize'] as const) {
          const out = outcomeOf(() => parseConsentPolicy(v, { order }));
          if (!out.ok) expect(POLICY_CODES).toContain(out.code);
        }
      }),
      RUNS,
    );
  });

  const EXAMPLES = resolve(__dirname, '../../fixtures/fhir-consent-examples');
  const examples = ['r4', 'r5', 'r5-draft'].flatMap((v) => readdirSync(join(EXAMPLES, v)).map((f) => JSON.parse(readFileSync(join(EXAMPLES, v, f), 'utf8')) as unknown));

  it('importFhirConsent: any JSON, and the HL7 examples with one value replaced, removed or added anywhere', () => {
    fc.assert(
      fc.property(fc.oneof(anyJson, anyJson.map((v) => ({ resourceType: 'Consent', status: 'active', provision: v })), fc.constantFrom(...examples).chain((e) => mutateSomewhere(e))), (v) => {
        const out = outcomeOf(() => importFhirConsent(v));
        if (!out.ok) expect(FHIR_CODES).toContain(out.code);
        else expect(parseConsentPolicy(out.value.policy)).toEqual(out.value.policy);
      }),
      RUNS,
    );
  });
});
