/**
 * Test helpers for the consent area: patient and guardian keys generated at run time,
 * signed messages, and a bootstrapped fake channel with hospital identities.
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { Context } from 'fabric-contract-api';
import { ConsentContract } from '../../../chaincode/src/contracts/consent-contract';
import type { ErrorCode } from '../../../chaincode/src/errors';
import {
  buildAccessLogRead,
  buildConsentGrant,
  buildConsentRevocation,
  buildGuardianDelegation,
  buildGuardianRevocation,
  exportPublicKey,
  keyIdOf,
  patientIdOf,
  signPatientMessage,
  type ConsentTerms,
  type HeaderInput,
} from '../../../chaincode/src/protocol/patient-messages';
import { canonicalize } from '../../../chaincode/src/protocol/canonical-json';
import { openSealedResult } from '../../../chaincode/src/protocol/sealed-result';
import { key, KeyTypes } from '../../../chaincode/src/state/keys';
import { putJson } from '../../../chaincode/src/state/store';
import { createOrg, type TestOrg } from '../../fixtures/pki';
import { expectCode, expectCodeSync } from '../support/codes';
import { FakeLedger, type FakeIdentity } from '../support/fake-ledger';

export const T0 = Date.UTC(2026, 0, 15, 9, 0, 0);
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export interface KeyHolder {
  privateKey: KeyObject;
  publicKey: string;
  keyId: string;
  patientId: string;
}

let nonceCounter = 0;
export function nonce(): string {
  nonceCounter += 1;
  return `nonce-${nonceCounter.toString().padStart(12, '0')}`;
}

export function newKey(): KeyHolder {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const publicKey = exportPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey), patientId: patientIdOf(publicKey) };
}

export function header(channel: string, patient: KeyHolder, signer: KeyHolder = patient, issuedAt = T0): HeaderInput {
  return { channel, patientId: patient.patientId, signer: signer.keyId, nonce: nonce(), issuedAt };
}

/** A consent v2: permit all, deny PSY, except for Dr X's care team at HospitalC (the nested example). */
export const NESTED = {
  format: 'medbridge/consent-policy/v2',
  decision: 'permit',
  period: { start: T0, end: T0 + 30 * DAY },
  provisions: [{ securityLabels: ['PSY'], provisions: [{ actors: [{ participation: 'recipient', org: 'HospitalCMSP', careTeam: 'ct-dr-x' }] }] }],
};

/** A requester in Dr X's care team at HospitalC, whom NESTED lets read PSY records. */
export const DR_X = { org: 'HospitalCMSP', role: 'clinician', careTeam: 'ct-dr-x' };

export function terms(overrides: Partial<ConsentTerms> = {}): ConsentTerms {
  return {
    grantee: 'HospitalBMSP',
    scope: { recordIds: [], categories: ['Observation'] },
    actions: ['read'],
    purposes: ['TREAT'],
    period: { start: T0, end: T0 + 30 * DAY },
    ...overrides,
  };
}

export function signedGrant(channel: string, patient: KeyHolder, t: ConsentTerms = terms(), signer: KeyHolder = patient, issuedAt = T0) {
  return signPatientMessage(buildConsentGrant(header(channel, patient, signer, issuedAt), t), signer.privateKey);
}

export function signedRevocation(channel: string, patient: KeyHolder, consentId: string, signer: KeyHolder = patient, issuedAt = T0) {
  return signPatientMessage(buildConsentRevocation(header(channel, patient, signer, issuedAt), consentId), signer.privateKey);
}

export function signedDelegation(channel: string, patient: KeyHolder, guardian: KeyHolder, notAfter = T0 + 365 * DAY, issuedAt = T0) {
  return signPatientMessage(
    buildGuardianDelegation(header(channel, patient, patient, issuedAt), { publicKey: guardian.publicKey, notAfter }),
    patient.privateKey,
  );
}

export function signedGuardianRevocation(channel: string, patient: KeyHolder, guardian: KeyHolder, signer: KeyHolder = patient, issuedAt = T0) {
  return signPatientMessage(buildGuardianRevocation(header(channel, patient, signer, issuedAt), guardian.keyId), signer.privateKey);
}

export function signedRead(channel: string, patient: KeyHolder, signer: KeyHolder = patient, issuedAt = T0) {
  return signPatientMessage(buildAccessLogRead(header(channel, patient, signer, issuedAt)), signer.privateKey);
}

export const json = (v: unknown): string => JSON.stringify(v);

export { expectCode, expectCodeSync };

export interface Orgs {
  A: TestOrg;
  B: TestOrg;
  C: TestOrg;
  /** OU=client identities (role member). */
  userA: FakeIdentity;
  userB: FakeIdentity;
  userC: FakeIdentity;
  adminA: FakeIdentity;
  clinicianA: FakeIdentity;
  clinicianC: FakeIdentity;
  officerA: FakeIdentity;
  officerC: FakeIdentity;
  peerA: FakeIdentity;
}

let orgsPromise: Promise<Orgs> | undefined;

/** Three hospital orgs with their identities, generated once per test file. */
export function orgs(): Promise<Orgs> {
  orgsPromise ??= (async () => {
    const [A, B, C] = await Promise.all([createOrg('HospitalAMSP'), createOrg('HospitalBMSP'), createOrg('HospitalCMSP')]);
    const id = async (org: TestOrg, make: Promise<{ certPem: string }>, attributes?: Record<string, string>): Promise<FakeIdentity> => ({
      mspId: org.mspId,
      certPem: (await make).certPem,
      ...(attributes ? { attributes } : {}),
    });
    return {
      A,
      B,
      C,
      userA: await id(A, A.client('gateway-a')),
      userB: await id(B, B.client('gateway-b')),
      userC: await id(C, C.client('gateway-c')),
      adminA: await id(A, A.admin('admin-a')),
      clinicianA: await id(A, A.client('dr-a'), { 'medbridge.role': 'clinician' }),
      clinicianC: await id(C, C.client('dr-c'), { 'medbridge.role': 'clinician' }),
      officerA: await id(A, A.client('po-a'), { 'medbridge.role': 'privacy-officer' }),
      officerC: await id(C, C.client('po-c'), { 'medbridge.role': 'privacy-officer' }),
      peerA: await id(A, A.peer('peer0-a')),
    };
  })();
  return orgsPromise;
}

/** A channel whose member set is written (as Governance:Bootstrap would). */
export async function channel(chainId: string, members: string[], anyIdentity: FakeIdentity): Promise<FakeLedger> {
  const ledger = new FakeLedger(chainId);
  await ledger.invoke({ identity: anyIdentity, timeMs: T0 - DAY }, (ctx) =>
    putJson(ctx.stub, key(ctx.stub, KeyTypes.Members), { chainId, members: [...members].sort() }),
  );
  return ledger;
}

/** Calls a Consent contract method as `identity` at `timeMs`; parses the canonical JSON result. */
export function consentCaller(ledger: FakeLedger) {
  const c = new ConsentContract();
  return async <T = Record<string, unknown>>(
    identity: FakeIdentity,
    timeMs: number,
    fn: (c: ConsentContract, ctx: Context) => Promise<string>,
    /** The org whose peer endorses or answers (default the caller's own), as the gateway client targets it. */
    peerMsp?: string,
  ): Promise<T> => JSON.parse(await ledger.invoke({ identity, timeMs, ...(peerMsp === undefined ? {} : { peerMsp }) }, (ctx) => fn(c, ctx))) as T;
}

/**
 * A private transaction as the custodian's gateway makes it (gateway ConsentClient
 * submitPrivate): the request, with a fresh salt, in the transient map; the sealed result
 * opened with the salt. For consentCaller's `fn`.
 */
export function privately(
  fn: 'LogAccess' | 'LogAccessAs' | 'BreakGlass' | 'ReviewEmergency' | 'LabelRecord' | 'PurgeRecordLabels' | 'GrantConsentPrivately' | 'RevokeConsentPrivately' | 'RegisterPatientPrivately' | 'AnchorRecordPrivately' | 'AmendRecordPrivately' | 'EraseRecordPrivately' | 'EraseRecordPrivatelyOnVerifiedRequest' | 'AuthoriseGuardianPrivately' | 'RevokeGuardianPrivately' | 'RotatePatientKeyPrivately',
  request: Record<string, unknown>,
) {
  return async (c: ConsentContract, ctx: Context): Promise<string> => {
    const salt = randomBytes(32);
    const bytes = Buffer.from(canonicalize({ ...request, salt: salt.toString('hex') }));
    (ctx.stub as unknown as { getTransient: () => Map<string, Uint8Array> }).getTransient = () => new Map([['request', bytes]]);
    return openSealedResult(salt, ctx.stub.getTxID(), JSON.parse(await c[fn](ctx)));
  };
}

/** LogAccess of `recordId` for `requesterOrg`, private as the gateway sends it. */
export const logAccessTx = (requesterOrg: string, recordId: string, purpose: string, requestId = '') =>
  privately('LogAccess', { requesterOrg, recordId, purpose, requestId });

/**
 * BreakGlass as the opener's gateway sends it (to the custodian's peers): every record of the
 * patient the custodian holds when `recordId` is '', the record's custodian when `custodian` is ''.
 */
export const breakGlassTx = (patientId: string, recordId: string, custodian: string, reason: string, durationMinutes = '') =>
  privately('BreakGlass', { patientId, recordId, custodian, reason, durationMinutes });

/** ReviewEmergency as the reviewer's gateway sends it (to the custodian's peers). */
export const reviewEmergencyTx = (emergencyId: string, custodian: string, outcome: string) =>
  privately('ReviewEmergency', { emergencyId, custodian, outcome });

/** LabelRecord as the custodian's gateway sends it: a record version's metadata, private to the caller's org. */
export const labelRecordTx = (recordId: string, version: number, metadata: Record<string, unknown>) => privately('LabelRecord', { recordId, version, metadata });

/** GrantConsentPrivately of a signed grant that names its keeper, as the gateway sends it (to the keeper's peers). */
export const grantPrivatelyTx = (signedGrant: unknown) => privately('GrantConsentPrivately', { signedGrant });

/** RevokeConsentPrivately at `keeper`, as the gateway sends it (to the keeper's peers). */
export const revokePrivatelyTx = (signedRevocation: unknown, keeper: string) => privately('RevokeConsentPrivately', { signedRevocation, keeper });

/** PurgeRecordLabels of an erased record, as its custodian's gateway sends it. */
export const purgeRecordLabelsTx = (recordId: string) => privately('PurgeRecordLabels', { recordId });

/** LogAccessAs for a requester stated in full, private as the gateway sends it. */
export const logAccessAsTx = (requester: Record<string, unknown>, recordId: string, purpose: string, requestId = '') =>
  privately('LogAccessAs', { requester, recordId, purpose, requestId });

/** Asserts that a call is rejected with `code` and left committed state and events unchanged. */
export async function expectRejected(ledger: FakeLedger, call: () => Promise<unknown>, code: ErrorCode): Promise<void> {
  const before = ledger.snapshot();
  const events = ledger.events.length;
  await expectCode(call(), code);
  expect(ledger.snapshot()).toEqual(before);
  expect(ledger.events.length).toBe(events);
}

/** Calls a Consent contract method on one ledger (see consentCaller). */
export type ConsentCall = ReturnType<typeof consentCaller>;

/** What each test of a Consent contract describe block starts from. */
export interface PatientChannel {
  /** The three hospital orgs and their identities, generated once per test file. */
  readonly o: Orgs;
  /** The channel's fake ledger, new for each test. */
  readonly ledger: FakeLedger;
  /** Calls the Consent contract on `ledger`. */
  readonly call: ConsentCall;
  /** A new patient for each test, registered by HospitalA at T0. */
  readonly patient: KeyHolder;
}

/**
 * Registers the hooks of the calling describe block so that each of its tests starts on a new
 * channel 'chain-a' whose members are `members`, with a new patient registered by HospitalA
 * at T0, then runs `setup` (records, consents, logs the block's tests share). The fields of
 * the returned object are set by those hooks: read them inside hooks and tests only.
 */
export function usePatientChannel(members: string[], setup: (fx: PatientChannel) => Promise<void> = () => Promise.resolve()): PatientChannel {
  let o: Orgs | undefined;
  let current: Omit<PatientChannel, 'o'> | undefined;
  const ready = (): Omit<PatientChannel, 'o'> => {
    if (!current) throw new Error('usePatientChannel: read the fixture inside a hook or a test');
    return current;
  };
  const fx: PatientChannel = {
    get o() {
      if (!o) throw new Error('usePatientChannel: read the fixture inside a hook or a test');
      return o;
    },
    get ledger() {
      return ready().ledger;
    },
    get call() {
      return ready().call;
    },
    get patient() {
      return ready().patient;
    },
  };

  beforeAll(async () => {
    o = await orgs();
  });

  beforeEach(async () => {
    const ledger = await channel('chain-a', members, fx.o.adminA);
    current = { ledger, call: consentCaller(ledger), patient: newKey() };
    await fx.call(fx.o.userA, T0, (c, ctx) => c.RegisterPatient(ctx, fx.patient.publicKey));
    await setup(fx);
  });

  return fx;
}
