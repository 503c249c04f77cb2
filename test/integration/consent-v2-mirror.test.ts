/**
 * A consent v2 across chains on the real network (net1: chain-a = HospitalA + HospitalC,
 * chain-b = HospitalB + HospitalC). The patient grants on chain-a the nested consent "permit
 * all, deny PSY, except for Dr X's care team at HospitalB"; HospitalA (custodian) anchors a
 * general and a PSY-labelled record; the grant crosses to chain-b through the relay (its
 * consent.grant packet with the v2 payload, proven by chain-a's peers, re-verified on chain-b).
 * chain-b's peers then decide HospitalB's access with the home chain's evaluator: the general
 * record allowed, the PSY record denied, and allowed for the care team, each with the provision
 * path the custodian's log records on chain-a for the same request. The revocation crosses the
 * same way, and then every request is denied on chain-b.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConsentPolicy, RecordAnchor, RecordLabels, RemoteAccessDecision, RemoteAccessRequest, Requester } from '@medbridge/chaincode';
import { FabricClient } from '../../gateway/src/fabric/client';
import { Chaincode, orAbsent } from '../../gateway/src/fabric/contracts';
import { CrossChainAdmin } from '../../gateway/src/services/crosschain-admin';
import { ConsentService } from '../../gateway/src/services/consent-service';
import { generatePatientKey } from '../../gateway/src/services/patient-keys';
import { waitFor } from './support/polling';
import { startTestRelay, type TestRelay } from './support/test-relay';

const run = Date.now().toString(36);
const ROUTE = `route-consent-v2-${run}`;
const DAY = 86_400_000;
const WAIT_MS = 240_000;
const HASH = '5'.repeat(64);

const org = (mspId: string): Requester => ({ org: mspId, role: null, practitioner: null, careTeam: null, policy: null });
const drX: Requester = { ...org('HospitalBMSP'), role: 'clinician', careTeam: 'ct-dr-x' };

describe('consent v2 crosses from chain-a to chain-b', () => {
  const dir = mkdtempSync(join(tmpdir(), 'medbridge-consent-v2-mirror-'));
  const patient = generatePatientKey();
  const generalRecord = `obs-x-${run}`;
  const psyRecord = `psy-x-${run}`;
  let hospitalA: FabricClient;
  let hospitalB: FabricClient;
  let a: Chaincode;
  let b: Chaincode;
  let consents: ConsentService;
  let testRelay: TestRelay | undefined;
  let consentId: string;
  const facts = new Map<string, RemoteAccessRequest['record']>();

  beforeAll(async () => {
    const admin = new CrossChainAdmin();
    try {
      await admin.ensureRoute('chain-a', 'chain-b', ROUTE, ['consent.grant', 'consent.revoke']);
    } finally {
      admin.close();
    }
    hospitalA = FabricClient.open('HospitalA');
    hospitalB = FabricClient.open('HospitalB');
    a = new Chaincode(hospitalA, 'chain-a');
    b = new Chaincode(hospitalB, 'chain-b');
    consents = new ConsentService(a);
    // The relay reads chain-a's events from here on: the route's packets all come later.
    const { blockNumber } = await consents.registerPatient(patient);
    testRelay = startTestRelay([ROUTE], dir, { startBlock: blockNumber });
  });

  afterAll(async () => {
    await testRelay?.stop();
    hospitalA?.close();
    hospitalB?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** HospitalB's question on chain-b: the record as its custodian describes it. */
  const ask = (requester: Requester, recordId: string): Promise<RemoteAccessDecision> =>
    b.consent.checkRemoteAccess('chain-a', consentId, { requester, purpose: 'TREAT', record: facts.get(recordId)! });

  /** Waits until chain-b holds the mirror at `version` (the relay delivered the packet). */
  const mirrored = (version: number) =>
    waitFor(
      `chain-b mirrors ${consentId} at version ${version} (relay: ${String(testRelay?.relay.status().waitingFor)})`,
      async () => {
        const d = await orAbsent(ask(org('HospitalBMSP'), generalRecord), ['NOT_FOUND']);
        return d !== undefined && d.version >= version ? d : undefined;
      },
      WAIT_MS,
      250,
    );

  it('anchors a general and a PSY-labelled record on chain-a and grants the nested consent there', async () => {
    const dataDate = Date.UTC(2025, 5, 1);
    for (const [recordId, securityLabels] of [
      [generalRecord, []],
      [psyRecord, ['PSY', 'R']],
    ] as const) {
      const metadata = { securityLabels: [...securityLabels], dataDate, authorOrg: 'HospitalAMSP', documentClasses: [] };
      const { result } = await a.consent.anchorRecord({ recordId, patientId: patient.patientId, category: 'Observation', hash: HASH, metadata });
      // The anchor names the private metadata by its hash; the custodian reads it back from its own collection.
      expect(result.metadata).toBeUndefined();
      expect((await a.consent.getRecordLabels(recordId)).metadata).toEqual(metadata);
      facts.set(recordId, recordFacts(result, metadata));
    }
    const now = Date.now();
    const policy: ConsentPolicy = {
      format: 'medbridge/consent-policy/v2',
      decision: 'permit',
      period: { start: now - 60_000, end: now + 30 * DAY },
      provisions: [{ securityLabels: ['PSY'], provisions: [{ actors: [{ participation: 'recipient', org: 'HospitalBMSP', careTeam: 'ct-dr-x' }] }] }],
    };
    const granted = await consents.grantPolicy(patient, patient.patientId, policy);
    consentId = granted.consentId;
    expect(granted.result).toMatchObject({ grantees: ['*'], effectiveStatus: 'active' });
  });

  it('sends the grant with its v2 payload; the relay carries it and chain-b mirrors the signed policy', async () => {
    const { result: sent } = await consents.share(consentId, 'chain-b', 'consent.grant', ROUTE);
    expect(sent.packet).toMatchObject({ type: 'consent.grant', payload: { format: 'medbridge/consent-packet/v2', consentId } });
    await mirrored(1);
    const listed = await b.consent.listRemoteConsents('HospitalBMSP');
    expect(listed.items.find((m) => m.consentId === consentId)).toMatchObject({ sourceChain: 'chain-a', grantees: ['HospitalBMSP', 'HospitalCMSP'], effectiveStatus: 'active' });
  });

  it("decides on chain-b: general record allowed [], PSY denied [0], PSY for Dr X's care team allowed [0, 0], as chain-a logs them", async () => {
    expect(await ask(org('HospitalBMSP'), generalRecord)).toMatchObject({ allowed: true, reason: 'consent', consentId, provisionPath: [], status: 'active' });
    expect(await ask(org('HospitalBMSP'), psyRecord)).toMatchObject({ allowed: false, reason: 'consent-denied', consentId, provisionPath: [0] });
    expect(await ask(drX, psyRecord)).toMatchObject({ allowed: true, reason: 'consent', consentId, provisionPath: [0, 0] });
    // The custodian's decision on the home chain, logged, gives the same path for the same request.
    const logged = await a.consent.logAccessAs(drX, psyRecord, 'TREAT', `rq-${run}-1`);
    expect(logged.result).toMatchObject({ allowed: true, consentId, provisionPath: [0, 0] });
    const refused = await a.consent.logAccess('HospitalBMSP', psyRecord, 'TREAT', `rq-${run}-2`);
    expect(refused.result).toMatchObject({ allowed: false, consentId, provisionPath: [0] });
  });

  it('carries the revocation through the relay; then every request is denied on chain-b', async () => {
    await consents.revoke(patient, patient.patientId, consentId);
    const { result: sent } = await consents.share(consentId, 'chain-b', 'consent.revoke', ROUTE);
    expect(sent.packet).toMatchObject({ type: 'consent.revoke', payload: { format: 'medbridge/consent-packet/v2', status: 'revoked', version: 2 } });
    await mirrored(2);
    for (const [requester, recordId] of [
      [org('HospitalBMSP'), generalRecord],
      [org('HospitalBMSP'), psyRecord],
      [drX, psyRecord],
    ] as const) {
      expect(await ask(requester, recordId)).toMatchObject({ allowed: false, reason: 'consent-revoked', status: 'revoked', version: 2 });
    }
  });
});

/** What the custodian states about an anchored record, as a remote decision takes it. */
function recordFacts(anchor: RecordAnchor, m: RecordLabels): RemoteAccessRequest['record'] {
  return {
    recordId: anchor.recordId,
    resourceType: anchor.category,
    securityLabels: m.securityLabels,
    dataDate: m.dataDate,
    authorOrg: m.authorOrg,
    custodian: anchor.custodian,
    documentClasses: m.documentClasses,
  };
}
