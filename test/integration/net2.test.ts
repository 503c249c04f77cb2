/**
 * A second, independent Fabric network joins the bridge at run time (network/NETWORKS.md).
 * net1: chain-a = HospitalA + HospitalC (Raft x3, OrdererMSP); net2: chain-c = HospitalD +
 * ResearchInstitute (its own single-node Raft ordering service, Orderer2MSP, its own crypto and
 * ports). The two networks share nothing; each chain's admins export a trust bundle with the
 * CLI, compare its hash, and the other chain's governance (every member org's admin) registers
 * it; a route is opened on both ends. No process restarts, no chaincode redeploy.
 *
 * Then: a patient at HospitalA grants HospitalD access; the grant crosses networks with proofs
 * of chain-a's peers; HospitalD fetches the record off chain and checks its hash; the patient
 * revokes, the revocation crosses, the next fetch is refused. chain-c changes its list (a new
 * node enters at a new epoch) and chain-a follows through the epoch link with no governance
 * of its own. A paused route, a removed remote chain and a bundle whose hash does not match
 * are refused with a clear error and no state change.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PacketType, VerificationNodeList } from '@medbridge/chaincode';
import { loadProfile } from '../../gateway/src/fabric/profile';
import { nodesOf } from '../../gateway/src/services/crosschain-admin';
import { buildPacketProof } from '../../gateway/src/proofs';
import { createRootCa } from '../fixtures/pki';
import { buildGateway, cli, ok, startDaemon, stop, testEnv, type Running } from './cli-harness';
import { runtimeRoot } from './support/network';
import { codeOf, Connections, errorOf, govern, nodeListOf, remoteChainOf, sourceOf, type Chain } from './support/chain-ops';
import { deliver as deliverLegs, receiveLeg } from './support/proofs';

const run = Date.now().toString(36);
const ROUTE = `route-n2-${run}`;
const connections = new Connections();
const net2Up = existsSync(join(runtimeRoot(), 'net2', 'network.json'));
async function headList(c: Chain): Promise<VerificationNodeList | undefined> {
  return (await nodeListOf(c))?.list as VerificationNodeList | undefined;
}

async function remoteOn(on: Chain, remote: string): Promise<any> {
  return remoteChainOf(on, remote);
}

/**
 * chain-c's list: HospitalD needs both of its nodes (threshold 2 inside the org), the
 * ResearchInstitute one of its listed nodes, and the cross-subgroup rule is k-of-m (k = 2).
 * `withNewNode` adds ResearchInstitute's peer1.
 */
function chainCList(c: Chain, epoch: number, withNewNode: boolean): VerificationNodeList {
  const [hd, ri] = c.orgs;
  return {
    chainId: c.channel,
    epoch,
    rule: { kind: 'k-of-m', k: 2 },
    subgroups: [
      { id: 'sg-hospitald', mspId: hd!.mspId, threshold: 2, nodes: nodesOf(hd!, [0, 1]) },
      { id: 'sg-research', mspId: ri!.mspId, threshold: 1, nodes: nodesOf(ri!, withNewNode ? [0, 1] : [0]) },
    ],
  } as VerificationNodeList;
}

/** Receives `packet` (sent on `from`) on `to` with a proof of `from`'s peers, and acknowledges it on `from`. */
async function deliver(from: Chain, to: Chain, packet: any): Promise<any> {
  return (await deliverLegs(from, to, ROUTE, packet)).received.result;
}

const send = async (from: Chain, to: string, type: PacketType, args: { consentId: string } | { payload: unknown }) =>
  (await from.cc.crossChain.sendPacket(to, type, { routeId: ROUTE, ...args })).result;

(net2Up ? describe : describe.skip)('a second network (net2, chain-c) joins the bridge at run time', () => {
  const env = testEnv();
  const files = mkdtempSync(join(tmpdir(), 'medbridge-net2-it-'));
  let a: Chain;
  let c: Chain;
  let server: Running<{ url: string }> | undefined;

  beforeAll(() => {
    buildGateway();
    a = connections.chain('chain-a', ['HospitalA', 'HospitalC']);
    c = connections.chain('chain-c', ['HospitalD', 'ResearchInstitute']);
  });

  afterAll(async () => {
    if (server) await stop(server.child);
    connections.close();
  });

  it('keeps the networks apart: own orderer org, own org CAs, no shared endpoint', async () => {
    const n1 = JSON.parse(readFileSync(join(runtimeRoot(), 'net1', 'network.json'), 'utf8'));
    const n2 = JSON.parse(readFileSync(join(runtimeRoot(), 'net2', 'network.json'), 'utf8'));
    expect(n2.ordererOrg.mspId).toBe('Orderer2MSP');
    expect(n1.ordererOrg.mspId).not.toBe(n2.ordererOrg.mspId);
    const endpoints = (n: any) => [...n.ordererOrg.orderers.map((o: any) => o.endpoint), ...n.orgs.flatMap((o: any) => o.peers.map((p: any) => p.endpoint))];
    expect(endpoints(n1).filter((e: string) => endpoints(n2).includes(e))).toEqual([]);
    expect(n2.channels.map((ch: any) => ch.members)).toEqual([['HospitalDMSP', 'ResearchInstituteMSP']]);
    // chain-c's members' roots differ from every net1 org's root.
    const rootOf = (org: string) => {
      const dir = join(loadProfile(org).peers[0]!.tlsRootCert, '..', '..', 'msp', 'cacerts');
      return readFileSync(join(dir, readdirSync(dir).filter((f) => f.endsWith('.pem'))[0]!), 'utf8');
    };
    expect(new Set(['HospitalA', 'HospitalC', 'HospitalD', 'ResearchInstitute'].map(rootOf)).size).toBe(4);
  });

  it('registers each chain on the other from a hash-checked trust bundle by governance, refusing a bundle whose hash does not match', async () => {
    for (const ch of [a, c]) {
      if (!(await headList(ch))) {
        await govern(ch, { kind: 'set-node-list', list: ch === c ? chainCList(c, 1, false) : { chainId: 'chain-a', epoch: 1, rule: { kind: 'all' }, subgroups: a.orgs.map((p) => ({ id: `sg-${p.mspId}`, mspId: p.mspId, threshold: 1, nodes: nodesOf(p) })) } });
      }
    }
    const fileC = join(files, 'chain-c.bundle.json');
    const fileA = join(files, 'chain-a.bundle.json');
    const exportedC = await ok<{ hash: string; chainId: string; epoch: number }>(env, 'bundle', 'export', '--org', 'HospitalD', '--channel', 'chain-c', '--out', fileC);
    const exportedA = await ok<{ hash: string }>(env, 'bundle', 'export', '--org', 'HospitalA', '--channel', 'chain-a', '--out', fileA);
    expect(exportedC).toMatchObject({ chainId: 'chain-c' });
    const bundleC = JSON.parse(readFileSync(fileC, 'utf8'));
    // The roots in the bundle are the ones chain-c publishes in its channel configuration.
    expect(bundleC.bundle.orgs.map((o: any) => o.mspId)).toEqual(['HospitalDMSP', 'ResearchInstituteMSP']);
    expect(bundleC.bundle.nodeList.rule).toEqual({ kind: 'k-of-m', k: 2 });

    // A hash that does not match the one read over the phone: refused, nothing proposed.
    const before = await remoteOn(a, 'chain-c');
    const wrong = exportedC.hash.replace(/^./, (x) => (x === '0' ? '1' : '0'));
    const refused = await cli(env, 'bundle', 'register', '--org', 'HospitalA', '--channel', 'chain-a', '--file', fileC, '--hash', wrong, '--all-approve');
    expect(refused.code).toBe(3);
    expect(refused.json.error.code).toBe('BUNDLE_HASH_MISMATCH');
    expect(refused.json.error.message).toContain(exportedC.hash);
    // A file changed after export (a node swapped) fails its own hash even with the agreed hash.
    const tampered = join(files, 'tampered.json');
    const t = JSON.parse(readFileSync(fileC, 'utf8'));
    t.bundle.nodeList.subgroups[1].threshold = 1;
    t.bundle.nodeList.rule = { kind: 'k-of-m', k: 1 };
    writeFileSync(tampered, JSON.stringify(t));
    const refused2 = await cli(env, 'bundle', 'register', '--org', 'HospitalA', '--channel', 'chain-a', '--file', tampered, '--hash', exportedC.hash, '--all-approve');
    expect(refused2.json.error.code).toBe('BUNDLE_HASH_MISMATCH');
    expect(await remoteOn(a, 'chain-c')).toEqual(before);

    // The right hash: HospitalA's admin proposes, HospitalC's admin approves, then it executes.
    const proposed = await ok<{ proposalId: string; status: string }>(env, 'bundle', 'register', '--org', 'HospitalA', '--channel', 'chain-a', '--file', fileC, '--hash', exportedC.hash);
    expect(proposed.status).toBe('pending');
    expect(await remoteOn(a, 'chain-c')).toEqual(before);
    const approved = await ok<{ status: string; approvals: string[] }>(env, 'governance', 'approve', proposed.proposalId, '--org', 'HospitalC', '--channel', 'chain-a');
    expect(approved).toMatchObject({ status: 'executed', approvals: ['HospitalAMSP', 'HospitalCMSP'] });
    await ok(env, 'bundle', 'register', '--org', 'HospitalD', '--channel', 'chain-c', '--file', fileA, '--hash', exportedA.hash, '--all-approve');
    expect((await remoteOn(a, 'chain-c')).epoch).toBe(exportedC.epoch);
    expect((await remoteOn(c, 'chain-a')).schemes).toContain('fabric-endorsement');

    for (const [ch, counterparty] of [[a, 'chain-c'], [c, 'chain-a']] as const) {
      await ok(env, 'governance', 'propose', JSON.stringify({ kind: 'open-route', routeId: ROUTE, counterparty, packetTypes: ['consent.grant', 'consent.revoke', 'ping'], rateLimit: { maxPackets: 100, windowMs: 60_000 } }), '--org', ch.orgs[0]!.org, '--channel', ch.channel, '--all-approve');
      expect((await ch.cc.crossChain.getRoute(ROUTE)).status).toBe('open');
    }
  }, 600_000);

  it('carries a HospitalA patient grant to HospitalD across networks; HospitalD fetches and verifies the record; after the revocation crosses, the fetch is refused', async () => {
    const recordId = `rec-n2-${run}`;
    const fhir = JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'eGFR' }, run });
    writeFileSync(join(files, 'obs.json'), fhir);
    const { patientId } = await ok<{ patientId: string }>(env, 'patient', 'keygen');
    await ok(env, 'patient', 'register', '--org', 'HospitalA', '--key', patientId, '--public');
    const put = await ok<{ hash: string }>(env, 'records', 'put', '--org', 'HospitalA', '--patient', patientId, '--category', 'Observation', '--file', join(files, 'obs.json'), '--record-id', recordId);
    server = await startDaemon(env, 'records', 'serve', '--org', 'HospitalA', '--port', '0');
    const { consentId } = await ok<{ consentId: string }>(env, 'consent', 'grant', '--org', 'HospitalA', '--key', patientId, '--grantee', 'HospitalDMSP', '--records', recordId, '--purpose', 'TREAT', '--days', '1');

    const grant = await send(a, 'chain-c', 'consent.grant', { consentId });
    const received = await deliver(a, c, grant.packet);
    expect(received.ack.outcome).toBe('success');
    expect(await c.cc.consent.checkRemoteConsent('chain-a', consentId, 'TREAT')).toMatchObject({ consentId, allowed: true, grantee: 'HospitalDMSP', patientId });

    const out = join(files, 'fetched.json');
    const fetched = await ok(env, 'records', 'fetch', recordId, '--org', 'HospitalD', '--from', 'HospitalA', '--purpose', 'TREAT', '--out', out);
    expect(fetched).toMatchObject({ recordId, verified: true, hash: put.hash, consentId, custodian: 'HospitalAMSP' });
    expect(readFileSync(out, 'utf8')).toBe(fhir);

    await ok(env, 'consent', 'revoke', consentId, '--org', 'HospitalA', '--key', patientId);
    const revoke = await send(a, 'chain-c', 'consent.revoke', { consentId });
    await deliver(a, c, revoke.packet);
    expect(await c.cc.consent.checkRemoteConsent('chain-a', consentId, 'TREAT')).toMatchObject({ allowed: false, status: 'revoked' });
    const refused = await cli(env, 'records', 'fetch', recordId, '--org', 'HospitalD', '--from', 'HospitalA', '--purpose', 'TREAT');
    expect(refused.code).toBe(3);
    expect(refused.json.error.code).toBe('ACCESS_DENIED');
    expect(refused.json.error.message).toMatch(/revoked/);
  }, 600_000);

  it('accepts chain-c packets after a new node enters its list at a new epoch, through the epoch link, with no governance on chain-a', async () => {
    const known = (await remoteOn(a, 'chain-c')).epoch as number;
    const current = (await headList(c))!;
    const hadNew = current.subgroups.some((s) => s.nodes.length === 2 && s.mspId === 'ResearchInstituteMSP');
    const next = current.epoch + 1;
    const newNode = c.orgs[1]!.peers[1]!.name;
    await govern(c, { kind: 'set-node-list', list: chainCList(c, next, !hadNew) });
    if (hadNew) await govern(c, { kind: 'set-node-list', list: chainCList(c, next + 1, true) });
    const target = hadNew ? next + 1 : next;
    const remoteBefore = await remoteOn(a, 'chain-c');

    const ping = await send(c, 'chain-a', 'ping', { payload: { run } });
    const { built, result: received } = await receiveLeg(c, a, ROUTE, ping.packet, { knownEpoch: known });
    expect(built.proof.epoch).toBe(target);
    expect(built.proof.links.map((l) => l.toEpoch)).toEqual(Array.from({ length: target - known }, (_, i) => known + i + 1));
    expect(received).toMatchObject({ outcome: 'success', epoch: target });
    expect(remoteBefore.epoch).toBe(known);
    expect((await remoteOn(a, 'chain-c')).epoch).toBe(target);
    expect((await a.cc.crossChain.getReceipt(ROUTE, ping.sequence)).signers).toContain(newNode);
  }, 600_000);

  it("refuses a paused route's packets, then a removed remote chain's packets, with a clear error and no state change", async () => {
    const refusedWithoutChange = async (packet: any, code: string) => {
      const built = await buildPacketProof(sourceOf(c), ROUTE, packet.sequence, (await remoteOn(a, 'chain-c'))?.epoch ?? 1);
      const routeBefore = await a.cc.crossChain.getRoute(ROUTE);
      const remoteBefore = await remoteOn(a, 'chain-c');
      const err = await errorOf(a.cc.crossChain.receivePacket(packet, built.proof));
      expect(err?.code).toBe(code);
      expect(err?.message).toMatch(code === 'ROUTE_PAUSED' ? /paused by governance/ : /not a registered remote chain/);
      expect(await a.cc.crossChain.getRoute(ROUTE)).toEqual(routeBefore);
      expect(await remoteOn(a, 'chain-c')).toEqual(remoteBefore);
      expect(await codeOf(a.cc.crossChain.getReceipt(ROUTE, packet.sequence))).toBe('NOT_FOUND');
    };

    await ok(env, 'route', 'pause', ROUTE, '--org', 'HospitalA', '--channel', 'chain-a', '--all-approve');
    const p1 = await send(c, 'chain-a', 'ping', { payload: { run, n: 'paused' } });
    await refusedWithoutChange(p1.packet, 'ROUTE_PAUSED');
    await ok(env, 'route', 'resume', ROUTE, '--org', 'HospitalA', '--channel', 'chain-a', '--all-approve');
    expect((await receiveLeg(c, a, ROUTE, p1.packet)).result).toMatchObject({ outcome: 'success' });

    // CA roll-over by governance on the real chain: a new root registered for HospitalD; the
    // current root cannot be retired while chain-c's listed nodes chain to it.
    const newRoot = await createRootCa({ cn: 'ca2.hospitald.net2.medbridge', org: 'HospitalDMSP' });
    writeFileSync(join(files, 'ca2.pem'), newRoot.certPem);
    const currentRoot = (await remoteOn(a, 'chain-c')).orgs.find((o: any) => o.mspId === 'HospitalDMSP').rootCerts[0] as string;
    writeFileSync(join(files, 'ca1.pem'), currentRoot);
    await ok(env, 'remote-ca', 'add', '--chain', 'chain-c', '--msp', 'HospitalDMSP', '--cert', join(files, 'ca2.pem'), '--org', 'HospitalA', '--channel', 'chain-a', '--all-approve');
    expect((await remoteOn(a, 'chain-c')).orgs.find((o: any) => o.mspId === 'HospitalDMSP').rootCerts).toHaveLength(2);
    const beforeRetire = await remoteOn(a, 'chain-c');
    const inUse = await cli(env, 'remote-ca', 'retire', '--chain', 'chain-c', '--msp', 'HospitalDMSP', '--cert', join(files, 'ca1.pem'), '--org', 'HospitalA', '--channel', 'chain-a', '--all-approve');
    expect(inUse.json.error.code).toBe('ROOT_IN_USE');
    expect(await remoteOn(a, 'chain-c')).toEqual(beforeRetire);
    await ok(env, 'remote-ca', 'retire', '--chain', 'chain-c', '--msp', 'HospitalDMSP', '--cert', join(files, 'ca2.pem'), '--org', 'HospitalA', '--channel', 'chain-a', '--all-approve');
    expect((await remoteOn(a, 'chain-c')).orgs.find((o: any) => o.mspId === 'HospitalDMSP').rootCerts).toHaveLength(1);

    await ok(env, 'remote', 'remove', 'chain-c', '--org', 'HospitalA', '--channel', 'chain-a', '--all-approve');
    const p2 = await send(c, 'chain-a', 'ping', { payload: { run, n: 'removed' } });
    await refusedWithoutChange(p2.packet, 'UNKNOWN_CHAIN');
  }, 600_000);
});
