/**
 * Faults on the Fabric nodes of a network run by the native runtime (network/scripts/lib/
 * runtime-native.sh): a node is a process named by its pid file in <runtime>/<net>/pids. A kill
 * is `kill -9` of that process; a restart starts the very command line the runtime started,
 * with its environment and working directory (read from /proc before the kill), in its own
 * session, appending to the node's log, and writes the new pid file, so `network.sh check`,
 * `status` and `down` see the node as theirs again.
 *
 * The docker runtime's container pause (`docker pause` / `docker unpause` of a peer's
 * container) is here too; its process faults go through the container's own process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync, closeSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { sleep } from '../relay/backoff';

/** What is needed to start a node again exactly as the runtime started it. */
interface Launch {
  name: string;
  argv: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface NodeAddress {
  /** Pid-file name of the node, e.g. peer0.hospitala.net1.medbridge. */
  name: string;
  host: string;
  port: number;
}

/** The nodes of one network as its description lists them, with their pid-file names. */
export interface NetworkNodes {
  net: string;
  runtimeDir: string;
  orderers: (NodeAddress & { operationsPort: number })[];
  peers: Record<string, NodeAddress[]>;
}

interface DescriptionFile {
  name: string;
  host?: string;
  ordererOrg: { orderers: { name: string; port: number; operationsPort: number }[] };
  orgs: { name: string; peers: { name: string; port: number }[] }[];
}

/** Reads network/networks/<net>.json into node addresses (names as the runtime's pid files). */
export function networkNodes(repo: string, runtimeBase: string, net: string): NetworkNodes {
  const d = JSON.parse(readFileSync(join(repo, 'network', 'networks', `${net}.json`), 'utf8')) as DescriptionFile;
  const host = d.host ?? '127.0.0.1';
  const domain = `${net}.medbridge`;
  return {
    net,
    runtimeDir: join(runtimeBase, net),
    orderers: d.ordererOrg.orderers.map((o) => ({ name: `${o.name}.orderer.${domain}`, host, port: o.port, operationsPort: o.operationsPort })),
    peers: Object.fromEntries(d.orgs.map((org) => [org.name, org.peers.map((p) => ({ name: `${p.name}.${org.name.toLowerCase()}.${domain}`, host, port: p.port }))])),
  };
}

function pidFile(nodes: NetworkNodes, name: string): string {
  return join(nodes.runtimeDir, 'pids', `${name}.pid`);
}

function pidOf(nodes: NetworkNodes, name: string): number {
  const f = pidFile(nodes, name);
  if (!existsSync(f)) throw new Error(`${name}: no pid file ${f} (is the network up with the native runtime?)`);
  const pid = Number(readFileSync(f, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${name}: pid file ${f} holds no pid`);
  const cwd = readlinkSync(`/proc/${pid}/cwd`);
  if (cwd !== join(nodes.runtimeDir, 'nodes', name)) throw new Error(`${name}: pid ${pid} runs in ${cwd}, not in its node directory`);
  return pid;
}

function launchOf(nodes: NetworkNodes, name: string, pid: number): Launch {
  const nul = (f: string) => readFileSync(`/proc/${pid}/${f}`, 'utf8').split('\0').filter((s) => s !== '');
  const env: NodeJS.ProcessEnv = {};
  for (const kv of nul('environ')) {
    const i = kv.indexOf('=');
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return { name, argv: nul('cmdline'), env, cwd: join(nodes.runtimeDir, 'nodes', name) };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills a node with SIGKILL (or SIGTERM, a clean stop) and waits until its process is gone. */
export async function killNode(nodes: NetworkNodes, name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<Launch> {
  const pid = pidOf(nodes, name);
  const launch = launchOf(nodes, name, pid);
  process.kill(pid, signal);
  const deadline = Date.now() + 15_000;
  while (alive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
    }
    await sleep(100);
  }
  return launch;
}

/** Starts a killed node again, as the runtime started it, and waits for its port. */
export async function restartNode(nodes: NetworkNodes, launch: Launch, address?: { host: string; port: number }): Promise<number> {
  const [cmd, ...args] = launch.argv;
  if (!cmd) throw new Error(`${launch.name}: empty command line`);
  const log = openSync(join(nodes.runtimeDir, 'logs', `${launch.name}.log`), 'a');
  try {
    writeFileSync(log, `\n==== ${new Date().toISOString()} start ${launch.name} (soak restart)\n`);
    const child = spawn(cmd, args, { cwd: launch.cwd, env: launch.env, detached: true, stdio: ['ignore', log, log] });
    const pid = child.pid;
    if (pid === undefined) throw new Error(`${launch.name}: could not start ${cmd}`);
    child.unref();
    writeFileSync(pidFile(nodes, launch.name), `${pid}\n`);
    if (address) await waitListening(launch.name, address.host, address.port, pid);
    return pid;
  } finally {
    closeSync(log);
  }
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolveOpen) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolveOpen(true);
    });
    s.once('error', () => resolveOpen(false));
  });
}

async function waitListening(name: string, host: string, port: number, pid: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portOpen(host, port))) {
    if (!alive(pid)) throw new Error(`${name} exited after its restart (see its log)`);
    if (Date.now() > deadline) throw new Error(`${name} does not listen on ${host}:${port} ${timeoutMs} ms after its restart`);
    await sleep(200);
  }
}

/** The orderer that reports itself Raft leader of `channel` (operations metrics), if any. */
export async function raftLeader(nodes: NetworkNodes, channel: string): Promise<NetworkNodes['orderers'][number] | undefined> {
  for (const o of nodes.orderers) {
    try {
      const res = await fetch(`http://${o.host}:${o.operationsPort}/metrics`, { signal: AbortSignal.timeout(3_000) });
      const text = await res.text();
      if (text.split('\n').some((l) => l === `consensus_etcdraft_is_leader{channel="${channel}"} 1`)) return o;
    } catch {
      // a node that is down is not the leader
    }
  }
  return undefined;
}

async function raftMetrics(o: NetworkNodes['orderers'][number]): Promise<string> {
  try {
    const res = await fetch(`http://${o.host}:${o.operationsPort}/metrics`, { signal: AbortSignal.timeout(3_000) });
    return await res.text();
  } catch {
    return '';
  }
}

/**
 * Waits until, on every channel, the Raft leader counts every consenter active again (after an
 * orderer came back): the time it took, or undefined if it did not happen within `timeoutMs`.
 */
export async function waitRaftRejoined(nodes: NetworkNodes, channels: readonly string[], timeoutMs = 120_000): Promise<number | undefined> {
  const t0 = Date.now();
  for (;;) {
    const texts = await Promise.all(nodes.orderers.map(raftMetrics));
    const whole = channels.every((ch) =>
      texts.some((t) => {
        const lines = t.split('\n');
        const size = lines.find((l) => l.startsWith(`consensus_etcdraft_cluster_size{channel="${ch}"} `))?.split(' ')[1];
        return lines.includes(`consensus_etcdraft_is_leader{channel="${ch}"} 1`) && lines.includes(`consensus_etcdraft_active_nodes{channel="${ch}"} ${size}`);
      }),
    );
    if (whole) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) return undefined;
    await sleep(500);
  }
}

/** The chaincode server(s) of an org that run now: pid-file names ccaas.<org>.<net>-<port>, with their port. */
export function chaincodeServers(nodes: NetworkNodes, org: string): NodeAddress[] {
  const prefix = `ccaas.${org.toLowerCase()}.${nodes.net}-`;
  return readdirSync(join(nodes.runtimeDir, 'pids'))
    .filter((f) => f.startsWith(prefix) && f.endsWith('.pid'))
    .map((f) => f.slice(0, -'.pid'.length))
    .filter((name) => {
      try {
        pidOf(nodes, name);
        return true;
      } catch {
        return false;
      }
    })
    .map((name) => ({ name, host: nodes.peers[org]?.[0]?.host ?? '127.0.0.1', port: Number(name.slice(prefix.length)) }));
}

/** `docker pause|unpause` of a container (the docker runtime's node containers). */
export function docker(action: 'pause' | 'unpause', container: string): void {
  const r = spawnSync('docker', [action, container], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`docker ${action} ${container}: ${r.stderr.trim()}`);
}
