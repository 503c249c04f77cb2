/**
 * Offline signing (gateway/CLI.md "Offline signing"): envelopes built and signed without any
 * network, by PatientSigner and by the CLI's --sign-only, and `submit` choosing the transaction
 * from the envelope's kind.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyPatientMessage, type PatientMessageKind } from '../../../chaincode/src/protocol/patient-messages';
import { main } from '../../../gateway/src/cli/main';
import type { Chaincode } from '../../../gateway/src/fabric/contracts';
import { ConsentService } from '../../../gateway/src/services/consent-service';
import { generatePatientKey } from '../../../gateway/src/services/patient-keys';
import { PatientSigner } from '../../../gateway/src/services/patient-signer';
import { expectCode } from '../support/codes';

const CHAIN = 'chain-a';
const T = Date.UTC(2026, 5, 1);

describe('offline signing', () => {
  const patient = generatePatientKey();
  const guardian = generatePatientKey();
  const next = generatePatientKey();
  const signer = new PatientSigner(CHAIN, () => T);
  const envelopes = {
    'consent.grant': () => signer.grant(patient, patient.patientId, { grantee: 'HospitalBMSP', categories: ['Observation'], purposes: ['TREAT'], days: 30 }),
    'consent.grant-policy': () =>
      signer.policyGrant(patient, patient.patientId, { format: 'medbridge/consent-policy/v2', decision: 'permit', period: { start: T, end: T + 30 * 86_400_000 }, provisions: [{ securityLabels: ['PSY'] }] }),
    'consent.revoke': () => signer.revocation(patient, patient.patientId, `cs_${'a'.repeat(64)}`),
    'guardian.authorise': () => signer.delegation(patient, patient.patientId, guardian, 90),
    'guardian.revoke': () => signer.guardianRevocation(patient, patient.patientId, guardian.keyId),
    'access-log.read': () => signer.accessLogRead(patient, patient.patientId),
    'patient.rotate-key': () => signer.keyRotation(patient, patient.patientId, next),
    'record.erase': () => signer.erasure(patient, patient.patientId, 'rec-1'),
    'records.read': () => signer.recordsRead(patient, patient.patientId),
  } satisfies Record<PatientMessageKind, () => unknown>;

  it.each(Object.entries(envelopes))('signs a %s bound to the chain, with a fresh nonce, that the chaincode verifies', (kind, make) => {
    const a = make();
    const b = make();
    const v = verifyPatientMessage(JSON.parse(JSON.stringify(a)), { channel: CHAIN, kinds: [kind as PatientMessageKind] });
    expect(v.message).toMatchObject({ kind, channel: CHAIN, patientId: patient.patientId, signer: patient.keyId, issuedAt: T });
    expect(a.message.nonce).not.toBe(b.message.nonce);
  });

  describe('submit', () => {
    const calls: string[] = [];
    const ok = (name: string) => async () => {
      calls.push(name);
      return { txId: `tx-${name}`, blockNumber: 1n, result: { ok: name } };
    };
    /** Whether the stand-in ledger says this org registered the patient privately. */
    let heldPrivately = false;
    const fake = {
      channel: CHAIN,
      consent: {
        grantConsent: ok('GrantConsent'),
        revokeConsent: ok('RevokeConsent'),
        authoriseGuardian: ok('AuthoriseGuardian'),
        revokeGuardian: ok('RevokeGuardian'),
        rotatePatientKey: ok('RotatePatientKey'),
        authoriseGuardianPrivately: ok('AuthoriseGuardianPrivately'),
        revokeGuardianPrivately: ok('RevokeGuardianPrivately'),
        rotatePatientKeyPrivately: ok('RotatePatientKeyPrivately'),
        getPatient: async (patientId: string) => ({ patientId, ...(heldPrivately ? { heldPrivately: true } : {}) }),
        listAccessLogSigned: async () => {
          calls.push('ListAccessLogSigned');
          return { items: [], bookmark: '' };
        },
      },
    } as unknown as Chaincode;
    const service = new ConsentService(fake);

    beforeEach(() => {
      calls.length = 0;
      heldPrivately = false;
    });

    it.each([
      ['guardian.authorise', 'AuthoriseGuardianPrivately'],
      ['guardian.revoke', 'RevokeGuardianPrivately'],
      ['patient.rotate-key', 'RotatePatientKeyPrivately'],
    ] as const)('submits a %s envelope of a patient this org registered privately with %s', async (kind, transaction) => {
      heldPrivately = true;
      await service.submit(JSON.parse(JSON.stringify(envelopes[kind]())));
      expect(calls).toEqual([transaction]);
    });

    it.each([
      ['consent.grant', 'GrantConsent'],
      ['consent.grant-policy', 'GrantConsent'],
      ['consent.revoke', 'RevokeConsent'],
      ['guardian.authorise', 'AuthoriseGuardian'],
      ['guardian.revoke', 'RevokeGuardian'],
      ['patient.rotate-key', 'RotatePatientKey'],
      ['access-log.read', 'ListAccessLogSigned'],
    ] as const)('submits a %s envelope with %s', async (kind, transaction) => {
      const res = await service.submit(JSON.parse(JSON.stringify(envelopes[kind]())));
      expect(calls).toEqual([transaction]);
      expect(res.kind).toBe(kind);
      if (kind === 'consent.grant' || kind === 'consent.grant-policy') expect(res.consentId).toMatch(/^cs_[0-9a-f]{64}$/);
    });

    it("refuses a record.erase envelope (USAGE): it goes to the record's custodian with its store, never alone", async () => {
      await expect(service.submit(JSON.parse(JSON.stringify(envelopes['record.erase']())))).rejects.toMatchObject({ name: 'ClientError', code: 'USAGE' });
      expect(calls).toEqual([]);
    });

    it('refuses an envelope that is not a signed patient message before any call (INVALID_ARGUMENT)', async () => {
      await expectCode(service.submit({ message: { kind: 'consent.grant' }, publicKey: 'x', signature: 'y' }), 'INVALID_ARGUMENT');
      await expectCode(service.submit({ ...envelopes['consent.grant'](), extra: 1 }), 'INVALID_ARGUMENT');
      expect(calls).toEqual([]);
    });
  });

  describe('medbridge ... --sign-only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'medbridge-sign-only-'));
    const keyFile = join(dir, 'patient.pem');
    writeFileSync(keyFile, patient.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), { mode: 0o600 });
    const nextFile = join(dir, 'next.pem');
    writeFileSync(nextFile, next.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), { mode: 0o600 });

    // No --org: no connection profile is read and no peer is contacted.
    const run = (...args: string[]) => main(['node', 'medbridge', '--channel', CHAIN, ...args]);

    it('writes a signed grant to a file without any org or network', async () => {
      const out = join(dir, 'grant.json');
      expect(await run('consent', 'grant', '--key', keyFile, '--grantee', 'HospitalBMSP', '--categories', 'Observation', '--public', '--sign-only', out)).toBe(0);
      const envelope = JSON.parse(readFileSync(out, 'utf8')) as unknown;
      const message = verifyPatientMessage(envelope, { channel: CHAIN, kinds: ['consent.grant'] }).message;
      expect([message.terms.grantee, message.keeper]).toEqual(['HospitalBMSP', undefined]);
      const kept = join(dir, 'kept.json');
      expect(await run('consent', 'grant', '--key', keyFile, '--grantee', 'HospitalCMSP', '--categories', 'Observation', '--keeper', 'HospitalAMSP', '--sign-only', kept)).toBe(0);
      expect(verifyPatientMessage(JSON.parse(readFileSync(kept, 'utf8')) as unknown, { channel: CHAIN, kinds: ['consent.grant'] }).message.keeper).toBe('HospitalAMSP');
    });

    it('makes the signer choose private (--keeper) or public offline, where the chain cannot say who is on it', async () => {
      for (const extra of [[], ['--keeper', 'HospitalAMSP', '--public']]) {
        const out = join(dir, `unplaced-${extra.length}.json`);
        const code = await run('consent', 'grant', '--key', keyFile, '--grantee', 'HospitalCMSP', '--categories', 'Observation', ...extra, '--sign-only', out);
        process.exitCode = undefined;
        expect(code).toBe(2);
        expect(() => readFileSync(out)).toThrow();
      }
    });

    it('writes a key rotation signed by both keys', async () => {
      const out = join(dir, 'rotation.json');
      expect(await run('patient', 'rotate-key', '--key', keyFile, '--new-key', nextFile, '--sign-only', out)).toBe(0);
      const envelope = JSON.parse(readFileSync(out, 'utf8')) as unknown;
      expect(verifyPatientMessage(envelope, { channel: CHAIN, kinds: ['patient.rotate-key'] }).message.newPublicKey).toBe(next.publicKey);
    });

    it('refuses --share with --sign-only (a packet needs the network): usage error, nothing written', async () => {
      const out = join(dir, 'shared.json');
      const code = await run('consent', 'grant', '--key', keyFile, '--grantee', 'HospitalBMSP', '--categories', 'Observation', '--share', 'chain-b', '--sign-only', out);
      process.exitCode = undefined;
      expect(code).toBe(2);
      expect(() => readFileSync(out)).toThrow();
    });
  });
});
