/**
 * Bad input at the BLS signer service (signer/server.ts), started standalone with throw-away PKI
 * and a stand-in for its own peer: malformed, oversized, slow and unauthenticated requests each
 * get a clear refusal (or a failed TLS handshake), nothing is read from the peer and nothing is
 * signed, and the service still signs a good request afterwards.
 */
import type { Server } from 'node:https';
import fc from 'fast-check';
import type { AddressInfo } from 'node:net';
import { packetMessage } from '../../../chaincode/src/protocol/commitment';
import { toBase64 } from '../../../chaincode/src/protocol/bls';
import { BlsSigner } from '../../../gateway/src/signer/bls-signer';
import type { CommitmentSource } from '../../../gateway/src/signer/commitment-source';
import { startSignerServer } from '../../../gateway/src/signer/server';
import { createOrg, type Issued, type TestOrg } from '../../fixtures/pki';
import { packet, testKeys } from '../bls/support';
import { bigHead, exchange, handshake, post, silentTcp, slowBody, slowHead, TEST_LIMITS, type Target } from './support';

const SIGN = '/v1/sign/packet';
let server: Server;
let tlsCa: TestOrg;
let stranger: Issued;
let good: Target;
let peerReads = 0;

const source: CommitmentSource = {
  packetMessage: (routeId, sequence) => {
    peerReads += 1;
    return Promise.resolve(packetMessage(packet({ routeId, sequence }), { epoch: 1, listHash: 'ab'.repeat(32) }));
  },
  ackMessage: () => Promise.reject(new Error('not used')),
  epochLinkMessage: () => Promise.reject(new Error('not used')),
};

beforeAll(async () => {
  tlsCa = await createOrg('HospitalAMSP-TLS');
  const serverCert = await tlsCa.peer('localhost');
  const relay = await tlsCa.client('relay');
  stranger = await (await createOrg('Elsewhere-TLS')).client('relay');
  const keys = testKeys('edge-signer');
  const signer = new BlsSigner(
    { chainId: 'chain-a', nodeId: 'peer0.hospitalamsp.chain-a', mspId: 'HospitalAMSP', secretKey: toBase64(keys.secretKey), publicKey: toBase64(keys.publicKey) },
    source,
  );
  server = startSignerServer(signer, { cert: serverCert.certPem, key: serverCert.keyPem, clientCa: tlsCa.ca.certPem }, 0, '127.0.0.1', TEST_LIMITS);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  good = { port: (server.address() as AddressInfo).port, tls: { ca: tlsCa.ca.certPem, cert: relay.certPem, key: relay.keyPem } };
});

afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
);

async function expectStillSigning(): Promise<void> {
  const before = peerReads;
  const res = await exchange(good, [post(SIGN, JSON.stringify({ routeId: 'consent', sequence: 7 }))]);
  expect(res.status).toBe(200);
  expect((res.json as { nodeId?: string }).nodeId).toBe('peer0.hospitalamsp.chain-a');
  expect(peerReads).toBe(before + 1);
}

describe('BLS signer service: bad input', () => {
  it('refuses bad JSON, wrong types, bytes to sign and unknown routes with a code, without reading from its peer', async () => {
    const cases: Array<[string, string, number, string]> = [
      [SIGN, '{"routeId":', 400, 'INVALID_ARGUMENT'],
      [SIGN, '{"routeId": 7, "sequence": "7"}', 400, 'INVALID_ARGUMENT'],
      [SIGN, '{"routeId": "consent", "sequence": 0}', 400, 'INVALID_ARGUMENT'],
      [SIGN, '{"routeId": "consent", "sequence": 7, "message": "AAAA"}', 400, 'INVALID_ARGUMENT'],
      [SIGN, '{"routeId": "consent", "sequence": 7, "version": 3}', 400, 'INVALID_ARGUMENT'],
      [SIGN, 'null', 400, 'INVALID_ARGUMENT'],
      [SIGN, '[1, 2]', 400, 'INVALID_ARGUMENT'],
      ['/v1/sign/bytes', '{"message": "AAAA"}', 404, 'NOT_FOUND'],
    ];
    for (const [path, body, status, code] of cases) {
      const res = await exchange(good, [post(path, body)]);
      expect([body, res.status, res.json?.code]).toEqual([body, status, code]);
      expect(typeof res.json?.error).toBe('string');
    }
    const put = await exchange(good, [`PUT ${SIGN} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`]);
    expect([put.status, put.json?.code]).toEqual([405, 'INVALID_ARGUMENT']);
    const garbage = await exchange(good, ['\u0000 not HTTP at all\r\n\r\n']);
    expect([garbage.status, garbage.json?.code]).toEqual([400, 'INVALID_ARGUMENT']);
    expect(peerReads).toBe(0);
    await expectStillSigning();
  });

  it('answers any JSON value that does not name a packet 400 INVALID_ARGUMENT, without reading from its peer', async () => {
    const before = peerReads;
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 3 }), async (value) => {
        fc.pre(!(typeof value === 'object' && value !== null && 'routeId' in value && 'sequence' in value));
        const res = await exchange(good, [post(SIGN, JSON.stringify(value))]);
        expect([res.status, res.json?.code]).toEqual([400, 'INVALID_ARGUMENT']);
      }),
      { numRuns: 40, seed: 18 },
    );
    expect(peerReads).toBe(before);
    await expectStillSigning();
  });

  it('refuses a body over 4 KiB with 413 and a head over 8 KiB with 431', async () => {
    const before = peerReads;
    const big = await exchange(good, [post(SIGN, JSON.stringify({ routeId: 'r'.repeat(5_000), sequence: 1 }))]);
    expect([big.status, big.json?.code]).toEqual([413, 'INVALID_ARGUMENT']);
    const head = await exchange(good, [bigHead(SIGN, 10_000)]);
    expect([head.status, head.json?.code]).toEqual([431, 'INVALID_ARGUMENT']);
    expect(peerReads).toBe(before);
    await expectStillSigning();
  });

  it('closes a slow client: a head sent byte by byte (408), a body that never ends (408), a TLS handshake never started', async () => {
    const before = peerReads;
    const [head, body, silent] = await Promise.all([slowHead(good, 50, 10_000), slowBody(good, SIGN, 100, 10_000), silentTcp(good.port, 10_000)]);
    expect([head.status, head.json?.code, body.status, body.json?.code]).toEqual([408, 'TIMEOUT', 408, 'TIMEOUT']);
    expect(Math.max(head.closedAfterMs, body.closedAfterMs, silent)).toBeLessThan(4_000);
    expect(peerReads).toBe(before);
    await expectStillSigning();
  });

  it('refuses a client without a certificate, or with one another CA issued, at the TLS handshake', async () => {
    const before = peerReads;
    const none = await handshake({ port: good.port, tls: { ca: tlsCa.ca.certPem } });
    const foreign = await handshake({ port: good.port, tls: { ca: tlsCa.ca.certPem, cert: stranger.certPem, key: stranger.keyPem } });
    expect([none, foreign]).toEqual([expect.stringMatching(/CERTIFICATE_REQUIRED|ECONNRESET|closed/), expect.stringMatching(/UNKNOWN_CA|ECONNRESET|closed/)]);
    expect(peerReads).toBe(before);
    await expectStillSigning();
  });
});
