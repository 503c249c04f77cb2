/**
 * Scheme bls12381-aggregate on the real network (net1): chain-a = HospitalA + HospitalC,
 * chain-b = HospitalB + HospitalC. Each org enrols a BLS key per peer and chain (key files under
 * .runtime/net1/bls/, bindings signed by the peers' own Fabric keys); one signer service per node
 * reads from its own peer and answers the relay over mutual TLS. Governance puts the keys into
 * both chains' lists and opens a route registered with the aggregate scheme only; a ping, a
 * patient's consent grant and its revocation cross chain-a -> chain-b with aggregate proofs and
 * come back acknowledged with aggregate proofs of chain-b; a scheme-1 proof is refused on that
 * route with no state change; then chain-a alone changes its list and chain-b follows through an
 * aggregate-signed epoch link; last, the relay service carries a ping on that route by itself,
 * choosing the aggregate scheme from the route's registration. Reruns on an already configured network open a new route.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildConsentGrant,
  buildConsentRevocation,
  exportPublicKey,
  type HeaderInput,
  keyIdOf,
  listHash,
  parseNodeList,
  patientIdOf,
  signPatientMessage,
  type VerificationNode,
  type VerificationNodeList,
} from '@medbridge/chaincode';
import { buildPacketProof, type ProofOptions, type SignerEndpoint } from '../../gateway/src/proofs';
import { enrolBlsNode } from '../../gateway/src/signer/enrol';
import { startSignerService, type RunningSigner } from '../../gateway/src/signer/service';
import { codeOf, Connections, govern, nodeListOf, remoteChainOf, sourceOf, trustOf, type Chain as ChainBase } from './support/chain-ops';
import { waitFor } from './support/polling';
import { startTestRelay } from './support/test-relay';
import { deliver as deliverLegs, receiveLeg } from './support/proofs';

const BLS = 'bls12381-aggregate';
const DAY = 86_400_000;
const run = Date.now().toString(36);
const ROUTE = `route-bls-${run}`;

interface Chain extends ChainBase {
  /** Enrolled nodes by node id. */
  nodes: Map<string, VerificationNode>;
  signers: SignerEndpoint[];
}

const connections = new Connections();
const running: RunningSigner[] = [];
/** Figures printed at the end (proof sizes, submit latencies). */
const figures: Record<string, number> = {};

async function headEpoch(c: Chain): Promise<number> {
  return (await nodeListOf(c))?.epoch ?? 0;
}

async function remoteOn(on: Chain, remote: string) {
  return remoteChainOf(on, remote);
}

/** The chain's list at `epoch` with the enrolled nodes (all, or peer0 of each org). */
function blsListFor(c: Chain, epoch: number, peers: 'all' | 'peer0'): VerificationNodeList {
  return {
    chainId: c.channel,
    epoch,
    rule: { kind: 'all' },
    subgroups: c.orgs.map((p) => ({
      id: `sg-${p.mspId}`,
      mspId: p.mspId,
      threshold: 1,
      nodes: p.peers
        .filter((_, i) => peers === 'all' || i === 0)
        .map((peer) => c.nodes.get(peer.name)!)
        .sort((x, y) => (x.nodeId < y.nodeId ? -1 : 1)),
    })),
  };
}

function bls(c: Chain): ProofOptions {
  return { scheme: BLS, signers: c.signers };
}

async function chain(channel: string, orgs: string[]): Promise<Chain> {
  const c: Chain = { ...connections.chain(channel, orgs), nodes: new Map(), signers: [] };
  for (const p of c.orgs) {
    for (let i = 0; i < p.peers.length; i++) {
      const { keyFile, node } = enrolBlsNode(p, i, channel);
      c.nodes.set(node.nodeId, node);
      const s = await startSignerService({ profile: p, peerIndex: i, channel, keyFile, port: 0 });
      running.push(s);
      c.signers.push({
        nodeId: s.nodeId,
        url: s.url,
        tls: { ca: readFileSync(p.peers[i]!.tlsRootCert, 'utf8'), cert: readFileSync(p.tls!.clientCert, 'utf8'), key: readFileSync(p.tls!.clientKey, 'utf8'), serverName: 'localhost' },
      });
    }
  }
  return c;
}

/** Receives `packet` on `to` with an aggregate proof of `from`, then acknowledges it on `from` with an aggregate proof of `to`. */
async function deliver(from: Chain, to: Chain, packet: any, label: string) {
  const { received, acked } = await deliverLegs(from, to, ROUTE, packet, { proof: bls(from), ackProof: bls(to), retryOnConflict: true });
  expect(received.built.proof.scheme).toBe(BLS);
  expect(received.built.failures).toEqual([]);
  figures[`${label}: packet proof bytes`] = Buffer.byteLength(JSON.stringify(received.built.proof));
  figures[`${label}: ReceivePacket submit ms`] = received.submitMs;
  expect(acked.built.proof.scheme).toBe(BLS);
  figures[`${label}: ack proof bytes`] = Buffer.byteLength(JSON.stringify(acked.built.proof));
  figures[`${label}: AcknowledgePacket submit ms`] = acked.submitMs;
  return { received: received.result, built: received.built };
}

describe('bls12381-aggregate proofs on the real network', () => {
  let a: Chain;
  let b: Chain;

  beforeAll(async () => {
    a = await chain('chain-a', ['HospitalA', 'HospitalC']);
    b = await chain('chain-b', ['HospitalB', 'HospitalC']);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(running.map((s) => s.close()));
    connections.close();
    if (Object.keys(figures).length > 0) process.stderr.write(`\nBLS integration figures:\n${Object.entries(figures).map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n`);
  });

  it('keeps the BLS secret keys in 0600 files outside the repository', () => {
    for (const s of running) expect(s.nodeId).toMatch(/^peer[01]\.hospital[abc]\./);
    const { keyFile } = enrolBlsNode(a.orgs[0]!, 0, 'chain-a');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(keyFile).toContain('/.runtime/net1/bls/chain-a/');
  });

  it('puts the enrolled BLS keys into both lists by governance and registers each chain on the other with the aggregate scheme', async () => {
    for (const c of [a, b]) {
      const head = await headEpoch(c);
      const current = head === 0 ? undefined : ((await c.cc.crossChain.getNodeList()).list as VerificationNodeList);
      const wanted = blsListFor(c, head + 1, 'all');
      // Rerun on a configured network: the current list already holds exactly these keys.
      const same = current !== undefined && listHash(current) === listHash({ ...parseNodeList(wanted), epoch: current.epoch });
      if (!same) await govern(c, { kind: 'set-node-list', list: wanted });
    }
    for (const [on, remote] of [[b, a], [a, b]] as const) {
      const known = await remoteOn(on, remote.channel);
      if (!known || !known.schemes.includes(BLS)) {
        const { list } = await remote.cc.crossChain.getNodeList();
        await govern(on, { kind: 'register-remote', chainId: remote.channel, orgs: trustOf(remote), nodeList: list, schemes: ['fabric-endorsement', BLS] });
      }
      await waitFor(`${remote.channel} registered on ${on.channel}`, async () => {
        expect((await remoteOn(on, remote.channel))!.schemes).toContain(BLS);
        return true;
      }, 15_000);
    }
    for (const [c, counterparty] of [[a, 'chain-b'], [b, 'chain-a']] as const) {
      await govern(c, {
        kind: 'open-route',
        routeId: ROUTE,
        counterparty,
        packetTypes: ['consent.grant', 'consent.revoke', 'ping'],
        rateLimit: { maxPackets: 100, windowMs: 60_000 },
        schemes: [BLS],
      });
      await waitFor(`route ${ROUTE} on ${c.channel}`, async () => {
        expect((await c.cc.crossChain.getRoute(ROUTE)).schemes).toEqual([BLS]);
        return true;
      }, 15_000);
    }
  }, 600_000);

  it('refuses a scheme-1 proof on the route registered for the aggregate scheme, then accepts the aggregate proof of the same ping and its acknowledgement', async () => {
    const sent = (await a.cc.crossChain.sendPacket('chain-b', 'ping', { routeId: ROUTE, payload: { run } })).result;
    expect(sent.sequence).toBe(1);

    const endorsed = await buildPacketProof(sourceOf(a), ROUTE, 1, (await remoteOn(b, 'chain-a'))!.epoch);
    expect(endorsed.proof.scheme).toBe('fabric-endorsement');
    figures['ping: scheme-1 packet proof bytes (same packet)'] = Buffer.byteLength(JSON.stringify(endorsed.proof));
    const routeBefore = await b.cc.crossChain.getRoute(ROUTE);
    const remoteBefore = await remoteOn(b, 'chain-a');
    expect(await codeOf(b.cc.crossChain.receivePacket(sent.packet, endorsed.proof))).toBe('UNSUPPORTED_SCHEME');
    expect(await b.cc.crossChain.getRoute(ROUTE)).toEqual(routeBefore);
    expect(await remoteOn(b, 'chain-a')).toEqual(remoteBefore);
    expect(await codeOf(b.cc.crossChain.getReceipt(ROUTE, 1))).toBe('NOT_FOUND');

    const { received, built } = await deliver(a, b, sent.packet, 'ping');
    expect(received.ack.result).toEqual({ pong: { run } });
    // The receipt names the four chain-a nodes whose aggregate was accepted.
    expect((await b.cc.crossChain.getReceipt(ROUTE, 1)).signers).toEqual([...a.nodes.keys()].sort());
    expect(built.proof.links.every((l) => l.proof.scheme === BLS || l.proof.scheme === 'fabric-endorsement')).toBe(true);
  }, 300_000);

  it('carries a patient-signed consent grant and its revocation from chain-a to chain-b with aggregate proofs', async () => {
    const hospitalA = a.cc.consent;
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const publicKey = exportPublicKey(privateKey);
    const patientId = patientIdOf(publicKey);
    const header = (): HeaderInput => ({ channel: 'chain-a', patientId, signer: keyIdOf(publicKey), nonce: randomBytes(18).toString('base64url'), issuedAt: Date.now() });
    await hospitalA.registerPatient(publicKey);
    const now = Date.now();
    const grant = signPatientMessage(
      buildConsentGrant(header(), {
        grantee: 'HospitalBMSP',
        scope: { recordIds: [], categories: ['Observation'] },
        actions: ['read'],
        purposes: ['TREAT'],
        period: { start: now - 60_000, end: now + 30 * DAY },
      }),
      privateKey,
    );
    const { consentId } = (await hospitalA.grantConsent(grant)).result;

    const sentGrant = (await a.cc.crossChain.sendPacket('chain-b', 'consent.grant', { routeId: ROUTE, consentId })).result;
    await deliver(a, b, sentGrant.packet, 'consent.grant');
    const mirrored = await b.cc.consent.checkRemoteConsent('chain-a', consentId, 'TREAT');
    expect(mirrored).toMatchObject({ consentId, allowed: true, status: 'active', grantee: 'HospitalBMSP', patientId });

    const revocation = signPatientMessage(buildConsentRevocation(header(), consentId), privateKey);
    expect((await hospitalA.revokeConsent(revocation)).result).toMatchObject({ status: 'revoked' });
    const sentRevoke = (await a.cc.crossChain.sendPacket('chain-b', 'consent.revoke', { routeId: ROUTE, consentId })).result;
    await deliver(a, b, sentRevoke.packet, 'consent.revoke');
    expect(await b.cc.consent.checkRemoteConsent('chain-a', consentId, 'TREAT')).toMatchObject({ allowed: false, status: 'revoked', reason: 'consent-revoked' });
  }, 600_000);

  it('accepts a packet after chain-a changes its list, through an aggregate-signed epoch link, with no governance on chain-b', async () => {
    const before = (await remoteOn(b, 'chain-a'))!.epoch;
    const next = (await headEpoch(a)) + 1;
    // Alternate between every node and peer0 of each org so that each run is a real change.
    const current = (await a.cc.crossChain.getNodeList()).list as VerificationNodeList;
    const allNow = current.subgroups.every((s) => s.nodes.length === 2);
    await govern(a, { kind: 'set-node-list', list: blsListFor(a, next, allNow ? 'peer0' : 'all') });

    const sent = (await a.cc.crossChain.sendPacket('chain-b', 'ping', { routeId: ROUTE, payload: { run, n: 2 } })).result;
    const leg = await receiveLeg(a, b, ROUTE, sent.packet, { proof: bls(a), retryOnConflict: true });
    const { built, knownEpoch: known } = leg;
    expect(built.proof.epoch).toBe(next);
    expect(built.proof.links.map((l) => l.toEpoch)).toEqual(Array.from({ length: next - known }, (_, i) => known + i + 1));
    // The last link is signed by the previous list, which holds BLS keys: in the aggregate scheme.
    expect(built.proof.links.at(-1)!.proof.scheme).toBe(BLS);
    figures['epoch link: packet proof bytes with links'] = Buffer.byteLength(JSON.stringify(built.proof));
    figures['epoch link: links carried'] = built.proof.links.length;
    figures['epoch link: ReceivePacket submit ms'] = leg.submitMs;
    const received = leg.result;
    expect(before).toBeLessThan(next);
    expect(received).toMatchObject({ outcome: 'success', sequence: sent.sequence, epoch: next });
    expect((await remoteOn(b, 'chain-a'))!.epoch).toBeGreaterThanOrEqual(next);
  }, 600_000);
  it('relay service builds aggregate proofs on its own for a route registered with the aggregate scheme only', async () => {
    for (const c of [a, b]) expect((await c.cc.crossChain.getRoute(ROUTE)).schemes).toEqual([BLS]);
    const dir = mkdtempSync(join(tmpdir(), 'medbridge-bls-relay-'));
    const { relay, stop } = startTestRelay([ROUTE], dir, { signers: { 'chain-a': a.signers, 'chain-b': b.signers } });
    try {
      const sent = (await a.cc.crossChain.sendPacket('chain-b', 'ping', { routeId: ROUTE, payload: { run, by: 'relay' } })).result;
      const settled = await waitFor(
        `relay acknowledges ${ROUTE}/${sent.sequence} on chain-a`,
        async () => {
          const record = await a.cc.crossChain.getPacket(ROUTE, sent.sequence);
          if (record.status !== 'acknowledged') throw new Error(`status ${String(record.status)}; relay waiting for: ${String(relay.status().waitingFor)}`);
          return record;
        },
        240_000,
        250,
      );
      expect(settled.status).toBe('acknowledged');
      // Accepted on a route that takes aggregate proofs only: the receipt names the nodes of
      // chain-a's current list whose aggregate signature verified (a receipt records no scheme).
      const receipt = await b.cc.crossChain.getReceipt(ROUTE, sent.sequence);
      expect(receipt.ack.result).toEqual({ pong: { run, by: 'relay' } });
      const listA = (await a.cc.crossChain.getNodeList()).list as VerificationNodeList;
      expect(receipt.signers).toEqual(listA.subgroups.flatMap((g) => g.nodes.map((n) => n.nodeId)).sort());
      expect(relay.status()).toMatchObject({ waitingFor: null });
      expect(relay.status().acknowledged).toBeGreaterThanOrEqual(1);
    } finally {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
