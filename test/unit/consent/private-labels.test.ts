/**
 * Private record metadata (CONSENT.md "Private record metadata"): the custodian labels a version
 * in its own implicit collection (LabelRecord, endorsed by it alone), the public anchor names the
 * value by its hash only (AnchorRecordLabelled / AmendRecordLabelled read Fabric's private data
 * hash), decisions that need the labels are taken by the custodian alone, and an erasure purges
 * every labelled version.
 */
import { createHash } from 'node:crypto';
import { buildAccessLogRead, buildConsentPolicyGrant, buildRecordsRead, signPatientMessage } from '../../../chaincode/src/protocol/patient-messages';
import type { RecordAnchor } from '../../../chaincode/src/rules/record-rules';
import {
  DR_X,
  expectCode,
  expectRejected,
  header,
  HOUR,
  json,
  labelRecordTx,
  NESTED,
  logAccessAsTx,
  logAccessTx,
  purgeRecordLabelsTx,
  signedGrant,
  T0,
  terms,
  usePatientChannel,
} from './support';

const H1 = '1'.repeat(64);
const H2 = '2'.repeat(64);
const COLLECTION = '_implicit_org_HospitalAMSP';
const PSY = { securityLabels: ['PSY', 'R'], dataDate: Date.UTC(2024, 2, 1), authorOrg: 'HospitalAMSP', documentClasses: [] };

type Decision = { allowed: boolean; reason: string; provisionPath?: number[] };

describe('private record metadata', () => {
  const fx = usePatientChannel(['HospitalAMSP', 'HospitalCMSP']);

  const label = (recordId: string, version: number, metadata: Record<string, unknown> = PSY, at = T0) =>
    fx.call<{ recordId: string; version: number; hash: string }>(fx.o.userA, at, labelRecordTx(recordId, version, metadata));
  const anchorLabelled = async (recordId: string, metadata: Record<string, unknown> = PSY) => {
    await label(recordId, 1, metadata);
    return fx.call<RecordAnchor>(fx.o.userA, T0, (c, ctx) => c.AnchorRecordLabelled(ctx, recordId, fx.patient.patientId, 'Observation', H1));
  };
  const privateValues = () => [...(fx.ledger.privateState.get(COLLECTION)?.values() ?? [])].map((b) => b.toString('utf8'));
  const publicText = () => [...fx.ledger.snapshot().values()].join('\n');
  const grantNested = () =>
    fx.call(fx.o.userA, T0, (c, ctx) => c.GrantConsent(ctx, json(signPatientMessage(buildConsentPolicyGrant(header('chain-a', fx.patient), NESTED), fx.patient.privateKey))));

  it('writes the labels to the custodian\'s collection only, salted; the anchor names their hash and never their content', async () => {
    const before = fx.ledger.snapshot();
    const labelled = await label('psy-1', 1);
    expect(fx.ledger.snapshot()).toEqual(before);
    expect(fx.ledger.events.at(-1)).toMatchObject({ name: 'RecordLabelled', payload: { txId: expect.any(String) } });
    expect(Object.keys(fx.ledger.events.at(-1)?.payload as object)).toEqual(['txId']);
    const [stored] = privateValues();
    expect(JSON.parse(stored as string)).toEqual({ recordId: 'psy-1', version: 1, metadata: PSY, salt: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const hash = createHash('sha256').update(stored as string).digest('hex');
    expect(labelled).toEqual({ recordId: 'psy-1', version: 1, hash });

    const head = await fx.call<RecordAnchor>(fx.o.userA, T0, (c, ctx) => c.AnchorRecordLabelled(ctx, 'psy-1', fx.patient.patientId, 'Observation', H1));
    expect(head.labels).toEqual({ version: 1, hash });
    expect(head.metadata).toBeUndefined();
    expect(publicText()).not.toMatch(/PSY|securityLabels|dataDate/);
    const history = await fx.call<{ items: RecordAnchor[] }>(fx.o.userC, T0, (c, ctx) => c.GetRecordHistory(ctx, 'psy-1', '', ''));
    expect(history.items[0]).toMatchObject({ labels: { version: 1, hash } });
  });

  it('refuses what it cannot bind or should not write, and changes nothing', async () => {
    // No labels for version 1: the anchor cannot name any.
    await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0, (c, ctx) => c.AnchorRecordLabelled(ctx, 'psy-1', fx.patient.patientId, 'Observation', H1)), 'NOT_FOUND');
    // Labels written by another org are in that org's collection, not the anchoring custodian's.
    await fx.call(fx.o.userC, T0, labelRecordTx('psy-2', 1, PSY));
    await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0, (c, ctx) => c.AnchorRecordLabelled(ctx, 'psy-2', fx.patient.patientId, 'Observation', H1)), 'NOT_FOUND');
    await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0, labelRecordTx('psy-1', 2, PSY)), 'STALE_VERSION');
    await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0, labelRecordTx('psy-1', 1, { ...PSY, securityLabels: ['PSYCH'] })), 'INVALID_ARGUMENT');
    await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0, (c, ctx) => c.LabelRecord(ctx)), 'INVALID_ARGUMENT');
    await anchorLabelled('psy-1');
    await expectRejected(fx.ledger, () => fx.call(fx.o.userC, T0, labelRecordTx('psy-1', 2, PSY)), 'NOT_CUSTODIAN');
    await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0, labelRecordTx('psy-1', 1, PSY)), 'STALE_VERSION');
    // A category that holds no patient record cannot carry metadata.
    await label('bundle-1', 1);
    await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0, (c, ctx) => c.AnchorRecordLabelled(ctx, 'bundle-1', fx.patient.patientId, 'Bundle', H1)), 'INVALID_ARGUMENT');
  });

  it('decides a consent v2 with the private labels at the custodian, and logs the provision path there', async () => {
    await anchorLabelled('psy-1');
    await anchorLabelled('obs-1', { ...PSY, securityLabels: [] });
    await grantNested();
    const askA = (requester: Record<string, string>, recordId: string) =>
      fx.call<Decision>(fx.o.userA, T0 + HOUR, (c, ctx) => c.CheckAccessAs(ctx, json(requester), recordId, 'TREAT'));
    expect(await askA({ org: 'HospitalCMSP' }, 'psy-1')).toMatchObject({ allowed: false, reason: 'consent-denied', provisionPath: [0] });
    expect(await askA(DR_X, 'psy-1')).toMatchObject({ allowed: true, reason: 'consent', provisionPath: [0, 0] });
    expect(await askA({ org: 'HospitalCMSP' }, 'obs-1')).toMatchObject({ allowed: true, provisionPath: [] });
    expect(await fx.call<Decision>(fx.o.userA, T0 + HOUR, logAccessTx('HospitalCMSP', 'psy-1', 'TREAT'))).toMatchObject({ allowed: false, provisionPath: [0] });
    expect(await fx.call<Decision>(fx.o.userA, T0 + HOUR, logAccessAsTx(DR_X, 'psy-1', 'TREAT'))).toMatchObject({ allowed: true, provisionPath: [0, 0] });
  });

  it('answers another org NOT_CUSTODIAN for a consent v2 on a privately labelled record, on its own peer and on the custodian\'s', async () => {
    await anchorLabelled('psy-1');
    await grantNested();
    const askC = (peerMsp?: string) => fx.call<Decision>(fx.o.userC, T0 + HOUR, (c, ctx) => c.CheckAccessAs(ctx, json(DR_X), 'psy-1', 'TREAT'), peerMsp);
    await expectCode(askC(), 'NOT_CUSTODIAN');
    await expectCode(askC('HospitalAMSP'), 'NOT_CUSTODIAN');
  });

  it('lets anyone decide a v1 consent on a privately labelled record: it reads no labels', async () => {
    await anchorLabelled('psy-1');
    await fx.call(fx.o.userA, T0, (c, ctx) => c.GrantConsent(ctx, json(signedGrant('chain-a', fx.patient, terms({ grantee: 'HospitalCMSP', scope: { recordIds: ['psy-1'], categories: [] } })))));
    expect(await fx.call<Decision>(fx.o.userC, T0 + HOUR, (c, ctx) => c.CheckAccess(ctx, 'HospitalCMSP', 'psy-1', 'TREAT'))).toMatchObject({ allowed: true, reason: 'consent' });
  });

  it('lets the custodian read the labels (GetRecordLabels) on its own peer only', async () => {
    await anchorLabelled('psy-1');
    expect(await fx.call(fx.o.userA, T0, (c, ctx) => c.GetRecordLabels(ctx, 'psy-1'))).toEqual({ recordId: 'psy-1', version: 1, labelledVersion: 1, private: true, metadata: PSY });
    await expectCode(fx.call(fx.o.userA, T0, (c, ctx) => c.GetRecordLabels(ctx, 'psy-1'), 'HospitalCMSP'), 'NOT_CUSTODIAN');
    await expectCode(fx.call(fx.o.userC, T0, (c, ctx) => c.GetRecordLabels(ctx, 'psy-1'), 'HospitalAMSP'), 'NOT_CUSTODIAN');
    await fx.call(fx.o.userA, T0, (c, ctx) => c.AnchorRecord(ctx, 'obs-1', fx.patient.patientId, 'Observation', H1));
    await expectCode(fx.call(fx.o.userA, T0, (c, ctx) => c.GetRecordLabels(ctx, 'obs-1')), 'NOT_FOUND');
  });

  it("lets the patient read the labels of their records a custodian holds, with a fresh signed records.read, at that custodian", async () => {
    await anchorLabelled('psy-1');
    await fx.call(fx.o.userA, T0, (c, ctx) => c.AnchorRecord(ctx, 'obs-1', fx.patient.patientId, 'Observation', H1));
    await fx.call(fx.o.userA, T0, (c, ctx) => c.AnchorRecordWithMetadata(ctx, 'pub-1', fx.patient.patientId, 'Observation', H1, json({ ...PSY, securityLabels: ['N'] })));
    const read = (at = T0 + 60_000) => json(signPatientMessage(buildRecordsRead(header('chain-a', fx.patient, fx.patient, at)), fx.patient.privateKey));
    expect(await fx.call(fx.o.userA, T0 + 120_000, (c, ctx) => c.ListRecordLabelsSigned(ctx, read()))).toEqual({
      custodian: 'HospitalAMSP',
      patientId: fx.patient.patientId,
      items: [
        { recordId: 'obs-1', category: 'Observation', version: 1, private: false, metadata: null },
        { recordId: 'psy-1', category: 'Observation', version: 1, private: true, metadata: PSY },
        { recordId: 'pub-1', category: 'Observation', version: 1, private: false, metadata: { ...PSY, securityLabels: ['N'] } },
      ],
    });
    // Another custodian holds none of them; HospitalA's read on another org's peer cannot open the labels.
    expect(await fx.call(fx.o.userC, T0 + 120_000, (c, ctx) => c.ListRecordLabelsSigned(ctx, read()))).toMatchObject({ custodian: 'HospitalCMSP', items: [] });
    await expectCode(fx.call(fx.o.userA, T0 + 120_000, (c, ctx) => c.ListRecordLabelsSigned(ctx, read()), 'HospitalCMSP'), 'NOT_CUSTODIAN');
    // A read signed more than 5 minutes before, or a message of another kind, is refused.
    await expectCode(fx.call(fx.o.userA, T0 + 10 * 60_000, (c, ctx) => c.ListRecordLabelsSigned(ctx, read(T0))), 'MESSAGE_STALE');
    const logRead = json(signPatientMessage(buildAccessLogRead(header('chain-a', fx.patient, fx.patient, T0 + 60_000)), fx.patient.privateKey));
    await expectCode(fx.call(fx.o.userA, T0 + 120_000, (c, ctx) => c.ListRecordLabelsSigned(ctx, logRead)), 'INVALID_ARGUMENT');
  });

  it('relabels with an amendment; a plain amendment keeps the labelled version; public metadata replaces the private', async () => {
    await anchorLabelled('psy-1');
    await label('psy-1', 2, { ...PSY, securityLabels: [] });
    const relabelled = await fx.call<RecordAnchor>(fx.o.userA, T0 + 1, (c, ctx) => c.AmendRecordLabelled(ctx, 'psy-1', H2, '1'));
    expect(relabelled).toMatchObject({ version: 2, labels: { version: 2 } });
    const kept = await fx.call<RecordAnchor>(fx.o.userA, T0 + 2, (c, ctx) => c.AmendRecord(ctx, 'psy-1', H1, '2'));
    expect(kept.labels).toEqual(relabelled.labels);
    expect(await fx.call(fx.o.userA, T0, (c, ctx) => c.GetRecordLabels(ctx, 'psy-1'))).toMatchObject({ version: 3, labelledVersion: 2, metadata: { securityLabels: [] } });
    // Version 4 is not labelled: AmendRecordLabelled has nothing to bind.
    await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0 + 3, (c, ctx) => c.AmendRecordLabelled(ctx, 'psy-1', H2, '3')), 'NOT_FOUND');
    const publicAgain = await fx.call<RecordAnchor>(fx.o.userA, T0 + 3, (c, ctx) => c.AmendRecordWithMetadata(ctx, 'psy-1', H2, '3', json(PSY)));
    expect(publicAgain.labels).toBeUndefined();
    expect(publicAgain.metadata).toEqual(PSY);
  });

  it('refuses to decide with private labels that do not match the anchor\'s hash', async () => {
    await anchorLabelled('psy-1');
    await grantNested();
    const stored = fx.ledger.privateState.get(COLLECTION) as Map<string, Buffer>;
    for (const [k, v] of stored) stored.set(k, Buffer.from(v.toString('utf8').replace('"PSY",', '')));
    await expectCode(fx.call(fx.o.userA, T0 + HOUR, (c, ctx) => c.CheckAccessAs(ctx, json(DR_X), 'psy-1', 'TREAT')), 'RECORD_HASH_MISMATCH');
  });

  it('purges every labelled version once the record is erased, by the custodian that erased it only', async () => {
    await anchorLabelled('psy-1');
    await label('psy-1', 2, { ...PSY, securityLabels: [] });
    await fx.call(fx.o.userA, T0 + 1, (c, ctx) => c.AmendRecordLabelled(ctx, 'psy-1', H2, '1'));
    await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0 + 2, purgeRecordLabelsTx('psy-1')), 'INVALID_ARGUMENT');
    await fx.call(fx.o.officerA, T0 + 2, (c, ctx) => c.EraseRecordOnVerifiedRequest(ctx, 'psy-1', 'patient-in-person'));
    await expectRejected(fx.ledger, () => fx.call(fx.o.userC, T0 + 3, purgeRecordLabelsTx('psy-1')), 'NOT_CUSTODIAN');
    expect(privateValues()).toHaveLength(2);
    expect(await fx.call(fx.o.userA, T0 + 3, purgeRecordLabelsTx('psy-1'))).toEqual({ recordId: 'psy-1', purgedVersions: [1, 2] });
    expect(privateValues()).toHaveLength(0);
    expect(fx.ledger.events.at(-1)).toEqual({ txId: expect.any(String), name: 'RecordLabelsPurged', payload: { txId: expect.any(String) } });
    // Nothing left: refused, since a transaction writing nothing would answer to the channel's policy.
    await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0 + 4, purgeRecordLabelsTx('psy-1')), 'NOT_FOUND');
  });
});
