/**
 * A connection profile's optional `host` (hosts as data, gateway/CLI.md): the org's services
 * listen on its address and publish URLs with its DNS name; without it they stay on loopback.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenAddress, readProfile, serviceUrl, type Profile } from '../../../gateway/src/fabric/profile';

const dir = mkdtempSync(join(tmpdir(), 'medbridge-profile-host-'));

function profile(extra: Record<string, unknown>): Profile {
  const file = join(dir, `p-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({
    network: 'net1', org: 'HospitalA', mspId: 'HospitalAMSP', channels: ['chain-a'],
    peers: [{ name: 'peer0.hospitala.net1.medbridge', endpoint: 'peer0.hospitala.net1.medbridge:7051', tlsRootCert: 'ca.crt' }],
    identities: { user: { certificate: 'cert.pem', privateKey: 'key.pem' } },
    ...extra,
  }));
  return readProfile(file);
}

describe('profile host', () => {
  it('listens on the host address and publishes the host name when the profile places the org', () => {
    const p = profile({ host: { address: '10.77.0.11', name: 'hospitala.net1.medbridge' } });
    expect(listenAddress(p)).toBe('10.77.0.11');
    expect(serviceUrl(p, listenAddress(p), 7443)).toBe('https://hospitala.net1.medbridge:7443');
  });

  it('lets --host choose the listen address while the URL keeps the host name (0.0.0.0 in a container)', () => {
    const p = profile({ host: { address: '10.77.0.11', name: 'hospitala.net1.medbridge' } });
    expect(listenAddress(p, '0.0.0.0')).toBe('0.0.0.0');
    expect(serviceUrl(p, '0.0.0.0', 7443)).toBe('https://hospitala.net1.medbridge:7443');
  });

  it('stays on loopback without a host', () => {
    const p = profile({});
    expect(listenAddress(p)).toBe('127.0.0.1');
    expect(serviceUrl(p, '127.0.0.1', 7443)).toBe('https://127.0.0.1:7443');
  });

  it('refuses a host name that is not a DNS name', () => {
    expect(() => profile({ host: { address: '10.77.0.11', name: 'not a name' } })).toThrow(/host\.name: name must be a DNS name/);
  });
});
