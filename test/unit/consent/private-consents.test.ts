/**
 * Private consents (CONSENT.md "Private consents"): a grant that names its keeper is stored in
 * the keeper's implicit collection only (GrantConsentPrivately, endorsed by the keeper alone),
 * decides for the keeper's records on the keeper's peers, and is revoked there; every other org
 * reads nothing of it and answers NOT_CUSTODIAN instead of a refusal it cannot make.
 */
import {
  buildConsentGrant,
  buildConsentPolicyGrant,
  buildConsentRevocation,
  consentIdOf,
  signPatientMessage,
  type ConsentTerms,
} from '../../../chaincode/src/protocol/patient-messages';
import {
  DAY,
  DR_X,
  expectCode,
  expectRejected,
  grantPrivatelyTx,
  header,
  HOUR,
  json,
  labelRecordTx,
  NESTED,
  logAccessAsTx,
  logAccessTx,
  newKey,
  revokePrivatelyTx,
  signedDelegation,
  T0,
  terms,
  usePatientChannel,
  type KeyHolder,
} from './support';

const H1 = '1'.repeat(64);
const A = 'HospitalAMSP';
const COLLECTION_A = '_implicit_org_HospitalAMSP';
const DR_Y = { org: 'HospitalCMSP', role: 'clinician', careTeam: 'ct-dr-y' };

type Decision = { allowed: boolean; reason: string; consentId?: string | null; provisionPath?: number[] };
type Kept = { consentId: string; effectiveStatus: string; status: string; grant: { message: { keeper?: string } } };

describe('private consents', () => {
  const fx = usePatientChannel([A, 'HospitalBMSP', 'HospitalCMSP'], async (f) => {
    await f.call(f.o.userA, T0, (c, ctx) => c.AnchorRecord(ctx, 'obs-1', f.patient.patientId, 'Observation', H1));
    await f.call(f.o.userC, T0, (c, ctx) => c.RegisterPatient(ctx, f.patient.publicKey));
    await f.call(f.o.userC, T0, (c, ctx) => c.AnchorRecord(ctx, 'obs-c', f.patient.patientId, 'Observation', H1));
  });

  const keptGrant = (t: Partial<ConsentTerms> = {}, keeper = A, signer: KeyHolder = fx.patient) =>
    signPatientMessage(buildConsentGrant(header('chain-a', fx.patient, signer), terms(t), keeper), signer.privateKey);
  const grantAt = <T = Kept>(signed: unknown, caller = fx.o.userA, peerMsp?: string) => fx.call<T>(caller, T0, grantPrivatelyTx(signed), peerMsp);
  const revocation = (consentId: string, at = T0 + HOUR) => signPatientMessage(buildConsentRevocation(header('chain-a', fx.patient, fx.patient, at), consentId), fx.patient.privateKey);
  const logB = (recordId = 'obs-1', at = T0 + HOUR) => fx.call<Decision>(fx.o.userA, at, logAccessTx('HospitalBMSP', recordId, 'TREAT'));
  const privateValues = () => [...(fx.ledger.privateState.get(COLLECTION_A)?.values() ?? [])].map((b) => b.toString('utf8'));

  it('writes nothing public: the consent, its index entry and the nonce go to the keeper\'s collection, salted; the event names the transaction', async () => {
    const before = fx.ledger.snapshot();
    const signed = keptGrant();
    const kept = await grantAt(signed);
    expect(fx.ledger.snapshot()).toEqual(before);
    expect(kept).toMatchObject({ consentId: consentIdOf(signed.message), status: 'active', effectiveStatus: 'active', grant: { message: { keeper: A } } });
    expect(fx.ledger.events.at(-1)).toMatchObject({ name: 'ConsentGrantedPrivately' });
    expect(Object.keys(fx.ledger.events.at(-1)?.payload as object)).toEqual(['txId']);
    const values = privateValues().map((v) => JSON.parse(v) as Record<string, unknown>);
    expect(values).toHaveLength(3);
    for (const v of values) expect(v.salt).toMatch(/^[0-9a-f]{64}$/);
    expect(values).toContainEqual(expect.objectContaining({ patientId: fx.patient.patientId, consents: [{ consentId: kept.consentId, grantees: ['HospitalBMSP'] }] }));
    // No other org's collection, and no public key or value, names the consent.
    expect([...fx.ledger.privateState.keys()]).toEqual([COLLECTION_A]);
    expect([...fx.ledger.snapshot().values()].join('\n')).not.toContain(kept.consentId);
  });

  it('decides for the keeper\'s records at the keeper, until the patient revokes it there', async () => {
    const kept = await grantAt(keptGrant());
    expect(await logB()).toMatchObject({ allowed: true, reason: 'consent', consentId: kept.consentId });
    expect(await fx.call<Decision>(fx.o.userA, T0 + HOUR, (c, ctx) => c.CheckAccess(ctx, 'HospitalBMSP', 'obs-1', 'TREAT'))).toMatchObject({ allowed: true });
    // Not for another custodian's records: HospitalC's record is decided by HospitalC, which keeps no consent.
    expect(await fx.call<Decision>(fx.o.userC, T0 + HOUR, logAccessTx('HospitalBMSP', 'obs-c', 'TREAT'))).toMatchObject({ allowed: false, reason: 'no-consent' });
    // Nor for a record of another kind: it covers Observations, so for an ImagingStudy no consent covers it (as a public one).
    await fx.call(fx.o.userA, T0, (c, ctx) => c.AnchorRecord(ctx, 'img-1', fx.patient.patientId, 'ImagingStudy', H1));
    expect(await logB('img-1')).toMatchObject({ allowed: false, reason: 'no-consent' });

    const revoked = await fx.call<Kept>(fx.o.userA, T0 + HOUR, revokePrivatelyTx(revocation(kept.consentId), A));
    expect(revoked).toMatchObject({ status: 'revoked', effectiveStatus: 'revoked' });
    expect(fx.ledger.events.at(-1)).toMatchObject({ name: 'ConsentRevokedPrivately' });
    expect(await logB('obs-1', T0 + 2 * HOUR)).toMatchObject({ allowed: false, reason: 'consent-revoked' });
    expect(await fx.call(fx.o.userA, T0 + 2 * HOUR, (c, ctx) => c.GetPrivateConsent(ctx, kept.consentId))).toMatchObject({ status: 'revoked' });
  });

  it('answers another org NOT_CUSTODIAN where a private consent might allow, and a plain refusal where the custodian keeps none', async () => {
    const askB = (recordId: string) => fx.call<Decision>(fx.o.userB, T0 + HOUR, (c, ctx) => c.CheckAccess(ctx, 'HospitalBMSP', recordId, 'TREAT'));
    expect(await askB('obs-1')).toMatchObject({ allowed: false, reason: 'no-consent' });
    await grantAt(keptGrant());
    await expectCode(askB('obs-1'), 'NOT_CUSTODIAN');
    // HospitalC keeps no private consent of the patient: its record's refusal stands anywhere.
    expect(await askB('obs-c')).toMatchObject({ allowed: false, reason: 'no-consent' });
    // What another org reads of it: not the consent, not the patient's list.
    await expectCode(fx.call(fx.o.userB, T0, (c, ctx) => c.GetPrivateConsent(ctx, consentIdOf(keptGrant().message))), 'NOT_FOUND');
    expect(await fx.call(fx.o.userB, T0, (c, ctx) => c.ListPrivateConsents(ctx, fx.patient.patientId))).toEqual({ keeper: 'HospitalBMSP', items: [] });
  });

  it('lists the keeper\'s private consents of a patient for its staff, in consent-id order', async () => {
    const one = await grantAt(keptGrant());
    const two = await grantAt(keptGrant({ grantee: 'HospitalCMSP', purposes: ['HRESCH'] }));
    const listed = await fx.call<{ keeper: string; items: Kept[] }>(fx.o.userA, T0, (c, ctx) => c.ListPrivateConsents(ctx, fx.patient.patientId));
    expect(listed.keeper).toBe(A);
    expect(listed.items.map((c) => c.consentId)).toEqual([one.consentId, two.consentId].sort());
  });

  it('enforces a nested consent v2 kept privately: permit all, deny PSY, except for Dr X\'s care team', async () => {
    await fx.call(fx.o.userA, T0, labelRecordTx('psy-1', 1, { securityLabels: ['PSY', 'R'], dataDate: Date.UTC(2024, 2, 1), authorOrg: A, documentClasses: [] }));
    await fx.call(fx.o.userA, T0, (c, ctx) => c.AnchorRecordLabelled(ctx, 'psy-1', fx.patient.patientId, 'Observation', H1));
    const signed = signPatientMessage(buildConsentPolicyGrant(header('chain-a', fx.patient), NESTED, A), fx.patient.privateKey);
    const kept = await grantAt(signed);
    const asA = (who: Record<string, unknown>, recordId: string) => fx.call<Decision>(fx.o.userA, T0 + HOUR, logAccessAsTx(who, recordId, 'TREAT'));
    expect(await asA(DR_X, 'psy-1')).toMatchObject({ allowed: true, consentId: kept.consentId, provisionPath: [0, 0] });
    expect(await asA(DR_Y, 'psy-1')).toMatchObject({ allowed: false, provisionPath: [0] });
    expect(await asA(DR_Y, 'obs-1')).toMatchObject({ allowed: true, provisionPath: [] });
    expect(privateValues().join('\n')).toContain('"grantees":["*"]');
  });

  it('takes a guardian\'s grant as the patient\'s', async () => {
    const guardian = newKey();
    await fx.call(fx.o.userA, T0, (c, ctx) => c.AuthoriseGuardian(ctx, json(signedDelegation('chain-a', fx.patient, guardian))));
    const kept = await grantAt(keptGrant({}, A, guardian));
    expect(await logB()).toMatchObject({ allowed: true, consentId: kept.consentId });
  });

  it('refuses what it must not store, and changes nothing', async () => {
    const signed = keptGrant();
    // A grant naming a keeper never goes to public state, and one naming none never to a collection.
    await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0, (c, ctx) => c.GrantConsent(ctx, json(signed))), 'INVALID_ARGUMENT');
    const publicGrant = signPatientMessage(buildConsentGrant(header('chain-a', fx.patient), terms()), fx.patient.privateKey);
    await expectRejected(fx.ledger, () => grantAt(publicGrant), 'INVALID_ARGUMENT');
    // Forged: the signature does not cover what is sent (another grantee).
    const forged = { ...signed, message: { ...signed.message, terms: { ...signed.message.terms, grantee: 'HospitalCMSP' } } };
    await expectRejected(fx.ledger, () => grantAt(forged), 'PATIENT_SIGNATURE_INVALID');
    // Malformed keeper, expired message, unregistered patient, no request at all.
    const badKeeper = { ...signed.message, keeper: 'not an msp id' };
    await expectRejected(fx.ledger, () => grantAt({ ...signed, message: badKeeper }), 'INVALID_ARGUMENT');
    const old = signPatientMessage(buildConsentGrant(header('chain-a', fx.patient, fx.patient, T0 - 8 * DAY), terms(), A), fx.patient.privateKey);
    await expectRejected(fx.ledger, () => grantAt(old), 'MESSAGE_STALE');
    const stranger = newKey();
    await expectRejected(fx.ledger, () => grantAt(signPatientMessage(buildConsentGrant(header('chain-a', stranger), terms(), A), stranger.privateKey)), 'PATIENT_NOT_REGISTERED');
    await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0, (c, ctx) => c.GrantConsentPrivately(ctx)), 'INVALID_ARGUMENT');
    // A keeper that is not a member of the channel.
    await expectRejected(fx.ledger, () => grantAt(keptGrant({}, 'HospitalZMSP')), 'NOT_A_MEMBER');
    // Replayed at the keeper.
    await grantAt(signed);
    await expectRejected(fx.ledger, () => grantAt(signed), 'NONCE_REPLAYED');
  });

  it('refuses a revocation the keeper cannot apply, and changes nothing', async () => {
    const kept = await grantAt(keptGrant());
    const revoke = revocation(kept.consentId);
    // At another org (no such consent there), with a malformed keeper, for a public consent id.
    await expectRejected(fx.ledger, () => fx.call(fx.o.userC, T0 + HOUR, revokePrivatelyTx(revoke, 'HospitalCMSP')), 'NOT_FOUND');
    await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0 + HOUR, revokePrivatelyTx(revoke, 'no keeper')), 'INVALID_ARGUMENT');
    await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0 + HOUR, revokePrivatelyTx(revocation(`cs_${'0'.repeat(64)}`), A)), 'NOT_FOUND');
    // The public revocation does not reach it.
    await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0 + HOUR, (c, ctx) => c.RevokeConsent(ctx, json(revoke))), 'NOT_FOUND');
    await fx.call(fx.o.userA, T0 + HOUR, revokePrivatelyTx(revoke, A));
    await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0 + HOUR, revokePrivatelyTx(revocation(kept.consentId), A)), 'CONSENT_NOT_ACTIVE');
    await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0 + HOUR, revokePrivatelyTx(revoke, A)), 'NONCE_REPLAYED');
  });

  it('stores what was signed, under the signed grant\'s consent id', async () => {
    const signed = keptGrant();
    const kept = await grantAt(signed);
    const stored = privateValues().find((v) => v.includes('"grantTxId"')) as string;
    expect(JSON.parse(stored)).toMatchObject({ consentId: consentIdOf(signed.message), grant: signed, grantTxId: expect.any(String) });
    expect(kept.consentId).toBe(consentIdOf(signed.message));
  });
});
