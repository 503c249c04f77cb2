/**
 * Per-chain pseudonyms on the real network (chaincode/CONSENT.md "Per-chain pseudonyms"): a
 * patient registered on chain-a and on chain-b with a key per chain has two ids that nothing
 * on either ledger ties together (every block of both channels is read, as a member reads its
 * own ledger), and proves they are one person when they choose with a pseudonym link, which
 * HospitalC (a member of both chains) verifies against both ledgers. The link never reaches a
 * ledger; a link signed with a key rotated away since, one naming an unregistered id, one
 * changed after signing and one shown to the wrong org are refused with their codes.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FabricClient } from '../../gateway/src/fabric/client';
import { buildGateway, cli, ok, testEnv } from './cli-harness';

interface Key {
  patientId: string;
  keyId: string;
  keyFile: string;
  publicKey: string;
}

/** Whether any block of `channel`, as `org`'s peer stores it, contains any of `needles` (UTF-8). */
async function ledgerHolds(org: string, channel: string, needles: string[]): Promise<boolean> {
  const client = FabricClient.open(org);
  try {
    const blocks = await client.blocks(channel);
    expect(blocks.length).toBeGreaterThan(0);
    return blocks.some((b) => {
      const bytes = Buffer.from(b);
      return needles.some((n) => bytes.includes(Buffer.from(n, 'utf8')));
    });
  } finally {
    client.close();
  }
}

function traces(k: Key): string[] {
  return [k.patientId, k.keyId, k.publicKey];
}

describe('per-chain pseudonyms and pseudonym links', () => {
  const env = testEnv();
  const files = mkdtempSync(join(tmpdir(), 'medbridge-link-it-'));
  let onA: Key;
  let onB: Key;

  beforeAll(async () => {
    buildGateway();
    onA = await ok<Key>(env, 'patient', 'keygen');
    onB = await ok<Key>(env, 'patient', 'keygen');
    await ok(env, 'patient', 'register', '--org', 'HospitalA', '--key', onA.keyFile, '--public');
    await ok(env, 'patient', 'register', '--org', 'HospitalB', '--key', onB.keyFile, '--public');
  });

  it('leaves nothing on either ledger that matches the id on one chain to the id on the other', async () => {
    expect(onA.patientId).not.toBe(onB.patientId);
    // Each ledger holds its own registration (so the scan does see patient data)...
    expect(await ledgerHolds('HospitalC', 'chain-a', traces(onA))).toBe(true);
    expect(await ledgerHolds('HospitalC', 'chain-b', traces(onB))).toBe(true);
    // ...and nothing of the other chain's id: its id, key id or public key.
    expect(await ledgerHolds('HospitalC', 'chain-a', traces(onB))).toBe(false);
    expect(await ledgerHolds('HospitalC', 'chain-b', traces(onA))).toBe(false);
  });

  it('links the two ids with a patient-signed link that HospitalC verifies on both ledgers, and writes it nowhere', async () => {
    const file = join(files, 'link.json');
    await ok(env, 'patient', 'link', '--as', `chain-a=${onA.keyFile}`, '--as', `chain-b=${onB.keyFile}`, '--audience', 'HospitalCMSP', '--days', '2', '--out', file);
    const signed = JSON.parse(readFileSync(file, 'utf8'));
    expect(signed.link.pseudonyms.map((p: { patientId: string }) => p.patientId)).toEqual([onA.patientId, onB.patientId]);

    const v = await ok(env, 'patient', 'verify-link', file, '--org', 'HospitalC');
    expect(v).toMatchObject({ linked: true, audience: 'HospitalCMSP', checkedOn: ['chain-a', 'chain-b'] });
    expect(v.pseudonyms).toEqual([
      { chainId: 'chain-a', patientId: onA.patientId, ledger: 'current-key' },
      { chainId: 'chain-b', patientId: onB.patientId, ledger: 'current-key' },
    ]);
    // Verifying read the ledgers and wrote nothing to them: the other id is still absent from each.
    expect(await ledgerHolds('HospitalC', 'chain-a', traces(onB))).toBe(false);
    expect(await ledgerHolds('HospitalC', 'chain-b', traces(onA))).toBe(false);
  });

  it('refuses a link shown to another org than the one it names', async () => {
    const file = join(files, 'link-for-c.json');
    await ok(env, 'patient', 'link', '--as', `chain-a=${onA.keyFile}`, '--as', `chain-b=${onB.keyFile}`, '--audience', 'HospitalCMSP', '--out', file);
    const r = await cli(env, 'patient', 'verify-link', file, '--org', 'HospitalA');
    expect(r.code).toBe(3);
    expect(r.json.error.code).toBe('INVALID_ARGUMENT');
    expect(r.json.error.message).toMatch(/meant for HospitalCMSP/);
  });

  it('checks a link without an audience on the chains the verifier is a member of only', async () => {
    const file = join(files, 'link-open.json');
    await ok(env, 'patient', 'link', '--as', `chain-a=${onA.keyFile}`, '--as', `chain-b=${onB.keyFile}`, '--out', file);
    const v = await ok(env, 'patient', 'verify-link', file, '--org', 'HospitalA');
    expect(v).toMatchObject({ linked: true, audience: null, checkedOn: ['chain-a'] });
    expect(v.pseudonyms.map((p: { ledger: string }) => p.ledger)).toEqual(['current-key', 'not-checked']);
  });

  it('refuses a link changed after signing', async () => {
    const file = join(files, 'link-tampered.json');
    await ok(env, 'patient', 'link', '--as', `chain-a=${onA.keyFile}`, '--as', `chain-b=${onB.keyFile}`, '--audience', 'HospitalCMSP', '--out', file);
    const signed = JSON.parse(readFileSync(file, 'utf8'));
    signed.link.expiresAt += 86_400_000;
    writeFileSync(file, JSON.stringify(signed));
    const r = await cli(env, 'patient', 'verify-link', file, '--org', 'HospitalC');
    expect(r.code).toBe(3);
    expect(r.json.error.code).toBe('PATIENT_SIGNATURE_INVALID');
  });

  it('refuses a link naming an id that is not registered on its chain', async () => {
    const stranger = await ok<Key>(env, 'patient', 'keygen');
    const file = join(files, 'link-unregistered.json');
    await ok(env, 'patient', 'link', '--as', `chain-a=${onA.keyFile}`, '--as', `chain-b=${stranger.keyFile}`, '--audience', 'HospitalCMSP', '--out', file);
    const r = await cli(env, 'patient', 'verify-link', file, '--org', 'HospitalC');
    expect(r.code).toBe(3);
    expect(r.json.error.code).toBe('PATIENT_NOT_REGISTERED');
  });

  it('refuses a link signed with a key the patient rotated away since, and accepts one signed with the new key', async () => {
    const before = join(files, 'link-before-rotation.json');
    await ok(env, 'patient', 'link', '--as', `chain-a=${onA.keyFile}`, '--as', `chain-b=${onB.keyFile}`, '--audience', 'HospitalCMSP', '--out', before);
    const next = await ok<Key>(env, 'patient', 'keygen');
    await ok(env, 'patient', 'rotate-key', '--org', 'HospitalA', '--key', onA.keyFile, '--new-key', next.keyFile);

    const r = await cli(env, 'patient', 'verify-link', before, '--org', 'HospitalC');
    expect(r.code).toBe(3);
    expect(r.json.error.code).toBe('PATIENT_KEY_RETIRED');

    const after = join(files, 'link-after-rotation.json');
    await ok(env, 'patient', 'link', '--as', `chain-a=${next.keyFile},${onA.patientId}`, '--as', `chain-b=${onB.keyFile}`, '--audience', 'HospitalCMSP', '--out', after);
    const v = await ok(env, 'patient', 'verify-link', after, '--org', 'HospitalC');
    expect(v.pseudonyms).toEqual([
      { chainId: 'chain-a', patientId: onA.patientId, ledger: 'current-key' },
      { chainId: 'chain-b', patientId: onB.patientId, ledger: 'current-key' },
    ]);
  });
});
