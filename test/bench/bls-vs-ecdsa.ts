/**
 * Scheme 1 (fabric-endorsement) against scheme 2 (bls12381-aggregate) for 4, 16, 64 and 256
 * signers, in one run: proof size, verification time (median), relay aggregation time.
 *
 *   npx tsc -b chaincode && npx tsc -p test/bench/tsconfig.json && node .runtime/bench/test/bench/bls-vs-ecdsa.js
 *
 * Writes test/bench/results/bls-vs-ecdsa.json and test/bench/results/bls-vs-ecdsa.md. Scheme-1 endorsements
 * are real Fabric encodings (SerializedIdentity with a run-time peer certificate, DER ECDSA
 * signature, ProposalResponsePayload holding a ChaincodeAction whose response is the commitment),
 * built the way a peer builds them; a real peer's payload also carries its read set, so the
 * scheme-1 sizes here are a lower bound. Verification of scheme 1 is what the chaincode does per
 * signer: decode the identity, check the certificate against its CA, verify the signature, decode
 * the payload and compare the commitment. Options: BENCH_SIGNERS=4,16 BENCH_RUNS=7.
 */
import { createHash, sign, verify, X509Certificate } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { msp, peer } from '@hyperledger/fabric-protos';
import { canonicalBytes } from '@medbridge/chaincode/dist/protocol/canonical-json';
import { packetMessage } from '@medbridge/chaincode/dist/protocol/commitment';
import { listHash, type VerificationNodeList } from '@medbridge/chaincode/dist/protocol/node-list';
import type { Packet } from '@medbridge/chaincode/dist/protocol/packet';
import {
  aggregatePartials,
  certFingerprint,
  clearKeyCache,
  deriveKeyPair,
  signBinding,
  signMessage,
  toBase64,
  verifyBlsAggregate,
  type BlsKeyPair,
  type PartialSignature,
} from '@medbridge/chaincode/dist/protocol/bls';
import { createOrg, type Issued, type TestOrg } from '../fixtures/pki';

const SIGNERS = (process.env.BENCH_SIGNERS ?? '4,16,64,256').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const ORGS = 4;
/** Run from the repository root, or set BENCH_OUT. */
const OUT = process.env.BENCH_OUT ?? join(process.cwd(), 'test', 'bench', 'results');

interface Node {
  nodeId: string;
  mspId: string;
  identity: Issued;
  keys: BlsKeyPair;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function timeMs(fn: () => void, runs = RUNS, before?: () => void): number {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    before?.();
    const t = process.hrtime.bigint();
    fn();
    xs.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(xs);
}

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

function endorsement(node: Node, message: Buffer) {
  const response = new peer.Response();
  response.setStatus(200);
  response.setPayload(message);
  const ccid = new peer.ChaincodeID();
  ccid.setName('medbridge');
  ccid.setVersion('1');
  const action = new peer.ChaincodeAction();
  action.setResponse(response);
  action.setChaincodeId(ccid);
  const prp = new peer.ProposalResponsePayload();
  prp.setProposalHash(createHash('sha256').update(message).update(node.nodeId).digest());
  prp.setExtension$(action.serializeBinary());
  const payload = Buffer.from(prp.serializeBinary());
  const id = new msp.SerializedIdentity();
  id.setMspid(node.mspId);
  id.setIdBytes(Buffer.from(node.identity.certPem));
  const endorser = Buffer.from(id.serializeBinary());
  const signature = sign('sha256', Buffer.concat([payload, endorser]), node.identity.privateKey);
  return { endorser, signature, payload };
}

async function main(): Promise<void> {
  const maxN = Math.max(...SIGNERS);
  const orgs: TestOrg[] = [];
  for (let i = 0; i < ORGS; i++) orgs.push(await createOrg(`Hospital${String.fromCharCode(65 + i)}MSP`));
  const caKeys = new Map(orgs.map((o) => [o.mspId, new X509Certificate(o.ca.certPem).publicKey]));
  const nodes: Node[] = [];
  for (let i = 0; i < maxN; i++) {
    const org = orgs[i % ORGS]!;
    const nodeId = `peer${String(Math.floor(i / ORGS)).padStart(3, '0')}.${org.mspId.toLowerCase()}`;
    nodes.push({ nodeId, mspId: org.mspId, identity: await org.peer(nodeId), keys: deriveKeyPair(createHash('sha256').update(`bench/${nodeId}`).digest()) });
  }
  const packet: Packet = {
    sourceChain: 'chain-a', destChain: 'chain-b', routeId: 'consent', sequence: 1, type: 'ping',
    payload: { consentId: 'c-0001', version: 1 }, timeoutMs: 2_000_000_000_000, sentAtMs: 1_700_000_000_000, sender: 'HospitalAMSP',
  };

  const rows = [];
  for (const n of SIGNERS) {
    const signers = nodes.slice(0, n);
    const list: VerificationNodeList = {
      chainId: 'chain-a',
      epoch: 1,
      rule: { kind: 'all' },
      subgroups: orgs.map((o) => {
        const members = signers.filter((s) => s.mspId === o.mspId);
        return {
          id: `sg-${o.mspId}`, mspId: o.mspId, threshold: members.length,
          nodes: members.map((s) => {
            const publicKey = toBase64(s.keys.publicKey);
            const binding = signBinding({ chainId: 'chain-a', nodeId: s.nodeId, mspId: s.mspId, certFingerprint: certFingerprint(s.identity.certPem), blsPublicKey: publicKey }, s.identity.privateKey);
            // The PoP is checked at registration, not per proof; a placeholder keeps setup fast.
            return { nodeId: s.nodeId, mspId: s.mspId, certPem: s.identity.certPem, bls: { publicKey, pop: '', binding } } as VerificationNodeList['subgroups'][number]['nodes'][number];
          }),
        };
      }),
    };
    const message = packetMessage(packet, { epoch: 1, listHash: listHash(list) });

    // Scheme 1: every signer endorses; the proof carries each endorsement.
    const endorsements = signers.map((s) => endorsement(s, message));
    const scheme1Signatures = endorsements.map((e) => ({ endorser: e.endorser.toString('base64'), signature: e.signature.toString('base64'), payload: e.payload.toString('base64') }));
    const scheme1Bytes = canonicalBytes({ signatures: scheme1Signatures }).length;
    const scheme1Raw = endorsements.reduce((sum, e) => sum + e.endorser.length + e.signature.length + e.payload.length, 0);
    const ecdsaRawMs = timeMs(() => {
      endorsements.forEach((e, i) => {
        if (!verify('sha256', Buffer.concat([e.payload, e.endorser]), signers[i]!.identity.publicKey, e.signature)) throw new Error('ecdsa');
      });
    });
    const ecdsaFullMs = timeMs(() => {
      for (const e of endorsements) {
        const id = msp.SerializedIdentity.deserializeBinary(e.endorser);
        const cert = new X509Certificate(Buffer.from(id.getIdBytes_asU8()));
        if (!cert.verify(caKeys.get(id.getMspid())!)) throw new Error('chain');
        if (!verify('sha256', Buffer.concat([e.payload, e.endorser]), cert.publicKey, e.signature)) throw new Error('ecdsa');
        const action = peer.ChaincodeAction.deserializeBinary(peer.ProposalResponsePayload.deserializeBinary(e.payload).getExtension_asU8());
        if (!Buffer.from(action.getResponse()!.getPayload_asU8()).equals(message)) throw new Error('commitment');
      }
    });

    // Scheme 2: every signer signs; the relay aggregates; the proof carries a bitmap and one signature.
    const tSign = process.hrtime.bigint();
    const partials: PartialSignature[] = signers.map((s) => ({ nodeId: s.nodeId, signature: toBase64(signMessage(s.keys.secretKey, message)) }));
    const signOneMs = Number(process.hrtime.bigint() - tSign) / 1e6 / n;
    let aggregate = aggregatePartials(list, message, partials);
    const relayAggregateMs = timeMs(() => (aggregate = aggregatePartials(list, message, partials)), Math.min(RUNS, 5), clearKeyCache);
    const scheme2Bytes = canonicalBytes({ signatures: aggregate.proof.signatures }).length;
    const scheme2Raw = 96 + Math.ceil(n / 8);
    const blsColdMs = timeMs(() => verifyBlsAggregate(list, message, aggregate.proof), RUNS, clearKeyCache);
    verifyBlsAggregate(list, message, aggregate.proof);
    const blsWarmMs = timeMs(() => verifyBlsAggregate(list, message, aggregate.proof));
    // protocol/verify.ts checks every named node's certificate path for both schemes alike.
    const certPathsMs = timeMs(() => {
      for (const s of signers) if (!new X509Certificate(s.identity.certPem).verify(caKeys.get(s.mspId)!)) throw new Error('chain');
    });
    const row = {
      signers: n,
      scheme1: { proofJsonBytes: scheme1Bytes, rawBytes: scheme1Raw, rawBytesPerSigner: round(scheme1Raw / n, 0), verifyEcdsaOnlyMs: round(ecdsaRawMs, 3), verifyMs: round(ecdsaFullMs, 3) },
      scheme2: { proofJsonBytes: scheme2Bytes, rawBytes: scheme2Raw, verifyColdMs: round(blsColdMs), verifyWarmMs: round(blsWarmMs), certPathsMs: round(certPathsMs, 3), relayAggregateMs: round(relayAggregateMs), signOneMs: round(signOneMs) },
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }

  const os = await import('node:os');
  const machine = { node: process.version, cpus: os.cpus().length, loadAverage1m: round(os.loadavg()[0] ?? 0), library: '@noble/curves 1.9.7', runs: RUNS };
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'bls-vs-ecdsa.json'), `${JSON.stringify({ benchmark: 'bls-vs-ecdsa', machine, rows }, null, 2)}\n`);
  const md = [
    `| signers | scheme 1 proof (JSON B) | scheme 2 proof (JSON B) | scheme 1 raw B | scheme 2 raw B | N x ECDSA verify (ms) | scheme 1 verify incl. cert + payload (ms) | BLS verify, keys decoded (ms) | BLS verify, keys cached (ms) | + cert paths, either scheme (ms) | relay aggregate (ms) |`,
    `|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
    ...rows.map((r) => `| ${r.signers} | ${r.scheme1.proofJsonBytes} | ${r.scheme2.proofJsonBytes} | ${r.scheme1.rawBytes} | ${r.scheme2.rawBytes} | ${r.scheme1.verifyEcdsaOnlyMs} | ${r.scheme1.verifyMs} | ${r.scheme2.verifyColdMs} | ${r.scheme2.verifyWarmMs} | ${r.scheme2.certPathsMs} | ${r.scheme2.relayAggregateMs} |`),
    '',
    `Median of ${RUNS} runs, ${machine.cpus} CPU(s) (1-min load ${machine.loadAverage1m} at the end: the machine is shared), Node ${machine.node}, ${machine.library}. One BLS signature (hash to G2 + multiply): ${rows[0]?.scheme2.signOneMs ?? '?'} ms.`,
  ].join('\n');
  writeFileSync(join(OUT, 'bls-vs-ecdsa.md'), `${md}\n`);
  console.log(md);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
