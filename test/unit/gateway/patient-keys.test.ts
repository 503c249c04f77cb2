import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { patientIdOf } from '../../../chaincode/src/protocol/patient-messages';
import { REPO_ROOT } from '../../../gateway/src/config';
import type { ClientError } from '../../../gateway/src/errors';
import { generatePatientKey, loadKey, saveNewKey } from '../../../gateway/src/services/patient-keys';

describe('patient key files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mb-keys-'));

  it('writes a new key readable by its owner only and loads it back by patientId', () => {
    const key = generatePatientKey();
    const file = saveNewKey(key, { dir: join(dir, 'keys') });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'keys')).mode & 0o777).toBe(0o700);
    const loaded = loadKey(key.patientId, join(dir, 'keys'));
    expect(loaded.patientId).toBe(patientIdOf(key.publicKey));
    expect(loaded.tooOpen).toBe(false);
  });

  it('never overwrites an existing key file', () => {
    const key = generatePatientKey();
    const file = saveNewKey(key, { dir });
    expect(() => saveNewKey(key, { dir, file })).toThrow(/already exists/);
  });

  it('refuses to write a private key inside the repository', () => {
    expect(() => saveNewKey(generatePatientKey(), { dir: join(REPO_ROOT, '.runtime', 'keys') })).toThrow(/inside the repository/);
  });

  it('says how to create a key when none is found', () => {
    let hint: string | undefined;
    try {
      loadKey('pt_missing', dir);
    } catch (e) {
      hint = (e as ClientError).hint;
    }
    expect(hint).toMatch(/patient keygen/);
  });
});
