/**
 * The multi-host network (network/scripts/multihost.sh, `make test-multihost`): net1 with the
 * ordering service and each hospital on its own host, i.e. its own network namespace with its own
 * address on a bridge, names from a hosts file, nothing on loopback. This suite runs on a client
 * host of the same bridge and drives the hospitals' own processes on their own hosts:
 *  - every orderer, peer and chaincode server runs in its org's namespace on its org's address;
 *  - a consent grant crosses from chain-a to chain-b through a relay on HospitalC's host, and its
 *    acknowledgement returns to chain-a;
 *  - HospitalB, on its host, fetches a record from HospitalA's record exchange by its DNS name;
 *  - a relay killed on its host and restarted delivers and acknowledges what was sent meanwhile, once;
 *  - a verification node's signer service on HospitalA's host is reached by the host's name, which
 *    its TLS certificate carries.
 * Waits are on chain events and process output, each with a deadline.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FabricClient } from '../../gateway/src/fabric/client';
import { Chaincode } from '../../gateway/src/fabric/contracts';
import { ConsentService } from '../../gateway/src/services/consent-service';
import { CrossChainAdmin } from '../../gateway/src/services/crosschain-admin';
import { generatePatientKey, saveNewKey, type PatientKey } from '../../gateway/src/services/patient-keys';
import { Events } from '../integration/support/relay-events';
import { loadProfile } from '../../gateway/src/fabric/profile';
import { daemonOn, description, hostNamespace, namespaceOf, namespaces, okOn, pidOf, reachable, RT, scriptDaemonOn, scriptOn, SIGNER, stop, type Daemon } from './hosts';

const run = Date.now().toString(36);
const ROUTE = `mh-${run}`;
const A = 'chain-a';
const B = 'chain-b';

describe('medbridge with each organisation on its own host', () => {
  const work = mkdtempSync(join(tmpdir(), 'medbridge-multihost-'));
  const env: NodeJS.ProcessEnv = { ...process.env, MEDBRIDGE_KEYS_DIR: join(work, 'keys'), MEDBRIDGE_DATA_DIR: join(work, 'data'), MEDBRIDGE_LOG_LEVEL: 'warn' };
  const daemons: Daemon[] = [];
  let hospitalA: FabricClient;
  let hospitalB: FabricClient;
  let onA: Events;
  let onB: Events;
  let patient: PatientKey;
  let consentId: string;
  let recordId: string;
  let relay: Daemon<{ health: string; metrics: string }>;

  const relayOnHospitalC = async () => {
    const d = await daemonOn<{ health: string; metrics: string }>('hospitalc', env, 'relay', 'start', '--from', A, '--to', B, '--routes', ROUTE, '--port', '0');
    daemons.push(d);
    return d;
  };

  beforeAll(async () => {
    hospitalA = FabricClient.open('HospitalA');
    hospitalB = FabricClient.open('HospitalB');
    const admin = new CrossChainAdmin();
    try {
      await admin.ensureRoute(A, B, ROUTE, ['consent.grant', 'consent.revoke', 'ping']);
    } finally {
      admin.close();
    }
    onA = new Events(new Chaincode(hospitalA, A), [ROUTE]);
    onB = new Events(new Chaincode(hospitalB, B), [ROUTE]);
    await onA.start();
    await onB.start();
  });

  afterAll(async () => {
    for (const d of daemons) await stop(d.child);
    onA?.close();
    onB?.close();
    hospitalA?.close();
    hospitalB?.close();
  });

  it('runs every orderer, peer and chaincode server in its org\'s namespace, reached by name and not on loopback', async () => {
    const net = description();
    const ns = namespaces();
    const nodes: Array<{ node: string; address: string; endpoint: string }> = [
      ...net.ordererOrg.orderers.map((o) => ({ node: o.name, address: net.ordererOrg.host!.address, endpoint: o.endpoint })),
      ...net.orgs.flatMap((org) => org.peers.map((p) => ({ node: p.name, address: org.host!.address, endpoint: p.endpoint }))),
    ];
    expect(nodes).toHaveLength(9);
    for (const n of nodes) {
      expect(namespaceOf(pidOf(n.node))).toBe(ns.get(n.address));
      const [host, port] = n.endpoint.split(':') as [string, string];
      expect(host).toBe(n.node); // dialled by its DNS name, which its certificate carries
      expect(await reachable(host, Number(port))).toBe(true);
      expect(await reachable('127.0.0.1', Number(port))).toBe(false);
    }
    const servers = readdirSync(join(RT, 'pids')).filter((f) => f.startsWith('ccaas.')).map((f) => f.replace(/\.pid$/, ''));
    expect(servers).toHaveLength(3);
    for (const s of servers) {
      const org = net.orgs.find((o) => s.startsWith(`ccaas.${o.name.toLowerCase()}.`))!;
      expect(namespaceOf(pidOf(s))).toBe(hostNamespace(org.name));
    }
  });

  it('carries a consent grant from chain-a to chain-b through a relay on HospitalC\'s host, and returns its acknowledgement', async () => {
    patient = generatePatientKey();
    saveNewKey(patient, { dir: join(work, 'keys') });
    const consentA = new ConsentService(new Chaincode(hospitalA, A));
    await consentA.registerPatient(patient);
    // HospitalA's record store and anchor, written by a process on HospitalA's host.
    const file = join(work, 'report.json');
    writeFileSync(file, JSON.stringify({ resourceType: 'DiagnosticReport', status: 'final', code: { text: 'HbA1c' } }));
    recordId = `rec-mh-${run}`;
    await okOn('hospitala', env, 'records', 'put', '--org', 'HospitalA', '--patient', patient.patientId, '--category', 'DiagnosticReport', '--file', file, '--record-id', recordId);
    consentId = (await consentA.grant(patient, patient.patientId, { grantee: hospitalB.mspId, recordIds: [recordId], purposes: ['TREAT'], days: 1 })).consentId;

    relay = await relayOnHospitalC();
    const sent = await consentA.share(consentId, B, 'consent.grant', ROUTE);
    expect(sent.result.sequence).toBe(1);
    await onB.waitFor('PacketReceived', ROUTE, 1);
    await onA.waitFor('PacketAcknowledged', ROUTE, 1);
    const check = await new ConsentService(new Chaincode(hospitalB, B)).checkRemoteConsent(A, consentId, 'TREAT');
    expect(check).toMatchObject({ allowed: true });
  });

  it('lets HospitalB, on its own host, fetch the record from HospitalA\'s record exchange by its DNS name', async () => {
    const server = await daemonOn<{ url: string }>('hospitala', env, 'records', 'serve', '--org', 'HospitalA', '--port', '7443');
    daemons.push(server);
    expect(server.status.url).toBe(`https://${description().orgs.find((o) => o.name === 'HospitalA')!.host!.name}:7443`);
    const fetched = await okOn<{ verified: boolean; consentId: string; custodian: string }>('hospitalb', env, 'records', 'fetch', recordId, '--org', 'HospitalB', '--from', 'HospitalA', '--purpose', 'TREAT');
    expect(fetched).toMatchObject({ recordId, verified: true, consentId, custodian: 'HospitalAMSP' });
  });

  it('delivers and acknowledges once what was sent while the relay on HospitalC\'s host was down', async () => {
    await onB.waitFor('PacketReceived', ROUTE, 1);
    await stop(relay.child, 'SIGKILL');
    const consentA = new ConsentService(new Chaincode(hospitalA, A));
    await consentA.revoke(patient, patient.patientId, consentId);
    const revoke = await consentA.share(consentId, B, 'consent.revoke', ROUTE);
    const ping = await new Chaincode(hospitalA, A).crossChain.sendPacket(B, 'ping', { routeId: ROUTE, payload: { run } });
    expect([revoke.result.sequence, ping.result.sequence]).toEqual([2, 3]);

    const second = await relayOnHospitalC();
    for (const s of [2, 3]) {
      await onB.waitFor('PacketReceived', ROUTE, s);
      await onA.waitFor('PacketAcknowledged', ROUTE, s);
    }
    const receipts = await new Chaincode(hospitalB, B).crossChain.listReceipts(ROUTE, { pageSize: 100 });
    expect(receipts.items.map((r) => r.sequence)).toEqual([1, 2, 3]);
    for (const s of [1, 2, 3]) {
      expect(onB.counts.get(`PacketReceived/${ROUTE}/${s}`)).toBe(1);
      expect(onA.counts.get(`PacketAcknowledged/${ROUTE}/${s}`)).toBe(1);
    }
    const check = await new ConsentService(new Chaincode(hospitalB, B)).checkRemoteConsent(A, consentId, 'TREAT');
    expect(check.allowed).toBe(false);
    // The restarted relay is healthy on its own host (its health endpoint is local to that host).
    const health = spawnSync('ip', ['netns', 'exec', hostNamespace('hospitalc'), process.execPath, '-e',
      `require('http').get(${JSON.stringify(second.status.health)}, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(2))`]);
    expect(health.status).toBe(0);
  });

  it('serves a verification node\'s signer on HospitalA\'s host under the host\'s name, which its TLS certificate carries', async () => {
    const enrolled = await scriptOn<{ keyFile: string }>('hospitala', env, SIGNER, 'enrol', '--profile', 'HospitalA', '--peer', '0', '--channel', A, '--key-dir', join(work, 'bls'));
    expect(enrolled.code).toBe(0);
    const signer = await scriptDaemonOn<{ nodeId: string; url: string }>('hospitala', env, SIGNER, 'serve', '--profile', 'HospitalA', '--peer', '0', '--channel', A, '--key', enrolled.json.keyFile, '--port', '7441');
    daemons.push(signer);
    const url = new URL(signer.status.url);
    expect(url.host).toBe('hospitala.net1.medbridge:7441');
    // A client of HospitalA's TLS CA, checking the server's name as the relay's signer client does.
    const profile = loadProfile('HospitalA');
    const authorized = await new Promise<boolean>((resolve, reject) => {
      const socket = tlsConnect({
        host: url.hostname, port: Number(url.port), servername: url.hostname,
        ca: readFileSync(profile.peers[0]!.tlsRootCert), cert: readFileSync(profile.tls!.clientCert), key: readFileSync(profile.tls!.clientKey),
      }, () => {
        resolve(socket.authorized);
        socket.end();
      });
      socket.once('error', reject);
    });
    expect(authorized).toBe(true);
  });
});
