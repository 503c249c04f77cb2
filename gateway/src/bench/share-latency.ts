/**
 * `make bench`: end-to-end share latency on the embedded network — from the moment a
 * patient's grant is submitted on chain-a until the consent is usable on chain-b (the
 * relay's ReceivePacket committed there) — over N shares, and, in the same run, the
 * latency of a plain commit (System:Heartbeat) on each channel for comparison. A share is
 * one transaction on chain-a (CrossChain:GrantAndSend: the grant and its packet) and the
 * relay's ReceivePacket on chain-b; the relay's own phases (reads, proof, commit, and the
 * acknowledgement that follows off the share's path) come from its phase metric.
 * With each proof scheme the relay can use, side by side: `fabric-endorsement` (scheme 1, route
 * `bench-a-b`, relay service as a child process) and `bls12381-aggregate` (BLS keys enrolled for
 * every peer of both chains, one signer service per peer, both lists
 * carrying the keys, each chain registered on the other with both schemes, and a route opened
 * for the aggregate scheme only, new each run; the relay service and every signer service as child
 * processes, the relay given the signer services in a --bls-signers file).
 *
 *   node gateway/dist/bench/share-latency.js [--shares 200] [--commits 100] [--name share-latency]
 *                                            [--scheme fabric-endorsement|bls12381-aggregate|both]
 *
 * Writes test/bench/results/<name>.json (every sample) and test/bench/results/<name>.md (the table
 * for the README). Shares run one after another, so each figure is an unloaded latency.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { config, gatewayDataDir, REPO_ROOT } from '../config';
import { toClientError } from '../errors';
import { FabricClient, type SubmitTimings } from '../fabric/client';
import { Chaincode, orAbsent } from '../fabric/contracts';
import { Custodian } from '../records/custodian';
import { storeFileOf } from '../records/endpoints';
import { RecordStore } from '../records/store';
import { ConsentService } from '../services/consent-service';
import { CrossChainAdmin } from '../services/crosschain-admin';
import { generatePatientKey } from '../services/patient-keys';
import { ReceiptWatcher } from '../services/receipt-watcher';
import { startScript, startService, type Service } from '../demo/processes';
import { backoffDelay, sleep } from '../relay/backoff';
import { AGGREGATE_SCHEME, ENDORSEMENT_SCHEME } from '../relay/relay-scheme';
import { profilesForChannel } from '../fabric/profile';
import type { SignerEndpoint } from '../proofs';
import { enrolBlsNode } from '../signer/enrol';
import { listHash, parseNodeList, type PacketType, type VerificationNode, type VerificationNodeList } from '@medbridge/chaincode';
import { trustOf } from '../services/crosschain-admin';
import { summarize, type Summary } from './stats';
import { sourceCommit } from '../source-commit';

const A = 'chain-a';
const B = 'chain-b';
const ROUTE = 'bench-a-b';

interface ShareSample {
  i: number;
  consentId: string;
  sequence: number;
  /** grant and packet send submitted -> committed on chain-a (one transaction) */
  grantMs: number;
  /** 0: the send is in the grant's transaction (kept for the shape of older results) */
  sendMs: number;
  /** send committed -> receipt committed on chain-b (relay: proof + ReceivePacket) */
  relayMs: number;
  /** grant submitted -> consent usable on chain-b */
  totalMs: number;
  /** The GrantAndSend submit's own phases, from the client (FabricClient.observeSubmits). */
  grantPhases?: TxPhases;
}

/** A committed submit's phases (SubmitTimings without its ids). */
type TxPhases = Omit<SubmitTimings, 'channel' | 'contract' | 'fn' | 'txId'>;

function phasesOf(t: SubmitTimings): TxPhases {
  const { endorseMs, submitMs, commitMs, totalMs, laggingPeerRetries, conflictRetries, retryWaitMs } = t;
  return { endorseMs, submitMs, commitMs, totalMs, laggingPeerRetries, conflictRetries, retryWaitMs };
}

/** Means of each phase over `xs`, and the number of transactions that retried for each cause. */
function phaseSummary(xs: readonly TxPhases[]) {
  const mean = (f: (x: TxPhases) => number): number => (xs.length === 0 ? Number.NaN : Math.round((xs.reduce((a, x) => a + f(x), 0) / xs.length) * 10) / 10);
  return {
    n: xs.length,
    endorseMeanMs: mean((x) => x.endorseMs),
    submitMeanMs: mean((x) => x.submitMs),
    commitMeanMs: mean((x) => x.commitMs),
    retryWaitMeanMs: mean((x) => x.retryWaitMs),
    withLaggingPeerRetry: xs.filter((x) => x.laggingPeerRetries > 0).length,
    withConflictRetry: xs.filter((x) => x.conflictRetries > 0).length,
  };
}

/** Mean rows of a transaction's client-side phases, and how many proposals were made again. */
function phaseRows(what: string, p: ReturnType<typeof phaseSummary>): string[] {
  return [
    meanRow(`${what}: endorsement (proposal -> endorsed)`, { mean: p.endorseMeanMs, n: p.n }),
    meanRow(`${what}: handed to the orderer`, { mean: p.submitMeanMs, n: p.n }),
    meanRow(`${what}: commit status (ordering, block, validation, commit)`, { mean: p.commitMeanMs, n: p.n }),
    meanRow(`${what}: waits before proposing again (${p.withLaggingPeerRetry} of ${p.n} after endorsers disagreed, ${p.withConflictRetry} after a conflict)`, { mean: p.retryWaitMeanMs, n: p.n }),
  ];
}

/** Runs `submit` and returns what it returned with the phases of the last submit of `fn` that `client` committed meanwhile. */
async function withPhases<R>(client: FabricClient, fn: string, submit: () => Promise<R>): Promise<{ value: R; phases?: TxPhases }> {
  let last: TxPhases | undefined;
  const stop = client.observeSubmits((t) => {
    if (t.fn === fn) last = phasesOf(t);
  });
  try {
    return { value: await submit(), phases: last };
  } finally {
    stop();
  }
}

interface SchemeRun {
  scheme: string;
  route: string;
  relay: string;
  /** Signers per chain whose aggregate the proofs carry (0: scheme 1). */
  signers: number;
  durationS: number;
  samples: ShareSample[];
  /** Mean seconds of each relay phase (medbridge_relay_phase_seconds), with its count. */
  phases: Record<string, { mean: number; n: number }>;
}

/** Means of the relay's phase histogram from Prometheus text (one relay direction: `from` -> `to`). */
function phaseMeans(text: string, from: string, to: string): Record<string, { mean: number; n: number }> {
  const sums = new Map<string, number>();
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^medbridge_relay_phase_seconds_(sum|count)\{([^}]*)\} ([0-9.eE+-]+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (labels.from !== from || labels.to !== to || !labels.phase) continue;
    (m[1] === 'sum' ? sums : counts).set(labels.phase, Number(m[3]));
  }
  const out: Record<string, { mean: number; n: number }> = {};
  for (const [phase, n] of [...counts].sort(([x], [y]) => (x < y ? -1 : 1))) out[phase] = { mean: n > 0 ? ((sums.get(phase) ?? 0) / n) * 1000 : Number.NaN, n };
  return out;
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  return res.text();
}

/** The orderer BatchTimeout of each channel, from the network description (it bounds every commit). */
function batchTimeout(): string {
  const file = join(REPO_ROOT, 'network', 'networks', `${config().network}.json`);
  if (!existsSync(file)) return 'unknown';
  const net = JSON.parse(readFileSync(file, 'utf8')) as { channels?: Array<{ name: string; batch?: { timeout?: string } }> };
  const parts = (net.channels ?? []).map((c) => `${c.name} ${c.batch?.timeout ?? '?'}`);
  return parts.length > 0 ? parts.join(', ') : 'unknown';
}

/**
 * Runs one measured sample again when the network is briefly unavailable (e.g. a chaincode
 * redeploy by someone else): that sample is discarded, never counted with the outage in it.
 */
async function sample<T>(what: string, run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (e) {
      const err = toClientError(e);
      if (err.kind !== 'unavailable' || attempt >= 30) throw e;
      process.stderr.write(`  ${what}: ${err.code}, sample discarded; retrying (${attempt})\n`);
      await sleep(backoffDelay(attempt, { initialMs: 500, maxMs: 5000, factor: 2 }));
    }
  }
}

async function plainCommits(cc: Chaincode, n: number): Promise<{ ms: number[]; phases: TxPhases[] }> {
  const ms: number[] = [];
  const phases: TxPhases[] = [];
  for (let i = 0; i < n; i++) {
    const one = await sample(`commit ${cc.channel} #${i}`, async () => {
      const t0 = performance.now();
      const { phases: p } = await withPhases(cc.client, 'Heartbeat', () => cc.system.heartbeat(`bench-${i}`));
      return { ms: performance.now() - t0, p };
    });
    ms.push(one.ms);
    if (one.p) phases.push(one.p);
  }
  return { ms, phases };
}

interface BlsChain {
  channel: string;
  /** The chaincode as a member, for reads. */
  chaincode: Chaincode;
  chainId: string;
  nodes: VerificationNode[];
  signers: SignerEndpoint[];
}

/** Enrols (or reuses) a BLS key for every peer of the channel's orgs and starts a signer service per peer, each in its own process. */
async function blsChain(admin: CrossChainAdmin, chaincode: Chaincode, running: Service[], logDir: string): Promise<BlsChain> {
  const channel = chaincode.channel;
  const c: BlsChain = { channel, chaincode, chainId: await admin.chainId(channel), nodes: [], signers: [] };
  for (const p of profilesForChannel(channel)) {
    for (let i = 0; i < p.peers.length; i++) {
      const { keyFile, node } = enrolBlsNode(p, i, c.chainId);
      c.nodes.push(node);
      // A signer service in its own process (`signer/main.js serve`), as each verification node runs one.
      const s = await startScript<{ nodeId: string; url: string }>(`signer ${p.org}/${i}`, SIGNER, ['serve', '--profile', p.org, '--peer', String(i), '--channel', channel, '--key', keyFile, '--port', '0'], join(logDir, `signer-${p.org}-${i}-${channel}.log`));
      running.push(s);
      const tls = p.tls;
      if (!tls) throw new Error(`profile of ${p.org} has no client TLS material`);
      c.signers.push({
        nodeId: s.status.nodeId,
        url: s.status.url,
        tls: { ca: readFileSync(p.peers[i]!.tlsRootCert, 'utf8'), cert: readFileSync(tls.clientCert, 'utf8'), key: readFileSync(tls.clientKey, 'utf8'), serverName: 'localhost' },
      });
    }
  }
  return c;
}

/** The chain's list at `epoch`: one subgroup per member org, every peer with its BLS key, threshold 1, rule all. */
function blsListFor(c: BlsChain, epoch: number): VerificationNodeList {
  return {
    chainId: c.chainId,
    epoch,
    rule: { kind: 'all' },
    subgroups: profilesForChannel(c.channel).map((p) => ({
      id: `sg-${p.mspId}`,
      mspId: p.mspId,
      threshold: 1,
      nodes: c.nodes.filter((n) => n.mspId === p.mspId).sort((x, y) => (x.nodeId < y.nodeId ? -1 : 1)),
    })),
  };
}

/**
 * Idempotent BLS set-up: both lists carry exactly the enrolled keys (reused when they already
 * do), each chain knows the other at its head list with both schemes, and `route` is open on
 * both for the aggregate scheme only.
 */
async function ensureBlsRoute(admin: CrossChainAdmin, a: BlsChain, b: BlsChain, route: string, packetTypes: PacketType[]): Promise<void> {
  for (const c of [a, b]) {
    const head = await admin.nodeList(c.channel);
    const wanted = blsListFor(c, (head?.epoch ?? 0) + 1);
    const same = head !== undefined && listHash(parseNodeList(head.list)) === listHash({ ...parseNodeList(wanted), epoch: head.epoch });
    if (!same) await admin.govern(c.channel, { kind: 'set-node-list', list: wanted });
  }
  for (const [on, remote] of [
    [b, a],
    [a, b],
  ] as const) {
    const head = await admin.nodeList(remote.channel);
    if (!head) throw new Error(`${remote.channel} has no node list`);
    const known = await orAbsent(on.chaincode.crossChain.getRemoteChain(remote.chainId), ['UNKNOWN_CHAIN']);
    if (!known || !known.schemes?.includes(AGGREGATE_SCHEME) || known.epoch < head.epoch) {
      await admin.govern(on.channel, { kind: 'register-remote', chainId: remote.chainId, orgs: trustOf(remote.channel), nodeList: head.list, schemes: [ENDORSEMENT_SCHEME, AGGREGATE_SCHEME] });
    }
  }
  for (const [c, counterparty] of [
    [a, b.chainId],
    [b, a.chainId],
  ] as const) {
    await admin.govern(c.channel, { kind: 'open-route', routeId: route, counterparty, packetTypes, rateLimit: { maxPackets: 10_000, windowMs: 60_000 }, schemes: [AGGREGATE_SCHEME] });
  }
}

/** The BLS signer service's executable (`serve` runs one node's service). */
const SIGNER = join(REPO_ROOT, 'gateway', 'dist', 'signer', 'main.js');

/** The relay's phases as the table names them (means: the relay reports them as a histogram). */
const PHASES: Array<[string, string]> = [
  ['receive.prepare', 'relay: reads before the proof (known epoch, route scheme, current list; the packet status and receipt are read beside the proof)'],
  ['receive.proof', 'relay: signatures of the chain-a nodes collected'],
  ['receive.commit', 'relay: ReceivePacket submitted -> committed on chain-b'],
  ['acknowledge.prepare', 'after the share: acknowledgement reads'],
  ['acknowledge.proof', 'after the share: signatures of the chain-b nodes over the acknowledgement'],
  ['acknowledge.commit', 'after the share: AcknowledgePacket submitted -> committed on chain-a'],
];

function meanRow(what: string, m: { mean: number; n: number }): string {
  return `| ${what} (mean) | ${m.n} | | | | ${m.mean.toFixed(0)} | |`;
}

function row(what: string, s: Summary): string {
  return `| ${what} | ${s.n} | ${s.p50.toFixed(0)} | ${s.p95.toFixed(0)} | ${s.p99.toFixed(0)} | ${s.mean.toFixed(0)} | ${s.max.toFixed(0)} |`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      shares: { type: 'string', default: '200' },
      commits: { type: 'string', default: '100' },
      name: { type: 'string', default: 'share-latency' },
      scheme: { type: 'string', default: 'both' },
    },
  });
  const shares = Number(values.shares);
  const commits = Number(values.commits);
  if (!Number.isInteger(shares) || shares < 1 || !Number.isInteger(commits) || commits < 1) throw new Error('--shares and --commits must be positive integers');
  const wanted = values.scheme === 'both' ? [ENDORSEMENT_SCHEME, AGGREGATE_SCHEME] : [values.scheme];
  if (!wanted.every((w) => w === ENDORSEMENT_SCHEME || w === AGGREGATE_SCHEME)) throw new Error(`--scheme must be ${ENDORSEMENT_SCHEME}, ${AGGREGATE_SCHEME} or both`);
  const cfg = config();
  const resultsDir = join(REPO_ROOT, 'test', 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'medbridge-bench-'));
  const services: Service[] = [];
  const signers: Service[] = [];
  const hospitalA = FabricClient.open('HospitalA');
  const hospitalB = FabricClient.open('HospitalB');
  const admin = new CrossChainAdmin();
  const watcher = new ReceiptWatcher(new Chaincode(hospitalB, B));
  const dataDir = gatewayDataDir(cfg, hospitalA.profile.network);
  const store = new RecordStore(storeFileOf(dataDir, hospitalA.mspId));
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const packetTypes: PacketType[] = ['consent.grant', 'consent.revoke', 'ping'];
  try {
    log('set-up: patient, record');
    await watcher.start();
    const consentA = new ConsentService(new Chaincode(hospitalA, A));
    const patient = generatePatientKey();
    await consentA.registerPatient(patient);
    const record = await new Custodian(hospitalA, store).put({ channel: A, patientId: patient.patientId, category: 'Observation', content: Buffer.from('{"resourceType":"Observation","id":"bench"}') });

    log(`plain commits: ${commits} on ${A}, ${commits} on ${B}`);
    const commitA = await plainCommits(new Chaincode(hospitalA, A), commits);
    const commitB = await plainCommits(new Chaincode(hospitalB, B), commits);

    /** `shares` shares one after another over `route`, with its relay already running. */
    const measure = async (scheme: string, route: string, warmUp = 0): Promise<ShareSample[]> => {
      log(`shares (${scheme}, route ${route}): ${shares}, one at a time${warmUp ? `, after ${warmUp} not counted` : ''}`);
      const samples: ShareSample[] = [];
      for (let i = -warmUp; i < shares; i++) {
        samples.push(
          await sample(`share #${i}`, async () => {
            const t0 = performance.now();
            const { value: shared, phases: grantPhases } = await withPhases(hospitalA, 'GrantAndSend', () =>
              consentA.grantAndShare(patient, patient.patientId, { grantee: hospitalB.mspId, recordIds: [record.recordId], purposes: ['TREAT'], days: 30 }, B, route),
            );
            const t1 = performance.now();
            const { sent } = shared.result;
            const arrival = await watcher.waitFor(sent.routeId, sent.sequence, 300_000);
            const t3 = performance.now() - (Date.now() - arrival.at);
            if (arrival.outcome !== 'success') throw new Error(`share ${i}: chain-b answered ${arrival.outcome}`);
            return { i, consentId: shared.consentId, sequence: sent.sequence, grantMs: t1 - t0, sendMs: 0, relayMs: t3 - t1, totalMs: t3 - t0, grantPhases };
          }),
        );
        if (i < 0) samples.pop();
        const t = samples[samples.length - 1]?.totalMs ?? 0;
        if ((i + 1) % 20 === 0) log(`  ${i + 1}/${shares}  last ${t.toFixed(0)} ms`);
      }
      // Spot-check that "arrived" means usable: the last consent is active on chain-b.
      const last = samples[samples.length - 1];
      if (last) {
        const check = await new ConsentService(new Chaincode(hospitalB, B)).checkRemoteConsent(A, last.consentId, 'TREAT');
        if (!check.allowed) throw new Error(`the last shared consent (${scheme}) is not usable on chain-b: ${check.reason}`);
      }
      return samples;
    };

    const started = Date.now();
    const runs: SchemeRun[] = [];
    if (wanted.includes(ENDORSEMENT_SCHEME)) {
      log(`set-up ${ENDORSEMENT_SCHEME}: route ${ROUTE}, relay service`);
      await admin.ensureRoute(A, B, ROUTE, packetTypes);
      const relay = await startService<{ metrics: string }>('relay', ['relay', 'start', '--from', A, '--to', B, '--both', '--port', '0', '--routes', ROUTE], join(dataDir, 'bench-logs', 'relay.log'));
      try {
        const t = Date.now();
        const samples = await measure(ENDORSEMENT_SCHEME, ROUTE);
        const phases = phaseMeans(await scrape(relay.status.metrics), A, B);
        runs.push({ scheme: ENDORSEMENT_SCHEME, route: ROUTE, relay: 'relay service (child process), scheme-1 proofs from the chain-a peers', signers: 0, durationS: (Date.now() - t) / 1000, samples, phases });
      } finally {
        await relay.stop();
      }
    }
    if (wanted.includes(AGGREGATE_SCHEME)) {
      const route = `bench-bls-${Date.now().toString(36)}`;
      log(`set-up ${AGGREGATE_SCHEME}: BLS keys, signer services, lists, registrations, route ${route}`);
      // The scheme-1 route first, so that its registration (scheme 1 only) never follows the BLS one.
      await admin.ensureRoute(A, B, ROUTE, packetTypes);
      const a = await blsChain(admin, new Chaincode(hospitalA, A), signers, join(dataDir, 'bench-logs'));
      const b = await blsChain(admin, new Chaincode(hospitalB, B), signers, join(dataDir, 'bench-logs'));
      await ensureBlsRoute(admin, a, b, route, packetTypes);
      // The relay as it runs in production and as scheme 1's does: a child process, given the signer
      // services of both chains in a --bls-signers file (throw-away network TLS material, this run's
      // work folder, owner-only).
      const signersFile = join(work, 'bls-signers.json');
      writeFileSync(signersFile, JSON.stringify({ [A]: a.signers, [B]: b.signers }), { mode: 0o600 });
      const relay = await startService<{ metrics: string }>(
        'relay',
        ['relay', 'start', '--from', A, '--to', B, '--both', '--port', '0', '--routes', route, '--bls-signers', signersFile],
        join(dataDir, 'bench-logs', 'relay-aggregate.log'),
      );
      try {
        const t = Date.now();
        // The relay's first share after it starts is not counted: it may still be reading the stream up to it.
        const samples = await measure(AGGREGATE_SCHEME, route, 1);
        const phases = phaseMeans(await scrape(relay.status.metrics), A, B);
        runs.push({ scheme: AGGREGATE_SCHEME, route, relay: `relay service (child process), aggregate proofs from ${a.signers.length} + ${b.signers.length} signer services, each a child process`, signers: a.signers.length, durationS: (Date.now() - t) / 1000, samples, phases });
      } finally {
        await relay.stop();
      }
    }

    const schemes = runs.map((r) => ({
      scheme: r.scheme,
      route: r.route,
      relay: r.relay,
      signers: r.signers,
      durationS: r.durationS,
      shares: {
        total: summarize(r.samples.map((s) => s.totalMs)),
        grantCommit: summarize(r.samples.map((s) => s.grantMs)),
        relay: summarize(r.samples.map((s) => s.relayMs)),
        grantPhases: phaseSummary(r.samples.flatMap((s) => (s.grantPhases ? [s.grantPhases] : []))),
      },
      relayPhases: r.phases,
      samples: r.samples,
    }));
    const result = {
      name: values.name,
      date: new Date().toISOString(),
      commit: sourceCommit(),
      machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
      network: { name: cfg.network, batchTimeout: batchTimeout(), schemes: runs.map((r) => r.scheme), routes: runs.map((r) => r.route) },
      command: 'make bench',
      durationS: (Date.now() - started) / 1000,
      plainCommit: { [A]: summarize(commitA.ms), [B]: summarize(commitB.ms) },
      plainCommitPhases: { [A]: phaseSummary(commitA.phases), [B]: phaseSummary(commitB.phases) },
      schemes,
    };
    writeFileSync(join(resultsDir, `${values.name}.json`), `${JSON.stringify(result, null, 2)}\n`);
    const relayStep = (scheme: string): string =>
      scheme === AGGREGATE_SCHEME ? 'relay: aggregate proof from chain-a signer services + receive committed on chain-b' : 'relay: proof from chain-a peers + receive committed on chain-b';
    const md = [
      `Share latency on the embedded network (${result.machine.cpus} cores, ${result.network.name}, BatchTimeout ${result.network.batchTimeout}, schemes ${result.network.schemes.join(' and ')}), \`make bench\`, ${result.date.slice(0, 10)}. Milliseconds.`,
      '',
      '| what | n | p50 | p95 | p99 | mean | max |',
      '|---|---|---|---|---|---|---|',
      ...schemes.flatMap((r) => [
        row(`**${r.scheme}${r.signers ? ` (${r.signers} signers)` : ''}: share, grant submitted on chain-a -> usable on chain-b**`, r.shares.total),
        row('  grant + packet send committed on chain-a (one transaction, GrantAndSend)', r.shares.grantCommit),
        ...phaseRows('    GrantAndSend', r.shares.grantPhases),
        row(`  ${relayStep(r.scheme)}`, r.shares.relay),
        ...PHASES.filter(([p]) => r.relayPhases[p]).map(([p, what]) => meanRow(`  ${what}`, r.relayPhases[p]!)),
      ]),
      row('plain commit on chain-a (System:Heartbeat)', result.plainCommit[A] as Summary),
      row('plain commit on chain-b (System:Heartbeat)', result.plainCommit[B] as Summary),
      ...phaseRows(`  ${A} Heartbeat`, result.plainCommitPhases[A]!),
      ...phaseRows(`  ${B} Heartbeat`, result.plainCommitPhases[B]!),
      '',
    ].join('\n');
    writeFileSync(join(resultsDir, `${values.name}.md`), md);
    process.stdout.write(`${md}\nresults: test/bench/results/${values.name}.json, test/bench/results/${values.name}.md\n`);
    return 0;
  } catch (e) {
    const err = toClientError(e);
    process.stderr.write(`bench failed: ${err.code}: ${err.message}${err.hint ? `\n  next: ${err.hint}` : ''}\n`);
    return 1;
  } finally {
    await watcher.close();
    store.close();
    for (const s of services) await s.stop();
    await Promise.all(signers.map((s) => s.stop()));
    admin.close();
    hospitalA.close();
    hospitalB.close();
    rmSync(work, { recursive: true, force: true });
  }
}

void main().then((code) => {
  process.exitCode = code;
});
