/**
 * Record metadata for consent v2 decisions (CONSENT.md "Record metadata"): the custodian states
 * it when anchoring and amends it with the record; it is validated against the consent
 * vocabulary, and a record anchored without it is read as an ordinary one.
 */
import { parseRecordLabels, recordMetadataOf, type RecordAnchor } from '../../../chaincode/src/rules/record-rules';
import { expectCodeSync, expectRejected, json, T0, usePatientChannel } from './support';

const H1 = '1'.repeat(64);
const H2 = '2'.repeat(64);
const DATA_DATE = Date.UTC(2024, 2, 1);

const META = { securityLabels: ['R', 'PSY'], dataDate: DATA_DATE, authorOrg: 'HospitalCMSP', documentClasses: [{ system: 'http://loinc.org', code: '11488-4' }] };

describe('record metadata', () => {
  const fx = usePatientChannel(['HospitalAMSP', 'HospitalCMSP']);

  it('anchors a record with its metadata, lists sorted, on the head and on version 1', async () => {
    const head = await fx.call<RecordAnchor>(fx.o.userA, T0, (c, ctx) => c.AnchorRecordWithMetadata(ctx, 'psy-1', fx.patient.patientId, 'Observation', H1, json(META)));
    expect(head.metadata).toEqual({ ...META, securityLabels: ['PSY', 'R'] });
    const history = await fx.call<{ items: Array<{ metadata?: unknown }> }>(fx.o.userA, T0, (c, ctx) => c.GetRecordHistory(ctx, 'psy-1', '', ''));
    expect(history.items[0]?.metadata).toEqual(head.metadata);
  });

  it('keeps the metadata through a plain amendment and replaces it with an amendment that states new metadata', async () => {
    await fx.call(fx.o.userA, T0, (c, ctx) => c.AnchorRecordWithMetadata(ctx, 'psy-1', fx.patient.patientId, 'Observation', H1, json(META)));
    const kept = await fx.call<RecordAnchor>(fx.o.userA, T0 + 1, (c, ctx) => c.AmendRecord(ctx, 'psy-1', H2, '1'));
    expect(kept.metadata?.securityLabels).toEqual(['PSY', 'R']);
    const relabelled = await fx.call<RecordAnchor>(fx.o.userA, T0 + 2, (c, ctx) =>
      c.AmendRecordWithMetadata(ctx, 'psy-1', H1, '2', json({ securityLabels: [], dataDate: DATA_DATE, authorOrg: 'HospitalAMSP' })),
    );
    expect(relabelled.metadata).toEqual({ securityLabels: [], dataDate: DATA_DATE, authorOrg: 'HospitalAMSP', documentClasses: [] });
    const history = await fx.call<{ items: Array<{ metadata?: { securityLabels: string[] } }> }>(fx.o.userA, T0, (c, ctx) => c.GetRecordHistory(ctx, 'psy-1', '', ''));
    expect(history.items.map((v) => v.metadata?.securityLabels)).toEqual([['PSY', 'R'], ['PSY', 'R'], []]);
  });

  it('writes no metadata field on a record anchored without it (the wire form of old anchors is unchanged)', async () => {
    const head = await fx.call<Record<string, unknown>>(fx.o.userA, T0, (c, ctx) => c.AnchorRecord(ctx, 'obs-1', fx.patient.patientId, 'Observation', H1));
    expect(Object.keys(head).sort()).toEqual(['category', 'createdAt', 'custodian', 'hash', 'patientId', 'recordId', 'txId', 'updatedAt', 'version']);
  });

  it('refuses an unknown label, two confidentiality codes, a duplicate and a missing author, and changes nothing', async () => {
    for (const bad of [
      { ...META, securityLabels: ['PSYCH'] },
      { ...META, securityLabels: ['R', 'V'] },
      { ...META, securityLabels: ['PSY', 'PSY'] },
      { securityLabels: [], dataDate: DATA_DATE },
      { ...META, extra: 1 },
      { ...META, dataDate: '2024-03-01' },
      { ...META, documentClasses: [{ system: 'loinc', code: 'x' }] },
    ]) {
      await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0, (c, ctx) => c.AnchorRecordWithMetadata(ctx, 'bad-1', fx.patient.patientId, 'Observation', H1, json(bad))), 'INVALID_ARGUMENT');
    }
  });

  it('refuses metadata on a category that is not a record resource type', async () => {
    await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0, (c, ctx) => c.AnchorRecordWithMetadata(ctx, 'bad-1', fx.patient.patientId, 'Bundle', H1, json(META))), 'INVALID_ARGUMENT');
  });

  it("refuses new metadata from an org that is not the record's custodian", async () => {
    await fx.call(fx.o.userA, T0, (c, ctx) => c.AnchorRecordWithMetadata(ctx, 'psy-1', fx.patient.patientId, 'Observation', H1, json(META)));
    await expectRejected(fx.ledger, () => fx.call(fx.o.userC, T0 + 1, (c, ctx) => c.AmendRecordWithMetadata(ctx, 'psy-1', H2, '1', json(META))), 'NOT_CUSTODIAN');
  });

  it('reads a label-less anchor as an ordinary record: no labels, data date = anchoring time, author = custodian', () => {
    const anchor: RecordAnchor = { recordId: 'obs-1', patientId: fx.patient.patientId, custodian: 'HospitalAMSP', category: 'Observation', hash: H1, version: 2, createdAt: T0, updatedAt: T0 + 5, txId: 'tx' };
    expect(recordMetadataOf(anchor)).toEqual({ recordId: 'obs-1', resourceType: 'Observation', securityLabels: [], dataDate: T0, authorOrg: 'HospitalAMSP', custodian: 'HospitalAMSP', documentClasses: [] });
    expect(recordMetadataOf({ ...anchor, metadata: parseRecordLabels(META) }).securityLabels).toEqual(['PSY', 'R']);
  });

  it('parses metadata strictly and names the field', () => {
    expectCodeSync(() => parseRecordLabels({ ...META, securityLabels: 'PSY' }), 'INVALID_ARGUMENT');
    expect(() => parseRecordLabels({ ...META, authorOrg: 'not an msp' })).toThrow(/metadata.authorOrg/);
  });
});
