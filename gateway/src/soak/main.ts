/**
 * `make soak` / `make test-soak`: the chaos soak (network/RELIABILITY.md). Patients grant and
 * revoke across the route chain-a <-> chain-b and, with net2 (SOAK_NET2), chain-a <-> chain-c at a
 * bounded rate through the production services, with the relays (`medbridge relay start --both`),
 * HospitalA's record server (`medbridge records serve`) and HospitalB's hospital API
 * (`medbridge serve`, used by patients' devices and for HospitalB's record reads) running as real
 * processes, while a seeded schedule kills and restarts the relays, peers of every org, the Raft
 * leader orderer, an orderer for a while, a chaincode server, the record server and the API, and
 * puts one node on a bad link. Once the load stops and the relays have settled everything, the
 * ledgers are read into a history and checked (checker.ts); the counts are printed, the report
 * is written to <runtime>/soak/<run>/report.json, and the exit code is 1 on any violation, with
 * the seed and the command that replays it.
 *
 *   node gateway/dist/soak/main.js        (settings: options.ts; the network must be up)
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { config, gatewayDataDir, REPO_ROOT, runtimeDir } from '../config';
import { toClientError } from '../errors';
import { sourceCommit } from '../source-commit';
import { FabricClient } from '../fabric/client';
import { allPages, Chaincode } from '../fabric/contracts';
import { loadProfile } from '../fabric/profile';
import { readTrustedChains } from '../records/anchor-attestation';
import { Custodian } from '../records/custodian';
import { readEndpoint, storeFileOf } from '../records/endpoints';
import { tlsIdentityOf, trustedOrgs } from '../records/org-tls';
import { fetchRecord } from '../records/requester';
import { RecordStore } from '../records/store';
import { sleep } from '../relay/backoff';
import { ConsentService } from '../services/consent-service';
import { CrossChainAdmin } from '../services/crosschain-admin';
import { IncentiveService, ValueGovernance } from '../services/incentive-service';
import { generatePatientKey } from '../services/patient-keys';
import { startService, type Service } from '../demo/processes';
import { ApiState, fetchThroughApi, runApiPatient, type ApiPatient, type ApiTls } from './api-load';
import { checkSoak } from './checker';
import { chaincodeServers, docker, killNode, networkNodes, raftLeader, restartNode, waitRaftRejoined, type NetworkNodes } from './faults';
import type { AccessLogObservation, ApiCallObservation, ApiGrantObservation, DirectionHistory, EscrowObservation, FaultRecord, LedgerPacket, RouteEvent, SoakHistory } from './history';
import { addLinkFault, clearNetFaults, linkFaultStats } from './net-faults';
import { newLoadState, RateGate, runWorker, type Worker } from './load';
import { replayCommand, soakOptions } from './options';
import { describeFault, faultSchedule, type Fault } from './schedule';

const A = 'chain-a';
/** The hospital API's answers must come within this (its own Fabric calls are bounded well below it). */
const API_BOUND_MS = 90_000;
/** Patients on chain-b using the hospital API from their device, and the pace of their cycles. */
const API_PATIENTS = 2;
const API_RATE = 0.5;
const B = 'chain-b';
/** chain-c, on the second, independent network (net2). */
const C = 'chain-c';
const NET = 'net1';

const line = (s = '') => process.stdout.write(`${s}\n`);
const elapsed = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

/** A `medbridge` daemon the soak kills and starts again (relay, record server). */
class Daemon {
  service?: Service;
  constructor(
    readonly name: string,
    private readonly args: string[],
    private readonly logFile: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    running.push(this);
  }

  async start(): Promise<void> {
    this.service = await startService(this.name, this.args, this.logFile, this.env, 120_000);
  }

  async kill(): Promise<void> {
    const child = this.service?.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolveExit) => {
      child.once('exit', () => resolveExit());
      child.kill('SIGKILL');
    });
  }

  async stop(): Promise<void> {
    await this.service?.stop();
  }
}

/** Every daemon the soak started, for a stop from outside (stopDaemonsOnSignal). */
const running: Daemon[] = [];

interface Injector {
  nodes: NetworkNodes;
  /** Every relay of the run (chain-a <-> chain-b, and chain-a <-> chain-c with net2). */
  relays: Daemon[];
  records: Daemon;
  api: Daemon;
  apiState: ApiState;
  fetchesInFlight: () => number;
}

/** How an orderer's return ended: every channel's Raft leader counts all consenters active again, or not. */
function rejoined(ms: number | undefined): string {
  return ms === undefined ? 'NOT every consenter active again within 120 s' : `every consenter active again after ${(ms / 1000).toFixed(1)} s`;
}

/**
 * An orderer fault runs only on a whole Raft cluster: killing a second orderer while an earlier
 * one has not been readmitted would take the quorum away, which is an outage, not a fault the
 * soak promises to survive. The fault is then not injected (and the run fails saying so).
 */
async function raftWhole(nodes: NetworkNodes): Promise<void> {
  if ((await waitRaftRejoined(nodes, [A, B], 10_000)) === undefined) throw new Error('not injected: a consenter of an earlier orderer fault is still not active again (the Raft quorum would be lost)');
}

async function inject(f: Fault, x: Injector): Promise<string> {
  const down = () => sleep(f.downMs);
  switch (f.kind) {
    case 'relay-kill': {
      const pids = x.relays.map((r) => r.service?.child.pid);
      await Promise.all(x.relays.map((r) => r.kill()));
      await down();
      for (const r of x.relays) await r.start();
      return `relay${pids.length > 1 ? 's' : ''} pid ${pids.join(', ')} killed (SIGKILL), restarted from ${pids.length > 1 ? 'their checkpoints' : 'its checkpoint'} as pid ${x.relays.map((r) => r.service?.child.pid).join(', ')}`;
    }
    case 'record-server-kill': {
      // Mid-transfer: wait (a bounded while) for a fetch to be in flight, then kill.
      const until = Date.now() + 30_000;
      while (x.fetchesInFlight() === 0 && Date.now() < until) await sleep(20);
      const inFlight = x.fetchesInFlight();
      await x.records.kill();
      await down();
      await x.records.start();
      return `record server killed (SIGKILL) with ${inFlight} fetch(es) in flight, restarted`;
    }
    case 'api-kill': {
      // While requests are in flight (a bounded wait for one), like the record server.
      const until = Date.now() + 30_000;
      while (x.apiState.inFlight === 0 && Date.now() < until) await sleep(20);
      const inFlight = x.apiState.inFlight;
      const pid = x.api.service?.child.pid;
      x.apiState.down = true;
      x.apiState.kills += 1;
      try {
        await x.api.kill();
        await down();
        await x.api.start();
      } finally {
        x.apiState.down = false;
      }
      return `hospital API pid ${pid} killed (SIGKILL) with ${inFlight} request(s) in flight, restarted as pid ${x.api.service?.child.pid}`;
    }
    case 'peer-restart': {
      const peer = x.nodes.peers[f.org ?? '']?.[f.peer ?? 0];
      if (!peer) throw new Error(`no peer #${f.peer} of ${f.org}`);
      const launch = await killNode(x.nodes, peer.name);
      await down();
      const pid = await restartNode(x.nodes, launch, peer);
      return `${peer.name} killed (SIGKILL), restarted as pid ${pid}`;
    }
    case 'orderer-leader-restart': {
      await raftWhole(x.nodes);
      const leader = await raftLeader(x.nodes, A);
      if (!leader) throw new Error(`no orderer reports itself Raft leader of ${A}`);
      const launch = await killNode(x.nodes, leader.name);
      await down();
      const pid = await restartNode(x.nodes, launch, leader);
      return `${A} Raft leader ${leader.name} killed (SIGKILL), restarted as pid ${pid}; ${rejoined(await waitRaftRejoined(x.nodes, [A, B]))}`;
    }
    case 'orderer-down': {
      await raftWhole(x.nodes);
      const o = x.nodes.orderers[f.orderer ?? 0];
      if (!o) throw new Error(`no orderer #${f.orderer}`);
      const launch = await killNode(x.nodes, o.name, 'SIGTERM');
      await down();
      const pid = await restartNode(x.nodes, launch, o);
      return `${o.name} stopped for ${(f.downMs / 1000).toFixed(1)} s, restarted as pid ${pid}; ${rejoined(await waitRaftRejoined(x.nodes, [A, B]))}`;
    }
    case 'chaincode-restart': {
      const server = chaincodeServers(x.nodes, f.org ?? '')[0];
      if (!server) throw new Error(`no running chaincode server of ${f.org}`);
      const launch = await killNode(x.nodes, server.name);
      await down();
      const pid = await restartNode(x.nodes, launch, server);
      return `${server.name} killed (SIGKILL), restarted as pid ${pid}`;
    }
    case 'net-delay-loss': {
      const node = f.orderer !== undefined ? x.nodes.orderers[f.orderer] : x.nodes.peers[f.org ?? '']?.[f.peer ?? 0];
      if (!node) throw new Error(`no such node (${f.org ?? ''} peer #${f.peer ?? ''} orderer #${f.orderer ?? ''})`);
      const applied = addLinkFault({ port: node.port, delayMs: f.delayMs ?? 100, lossPct: f.lossPct ?? 5, rateKbit: f.rateKbit ?? 1024 });
      let stats: string;
      try {
        await down();
      } finally {
        stats = linkFaultStats();
        clearNetFaults();
      }
      return `${node.name}: ${applied} for ${(f.downMs / 1000).toFixed(1)} s; ${stats}; removed`;
    }
    case 'container-pause': {
      const peer = x.nodes.peers[f.org ?? '']?.[f.peer ?? 0];
      if (!peer) throw new Error(`no peer #${f.peer} of ${f.org}`);
      const container = `medbridge-${x.nodes.net}-${peer.name}`;
      docker('pause', container);
      await down();
      docker('unpause', container);
      return `${container} paused for ${(f.downMs / 1000).toFixed(1)} s`;
    }
  }
}

/** Commits a heartbeat on `cc`'s channel: the block every event scan of the run ends at. */
async function fence(cc: Chaincode): Promise<{ txId: string; block: number }> {
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await cc.system.heartbeat('soak fence');
      return { txId: r.txId, block: Number(r.blockNumber) };
    } catch (e) {
      if (attempt >= 20) throw e;
      await sleep(1000);
    }
  }
}

/** The route's packet events on `cc`'s channel from `startBlock` up to the fence transaction. */
async function scanEvents(cc: Chaincode, route: string, startBlock: number, fenceTx: string): Promise<RouteEvent[]> {
  const names = new Set(['PacketSent', 'PacketReceived', 'PacketTimeoutRecorded', 'PacketAcknowledged', 'PacketTimedOut']);
  const out: RouteEvent[] = [];
  const stream = await cc.events({ startBlock: BigInt(startBlock) });
  try {
    for await (const e of stream) {
      if (e.txId === fenceTx) break;
      const body = e.payload as { routeId?: string; sequence?: number };
      if (names.has(e.name) && body.routeId === route && typeof body.sequence === 'number') {
        out.push({ name: e.name as RouteEvent['name'], sequence: body.sequence, blockNumber: Number(e.blockNumber) });
      }
    }
  } finally {
    stream.close();
  }
  return out;
}

/** ConsentGranted events of `patients` on `cc`'s channel from `startBlock` up to the fence transaction. */
async function scanGrants(cc: Chaincode, patients: ReadonlySet<string>, startBlock: number, fenceTx: string): Promise<{ consentId: string; txId: string }[]> {
  const out: { consentId: string; txId: string }[] = [];
  const stream = await cc.events({ startBlock: BigInt(startBlock) });
  try {
    for await (const e of stream) {
      if (e.txId === fenceTx) break;
      const body = e.payload as { consentId?: string; patientId?: string };
      if (e.name === 'ConsentGranted' && typeof body.consentId === 'string' && patients.has(body.patientId ?? '')) out.push({ consentId: body.consentId, txId: e.txId });
    }
  } finally {
    stream.close();
  }
  return out;
}

async function sentOn(cc: Chaincode, route: string): Promise<LedgerPacket[]> {
  const items = await allPages((page) => cc.crossChain.listPackets(route, { pageSize: 200, bookmark: page.bookmark }));
  return items.map((p) => {
    const payload = p.packet.payload as { consentId?: string } | null;
    return {
      sequence: p.packet.sequence,
      type: p.packet.type,
      ...(payload && typeof payload.consentId === 'string' ? { consentId: payload.consentId } : {}),
      packetHash: p.packetHash,
      status: p.status,
      txId: p.txId,
      sentAtMs: p.packet.sentAtMs,
    };
  });
}

async function receivedOn(cc: Chaincode, route: string) {
  const items = await allPages((page) => cc.crossChain.listReceipts(route, { pageSize: 200, bookmark: page.bookmark }));
  return items.map((r) => ({ sequence: r.sequence, packetHash: r.packetHash, outcome: r.outcome, receivedAtMs: r.receivedAtMs }));
}

function readCheckpoint(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  return Number((JSON.parse(readFileSync(file, 'utf8')) as { blockNumber: string }).blockNumber);
}

async function main(): Promise<number> {
  const o = soakOptions();
  const t0 = Date.now();
  const runId = `${o.seed.toString(36)}-${Date.now().toString(36)}`;
  const route = `soak-${runId}`;
  const routeC = `soakc-${runId}`;
  const long = o.packets >= 1000 || (o.minutes ?? 0) >= 10;
  const replay = replayCommand(o, long ? 'soak' : 'test-soak');
  line(`soak: seed ${o.seed}, at least ${o.packets} packets${o.minutes ? ` and ${o.minutes} min` : ''}, at most ${o.rate} packets/s, ${o.workers} patients, ${o.runtime} runtime, route ${route}${o.net2 ? ` and ${routeC} (${A} <-> ${C}, net2)` : ''}`);
  line(`soak: replay with: ${replay}`);
  if (o.faults.includes('net-delay-loss')) {
    const leftover = clearNetFaults();
    if (leftover.length > 0) line(`soak: removed a network fault left by an earlier run: ${leftover.join(', ')}`);
  }

  const cfg = config();
  const dataDir = gatewayDataDir(cfg, loadProfile('HospitalA').network);
  const work = mkdtempSync(join(tmpdir(), 'medbridge-soak-'));
  const logDir = join(runtimeDir(), 'soak', runId);
  mkdirSync(logDir, { recursive: true });
  const relayState = join(work, 'relay');
  const daemonEnv = { ...process.env, MEDBRIDGE_LOG_LEVEL: process.env.MEDBRIDGE_LOG_LEVEL ?? 'info' };
  const relay = new Daemon('relay', ['relay', 'start', '--from', A, '--to', B, '--both', '--port', '0', '--routes', route, '--state-dir', relayState], join(logDir, 'relay.log'), daemonEnv);
  const relayStateC = join(work, 'relay-c');
  const relayC = o.net2 ? new Daemon('relay-c', ['relay', 'start', '--from', A, '--to', C, '--both', '--port', '0', '--routes', routeC, '--state-dir', relayStateC, '--source-org', 'HospitalA', '--dest-org', 'HospitalD'], join(logDir, 'relay-c.log'), daemonEnv) : undefined;
  const relays = relayC ? [relay, relayC] : [relay];
  const records = new Daemon('records', ['records', 'serve', '--org', 'HospitalA'], join(logDir, 'records-hospitala.log'), daemonEnv);
  // HospitalB's API on chain-b, with its peer's TLS pair (SAN localhost, the org's TLS CA), as the tests run it.
  const profileB = loadProfile('HospitalB');
  const peerTlsB = dirname(profileB.peers[0]?.tlsRootCert ?? '');
  const apiConfig = join(work, 'api-hospitalb.json');
  writeFileSync(apiConfig, JSON.stringify({ org: 'HospitalB', channel: B, listen: { host: '127.0.0.1', port: 0 }, tls: { cert: join(peerTlsB, 'server.crt'), key: join(peerTlsB, 'server.key') }, dataDir: join(work, 'api'), logLevel: 'info' }));
  const api = new Daemon('api', ['serve', '--config', apiConfig], join(logDir, 'api-hospitalb.log'), daemonEnv);
  const apiState = new ApiState(() => (api.service?.status as { url?: string } | undefined)?.url);
  const apiTls: ApiTls = { cert: readFileSync(profileB.identities.user.certificate, 'utf8'), key: readFileSync(profileB.identities.user.privateKey, 'utf8'), ca: readFileSync(profileB.peers[0]?.tlsRootCert ?? '', 'utf8') };
  const apiCalls: ApiCallObservation[] = [];
  const apiGrants: ApiGrantObservation[] = [];
  const clients: FabricClient[] = [];
  const open = (org: string) => {
    const c = FabricClient.open(org);
    clients.push(c);
    return c;
  };
  const admin = new CrossChainAdmin();
  const valueGov = new ValueGovernance(A);
  let store: RecordStore | undefined;
  try {
    const hospitalA = open('HospitalA');
    const hospitalB = open('HospitalB');
    const ccA = new Chaincode(hospitalA, A);
    const ccB = new Chaincode(hospitalB, B);
    const chains: Record<string, Chaincode> = { [A]: ccA, [B]: ccB };
    const hospitalD = o.net2 ? open('HospitalD') : undefined;
    const ccC = hospitalD ? new Chaincode(hospitalD, C) : undefined;
    if (ccC) chains[C] = ccC;
    // Every route of the run as [route, chain, chain], and the directions (source, dest, route) it carries.
    const routes: [string, string, string][] = [[route, A, B], ...(ccC ? [[routeC, A, C] as [string, string, string]] : [])];
    const directionsOfRun = routes.flatMap(([r, x, y]) => [[x, y, r], [y, x, r]] as [string, string, string][]);

    line(`setup: value transfer on ${A}, route ${route} (${elapsed(t0)})`);
    const value = await valueGov.ensureValueTransfer();
    await admin.ensureRoute(A, B, route, ['consent.grant', 'consent.revoke']);
    if (ccC) {
      line(`setup: route ${routeC} between ${A} and ${C} (net2) (${elapsed(t0)})`);
      await admin.ensureRoute(A, C, routeC, ['consent.grant', 'consent.revoke']);
    }
    const incentive = new IncentiveService(ccA);
    const before = await incentive.snapshot();
    const start: Record<string, { txId: string; block: number }> = { [A]: await fence(ccA), [B]: await fence(ccB), ...(ccC ? { [C]: await fence(ccC) } : {}) };

    for (const r of relays) await r.start();
    await records.start();
    await api.start();
    line(`setup: relay, HospitalA's record server and HospitalB's API (${apiState.url() ?? '?'}) running; logs in ${logDir} (${elapsed(t0)})`);

    // Patients: half at HospitalA (chain-a, granting HospitalB over to chain-b, one record each
    // that HospitalB fetches), half at HospitalB (chain-b, granting HospitalA over to chain-a).
    store = new RecordStore(storeFileOf(dataDir, hospitalA.mspId));
    const custodian = new Custodian(hospitalA, store);
    const requester = loadProfile('HospitalB');
    const custodianTrust = trustedOrgs([loadProfile('HospitalA')])[0];
    if (!custodianTrust) throw new Error('HospitalA profile has no TLS section');
    const trustedChains = await readTrustedChains(hospitalB, requester.channels, [A]);
    let inFlight = 0;
    let fetches = 0;
    // Every other fetch goes through HospitalB's API (which asks the same record exchange).
    const fetch = async (recordId: string, consentId: string): Promise<{ txId: string; via: 'exchange' | 'api' }> => {
      const endpoint = readEndpoint(dataDir, hospitalA.mspId);
      if (!endpoint) throw new Error('HospitalA record server published no endpoint');
      inFlight += 1;
      try {
        if (fetches++ % 2 === 1) return { ...(await fetchThroughApi(apiState, apiCalls, API_BOUND_MS, apiTls, recordId, consentId)), via: 'api' };
        return { ...(await fetchRecord({ url: endpoint.url, custodian: custodianTrust, identity: tlsIdentityOf(requester), trustedChains, request: { recordId, purpose: 'TREAT', consentId }, timeoutMs: 30_000 })), via: 'exchange' };
      } finally {
        inFlight -= 1;
      }
    };
    const workers: Worker[] = [];
    for (let i = 0; i < o.workers; i++) {
      const onA = i % 2 === 0;
      const consents = new ConsentService(onA ? ccA : ccB);
      const patient = generatePatientKey();
      await consents.registerPatient(patient);
      const w: Worker = { consents, patient, grantee: onA ? hospitalB.mspId : hospitalA.mspId, dest: onA ? B : A, direction: onA ? `${A}->${B}` : `${B}->${A}` };
      if (onA) {
        const content = Buffer.from(JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: `soak ${i}` } }));
        w.recordId = (await custodian.put({ channel: A, patientId: patient.patientId, category: 'Observation', content })).recordId;
        w.fetch = fetch;
      }
      workers.push(w);
    }
    // With net2: one patient at HospitalA granting HospitalD over to chain-c, one at HospitalD granting HospitalA over to chain-a.
    if (ccC && hospitalD) {
      for (const [cc, grantee, dest] of [[ccA, hospitalD.mspId, C], [ccC, hospitalA.mspId, A]] as const) {
        const consents = new ConsentService(cc);
        const patient = generatePatientKey();
        await consents.registerPatient(patient);
        workers.push({ consents, patient, grantee, dest, direction: `${cc.channel}->${dest}`, route: routeC });
      }
    }
    const apiPatients: ApiPatient[] = [];
    const consentsB = new ConsentService(ccB);
    for (let i = 0; i < API_PATIENTS; i++) {
      const patient = generatePatientKey();
      await consentsB.registerPatient(patient);
      apiPatients.push({ patient, signer: consentsB.signer, grantee: hospitalA.mspId });
    }
    line(`setup: ${workers.length} patients registered, ${workers.filter((w) => w.recordId).length} records anchored, ${apiPatients.length} patients on HospitalB's API (${elapsed(t0)})`);

    const windowMs = o.minutes ? o.minutes * 60_000 : (o.packets / o.rate) * 1000;
    const nodes = networkNodes(REPO_ROOT, runtimeDir(), NET);
    const schedule = o.faults.length === 0 ? [] : faultSchedule({
      seed: o.seed,
      windowMs,
      orgs: Object.keys(nodes.peers),
      peersPerOrg: Math.min(...Object.values(nodes.peers).map((p) => p.length)),
      orderers: nodes.orderers.length,
      rounds: Math.max(1, Math.floor(windowMs / 240_000)),
      kinds: o.faults,
    });
    line(`faults: ${schedule.length} over a ${(windowMs / 1000).toFixed(0)} s window (seed ${o.seed}):`);
    for (const f of schedule) line(`  ${describeFault(f)}`);

    // Load and faults run together; the load stops once it has sent its packets, its minutes
    // are over and every fault has run (or at twice the window plus ten minutes, whatever happens).
    const state = newLoadState();
    const gate = new RateGate(o.rate);
    const loadStart = Date.now();
    let faultsDone = false;
    const hardStop = loadStart + 2 * windowMs + 600_000;
    const done = () =>
      Date.now() > hardStop || (faultsDone && state.packets >= o.packets && (!o.minutes || Date.now() - loadStart >= o.minutes * 60_000));
    const faultRecords: FaultRecord[] = [];
    const faultLoop = (async () => {
      for (const f of schedule) {
        const wait = loadStart + f.atMs - Date.now();
        if (wait > 0) await sleep(wait);
        const atMs = Date.now() - loadStart;
        try {
          const detail = await inject(f, { nodes, relays, records, api, apiState, fetchesInFlight: () => inFlight });
          faultRecords.push({ kind: f.kind, atMs, ok: true, detail });
          line(`  t+${(atMs / 1000).toFixed(1).padStart(6)} s  ${f.kind}: ${detail} (${state.packets} packets so far)`);
        } catch (e) {
          const detail = e instanceof Error ? e.message : String(e);
          faultRecords.push({ kind: f.kind, atMs, ok: false, detail });
          line(`  t+${(atMs / 1000).toFixed(1).padStart(6)} s  ${f.kind} FAILED: ${detail}`);
        }
      }
      faultsDone = true;
    })();
    const progress = setInterval(() => line(`  load: ${state.packets} packets, ${state.served.length} records served (${elapsed(loadStart)})`), 30_000);
    const apiGate = new RateGate(API_RATE);
    await Promise.all([
      faultLoop,
      ...workers.map((w) => runWorker(w, state, gate, done, route)),
      ...apiPatients.map((p) => runApiPatient(p, apiState, { calls: apiCalls, grants: apiGrants }, { boundMs: API_BOUND_MS, tls: apiTls, gate: apiGate, done })),
    ]);
    clearInterval(progress);
    const loadMs = Date.now() - loadStart;
    line(`load: stopped after ${(loadMs / 1000).toFixed(1)} s with ${state.packets} packets sent (${state.served.length} records served, ${state.fetchFailures} fetches failed)`);
    if (state.errors.size > 0) line(`load: client errors (expected under faults): ${[...state.errors].map(([k, n]) => `${k} x${n}`).join(', ')}`);
    for (const [k, m] of state.firstMessages) line(`  first ${k}: ${m}`);

    // Drain: until every packet on both source ledgers is settled, for as long as the relay
    // settles one at least every SOAK_DRAIN_MINUTES (a relay that stops settling is a finding).
    const drainStart = Date.now();
    let openAtEnd = 0;
    let lastOpen = Number.POSITIVE_INFINITY;
    let lastProgress = Date.now();
    let lastReport = Date.now();
    for (;;) {
      let open = 0;
      for (const [source, , r] of directionsOfRun) open += (await sentOn(chains[source] as Chaincode, r)).filter((p) => p.status === 'sent').length;
      openAtEnd = open;
      if (open === 0) break;
      if (open < lastOpen) {
        lastOpen = open;
        lastProgress = Date.now();
      }
      if (Date.now() - lastReport > 30_000) {
        line(`  drain: ${open} packets to settle (${elapsed(drainStart)})`);
        lastReport = Date.now();
      }
      if (Date.now() - lastProgress > o.drainMinutes * 60_000) {
        line(`drain: ${open} packets unsettled, none settled in the last ${o.drainMinutes} min`);
        break;
      }
      await sleep(2000);
    }
    const drain = { complete: openAtEnd === 0, openAtEnd, ms: Date.now() - drainStart };
    line(`drain: ${elapsed(drainStart)}`);
    for (const r of relays) await r.stop();
    await records.stop();
    await api.stop();

    // Read both ledgers into the history.
    const end: Record<string, { txId: string; block: number }> = { [A]: await fence(ccA), [B]: await fence(ccB), ...(ccC ? { [C]: await fence(ccC) } : {}) };
    const directions: DirectionHistory[] = [];
    for (const [source, dest, r] of directionsOfRun) {
      const route = r;
      const src = chains[source] as Chaincode;
      const dst = chains[dest] as Chaincode;
      const events = [
        ...(await scanEvents(src, route, (start[source] as { block: number }).block, (end[source] as { txId: string }).txId)).filter((e) => ['PacketSent', 'PacketAcknowledged', 'PacketTimedOut'].includes(e.name)),
        ...(await scanEvents(dst, route, (start[dest] as { block: number }).block, (end[dest] as { txId: string }).txId)).filter((e) => ['PacketReceived', 'PacketTimeoutRecorded'].includes(e.name)),
      ];
      const nextBlock = readCheckpoint(join(route === routeC ? relayStateC : relayState, `${source}--${dest}.checkpoint.json`));
      directions.push({
        routeId: route,
        source,
        dest,
        sends: state.sends.get(`${source}->${dest}`) ?? [],
        sent: await sentOn(src, route),
        received: await receivedOn(dst, route),
        events,
        ...(nextBlock === undefined ? {} : { checkpoint: { nextBlock, sourceHeight: (end[source] as { block: number }).block + 1 } }),
      });
    }
    const revocations = [];
    for (const r of state.revocations) {
      const mirror = new ConsentService(chains[r.dest] as Chaincode);
      const status = await mirror.checkRemoteConsent(r.source, r.consentId, 'TREAT').then((c) => c.status, () => undefined);
      revocations.push({ ...r, ...(status === undefined ? {} : { destStatus: status }) });
    }
    const escrows: EscrowObservation[] = [];
    for (const d of directions.filter((x) => x.source === A)) {
      for (const p of d.sent) {
        const e = await incentive.escrow(d.routeId, p.sequence);
        escrows.push({ routeId: d.routeId, sequence: p.sequence, packetStatus: p.status, ...(e ? { escrow: { status: e.status, amount: e.amount, paidOut: (e.payouts ?? []).reduce((s, x) => s + x.amount, 0) } } : {}) });
      }
    }
    const after = await incentive.snapshot();
    const accessLog: AccessLogObservation[] = [];
    for (const w of workers.filter((x) => x.recordId)) {
      for (const e of await new ConsentService(ccA).accessLog(w.patient.patientId)) {
        if (e.kind === 'access' && e.recordId) accessLog.push({ patientId: e.patientId, recordId: e.recordId, txId: e.txId, allowed: e.allowed });
      }
    }
    const apiPatientIds = new Set(apiPatients.map((p) => p.patient.patientId));
    const granted = await scanGrants(ccB, apiPatientIds, (start[B] as { block: number }).block, (end[B] as { txId: string }).txId);
    for (const g of apiGrants.filter((x) => x.revoked)) {
      const status = await consentsB.getConsent(g.consentId).then((c) => c.status, () => undefined);
      if (status !== undefined) g.ledgerStatus = status;
    }
    const history: SoakHistory = {
      seed: o.seed,
      drain,
      directions,
      revocations,
      ...(value.params.minFee > 0 ? { fees: { chain: A, escrows, before: { supply: before.supply, escrowed: before.escrowed }, after: { supply: after.supply, escrowed: after.escrowed } } } : {}),
      served: state.served,
      accessLog,
      api: { boundMs: API_BOUND_MS, calls: apiCalls, grants: apiGrants, granted },
      faults: faultRecords,
    };
    const result = checkSoak(history);
    const c = result.counts;
    line('');
    line(`soak ${result.ok ? 'PASSED' : 'FAILED'}: seed ${o.seed}, ${(loadMs / 1000).toFixed(0)} s of load, ${elapsed(t0)} in all`);
    line(`  packets sent ${c.sent} (client: ${c.clientCommitted} committed, ${c.clientUnknown} unknown, ${c.clientFailed} refused)`);
    line(`  delivered ${c.delivered} (error acknowledgements ${c.errorAcks}), acknowledged ${c.acknowledged}, timed out ${c.timedOut}`);
    line(`  duplicates ${c.duplicates}, lost ${c.lost}`);
    for (const [dir, x] of Object.entries(c.byDirection)) line(`    ${dir.padEnd(18)} ${x.route}: sent ${x.sent}, delivered ${x.delivered}, acknowledged ${x.acknowledged}, duplicates ${x.duplicates}, lost ${x.lost}`);
    line(`  revocations ${c.revocations}, in force where sent ${c.revocationsInForce}, longest send-to-in-force ${(c.maxRevocationMs / 1000).toFixed(1)} s`);
    line(`  records served ${c.served} (${c.servedViaApi} through HospitalB's API), each with its access-log entry unless listed below`);
    const ac = c.api;
    line(`  API: ${ac.calls} requests, ${ac.ok} 2xx, ${ac.refused} refused with a code, ${ac.unanswered} unanswered (API down); grants ${apiGrants.length} (${ac.grantsAcknowledged} acknowledged), ${ac.grantsOnLedger} on the ledger once, ${ac.revocationsInForce} revocations in force; slowest answer ${(Math.max(0, ...apiCalls.map((x) => x.ms)) / 1000).toFixed(1)} s`);
    if (history.fees) line(`  fees on ${A}: ${escrows.filter((e) => e.escrow?.status === 'paid').length} paid, ${escrows.filter((e) => e.escrow?.status === 'refunded').length} refunded, ${escrows.filter((e) => e.escrow?.status === 'held').length} held; supply ${before.supply} -> ${after.supply}`);
    line(`  faults injected: ${Object.entries(c.faults).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}${c.faultsFailed ? `, ${c.faultsFailed} FAILED` : ''}`);
    for (const v of result.violations) line(`  VIOLATION ${v.code}: ${v.message}`);
    // The network's own logs go with the report (network.sh down removes them).
    cpSync(join(nodes.runtimeDir, 'logs'), join(logDir, 'nodes'), { recursive: true });
    if (ccC) cpSync(join(runtimeDir(), 'net2', 'logs'), join(logDir, 'nodes-net2'), { recursive: true });
    const reportFile = join(logDir, 'report.json');
    writeFileSync(reportFile, JSON.stringify({ runId, options: o, route, loadMs, schedule, result, clientErrors: Object.fromEntries(state.errors), firstErrorMessages: Object.fromEntries(state.firstMessages), history }, null, 2));
    line(`  report ${reportFile}`);
    if (long) {
      const summaryFile = join(REPO_ROOT, 'test', 'bench', 'results', 'soak-long.json');
      writeFileSync(summaryFile, `${JSON.stringify(longSummary({ o, replay, loadMs, history, result, errors: Object.fromEntries(state.errors) }), null, 2)}\n`);
      line(`  summary ${summaryFile}`);
    }
    if (!result.ok) line(`soak: ${result.violations.length} violation(s); replay with: ${replay}`);
    return result.ok ? 0 : 1;
  } catch (e) {
    const err = toClientError(e);
    line(`soak FAILED to run: ${err.code}: ${err.message}`);
    line(`soak: seed ${o.seed}; replay with: ${replay}; logs in ${logDir}`);
    return 2;
  } finally {
    for (const r of relays) await r.stop().catch(() => undefined);
    await records.stop().catch(() => undefined);
    await api.stop().catch(() => undefined);
    if (o.faults.includes('net-delay-loss')) clearNetFaults();
    store?.close();
    valueGov.close();
    admin.close();
    for (const c of clients) c.close();
  }
}


/**
 * The long soak's figures for the docs (test/bench/results/soak-long.json, quoted by
 * network/RELIABILITY.md): verdict, counts, client errors, drain and how each orderer came back.
 */
function longSummary(x: { o: ReturnType<typeof soakOptions>; replay: string; loadMs: number; history: SoakHistory; result: ReturnType<typeof checkSoak>; errors: Record<string, number> }) {
  return {
    command: 'make soak',
    replay: x.replay,
    commit: sourceCommit(),
    date: new Date().toISOString(),
    seed: x.o.seed,
    options: x.o,
    loadMs: x.loadMs,
    drain: x.history.drain,
    verdict: x.result.ok ? 'PASSED' : 'FAILED',
    violations: x.result.violations,
    counts: x.result.counts,
    clientErrors: x.errors,
    ordererFaults: x.history.faults.filter((f) => f.kind.startsWith('orderer')).map((f) => ({ kind: f.kind, atMs: f.atMs, detail: f.detail })),
  };
}

/**
 * A soak stopped from outside (Ctrl-C, `kill`, make interrupted) stops the relay and the record
 * server it started before it exits: they are its children, and a relay left running would go on
 * submitting to a network that is about to be taken down.
 */
function stopDaemonsOnSignal(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      line(`soak: ${signal}: removing any network fault, stopping the relay, the record server and the API`);
      clearNetFaults();
      const code = signal === 'SIGINT' ? 130 : 143;
      void Promise.allSettled(running.map((d) => d.stop())).then(() => process.exit(code));
      setTimeout(() => process.exit(code), 15_000).unref();
    });
  }
}

stopDaemonsOnSignal();
void main().then((code) => {
  process.exitCode = code;
  // Fabric's gRPC channels can keep the loop alive after close; the report is written.
  setTimeout(() => process.exit(code), 2000).unref();
});
