import type { Context } from 'fabric-contract-api';
import type { ConsentContract } from '../../../chaincode/src/contracts/consent-contract';
import { consentIdOf, type SignedPatientMessage } from '../../../chaincode/src/protocol/patient-messages';
import { KeyTypes } from '../../../chaincode/src/state/keys';
import { FakeLedger, type FakeIdentity } from '../support/fake-ledger';
import {
  consentCaller,
  DAY,
  expectRejected,
  HOUR,
  json,
  newKey,
  signedDelegation,
  signedGrant,
  signedGuardianRevocation,
  signedRead,
  signedRevocation,
  T0,
  terms,
  usePatientChannel,
  type KeyHolder,
  breakGlassTx,
  expectCode,
  logAccessTx,
  reviewEmergencyTx,
} from './support';

const H1 = '1'.repeat(64);
const H2 = '2'.repeat(64);
const REC = 'obs-0001';

type Row = Record<string, unknown>;
interface Page<T = Row> {
  items: T[];
  bookmark: string;
}

describe('Consent contract on the fake ledger', () => {
  const fx = usePatientChannel(['HospitalAMSP', 'HospitalCMSP'], async () => {
    await fx.call(fx.o.userA, T0, (c, ctx) => c.AnchorRecord(ctx, REC, fx.patient.patientId, 'Observation', H1));
  });

  const grant = async (s: SignedPatientMessage, at = T0, who: FakeIdentity = fx.o.userA) => fx.call(who, at, (c, ctx) => c.GrantConsent(ctx, json(s)));
  const logAccess = (requester: string, purpose: string, at: number) =>
    fx.call(fx.o.userA, at, (c, ctx) => logAccessTx(requester, REC, purpose, 'req-1')(c, ctx));
  const check = (grantee: string, purpose: string, at: number, recordId = REC) =>
    fx.call(fx.o.userC, at, (c, ctx) => c.CheckAccess(ctx, grantee, recordId, purpose));

  // ---------------------------------------------------------------- patients and records

  describe('patients and record anchors', () => {
    it('registers a patient at a second hospital of the channel and emits one event per registration', async () => {
      const p = await fx.call(fx.o.userC, T0 + 1, (c, ctx) => c.RegisterPatient(ctx, fx.patient.publicKey));
      expect(p).toMatchObject({ patientId: fx.patient.patientId, registeredBy: ['HospitalAMSP', 'HospitalCMSP'] });
      expect(fx.ledger.events.map((e) => e.name)).toEqual(['PatientRegistered', 'RecordAnchored', 'PatientRegistered']);
    });

    it('refuses a second registration by the same hospital and changes nothing', async () => {
      await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0, (c, ctx) => c.RegisterPatient(ctx, fx.patient.publicKey)), 'ALREADY_EXISTS');
    });

    it('refuses a registration from an org that is not a member of the channel', async () => {
      await expectRejected(fx.ledger, () => fx.call(fx.o.userB, T0, (c, ctx) => c.RegisterPatient(ctx, newKey().publicKey)), 'NOT_A_MEMBER');
    });

    it('refuses a peer identity calling a client function', async () => {
      await expectRejected(fx.ledger, () => fx.call(fx.o.peerA, T0, (c, ctx) => c.RegisterPatient(ctx, newKey().publicKey)), 'FORBIDDEN_ROLE');
    });

    it('refuses anchoring by an org that did not register the patient', async () => {
      await expectRejected(
        fx.ledger,
        () => fx.call(fx.o.userC, T0, (c, ctx) => c.AnchorRecord(ctx, 'obs-c-1', fx.patient.patientId, 'Observation', H1)),
        'PATIENT_NOT_REGISTERED',
      );
    });

    it('refuses anchoring a record id twice', async () => {
      await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0, (c, ctx) => c.AnchorRecord(ctx, REC, fx.patient.patientId, 'Observation', H2)), 'ALREADY_EXISTS');
    });

    it('refuses a malformed hash at anchoring', async () => {
      await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0, (c, ctx) => c.AnchorRecord(ctx, 'obs-2', fx.patient.patientId, 'Observation', 'abc')), 'INVALID_ARGUMENT');
    });

    it('amends a record into a version chain with full history', async () => {
      const v2 = await fx.call(fx.o.userA, T0 + HOUR, (c, ctx) => c.AmendRecord(ctx, REC, H2, '1'));
      expect(v2).toMatchObject({ version: 2, hash: H2, createdAt: T0, updatedAt: T0 + HOUR });
      const history = await fx.call<Page>(fx.o.userC, T0 + HOUR, (c, ctx) => c.GetRecordHistory(ctx, REC, '', ''));
      expect(history.items.map((v) => [v.version, v.hash])).toEqual([
        [1, H1],
        [2, H2],
      ]);
      expect(history.items[1]?.previous).toMatch(/^[0-9a-f]{64}$/);
      expect(fx.ledger.events.at(-1)?.name).toBe('RecordAmended');
    });

    it("refuses an amendment by an org that is not the record's custodian", async () => {
      await fx.call(fx.o.userC, T0, (c, ctx) => c.RegisterPatient(ctx, fx.patient.publicKey));
      await expectRejected(fx.ledger, () => fx.call(fx.o.userC, T0, (c, ctx) => c.AmendRecord(ctx, REC, H2, '1')), 'NOT_CUSTODIAN');
    });

    it('refuses an amendment from a stale version', async () => {
      await fx.call(fx.o.userA, T0 + 1, (c, ctx) => c.AmendRecord(ctx, REC, H2, '1'));
      await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0 + 2, (c, ctx) => c.AmendRecord(ctx, REC, '3'.repeat(64), '1')), 'STALE_VERSION');
    });

    it("lists a patient's record heads with their custodians, in custodian then record-id order, a page at a time", async () => {
      await fx.call(fx.o.userC, T0, (c, ctx) => c.RegisterPatient(ctx, fx.patient.publicKey));
      await fx.call(fx.o.userC, T0 + 1, (c, ctx) => c.AnchorRecord(ctx, 'img-c-1', fx.patient.patientId, 'ImagingStudy', H2));
      await fx.call(fx.o.userA, T0 + 2, (c, ctx) => c.AnchorRecord(ctx, 'cond-0001', fx.patient.patientId, 'Condition', H2));
      await fx.call(fx.o.userA, T0 + 3, (c, ctx) => c.AmendRecord(ctx, REC, H2, '1'));
      const other = newKey();
      await fx.call(fx.o.userA, T0, (c, ctx) => c.RegisterPatient(ctx, other.publicKey));
      await fx.call(fx.o.userA, T0 + 4, (c, ctx) => c.AnchorRecord(ctx, 'obs-other', other.patientId, 'Observation', H1));
      const seen: Row[] = [];
      let bookmark = '';
      let pages = 0;
      do {
        const page = await fx.call<Page>(fx.o.userC, T0 + 5, (c, ctx) => c.ListRecordsByPatient(ctx, fx.patient.patientId, '2', bookmark));
        seen.push(...page.items);
        bookmark = page.bookmark;
        pages += 1;
      } while (bookmark !== '' && pages < 10);
      expect(pages).toBe(2);
      expect(seen.map((r) => [r.custodian, r.recordId, r.category, r.version])).toEqual([
        ['HospitalAMSP', 'cond-0001', 'Condition', 1],
        ['HospitalAMSP', REC, 'Observation', 2],
        ['HospitalCMSP', 'img-c-1', 'ImagingStudy', 1],
      ]);
      expect(seen[1]).toMatchObject({ patientId: fx.patient.patientId, createdAt: T0, updatedAt: T0 + 3 });
    });

    it('lists no records for a patient without any, and refuses a malformed patient id or an org outside the channel', async () => {
      await expect(fx.call<Page>(fx.o.userA, T0, (c, ctx) => c.ListRecordsByPatient(ctx, newKey().patientId, '', ''))).resolves.toEqual({ items: [], bookmark: '' });
      await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0, (c, ctx) => c.ListRecordsByPatient(ctx, 'not a patient', '', '')), 'INVALID_ARGUMENT');
      await expectRejected(fx.ledger, () => fx.call(fx.o.userB, T0, (c, ctx) => c.ListRecordsByPatient(ctx, fx.patient.patientId, '', '')), 'NOT_A_MEMBER');
    });

    it('says whether a salted hash is the anchored one, for the head and for an older version', async () => {
      await fx.call(fx.o.userA, T0 + 1, (c, ctx) => c.AmendRecord(ctx, REC, H2, '1'));
      const verify = (hash: string, version: string) => fx.call(fx.o.userC, T0 + 2, (c, ctx) => c.VerifyRecordHash(ctx, REC, hash, version));
      expect(await verify(H2, '')).toEqual({ recordId: REC, version: 2, headVersion: 2, match: true });
      expect(await verify(H1, '')).toMatchObject({ match: false });
      expect(await verify(H1, '1')).toMatchObject({ version: 1, match: true });
      const tampered = H2.slice(0, 63) + '3';
      expect(await verify(tampered, '')).toMatchObject({ match: false });
    });
  });

  // ---------------------------------------------------------------- consents

  describe('patient-signed consent', () => {
    it('stores a grant signed by the patient, indexed by patient, with one event', async () => {
      const s = signedGrant('chain-a', fx.patient);
      const c = await grant(s);
      expect(c).toMatchObject({ consentId: consentIdOf(s.message), status: 'active', effectiveStatus: 'active', version: 1, grantee: 'HospitalBMSP' });
      expect(fx.ledger.events.at(-1)).toMatchObject({ name: 'ConsentGranted', payload: { consentId: c.consentId, version: 1 } });
      const list = await fx.call<Page>(fx.o.userA, T0, (cc, ctx) => cc.ListConsentsByPatient(ctx, fx.patient.patientId, '', ''));
      expect(list.items.map((x) => x.consentId)).toEqual([c.consentId]);
    });

    it('lets any member hospital of the channel carry the signed grant (the hospital is a courier)', async () => {
      await expect(grant(signedGrant('chain-a', fx.patient), T0, fx.o.userC)).resolves.toMatchObject({ status: 'active' });
    });

    it('refuses a forged patient signature and changes nothing', async () => {
      const mallory = newKey();
      const forged = { ...signedGrant('chain-a', fx.patient, terms(), mallory), publicKey: fx.patient.publicKey };
      await expectRejected(fx.ledger, () => grant(forged), 'PATIENT_SIGNATURE_INVALID');
    });

    it('refuses a grant signed by a key that is neither the patient nor a guardian', async () => {
      await expectRejected(fx.ledger, () => grant(signedGrant('chain-a', fx.patient, terms(), newKey())), 'GUARDIAN_NOT_AUTHORIZED');
    });

    it('refuses a replayed grant (same signer and nonce) and changes nothing', async () => {
      const s = signedGrant('chain-a', fx.patient);
      await grant(s);
      await expectRejected(fx.ledger, () => grant(s, T0 + 1), 'NONCE_REPLAYED');
    });

    it('refuses a grant signed for another channel', async () => {
      await expectRejected(fx.ledger, () => grant(signedGrant('chain-b', fx.patient)), 'WRONG_CHANNEL');
    });

    it('refuses a grant for a patient not registered on the channel', async () => {
      const stranger = newKey();
      await expectRejected(fx.ledger, () => grant(signedGrant('chain-a', stranger)), 'PATIENT_NOT_REGISTERED');
    });

    it('refuses a grant whose period has already ended', async () => {
      const s = signedGrant('chain-a', fx.patient, terms({ period: { start: T0 - 2 * DAY, end: T0 - DAY } }));
      await expectRejected(fx.ledger, () => grant(s), 'CONSENT_EXPIRED');
    });

    it('refuses a grant signed more than 7 days before submission', async () => {
      const s = signedGrant('chain-a', fx.patient, terms({ period: { start: T0, end: T0 + 60 * DAY } }));
      await expectRejected(fx.ledger, () => grant(s, T0 + 8 * DAY), 'MESSAGE_STALE');
    });

    it('refuses malformed JSON as bad input', async () => {
      await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0, (c, ctx) => c.GrantConsent(ctx, '{not json')), 'INVALID_ARGUMENT');
    });

    it('revokes a consent: access is granted before and refused after, both logged', async () => {
      const c = await grant(signedGrant('chain-a', fx.patient));
      expect(await logAccess('HospitalBMSP', 'TREAT', T0 + HOUR)).toMatchObject({ allowed: true, reason: 'consent', consentId: c.consentId, hash: H1 });
      const r = await fx.call(fx.o.userA, T0 + 2 * HOUR, (cc, ctx) => cc.RevokeConsent(ctx, json(signedRevocation('chain-a', fx.patient, c.consentId as string))));
      expect(r).toMatchObject({ status: 'revoked', version: 2 });
      expect(fx.ledger.events.at(-1)?.name).toBe('ConsentRevoked');
      expect(await check('HospitalBMSP', 'TREAT', T0 + 2 * HOUR + 1)).toMatchObject({ allowed: false, reason: 'consent-revoked' });
      expect(await logAccess('HospitalBMSP', 'TREAT', T0 + 3 * HOUR)).toMatchObject({ allowed: false, reason: 'consent-revoked' });
      const log = await fx.call<Page>(fx.o.userA, T0 + 3 * HOUR, (cc, ctx) => cc.ListAccessLog(ctx, fx.patient.patientId, '', ''));
      expect(log.items.map((e) => [e.requester, e.allowed, e.reason])).toEqual([
        ['HospitalBMSP', true, 'consent'],
        ['HospitalBMSP', false, 'consent-revoked'],
      ]);
    });

    it('refuses to revoke a revoked consent', async () => {
      const c = await grant(signedGrant('chain-a', fx.patient));
      await fx.call(fx.o.userA, T0 + 1, (cc, ctx) => cc.RevokeConsent(ctx, json(signedRevocation('chain-a', fx.patient, c.consentId as string))));
      await expectRejected(
        fx.ledger,
        () => fx.call(fx.o.userA, T0 + 2, (cc, ctx) => cc.RevokeConsent(ctx, json(signedRevocation('chain-a', fx.patient, c.consentId as string)))),
        'CONSENT_NOT_ACTIVE',
      );
    });

    it("refuses a revocation signed by another patient for this patient's consent", async () => {
      const other = newKey();
      await fx.call(fx.o.userA, T0, (c, ctx) => c.RegisterPatient(ctx, other.publicKey));
      const c = await grant(signedGrant('chain-a', fx.patient));
      await expectRejected(
        fx.ledger,
        () => fx.call(fx.o.userA, T0 + 1, (cc, ctx) => cc.RevokeConsent(ctx, json(signedRevocation('chain-a', other, c.consentId as string)))),
        'UNAUTHORIZED',
      );
    });

    it('refuses access once the consent period has expired', async () => {
      await grant(signedGrant('chain-a', fx.patient, terms({ period: { start: T0, end: T0 + DAY } })));
      expect(await check('HospitalBMSP', 'TREAT', T0 + DAY - 1)).toMatchObject({ allowed: true });
      expect(await check('HospitalBMSP', 'TREAT', T0 + DAY)).toMatchObject({ allowed: false, reason: 'consent-expired' });
      const c = await fx.call<Page>(fx.o.userA, T0 + DAY, (cc, ctx) => cc.ListConsentsByPatient(ctx, fx.patient.patientId, '', ''));
      expect(c.items[0]?.effectiveStatus).toBe('expired');
    });

    it('refuses a purpose the patient did not consent to', async () => {
      await grant(signedGrant('chain-a', fx.patient));
      expect(await logAccess('HospitalBMSP', 'HRESCH', T0 + 1)).toMatchObject({ allowed: false, reason: 'purpose-not-covered' });
    });
  });

  // ---------------------------------------------------------------- guardians

  describe('guardians', () => {
    let guardian: KeyHolder;
    beforeEach(async () => {
      guardian = newKey();
      await fx.call(fx.o.userA, T0, (c, ctx) => c.AuthoriseGuardian(ctx, json(signedDelegation('chain-a', fx.patient, guardian))));
    });

    it('lets an authorised guardian sign a grant for the patient', async () => {
      const c = await grant(signedGrant('chain-a', fx.patient, terms(), guardian));
      expect(c).toMatchObject({ grantSignedBy: { keyId: guardian.keyId, authority: 'guardian' } });
      expect((c.grantSignedBy as Row).delegation).not.toBeNull();
      expect(fx.ledger.events.map((e) => e.name)).toContain('GuardianAuthorised');
    });

    it('refuses a grant signed by a revoked guardian and changes nothing', async () => {
      await fx.call(fx.o.userA, T0 + 1, (c, ctx) => c.RevokeGuardian(ctx, json(signedGuardianRevocation('chain-a', fx.patient, guardian))));
      expect(fx.ledger.events.at(-1)?.name).toBe('GuardianRevoked');
      await expectRejected(fx.ledger, () => grant(signedGrant('chain-a', fx.patient, terms(), guardian), T0 + 2), 'GUARDIAN_NOT_AUTHORIZED');
    });

    it('refuses a guardian revocation signed by the guardian itself (only the patient revokes)', async () => {
      await expectRejected(
        fx.ledger,
        () => fx.call(fx.o.userA, T0 + 1, (c, ctx) => c.RevokeGuardian(ctx, json(signedGuardianRevocation('chain-a', fx.patient, guardian, guardian)))),
        'GUARDIAN_NOT_AUTHORIZED',
      );
    });

    it('refuses a second delegation of an active guardian', async () => {
      await expectRejected(
        fx.ledger,
        () => fx.call(fx.o.userA, T0 + 1, (c, ctx) => c.AuthoriseGuardian(ctx, json(signedDelegation('chain-a', fx.patient, guardian)))),
        'ALREADY_EXISTS',
      );
    });

    it('lets a guardian revoke a consent the patient granted', async () => {
      const c = await grant(signedGrant('chain-a', fx.patient));
      const r = await fx.call(fx.o.userA, T0 + 1, (cc, ctx) => cc.RevokeConsent(ctx, json(signedRevocation('chain-a', fx.patient, c.consentId as string, guardian))));
      expect(r).toMatchObject({ status: 'revoked', revocation: { signedBy: { authority: 'guardian' } } });
    });
  });

  // ---------------------------------------------------------------- access log

  describe('access log', () => {
    it('refuses LogAccess from an org that is not the custodian', async () => {
      await grant(signedGrant('chain-a', fx.patient));
      await expectRejected(fx.ledger, () => fx.call(fx.o.userC, T0 + 1, (c, ctx) => logAccessTx('HospitalBMSP', REC, 'TREAT', '')(c, ctx)), 'NOT_CUSTODIAN');
    });

    it('logs a refused request without a consent', async () => {
      const d = await logAccess('HospitalBMSP', 'TREAT', T0 + 1);
      expect(d).toMatchObject({ allowed: false, reason: 'no-consent' });
      // Private: the event names the transaction only, the entry is in the custodian's implicit collection, nothing public.
      const event = fx.ledger.events.at(-1);
      expect(event).toEqual({ name: 'AccessLogged', txId: event?.txId, payload: { txId: event?.txId } });
      expect([...fx.ledger.state.keys()].filter((k) => k.includes(KeyTypes.AccessLog))).toEqual([]);
      const stored = [...(fx.ledger.privateState.get('_implicit_org_HospitalAMSP')?.values() ?? [])].map((v) => JSON.parse(v.toString('utf8')) as Record<string, unknown>);
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({ requester: 'HospitalBMSP', recordId: REC, allowed: false, salt: expect.stringMatching(/^[0-9a-f]{64}$/) });
    });

    it('takes its request from the transient map only, and refuses one without a salt', async () => {
      await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0 + 1, (c, ctx) => c.LogAccess(ctx)), 'INVALID_ARGUMENT');
      const unsalted = async (c: ConsentContract, ctx: Context) => {
        (ctx.stub as unknown as { getTransient: () => Map<string, Uint8Array> }).getTransient = () =>
          new Map([['request', Buffer.from(json({ requesterOrg: 'HospitalBMSP', recordId: REC, purpose: 'TREAT', requestId: '', salt: 'ab' }))]]);
        return c.LogAccess(ctx);
      };
      await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0 + 1, unsalted), 'INVALID_ARGUMENT');
    });

    it("refuses to list a patient's log to an org that did not register the patient", async () => {
      await expectRejected(fx.ledger, () => fx.call(fx.o.userC, T0, (c, ctx) => c.ListAccessLog(ctx, fx.patient.patientId, '', '')), 'PATIENT_NOT_REGISTERED');
    });

    it('lets the patient read their own log with a fresh signed read request', async () => {
      await logAccess('HospitalBMSP', 'TREAT', T0 + 1);
      const page = await fx.call<Page>(fx.o.userA, T0 + 60_000, (c, ctx) => c.ListAccessLogSigned(ctx, json(signedRead('chain-a', fx.patient)), '', ''));
      expect(page.items).toHaveLength(1);
      // Asked through another member's peer, the custodian's decisions are not there: only the custodian holds them.
      const elsewhere = await fx.call<Page>(fx.o.userC, T0 + 60_000, (c, ctx) => c.ListAccessLogSigned(ctx, json(signedRead('chain-a', fx.patient)), '', ''));
      expect(elsewhere.items).toHaveLength(0);
    });

    it('refuses a signed read older than 5 minutes, and one signed by a stranger', async () => {
      await expectRejected(
        fx.ledger,
        () => fx.call(fx.o.userC, T0 + 6 * 60_000, (c, ctx) => c.ListAccessLogSigned(ctx, json(signedRead('chain-a', fx.patient)), '', '')),
        'MESSAGE_STALE',
      );
      await expectRejected(
        fx.ledger,
        () => fx.call(fx.o.userC, T0, (c, ctx) => c.ListAccessLogSigned(ctx, json(signedRead('chain-a', fx.patient, newKey())), '', '')),
        'GUARDIAN_NOT_AUTHORIZED',
      );
    });

    it('pages the access log in time order', async () => {
      for (let i = 1; i <= 5; i++) await logAccess('HospitalBMSP', 'TREAT', T0 + i);
      const p1 = await fx.call<Page>(fx.o.userA, T0 + 10, (c, ctx) => c.ListAccessLog(ctx, fx.patient.patientId, '2', ''));
      const p2 = await fx.call<Page>(fx.o.userA, T0 + 10, (c, ctx) => c.ListAccessLog(ctx, fx.patient.patientId, '2', p1.bookmark));
      const p3 = await fx.call<Page>(fx.o.userA, T0 + 10, (c, ctx) => c.ListAccessLog(ctx, fx.patient.patientId, '2', p2.bookmark));
      expect([...p1.items, ...p2.items, ...p3.items].map((e) => e.time)).toEqual([1, 2, 3, 4, 5].map((i) => T0 + i));
      expect(p3.bookmark).toBe('');
    });
  });

  // ---------------------------------------------------------------- pagination of consents

  it("pages a patient's consents with bookmarks", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await grant(signedGrant('chain-a', fx.patient))).consentId as string);
    const seen: string[] = [];
    let bookmark = '';
    let pages = 0;
    do {
      const page = await fx.call<Page>(fx.o.userA, T0, (c, ctx) => c.ListConsentsByPatient(ctx, fx.patient.patientId, '2', bookmark));
      seen.push(...page.items.map((x) => x.consentId as string));
      bookmark = page.bookmark;
      pages += 1;
    } while (bookmark !== '' && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].sort());
  });

  it('refuses a page size above the limit', async () => {
    await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0, (c, ctx) => c.ListConsentsByPatient(ctx, fx.patient.patientId, '1000', '')), 'INVALID_ARGUMENT');
  });

  // ---------------------------------------------------------------- break-glass

  describe('break-glass', () => {
    const A = 'HospitalAMSP';
    // The opener's gateway sends the request to the custodian's peers (HospitalA's), privately.
    const open = (who: FakeIdentity, at: number, minutes = '', recordId = '', custodian = A) =>
      fx.call(who, at, (c, ctx) => breakGlassTx(fx.patient.patientId, recordId, custodian, 'unconscious in emergency room', minutes)(c, ctx), A);
    const review = (who: FakeIdentity, at: number, e: Row, outcome: string) =>
      fx.call(who, at, (c, ctx) => reviewEmergencyTx(e.emergencyId as string, A, outcome)(c, ctx), A);
    // Emergencies are decided by the custodian (its peers alone hold them).
    const checkAtCustodian = (grantee: string, purpose: string, at: number) =>
      fx.call(fx.o.userA, at, (c, ctx) => c.CheckAccess(ctx, grantee, REC, purpose));

    it("opens time-limited ETREAT access for the clinician's org, visible in the patient's log", async () => {
      const e = await open(fx.o.clinicianC, T0);
      expect(e).toMatchObject({ org: 'HospitalCMSP', custodian: A, openedByRole: 'clinician', expiresAt: T0 + 4 * HOUR, review: { status: 'pending' } });
      expect(await checkAtCustodian('HospitalCMSP', 'ETREAT', T0 + HOUR)).toMatchObject({ allowed: true, reason: 'emergency', emergencyId: e.emergencyId });
      expect(await checkAtCustodian('HospitalCMSP', 'TREAT', T0 + HOUR)).toMatchObject({ allowed: false });
      const log = await fx.call<Page>(fx.o.userA, T0 + HOUR, (c, ctx) => c.ListAccessLog(ctx, fx.patient.patientId, '', ''));
      expect(log.items[0]).toMatchObject({ kind: 'emergency-opened', requester: 'HospitalCMSP', emergencyId: e.emergencyId, review: 'pending' });
      const event = fx.ledger.events.at(-1);
      expect(event).toEqual({ name: 'EmergencyOpened', txId: event?.txId, payload: { txId: event?.txId } });
    });

    it("writes nothing public: the emergency, its index and its log entry are in the custodian's collection, salted", async () => {
      const before = fx.ledger.snapshot();
      const e = await open(fx.o.clinicianC, T0);
      expect(fx.ledger.snapshot()).toEqual(before);
      expect([...fx.ledger.privateState.keys()]).toEqual(['_implicit_org_HospitalAMSP']);
      const stored = [...(fx.ledger.privateState.get('_implicit_org_HospitalAMSP')?.entries() ?? [])];
      const kinds = stored.map(([k]) => k.split('\u0000')[1]).sort();
      expect(kinds).toEqual([KeyTypes.AccessLog, KeyTypes.Emergency, KeyTypes.EmergencyIdsOfPatient].sort());
      const values = stored.map(([, v]) => JSON.parse(v.toString('utf8')) as Row);
      for (const v of values) expect(v.salt).toMatch(/^[0-9a-f]{64}$/);
      // The log entry's key carries the salt; the patient's index is one key read by point reads
      // (Fabric refuses writes after a private range query), named as the public read of the patient is,
      // and not by the org that opened it.
      const salt = values[0]?.salt as string;
      const naming = stored.filter(([k]) => k.includes(fx.patient.patientId)).map(([k]) => k.split('\u0000').slice(1, -1));
      expect(naming).toEqual(
        expect.arrayContaining([
          [KeyTypes.AccessLog, fx.patient.patientId, expect.any(String), expect.any(String), salt],
          [KeyTypes.EmergencyIdsOfPatient, fx.patient.patientId],
        ]),
      );
      expect(naming).toHaveLength(2);
      expect(values.find((v) => v.reason !== undefined)).toMatchObject({ emergencyId: e.emergencyId, reason: 'unconscious in emergency room' });
    });

    it('reads the same keys for an ETREAT decision whoever asks: the opening org, another org, an org without emergency', async () => {
      await open(fx.o.clinicianC, T0);
      await open(fx.o.clinicianA, T0 + 1, '', REC);
      fx.ledger.recordReads = true;
      const readsFor = async (org: string) => {
        const d = await fx.call<Row>(fx.o.userA, T0 + HOUR, (c, ctx) => logAccessTx(org, REC, 'ETREAT', `rq-${org}`)(c, ctx));
        return { d, reads: fx.ledger.lastReads };
      };
      const c = await readsFor('HospitalCMSP');
      const b = await readsFor('HospitalBMSP');
      expect([c.d.allowed, c.d.reason, b.d.allowed, b.d.reason]).toEqual([true, 'emergency', false, 'no-consent']);
      expect(c.reads.some((r) => r.startsWith('private _implicit_org_HospitalAMSP'))).toBe(true);
      expect(b.reads).toEqual(c.reads);
    });

    it('carries emergencies opened before the patient index over: still decided, and indexed by the next break-glass', async () => {
      const e = await open(fx.o.clinicianC, T0);
      // As an earlier version left it: the emergency indexed under (patient, org), no patient index.
      const collection = fx.ledger.privateState.get('_implicit_org_HospitalAMSP')!;
      const ck = (type: string, ...attrs: string[]) => `\u0000${type}\u0000${attrs.map((x) => `${x}\u0000`).join('')}`;
      const index = collection.get(ck(KeyTypes.EmergencyIdsOfPatient, fx.patient.patientId))!;
      collection.delete(ck(KeyTypes.EmergencyIdsOfPatient, fx.patient.patientId));
      collection.set(ck(KeyTypes.EmergencyByPatient, fx.patient.patientId, 'HospitalCMSP'), index);
      expect(await checkAtCustodian('HospitalCMSP', 'ETREAT', T0 + HOUR)).toMatchObject({ allowed: true, reason: 'emergency', emergencyId: e.emergencyId });
      // HospitalA's own clinician opens another: the patient's index now holds both.
      const second = await open(fx.o.clinicianA, T0 + 2, '', REC);
      const ids = JSON.parse(collection.get(ck(KeyTypes.EmergencyIdsOfPatient, fx.patient.patientId))!.toString('utf8')) as { emergencyIds: string[] };
      expect(ids.emergencyIds).toEqual([e.emergencyId, second.emergencyId].sort());
      collection.delete(ck(KeyTypes.EmergencyByPatient, fx.patient.patientId, 'HospitalCMSP'));
      expect(await checkAtCustodian('HospitalCMSP', 'ETREAT', T0 + HOUR)).toMatchObject({ allowed: true, reason: 'emergency', emergencyId: e.emergencyId });
    });

    it('is decided only by the custodian: another org asking for ETREAT is told so, and only the custodian holds it', async () => {
      await open(fx.o.clinicianC, T0);
      await expectCode(check('HospitalCMSP', 'ETREAT', T0 + HOUR), 'NOT_CUSTODIAN');
      expect([...fx.ledger.privateState.keys()]).toEqual(['_implicit_org_HospitalAMSP']);
    });

    it('opens one record by its custodian, and refuses a custodian that does not hold it', async () => {
      const e = await open(fx.o.clinicianC, T0, '', REC, '');
      expect(e).toMatchObject({ recordId: REC, custodian: A });
      await expectRejected(fx.ledger, () => open(fx.o.clinicianC, T0 + 1, '', REC, 'HospitalCMSP'), 'NOT_CUSTODIAN');
      await expectRejected(fx.ledger, () => open(fx.o.clinicianA, T0 + 1, '', '', 'HospitalCMSP'), 'NOT_CUSTODIAN');
      await expectRejected(fx.ledger, () => open(fx.o.clinicianA, T0 + 1, '', '', ''), 'INVALID_ARGUMENT');
    });

    it('refuses access once the emergency has expired', async () => {
      await open(fx.o.clinicianC, T0, '60');
      expect(await checkAtCustodian('HospitalCMSP', 'ETREAT', T0 + HOUR)).toMatchObject({ allowed: false, reason: 'emergency-expired' });
    });

    it('refuses an emergency longer than 24 hours', async () => {
      await expectRejected(fx.ledger, () => open(fx.o.clinicianC, T0, String(24 * 60 + 1)), 'EMERGENCY_LIMIT');
    });

    it('refuses a second open emergency for the same patient and org', async () => {
      await open(fx.o.clinicianC, T0);
      await expectRejected(fx.ledger, () => open(fx.o.clinicianC, T0 + 1), 'EMERGENCY_LIMIT');
    });

    it('refuses break-glass by a privacy officer, and a request outside the transient map', async () => {
      await expectRejected(fx.ledger, () => open(fx.o.officerC, T0), 'FORBIDDEN_ROLE');
      await expectRejected(fx.ledger, () => fx.call(fx.o.clinicianC, T0, (c, ctx) => c.BreakGlass(ctx), A), 'INVALID_ARGUMENT');
    });

    it('is reviewed once by a privacy officer, and the review is logged', async () => {
      const e = await open(fx.o.clinicianC, T0);
      const r = await review(fx.o.officerC, T0 + DAY, e, 'justified');
      expect(r).toMatchObject({ review: { status: 'justified', reviewerOrg: 'HospitalCMSP' } });
      expect(fx.ledger.events.at(-1)).toMatchObject({ name: 'EmergencyReviewed', payload: { txId: fx.ledger.events.at(-1)?.txId } });
      await expectRejected(fx.ledger, () => review(fx.o.officerA, T0 + DAY, e, 'unjustified'), 'ALREADY_REVIEWED');
      const log = await fx.call<Page>(fx.o.userA, T0 + DAY, (c, ctx) => c.ListAccessLog(ctx, fx.patient.patientId, '', ''));
      expect(log.items.map((x) => x.kind)).toEqual(['emergency-opened', 'emergency-reviewed']);
      const got = await fx.call(fx.o.officerC, T0 + DAY, (c, ctx) => c.GetEmergency(ctx, e.emergencyId as string, A), A);
      expect(got).toMatchObject({ emergencyId: e.emergencyId, review: { status: 'justified' }, active: false });
    });

    it('lists the review queue of the custodian to the custodian, and to an opener only what it opened', async () => {
      const e = await open(fx.o.clinicianC, T0);
      const asA = await fx.call<Page>(fx.o.officerA, T0 + 1, (c, ctx) => c.ListEmergencies(ctx, '', '', ''));
      expect(asA.items.map((x) => x.emergencyId)).toEqual([e.emergencyId]);
      // HospitalA's own clinician opens one too: HospitalC's officer, asking HospitalA's peer, sees only its org's.
      const own = await open(fx.o.clinicianA, T0 + 2);
      const asA2 = await fx.call<Page>(fx.o.officerA, T0 + 3, (c, ctx) => c.ListEmergencies(ctx, '', '', ''));
      expect(asA2.items.map((x) => x.emergencyId).sort()).toEqual([e.emergencyId, own.emergencyId].sort());
      const asC = await fx.call<Page>(fx.o.officerC, T0 + 3, (c, ctx) => c.ListEmergencies(ctx, A, '', ''), A);
      expect(asC.items.map((x) => x.emergencyId)).toEqual([e.emergencyId]);
      await expectCode(fx.call(fx.o.officerC, T0 + 3, (c, ctx) => c.GetEmergency(ctx, own.emergencyId as string, A), A), 'UNAUTHORIZED');
      // Paged: one at a time, then the end; a bookmark it never returned is refused.
      const first = await fx.call<Page>(fx.o.officerA, T0 + 3, (c, ctx) => c.ListEmergencies(ctx, '', '1', ''));
      const second = await fx.call<Page>(fx.o.officerA, T0 + 3, (c, ctx) => c.ListEmergencies(ctx, '', '1', first.bookmark));
      expect([...first.items, ...second.items].map((x) => x.emergencyId)).toEqual(asA2.items.map((x) => x.emergencyId));
      expect(second.bookmark).toBe('');
      await expectCode(fx.call(fx.o.officerA, T0 + 3, (c, ctx) => c.ListEmergencies(ctx, '', '1', 'em_unknown')), 'INVALID_ARGUMENT');
    });

    it('keeps an emergency opened before emergencies were private: it still decides, is listed, read and reviewed publicly', async () => {
      // As BreakGlass wrote it before (public state, no custodian field), seeded on the fake ledger.
      const legacy = {
        emergencyId: `em_${'a'.repeat(64)}`,
        patientId: fx.patient.patientId,
        recordId: null,
        org: 'HospitalCMSP',
        openedBy: 'dr-c',
        openedByRole: 'clinician',
        reason: 'unconscious in emergency room',
        openedAt: T0,
        expiresAt: T0 + 4 * HOUR,
        txId: 'a'.repeat(64),
        review: { status: 'pending', reviewer: null, reviewerOrg: null, reviewedAt: null },
      };
      const ck = (type: string, ...attrs: string[]) => `\u0000${type}\u0000${attrs.map((x) => `${x}\u0000`).join('')}`;
      fx.ledger.state.set(ck(KeyTypes.Emergency, legacy.emergencyId), Buffer.from(json(legacy)));
      fx.ledger.state.set(ck(KeyTypes.EmergencyByPatient, legacy.patientId, legacy.org, legacy.emergencyId), Buffer.from(json({ emergencyId: legacy.emergencyId })));
      expect(await checkAtCustodian('HospitalCMSP', 'ETREAT', T0 + HOUR)).toMatchObject({ allowed: true, reason: 'emergency', emergencyId: legacy.emergencyId });
      const queue = await fx.call<Page>(fx.o.officerA, T0 + HOUR, (c, ctx) => c.ListEmergencies(ctx, '', '', ''));
      expect(queue.items.map((x) => x.emergencyId)).toEqual([legacy.emergencyId]);
      expect(await fx.call(fx.o.userA, T0 + HOUR, (c, ctx) => c.GetEmergency(ctx, legacy.emergencyId, ''))).toMatchObject({ emergencyId: legacy.emergencyId, active: true });
      // Not in the custodian's collection: the private review does not find it; the public one reviews it.
      await expectRejected(fx.ledger, () => review(fx.o.officerA, T0 + DAY, legacy, 'justified'), 'NOT_FOUND');
      const reviewed = await fx.call(fx.o.officerA, T0 + DAY, (c, ctx) => c.ReviewPublicEmergency(ctx, legacy.emergencyId, 'justified'));
      expect(reviewed).toMatchObject({ review: { status: 'justified', reviewerOrg: 'HospitalAMSP' } });
      expect(fx.ledger.events.at(-1)).toMatchObject({ name: 'EmergencyReviewed', payload: { txId: fx.ledger.events.at(-1)?.txId } });
      await expectRejected(fx.ledger, () => fx.call(fx.o.officerA, T0 + DAY, (c, ctx) => c.ReviewPublicEmergency(ctx, legacy.emergencyId, 'justified')), 'ALREADY_REVIEWED');
    });

    it('refuses a review by a plain member identity, and by an org that is neither opener nor custodian', async () => {
      const e = await open(fx.o.clinicianC, T0);
      await expectRejected(fx.ledger, () => review(fx.o.userA, T0 + 1, e, 'justified'), 'FORBIDDEN_ROLE');
      const own = await open(fx.o.clinicianA, T0 + 2);
      await expectRejected(fx.ledger, () => review(fx.o.officerC, T0 + 3, own, 'justified'), 'UNAUTHORIZED');
    });
  });

  it('refuses every call on a channel that was never bootstrapped', async () => {
    const bare = new FakeLedger('chain-z');
    await expectRejected(bare, () => consentCaller(bare)(fx.o.userA, T0, (c, ctx) => c.RegisterPatient(ctx, newKey().publicKey)), 'NOT_BOOTSTRAPPED');
  });
});
