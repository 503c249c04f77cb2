/**
 * The grantee's fetcher (gateway/src/records/record-fetcher.ts) refuses before it dials anyone
 * when it cannot say whom to ask: an org without a connection profile is NOT_FOUND, a custodian
 * whose record exchange is not known is UNAVAILABLE with what to start or configure.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FabricClient } from '../../../gateway/src/fabric/client';
import { ProfileError, type Profile } from '../../../gateway/src/fabric/profile';
import { RecordFetcher } from '../../../gateway/src/records/record-fetcher';
import { createOrg } from '../../fixtures/pki';

describe('record fetcher', () => {
  const requester = { org: 'HospitalB', mspId: 'HospitalBMSP', channels: ['chain-b'], network: 'embedded' } as unknown as Profile;
  const client = { profile: requester, mspId: 'HospitalBMSP' } as unknown as FabricClient;
  let custodian: Profile;

  beforeAll(async () => {
    const org = await createOrg('HospitalAMSP');
    const dir = mkdtempSync(join(tmpdir(), 'medbridge-fetcher-'));
    writeFileSync(join(dir, 'ca.pem'), org.ca.certPem);
    custodian = { org: 'HospitalA', mspId: 'HospitalAMSP', channels: ['chain-a'], network: 'embedded', tls: { caCert: join(dir, 'ca.pem'), clientCert: '', clientKey: '' } } as unknown as Profile;
  });

  it('refuses an org the network has no connection profile for with NOT_FOUND', async () => {
    const fetcher = new RecordFetcher(client, {
      exchangeUrl: () => 'https://127.0.0.1:1',
      profileOf: (org) => {
        throw new ProfileError(`no connection profile for org "${org}"`);
      },
    });
    await expect(fetcher.fetch({ from: 'HospitalZ', recordId: 'obs-1', purpose: 'TREAT' })).rejects.toMatchObject({ code: 'NOT_FOUND', kind: 'rejected' });
  });

  it("refuses a custodian whose record exchange is not known with UNAVAILABLE and says how to make it known", async () => {
    const asked: string[] = [];
    const fetcher = new RecordFetcher(client, {
      exchangeUrl: (p) => {
        asked.push(p.mspId);
        return undefined;
      },
      profileOf: () => custodian,
    });
    const refusal = fetcher.fetch({ from: 'HospitalA', recordId: 'obs-1', purpose: 'TREAT' });
    await expect(refusal).rejects.toMatchObject({ code: 'UNAVAILABLE', kind: 'unavailable', hint: expect.stringContaining('recordExchanges.HospitalAMSP') });
    expect(asked).toEqual(['HospitalAMSP']);
  });
});
