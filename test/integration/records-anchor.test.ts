/**
 * Anchor attestation on the real network: HospitalB is not a member of chain-a, so it cannot
 * read a chain-a record's anchor itself. The custodian (HospitalA) sends, with the record,
 * the endorsements of GetRecordAnchorAttestation by chain-a's peers; HospitalB checks them
 * against chain-a's list as registered on chain-b (its own chain), then the salted hash.
 * A forged or below-threshold attestation is refused with the protocol's code.
 */
import { msp } from '@hyperledger/fabric-protos';
import type { EndorsementSignature } from '@medbridge/chaincode';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FabricClient } from '../../gateway/src/fabric/client';
import { sourceChain } from '../../gateway/src/proofs';
import { collectAnchorAttestation, readTrustedChains, verifyAnchorAttestation, type AnchorAttestation } from '../../gateway/src/records/anchor-attestation';
import { CrossChainAdmin } from '../../gateway/src/services/crosschain-admin';
import { buildGateway, cli, ok, startDaemon, stop, testEnv, type Running } from './cli-harness';
import { codeOf } from './support/chain-ops';

const mspOf = (s: EndorsementSignature) => msp.SerializedIdentity.deserializeBinary(Buffer.from(s.endorser, 'base64')).getMspid();

describe('record anchor attestation across chains', () => {
  const env = testEnv();
  const files = mkdtempSync(join(tmpdir(), 'medbridge-anchor-it-'));
  const recordId = `rec-att-${Date.now().toString(36)}`;
  const fhir = JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'LDL' } });
  let server: Running<{ url: string }> | undefined;
  let anchorHash: string;
  let hospitalA: FabricClient;
  let hospitalB: FabricClient;

  beforeAll(async () => {
    buildGateway();
    // chain-b registers chain-a (its roots and node list) through its own governance.
    const admin = new CrossChainAdmin();
    try {
      await admin.ensureRoute('chain-a', 'chain-b', `anchor-it-${Date.now().toString(36)}`, ['ping']);
    } finally {
      admin.close();
    }
    hospitalA = FabricClient.open('HospitalA');
    hospitalB = FabricClient.open('HospitalB');
    writeFileSync(join(files, 'obs.json'), fhir);
    const patientId = (await ok<{ patientId: string }>(env, 'patient', 'keygen')).patientId;
    await ok(env, 'patient', 'register', '--org', 'HospitalA', '--key', patientId, '--public');
    const put = await ok<{ hash: string }>(env, 'records', 'put', '--org', 'HospitalA', '--patient', patientId, '--category', 'Observation', '--file', join(files, 'obs.json'), '--record-id', recordId);
    anchorHash = put.hash;
    await ok(env, 'consent', 'grant', '--org', 'HospitalA', '--key', patientId, '--grantee', 'HospitalBMSP', '--records', recordId, '--purpose', 'TREAT', '--days', '1');
    server = await startDaemon(env, 'records', 'serve', '--org', 'HospitalA', '--port', '0');
  });

  afterAll(async () => {
    if (server) await stop(server.child);
    hospitalA?.close();
    hospitalB?.close();
  });

  it('lets HospitalB verify a chain-a record through chain-a\'s attestation, checked against the list chain-b registered', async () => {
    const r = await cli(env, 'records', 'fetch', recordId, '--org', 'HospitalB', '--from', 'HospitalA', '--purpose', 'TREAT');
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ recordId, version: 1, verified: true, hash: anchorHash, anchorSource: 'attestation', attestedBy: 'chain-a', content: fhir });
  });

  describe('the requester\'s check of a real attestation', () => {
    let attestation: AnchorAttestation;
    let trusted: Awaited<ReturnType<typeof readTrustedChains>>;
    const expected = () => ({ recordId, version: 1, hash: anchorHash });

    beforeAll(async () => {
      trusted = await readTrustedChains(hospitalB, ['chain-b'], ['chain-a']);
      // Links from the epoch chain-b knows, as the custodian builds them for a fetch.
      const known = trusted[0]?.list.epoch;
      attestation = await collectAnchorAttestation(sourceChain(hospitalA, 'chain-a'), recordId, 1, known);
    });

    it('is endorsed by chain-a\'s peers of both orgs and verifies against chain-b\'s registration of chain-a', () => {
      expect(attestation.anchor).toEqual({ chainId: 'chain-a', recordId, version: 1, hash: anchorHash });
      const signers = (attestation.proof.signatures as EndorsementSignature[]).map(mspOf);
      expect(new Set(signers)).toEqual(new Set(['HospitalAMSP', 'HospitalCMSP']));
      expect(trusted.map((v) => v.trust.chainId)).toEqual(['chain-a']);
      expect(verifyAnchorAttestation(attestation, trusted, expected(), Date.now()).trust.chainId).toBe('chain-a');
    });

    it('refuses a forged anchor hash with COMMITMENT_MISMATCH', async () => {
      const forged: AnchorAttestation = { ...attestation, anchor: { ...attestation.anchor, hash: 'f'.repeat(64) } };
      expect(await codeOf(() => verifyAnchorAttestation(forged, trusted, { ...expected(), hash: 'f'.repeat(64) }, Date.now()))).toBe('COMMITMENT_MISMATCH');
    });

    it('refuses an attestation without HospitalA\'s subgroup with THRESHOLD_NOT_MET', async () => {
      const onlyC = (attestation.proof.signatures as EndorsementSignature[]).filter((s) => mspOf(s) === 'HospitalCMSP');
      expect(onlyC.length).toBeGreaterThan(0);
      const below: AnchorAttestation = { ...attestation, proof: { ...attestation.proof, signatures: onlyC } };
      expect(await codeOf(() => verifyAnchorAttestation(below, trusted, expected(), Date.now()))).toBe('THRESHOLD_NOT_MET');
    });

    it('refuses content that does not hash to the attested anchor with RECORD_HASH_MISMATCH', async () => {
      expect(await codeOf(() => verifyAnchorAttestation(attestation, trusted, { ...expected(), hash: '0'.repeat(64) }, Date.now()))).toBe('RECORD_HASH_MISMATCH');
    });
  });
});
