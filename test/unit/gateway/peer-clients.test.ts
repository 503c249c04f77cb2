import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerEndpoint } from '../../../gateway/src/fabric/profile';
import { PeerClients } from '../../../gateway/src/proofs/peer-clients';
import { createRootCa } from '../../fixtures/pki';

describe('PeerClients: one gRPC/TLS client per peer for the pool’s life', () => {
  let dir: string;
  let peers: PeerEndpoint[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medbridge-peer-clients-'));
    const ca = await createRootCa({ cn: 'tls-ca', isCa: true });
    const file = join(dir, 'ca.pem');
    writeFileSync(file, ca.certPem);
    peers = [
      { name: 'peer0', endpoint: '127.0.0.1:1', tlsRootCert: file, serverNameOverride: 'localhost' } as PeerEndpoint,
      { name: 'peer1', endpoint: '127.0.0.1:2', tlsRootCert: file, serverNameOverride: 'localhost' } as PeerEndpoint,
    ];
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('hands out the same client for a peer every time, and one per peer', () => {
    const pool = new PeerClients();
    const first = pool.get(peers[0]!);
    expect(pool.get(peers[0]!)).toBe(first);
    expect(pool.get({ ...peers[0]! })).toBe(first);
    expect(pool.get(peers[1]!)).not.toBe(first);
    expect(pool.size).toBe(2);
    pool.close();
  });

  it('closes every client on close and opens new ones after', () => {
    const pool = new PeerClients();
    const first = pool.get(peers[0]!);
    const close = jest.spyOn(first, 'close');
    pool.close();
    expect(close).toHaveBeenCalledTimes(1);
    expect(pool.size).toBe(0);
    expect(pool.get(peers[0]!)).not.toBe(first);
    pool.close();
  });
});
