/**
 * The BLS signer signs only what its own peer returns for the message it was asked about, and
 * only messages of a known domain naming its own chain; the relay can name a packet, never bytes.
 */
import { epochLinkMessage, packetMessage } from '../../../chaincode/src/protocol/commitment';
import { verifyMessage, fromBase64, toBase64 } from '../../../chaincode/src/protocol/bls';
import { BlsSigner, SignerRefusal } from '../../../gateway/src/signer/bls-signer';
import type { CommitmentSource } from '../../../gateway/src/signer/commitment-source';
import type { BlsKeyFile } from '../../../gateway/src/signer/key-file';
import { handle } from '../../../gateway/src/signer/server';
import { packet, testKeys } from './support';

const keys = testKeys('signer');
const keyFile: BlsKeyFile = {
  chainId: 'chain-a',
  nodeId: 'peer0.hospitalamsp.chain-a',
  mspId: 'HospitalAMSP',
  secretKey: toBase64(keys.secretKey),
  publicKey: toBase64(keys.publicKey),
};
const ref = { epoch: 1, listHash: 'ab'.repeat(32) };

function source(over: Partial<CommitmentSource> = {}): CommitmentSource {
  return {
    packetMessage: (routeId, sequence) => Promise.resolve(packetMessage(packet({ routeId, sequence }), ref)),
    ackMessage: () => Promise.reject(new Error('no ack')),
    epochLinkMessage: (toEpoch) =>
      Promise.resolve(epochLinkMessage({ chainId: 'chain-a', fromEpoch: toEpoch - 1, toEpoch, fromListHash: 'aa'.repeat(32), newListHash: 'bb'.repeat(32) })),
    ...over,
  };
}

describe('BLS signer', () => {
  it('signs the packet message its own peer returned', async () => {
    const part = await new BlsSigner(keyFile, source()).signPacket('consent', 7);
    const expected = packetMessage(packet({ routeId: 'consent', sequence: 7 }), ref);
    expect(part.nodeId).toBe(keyFile.nodeId);
    expect(verifyMessage(keys.publicKey, expected, fromBase64(part.signature, 'BLS_SIGNATURE_INVALID', 'sig'))).toBe(true);
  });

  it('refuses when the peer answers for another route or sequence than asked', async () => {
    const lying = source({ packetMessage: () => Promise.resolve(packetMessage(packet({ routeId: 'consent', sequence: 8 }), ref)) });
    await expect(new BlsSigner(keyFile, lying).signPacket('consent', 7)).rejects.toBeInstanceOf(SignerRefusal);
  });

  it('refuses a packet message of another source chain', async () => {
    const foreign = source({ packetMessage: (r, s) => Promise.resolve(packetMessage(packet({ routeId: r, sequence: s, sourceChain: 'chain-b' }), ref)) });
    await expect(new BlsSigner(keyFile, foreign).signPacket('consent', 7)).rejects.toThrow(/speaks for chain-a/);
  });

  it('refuses a message of another domain offered as a packet (an epoch link is never signed as a packet)', async () => {
    const swapped = source({ packetMessage: () => source().epochLinkMessage(2) });
    await expect(new BlsSigner(keyFile, swapped).signPacket('consent', 7)).rejects.toThrow(/medbridge\/packet\/v1/);
  });

  it('signs an epoch link of its own chain', async () => {
    const part = await new BlsSigner(keyFile, source()).signEpochLink(2);
    expect(part.signature).toHaveLength(128);
  });

  it('serves named requests only: bytes in the request are refused, peer failures are 502', async () => {
    const signer = new BlsSigner(keyFile, source());
    expect((await handle(signer, 'POST', '/v1/sign/packet', JSON.stringify({ routeId: 'consent', sequence: 7 }))).status).toBe(200);
    expect((await handle(signer, 'POST', '/v1/sign/packet', JSON.stringify({ routeId: 'consent', sequence: 7, message: 'AAAA' }))).status).toBe(400);
    expect((await handle(signer, 'POST', '/v1/sign/bytes', JSON.stringify({ message: 'AAAA' }))).status).toBe(404);
    expect((await handle(signer, 'POST', '/v1/sign/ack', JSON.stringify({ routeId: 'consent', sequence: 7 }))).status).toBe(502);
    expect((await handle(signer, 'GET', '/health', '')).json).toEqual({ ok: true, nodeId: keyFile.nodeId });
  });
});
