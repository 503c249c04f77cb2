/**
 * The signer service over mutual TLS, and the relay's BLS proof collection through it:
 * only clients with a certificate of the accepted CA are served; the relay drops (and logs with
 * the node id) a partial signature that does not verify and aggregates the rest.
 */
import { request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { verifyBlsAggregate, toBase64 } from '../../../chaincode/src/protocol/bls';
import { parseNodeList, type VerificationNodeList } from '../../../chaincode/src/protocol/node-list';
import { BlsSigner } from '../../../gateway/src/signer/bls-signer';
import type { CommitmentSource } from '../../../gateway/src/signer/commitment-source';
import { startSignerServer } from '../../../gateway/src/signer/server';
import type { CrossChainClient, StatementQuery } from '../../../gateway/src/fabric/contracts';
import { buildPacketProof, collectAggregate, requestPartial, signerCount, type SignerEndpoint, type SourceChain } from '../../../gateway/src/proofs';
import { createOrg, type Issued, type TestOrg } from '../../fixtures/pki';
import { blsList, createBlsChain, messageFor, packet, testKeys, type BlsTestChain } from './support';

let chain: BlsTestChain;
let list: VerificationNodeList;
let message: Buffer;
let tlsCa: TestOrg;
let serverCert: Issued;
let relayCert: Issued;
let strangerCert: Issued;
const servers: Server[] = [];
const endpoints: SignerEndpoint[] = [];
let peerReads = 0;

const source: CommitmentSource = {
  packetMessage: async () => {
    peerReads += 1;
    return message;
  },
  ackMessage: async () => Promise.reject(new Error('not used')),
  epochLinkMessage: async () => Promise.reject(new Error('not used')),
};

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  chain = await createBlsChain('chain-a', ['HospitalAMSP', 'HospitalCMSP'], 2);
  list = parseNodeList(blsList(chain, 1));
  message = messageFor(packet(), list);
  tlsCa = await createOrg('HospitalAMSP-TLS');
  serverCert = await tlsCa.peer('localhost');
  relayCert = await tlsCa.client('relay');
  strangerCert = await (await createOrg('Elsewhere-TLS')).client('relay');
  const tls = { cert: serverCert.certPem, key: serverCert.keyPem, clientCa: tlsCa.ca.certPem };
  for (const node of chain.nodes.flat()) {
    // peer1 of the first org holds a key that is not the one registered in the list: its partials never verify.
    const keys = node === chain.nodes[0]![1] ? testKeys('not-the-registered-key') : node.keys;
    const signer = new BlsSigner(
      { chainId: chain.chainId, nodeId: node.nodeId, mspId: node.mspId, secretKey: toBase64(keys.secretKey), publicKey: toBase64(keys.publicKey) },
      source,
    );
    const port = await listen(startSignerServer(signer, tls, 0));
    endpoints.push({
      nodeId: node.nodeId,
      url: `https://127.0.0.1:${port}`,
      tls: { ca: tlsCa.ca.certPem, cert: relayCert.certPem, key: relayCert.keyPem, serverName: 'localhost' },
    });
  }
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

/** A raw HTTPS POST with the given client certificate (or none). */
function post(endpoint: SignerEndpoint, client?: Issued): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL('/v1/sign/packet', endpoint.url),
      { method: 'POST', ca: endpoint.tls.ca, servername: 'localhost', ...(client ? { cert: client.certPem, key: client.keyPem } : {}) },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ routeId: 'consent', sequence: 7 }));
  });
}

describe('BLS signer service over mutual TLS', () => {
  it('serves a client whose certificate the accepted CA issued', async () => {
    const before = peerReads;
    const part = await requestPartial(endpoints[0]!, { kind: 'packet', routeId: 'consent', sequence: 7 });
    expect(part.nodeId).toBe(endpoints[0]!.nodeId);
    expect(peerReads).toBe(before + 1);
    // The raw client below is refused only for its certificate: with the relay's it is served.
    expect(await post(endpoints[0]!, relayCert)).toBe(200);
  });

  it('refuses a client without a certificate before reading anything from the peer', async () => {
    const before = peerReads;
    await expect(post(endpoints[0]!)).rejects.toThrow();
    expect(peerReads).toBe(before);
  });

  it('refuses a client whose certificate another CA issued', async () => {
    const before = peerReads;
    await expect(post(endpoints[0]!, strangerCert)).rejects.toThrow();
    expect(peerReads).toBe(before);
  });

  it('is refused by the relay when its certificate does not chain to the CA the relay trusts', async () => {
    const other = await createOrg('Impostor-TLS');
    const endpoint = { ...endpoints[0]!, tls: { ...endpoints[0]!.tls, ca: other.ca.certPem } };
    await expect(requestPartial(endpoint, { kind: 'packet', routeId: 'consent', sequence: 7 })).rejects.toThrow();
  });
});

describe('Relay: aggregate proof from signer services', () => {
  it('drops a partial signature that does not verify, logs it with the node id, and aggregates the rest', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString('utf8')), done()) }));
    const got = await collectAggregate(list, message, { kind: 'packet', routeId: 'consent', sequence: 7 }, { signers: endpoints, logger });
    const bad = chain.nodes[0]![1]!.nodeId;
    expect(got.signers).toHaveLength(3);
    expect(got.signers).not.toContain(bad);
    expect(got.failures).toEqual([{ peer: bad, error: expect.stringMatching(/^SIGNATURE_INVALID/) }]);
    expect(lines.some((l) => l.includes(bad) && l.includes('SIGNATURE_INVALID'))).toBe(true);
    const proof = { scheme: 'bls12381-aggregate', version: 1, epoch: 1, signatures: got.signatures };
    expect(verifyBlsAggregate(list, message, proof).signers.map((s) => s.nodeId)).toEqual(got.signers);
  });

  it('reports an unreachable signer by node id and still meets the thresholds with the others', async () => {
    const gone = { ...endpoints[3]!, url: 'https://127.0.0.1:1' };
    const got = await collectAggregate(list, message, { kind: 'packet', routeId: 'consent', sequence: 7 }, { signers: [endpoints[0]!, endpoints[2]!, gone] });
    expect(got.signers).toEqual([endpoints[0]!.nodeId, endpoints[2]!.nodeId]);
    expect(got.failures.map((f) => f.peer)).toEqual([gone.nodeId]);
  });

  it('fails THRESHOLD_NOT_MET when the good signatures left do not meet a subgroup threshold', async () => {
    await expect(
      collectAggregate(list, message, { kind: 'packet', routeId: 'consent', sequence: 7 }, { signers: [endpoints[1]!, endpoints[2]!] }),
    ).rejects.toMatchObject({ code: 'THRESHOLD_NOT_MET' });
  });
});

/** A source chain whose CrossChain reads are answered by `lists` (by epoch, 0 = current) and `message`; records each read. */
function sourceAnswering(lists: Record<number, VerificationNodeList>, statement: Buffer): { source: SourceChain; reads: string[] } {
  const reads: string[] = [];
  const crossChain = {
    getNodeList: async (epoch?: number) => {
      reads.push(`list ${epoch ?? 'current'}`);
      const l = lists[epoch ?? 0];
      if (!l) throw new Error(`NOT_FOUND: no list at ${epoch}`);
      return Promise.resolve({ epoch: l.epoch, listHash: '', list: l });
    },
    statement: async (q: StatementQuery) => {
      reads.push(`statement ${JSON.stringify(q)}`);
      return Promise.resolve(statement);
    },
  };
  return { source: { crossChain: crossChain as unknown as CrossChainClient, peers: [] }, reads };
}

describe('Relay: aggregate packet proof built from a source chain', () => {
  it('reads the current list and the message, aggregates the listed signers, and adds no link the verifier does not need', async () => {
    const { source, reads } = sourceAnswering({ 0: blsList(chain, 1) }, message);
    const built = await buildPacketProof(source, 'consent', 7, 1, { scheme: 'bls12381-aggregate', signers: endpoints });
    expect(reads).toEqual(['list current', 'statement {"kind":"packet","routeId":"consent","sequence":7}']);
    expect(built.proof).toMatchObject({ scheme: 'bls12381-aggregate', version: 1, epoch: 1, links: [] });
    expect(built.message.equals(message)).toBe(true);
    expect(built.failures.map((f) => f.peer)).toEqual([chain.nodes[0]![1]!.nodeId]);
    expect(verifyBlsAggregate(list, message, built.proof).signers).toHaveLength(3);
    expect(signerCount(built.proof)).toBe(3);
  });

  it('refuses, to be retried, a message of another epoch than the list, before asking any signer', async () => {
    const before = peerReads;
    const { source } = sourceAnswering({ 0: blsList(chain, 2) }, message);
    await expect(buildPacketProof(source, 'consent', 7, 2, { scheme: 'bls12381-aggregate', signers: endpoints })).rejects.toThrow(/epoch 1 while its list is at 2; retry/);
    expect(peerReads).toBe(before);
  });
});
