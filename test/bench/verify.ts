/**
 * Verification in chaincode, measured on the code the chaincode runs: `parseProof` then
 * `verifyProof` (protocol/proof.ts, protocol/verify.ts) with the RemoteView the CrossChain
 * contract builds (stored list read back from its stored text as state/crosschain-repo.ts reads it, registered roots, trust policy through
 * rules/trust-policy.ts linkAcceptor), side by side in one run with the raw signature
 * verifications the same proof needs:
 *   - fabric-endorsement v2: N ECDSA P-256 verifications (payload || endorser, the peer's key);
 *   - bls12381-aggregate v1 (pure JS, @noble/curves): one aggregate verification (decode the
 *     signature, sum the N already decoded keys, hash to G2, pairing check);
 *   - bls12381-aggregate v2 (the backend in use: native blst, else pure JS): the same with the
 *     library's own calls (blst: Signature.fromBytes with the subgroup check,
 *     aggregatePublicKeys, verify): this is `bls.aggregateVerifyMs`;
 *   - epoch link (both lists carrying BLS keys, every node with a new key, link and packet
 *     signed in scheme 1): 2N ECDSA verifications (N for the link, N for the packet);
 *   - epoch link, aggregate (the same lists, link and packet signed in bls12381-aggregate v2):
 *     two raw v2 aggregate verifications. The new list's proofs of possession are checked once
 *     per key content (warm: remembered; cold: every one checked).
 * Every timed run verifies a different proof (its own packet, endorsements, proposals), so
 * nothing that belongs to one proof can be remembered from a previous run. `warm` is a peer
 * that has verified proofs of this list before (the steady state: the caches keyed by list and
 * certificate content are filled); `cold` empties those caches before each run (first proof
 * after a chaincode start). Medians.
 *
 * Runs: a peer verifies proof after proof, so the figures are the steady state: BENCH_WARMUP
 * proofs first (V8 has compiled the path, as on a peer that has been receiving), then the timed
 * ones: 1001 at 4 signers, 251 at 16, 101 at 64 (about 4,000 signatures' worth each, so that the
 * median of the fast small proofs is not at the mercy of a few disturbed runs), or BENCH_RUNS at
 * every size. Version 1 of the aggregate scheme signs in pure JS (about 30 ms per signer per
 * proof to make), so its series has its own, smaller counts (BENCH_V1_RUNS, BENCH_V1_WARMUP).
 *
 *   make bench-verify            (BENCH_SIGNERS=4,16,64 BENCH_RUNS=<runs at every size> BENCH_WARMUP=200 BENCH_V1_RUNS=15 BENCH_V1_WARMUP=30 BENCH_COLD_RUNS=5 to vary)
 *
 * Writes test/bench/results/verify.json; test/bench/summary.ts folds it into summary.json.
 * 256 signers is above the protocol's limit (64 signatures per proof, 64 nodes per list): it is
 * shown only as the refusal a proof that size gets.
 */
import { createHash, sign as ecdsaSign, verify as ecdsaVerify, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { msp, peer } from '@hyperledger/fabric-protos';
import * as blst from '@chainsafe/blst';
import { bls12_381 } from '@noble/curves/bls12-381';
import {
  aggregatePartials,
  BLS_SCHEME_VERSION_2,
  blsBackendInfo,
  type BlsKeyPair,
  canonicalize,
  certFingerprint,
  clearKeyCache,
  clearVerificationCaches,
  decodePublicKey,
  decodeSignature,
  deriveKeyPair,
  epochLinkMessage,
  fromBase64,
  type G1Point,
  hashMessage,
  linkAcceptor,
  listHash,
  MedbridgeError,
  type Packet,
  packetMessage,
  parseNodeList,
  parseProof,
  provePossession,
  remoteListFromStored,
  type RemoteView,
  signBinding,
  signMessage,
  signMessageAs,
  toBase64,
  type VerificationNodeList,
  verifyProof,
} from '@medbridge/chaincode';
import { proposalBytes, proposalHash, queryOf } from '../fixtures/endorsement';
import { createOrg, type Issued, type TestOrg } from '../fixtures/pki';
import { sourceCommit } from '../../gateway/src/source-commit';

const SIGNERS = (process.env.BENCH_SIGNERS ?? '4,16,64,256').split(',').map(Number);
/** Only these series (comma-separated names as in verify.json), e.g. to profile one with --cpu-prof. */
const ONLY = process.env.BENCH_ONLY?.split(',');
const wanted = (series: string): boolean => ONLY === undefined || ONLY.includes(series);
const skipped: Series = { realMs: NaN, realColdMs: null, rawMs: NaN, ratio: NaN, proofBytes: 0 };
/** Timed proofs per series at `signers` (odd, so that the median is one run). */
function runsAt(signers: number): number {
  if (process.env.BENCH_RUNS !== undefined) return Number(process.env.BENCH_RUNS);
  return Math.max(101, Math.round(4004 / signers) | 1);
}
const WARMUP = Number(process.env.BENCH_WARMUP ?? 200);
const V1_RUNS = Number(process.env.BENCH_V1_RUNS ?? 15);
const V1_WARMUP = Number(process.env.BENCH_V1_WARMUP ?? 30);
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 5);
const ORGS = 4;
const CHAIN = 'chain-a';
const FABRIC = 'fabric-endorsement';
const BLS = 'bls12381-aggregate';
/** Run from the repository root, or set BENCH_OUT. */
const OUT = process.env.BENCH_OUT ?? join(process.cwd(), 'test', 'bench', 'results');

interface BenchNode {
  nodeId: string;
  mspId: string;
  identity: Issued;
  keys: BlsKeyPair;
  /** The key this node moves to in the next epoch (epoch-link bench). */
  nextKeys: BlsKeyPair;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function timed(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

function clearCaches(): void {
  clearVerificationCaches();
  clearKeyCache();
}

const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;

function keysOf(label: string): BlsKeyPair {
  return deriveKeyPair(createHash('sha256').update(`medbridge-bench/${label}`).digest());
}

function blsEntry(node: BenchNode, keys: BlsKeyPair) {
  const publicKey = toBase64(keys.publicKey);
  const binding = signBinding(
    { chainId: CHAIN, nodeId: node.nodeId, mspId: node.mspId, certFingerprint: certFingerprint(node.identity.certPem), blsPublicKey: publicKey },
    node.identity.privateKey,
  );
  return { publicKey, pop: toBase64(provePossession(keys.secretKey)), binding };
}

function listOf(orgs: TestOrg[], nodes: BenchNode[], epoch: number, keysFor: (n: BenchNode) => BlsKeyPair): unknown {
  return {
    chainId: CHAIN,
    epoch,
    rule: { kind: 'all' },
    subgroups: orgs.map((o) => {
      const members = nodes.filter((n) => n.mspId === o.mspId);
      return {
        id: `sg-${o.mspId}`,
        mspId: o.mspId,
        threshold: members.length,
        nodes: members.map((n) => ({ nodeId: n.nodeId, mspId: n.mspId, certPem: n.identity.certPem, bls: blsEntry(n, keysFor(n)) })),
      };
    }),
  };
}

function packet(sequence: number): Packet {
  return {
    sourceChain: CHAIN,
    destChain: 'chain-b',
    routeId: 'bench',
    sequence,
    type: 'ping',
    payload: { note: `bench ${sequence}` },
    timeoutMs: 2_000_000_000_000,
    sentAtMs: 1_700_000_000_000,
    sender: 'HospitalAMSP',
  };
}

/**
 * Every node's endorsement of the one query that returns `message`, as the relay collects them:
 * one signed proposal sent to every peer, each peer answering the same response payload
 * (built as a peer builds it, test/fixtures/endorsement.ts) signed with its own key.
 */
function endorseAll(signers: readonly BenchNode[], message: Buffer) {
  const query = queryOf(message);
  const proposal = proposalBytes(CHAIN, 'medbridge', query.fn, query.args);
  const response = new peer.Response();
  response.setStatus(200);
  response.setPayload(message);
  const ccid = new peer.ChaincodeID();
  ccid.setName('medbridge');
  const action = new peer.ChaincodeAction();
  action.setResponse(response);
  action.setChaincodeId(ccid);
  const prp = new peer.ProposalResponsePayload();
  prp.setProposalHash(proposalHash(proposal));
  prp.setExtension$(action.serializeBinary());
  const payload = Buffer.from(prp.serializeBinary());
  return signers.map((s) => {
    const id = new msp.SerializedIdentity();
    id.setMspid(s.mspId);
    id.setIdBytes(Buffer.from(s.identity.certPem));
    const endorser = Buffer.from(id.serializeBinary());
    return {
      endorser: endorser.toString('base64'),
      signature: ecdsaSign('sha256', Buffer.concat([payload, endorser]), s.identity.privateKey).toString('base64'),
      payload: payload.toString('base64'),
      proposal: proposal.toString('base64'),
    };
  });
}

/** What the raw ECDSA verifications of one scheme-1 signature set need, decoded beforehand. */
interface RawEndorsement {
  data: Buffer;
  signature: Buffer;
  key: KeyObject;
}

/** One KeyObject per node for all its proofs, as the chaincode keeps it (the strictest baseline). */
const rawKeys = new Map<string, KeyObject>();

function rawEndorsements(sigs: { endorser: string; signature: string; payload: string }[]): RawEndorsement[] {
  return sigs.map((s) => {
    const endorser = Buffer.from(s.endorser, 'base64');
    let key = rawKeys.get(s.endorser);
    if (key === undefined) {
      const id = msp.SerializedIdentity.deserializeBinary(endorser);
      key = new X509Certificate(Buffer.from(id.getIdBytes_asU8()).toString('utf8')).publicKey;
      rawKeys.set(s.endorser, key);
    }
    return { data: Buffer.concat([Buffer.from(s.payload, 'base64'), endorser]), signature: Buffer.from(s.signature, 'base64'), key };
  });
}

function verifyRawEcdsa(set: readonly RawEndorsement[]): void {
  for (const e of set) if (!ecdsaVerify('sha256', e.data, e.key, e.signature)) throw new Error('raw ECDSA verification failed');
}

const V2_DST = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';
const V2_PREFIX = Buffer.from('MEDBRIDGE-BLS12381-AGG-V2:');

/** Version 2 on blst: decode with the subgroup check, sum the already decoded keys, one verify. */
function verifyRawNativeV2(signature: string, keys: readonly blst.PublicKey[], message: Buffer): void {
  const sig = blst.Signature.fromBytes(Buffer.from(signature, 'base64'), true, true);
  const pk = blst.aggregatePublicKeys(keys as blst.PublicKey[], false);
  if (!blst.verify(Buffer.concat([V2_PREFIX, message]), pk, sig, false, false)) throw new Error('raw v2 aggregate verification failed');
}

/** Version 2 in pure JS (the fallback where blst does not load). */
function verifyRawJsV2(signature: string, keys: readonly G1Point[], message: Buffer): void {
  const sig = decodeSignature(fromBase64(signature, 'BLS_SIGNATURE_INVALID', 'aggregate'), 'aggregate');
  const aggregate = keys.reduce((sum, k) => sum.add(k), bls12_381.G1.Point.ZERO);
  const h = bls12_381.longSignatures.hash(Buffer.concat([V2_PREFIX, message]), V2_DST);
  if (!bls12_381.longSignatures.verify(sig, h, aggregate)) throw new Error('raw v2 aggregate verification failed');
}

/** One pairing-based aggregate verification over already decoded keys. */
function verifyRawAggregate(signature: string, keys: readonly G1Point[], message: Buffer): void {
  const sig = decodeSignature(fromBase64(signature, 'BLS_SIGNATURE_INVALID', 'aggregate'), 'aggregate');
  const aggregate = keys.reduce((sum, k) => sum.add(k), bls12_381.G1.Point.ZERO);
  if (!bls12_381.longSignatures.verify(sig, hashMessage(message), aggregate)) throw new Error('raw aggregate verification failed');
}

interface Series {
  realMs: number;
  realColdMs: number | null;
  rawMs: number;
  ratio: number;
  proofBytes: number;
}

/**
 * Times `real` (the chaincode path: it returns the call to time, set up untimed with a fresh copy of
 * the stored list as each transaction reads it) and `raw` on the same proof, alternating, one proof
 * per run; then the cold path (caches emptied) on the same proofs.
 */
function measure(runs: number, warmup: number, proofBytes: number, real: (i: number) => () => void, raw: (i: number) => void): Series {
  // The peer has verified proofs of this list before (and its JIT has seen this code).
  for (let w = 0; w < warmup; w++) {
    real(0)();
    raw(0);
  }
  const reals: number[] = [];
  const raws: number[] = [];
  for (let i = 1; i <= runs; i++) {
    const call = real(i);
    if (i % 2) {
      reals.push(timed(call));
      raws.push(timed(() => raw(i)));
    } else {
      raws.push(timed(() => raw(i)));
      reals.push(timed(call));
    }
  }
  const colds: number[] = [];
  for (let i = 1; i <= Math.min(runs, COLD_RUNS); i++) {
    const call = real(i);
    clearCaches();
    colds.push(timed(call));
  }
  const realMs = median(reals);
  const rawMs = median(raws);
  return { realMs: round(realMs), realColdMs: colds.length === 0 ? null : round(median(colds)), rawMs: round(rawMs), ratio: round(realMs / rawMs, 2), proofBytes };
}

function refusalOf(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof MedbridgeError) return e.code;
    throw e;
  }
  throw new Error('expected a refusal');
}


async function main(): Promise<void> {
  const started = Date.now();
  // Other work on the machine slows the allocating JavaScript of the real path more than OpenSSL's
  // tight loops: the results say how loaded the machine was when the runs began and ended.
  const loadAtStart = round(loadavg()[0] ?? 0, 2);
  const measured = sourceCommit();
  const maxN = Math.max(...SIGNERS.filter((n) => n <= 64));
  const orgs: TestOrg[] = [];
  for (let i = 0; i < ORGS; i++) orgs.push(await createOrg(`Hospital${String.fromCharCode(65 + i)}MSP`));
  const nodes: BenchNode[] = [];
  for (let i = 0; i < maxN; i++) {
    const org = orgs[i % ORGS]!;
    const nodeId = `peer${String(Math.floor(i / ORGS)).padStart(3, '0')}.${org.mspId.toLowerCase()}`;
    nodes.push({ nodeId, mspId: org.mspId, identity: await org.peer(nodeId), keys: keysOf(`${nodeId}/1`), nextKeys: keysOf(`${nodeId}/2`) });
  }
  const trust = { chainId: CHAIN, orgs: orgs.map((o) => ({ mspId: o.mspId, rootCerts: [o.ca.certPem], intermediateCerts: [], revokedSerials: [] })) };
  const atMs = Date.now();
  const record = { chainId: CHAIN, epoch: 1, epochAdoptedAtMs: atMs - 60_000, updatedAtMs: atMs - 60_000 };

  const rows: Record<string, unknown>[] = [];
  const runsBySigners: Record<string, number> = {};
  for (const n of SIGNERS) {
    if (n > 64) {
      const sig = { endorser: 'AA==', signature: 'AA==', payload: 'AA==', proposal: 'AA==' };
      const text = JSON.stringify({ scheme: FABRIC, version: 2, epoch: 1, links: [], signatures: Array.from({ length: n }, () => sig) });
      const refused = refusalOf(() => parseProof(text));
      rows.push({ signers: n, refused });
      console.log(JSON.stringify({ signers: n, refused }));
      continue;
    }
    const signers = nodes.slice(0, n);
    const RUNS = runsAt(n);
    runsBySigners[String(n)] = RUNS;
    clearCaches();
    // The list as the destination stores it (normalised, canonical JSON) and reads it back per transaction.
    const list1 = parseNodeList(listOf(orgs, signers, 1, (s) => s.keys));
    const stored1 = canonicalize(list1);
    const ref1 = { epoch: 1, listHash: listHash(list1) };
    const view = (): RemoteView => ({
      trust,
      list: remoteListFromStored(stored1),
      schemes: [FABRIC, BLS],
      excluded: [],
      acceptLink: linkAcceptor(record),
    });
    const decodedKeys = signers.map((s) => decodePublicKey(s.keys.publicKey));

    // Scheme 1: one proof per run, every listed node endorses its own packet commitment.
    const s1 = Array.from({ length: wanted(FABRIC) ? RUNS + 1 : 0 }, (_, i) => {
      const p = packet(1000 * n + i);
      const sigs = endorseAll(signers, packetMessage(p, ref1));
      return { p, text: JSON.stringify({ scheme: FABRIC, version: 2, epoch: 1, links: [], signatures: sigs }), raw: rawEndorsements(sigs) };
    });
    const scheme1 = !wanted(FABRIC) ? skipped : measure(
      RUNS,
      WARMUP,
      Buffer.byteLength(s1[0]!.text),
      (i) => {
        const { p, text } = s1[i]!;
        const remote = view();
        return () => verifyProof(remote, parseProof(text), atMs, (ref) => packetMessage(p, ref));
      },
      (i) => verifyRawEcdsa(s1[i]!.raw),
    );

    // Aggregate scheme: one proof per run, aggregated by the relay's own code (timed: relay side).
    const aggregateTimes: number[] = [];
    const s2 = Array.from({ length: wanted(BLS) ? V1_RUNS + 1 : 0 }, (_, i) => {
      const p = packet(2000 * n + i);
      const message = packetMessage(p, ref1);
      const partials = signers.map((s) => ({ nodeId: s.nodeId, signature: toBase64(signMessage(s.keys.secretKey, message)) }));
      let agg!: ReturnType<typeof aggregatePartials>;
      aggregateTimes.push(timed(() => (agg = aggregatePartials(list1, message, partials))));
      const text = JSON.stringify({ scheme: BLS, version: 1, epoch: 1, links: [], signatures: agg.proof.signatures });
      return { p, message, text, signature: agg.proof.signatures.signature };
    });
    const aggregate = !wanted(BLS) ? skipped : measure(
      V1_RUNS,
      V1_WARMUP,
      Buffer.byteLength(s2[0]!.text),
      (i) => {
        const { p, text } = s2[i]!;
        const remote = view();
        return () => verifyProof(remote, parseProof(text), atMs, (ref) => packetMessage(p, ref));
      },
      (i) => verifyRawAggregate(s2[i]!.signature, decodedKeys, s2[i]!.message),
    );

    // Version 2, on the backend in use (native where blst loads), aggregated by the relay's code.
    const native = blsBackendInfo().backend === 'native';
    const nativeKeys = signers.map((s) => blst.PublicKey.fromBytes(s.keys.publicKey, true));
    const rawV2 = (signature: string, message: Buffer): void =>
      native ? verifyRawNativeV2(signature, nativeKeys, message) : verifyRawJsV2(signature, decodedKeys, message);
    const aggregateV2Times: number[] = [];
    const signV2 = (list: VerificationNodeList, keysOfNode: (s: BenchNode) => BlsKeyPair, message: Buffer) => {
      const partials = signers.map((s) => ({ nodeId: s.nodeId, signature: toBase64(signMessageAs(BLS_SCHEME_VERSION_2, keysOfNode(s).secretKey, message)) }));
      let agg!: ReturnType<typeof aggregatePartials>;
      aggregateV2Times.push(timed(() => (agg = aggregatePartials(list, message, partials, BLS_SCHEME_VERSION_2))));
      return agg.proof.signatures;
    };
    const s2v2 = Array.from({ length: wanted(`${BLS}-v2`) ? RUNS + 1 : 0 }, (_, i) => {
      const p = packet(4000 * n + i);
      const message = packetMessage(p, ref1);
      const signatures = signV2(list1, (s) => s.keys, message);
      return { p, message, text: JSON.stringify({ scheme: BLS, version: 2, epoch: 1, links: [], signatures }), signature: signatures.signature };
    });
    const aggregateV2 = !wanted(`${BLS}-v2`) ? skipped : measure(
      RUNS,
      WARMUP,
      Buffer.byteLength(s2v2[0]!.text),
      (i) => {
        const { p, text } = s2v2[i]!;
        const remote = view();
        return () => verifyProof(remote, parseProof(text), atMs, (ref) => packetMessage(p, ref));
      },
      (i) => rawV2(s2v2[i]!.signature, s2v2[i]!.message),
    );
    // The pure-JS fallback of version 2, raw only (what a peer without the native module pays).
    const jsV2 = median(s2v2.slice(1, 6).map((x) => timed(() => verifyRawJsV2(x.signature, decodedKeys, x.message))));

    // Epoch link 1 -> 2: every node moves to a new BLS key (each with its proof of possession),
    // the link signed by list 1 and the packet by list 2, both in scheme 1.
    const list2 = parseNodeList(listOf(orgs, signers, 2, (s) => s.nextKeys));
    const ref2 = { epoch: 2, listHash: listHash(list2) };
    const linkMsg = epochLinkMessage({ chainId: CHAIN, fromEpoch: 1, toEpoch: 2, fromListHash: ref1.listHash, newListHash: ref2.listHash });
    const sl = Array.from({ length: wanted('epoch-link') ? RUNS + 1 : 0 }, (_, i) => {
      const p = packet(3000 * n + i);
      const linkSigs = endorseAll(signers, linkMsg);
      const sigs = endorseAll(signers, packetMessage(p, ref2));
      const link = { chainId: CHAIN, fromEpoch: 1, toEpoch: 2, newList: list2, proof: { scheme: FABRIC, version: 2, signatures: linkSigs } };
      const text = JSON.stringify({ scheme: FABRIC, version: 2, epoch: 2, links: [link], signatures: sigs });
      return { p, text, raw: [...rawEndorsements(linkSigs), ...rawEndorsements(sigs)] };
    });
    const epochLink = !wanted('epoch-link') ? skipped : measure(
      RUNS,
      WARMUP,
      Buffer.byteLength(sl[0]!.text),
      (i) => {
        const { p, text } = sl[i]!;
        const remote = view();
        return () => {
          const v = verifyProof(remote, parseProof(text), atMs, (ref) => packetMessage(p, ref));
          if (v.list.epoch !== 2) throw new Error('the link was not followed');
        };
      },
      (i) => verifyRawEcdsa(sl[i]!.raw),
    );

    // The same link and a packet, both signed in bls12381-aggregate v2 (list 1 signs the link, list 2 the packet).
    const nextNativeKeys = signers.map((s) => blst.PublicKey.fromBytes(s.nextKeys.publicKey, true));
    const nextDecoded = signers.map((s) => decodePublicKey(s.nextKeys.publicKey));
    const rawV2Next = (signature: string, message: Buffer): void =>
      native ? verifyRawNativeV2(signature, nextNativeKeys, message) : verifyRawJsV2(signature, nextDecoded, message);
    const linkV2 = signV2(list1, (s) => s.keys, linkMsg);
    const slv2 = Array.from({ length: wanted('epoch-link-aggregate') ? RUNS + 1 : 0 }, (_, i) => {
      const p = packet(5000 * n + i);
      const message = packetMessage(p, ref2);
      const signatures = signV2(list2, (s) => s.nextKeys, message);
      const link = { chainId: CHAIN, fromEpoch: 1, toEpoch: 2, newList: list2, proof: { scheme: BLS, version: 2, signatures: linkV2 } };
      return { p, message, text: JSON.stringify({ scheme: BLS, version: 2, epoch: 2, links: [link], signatures }), signature: signatures.signature };
    });
    const epochLinkAggregate = !wanted('epoch-link-aggregate') ? skipped : measure(
      RUNS,
      WARMUP,
      Buffer.byteLength(slv2[0]!.text),
      (i) => {
        const { p, text } = slv2[i]!;
        const remote = view();
        return () => {
          const v = verifyProof(remote, parseProof(text), atMs, (ref) => packetMessage(p, ref));
          if (v.list.epoch !== 2) throw new Error('the link was not followed');
        };
      },
      (i) => {
        rawV2(linkV2.signature, linkMsg);
        rawV2Next(slv2[i]!.signature, slv2[i]!.message);
      },
    );

    const row = {
      signers: n,
      [FABRIC]: scheme1,
      [BLS]: { ...aggregate, relayAggregateMs: round(median(aggregateTimes)) },
      [`${BLS}-v2`]: { ...aggregateV2, relayAggregateMs: round(median(aggregateV2Times)), jsRawMs: round(jsV2) },
      'epoch-link': epochLink,
      'epoch-link-aggregate': epochLinkAggregate,
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }

  const result = {
    benchmark: 'verify',
    date: new Date(started).toISOString(),
    commit: measured,
    durationS: round((Date.now() - started) / 1000, 1),
    runs: runsBySigners,
    warmup: WARMUP,
    v1Runs: V1_RUNS,
    v1Warmup: V1_WARMUP,
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      loadAverage1m: round(loadavg()[0] ?? 0, 2),
      loadAverage1mAtStart: loadAtStart,
    },
    library: {
      bls: { v1: '@noble/curves (pure JS)', v2: blsBackendInfo().backend === 'native' ? '@chainsafe/blst (native blst)' : '@noble/curves (pure JS fallback)' },
      ecdsa: 'node:crypto (OpenSSL)',
    },
    blsBackend: blsBackendInfo(),
    rows,
  };
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'verify.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`verify: wrote ${join(OUT, 'verify.json')}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
