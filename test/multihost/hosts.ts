/**
 * The hosts of the multi-host network as the suite sees them (network/scripts/multihost.sh): the
 * network's description, which namespace holds which address, and the `medbridge` CLI run on one
 * org's host (`ip netns exec`), as that org's own process would run in its own data centre.
 */
import { spawn, spawnSync, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

export const REPO = join(__dirname, '..', '..');
export const CLI = join(REPO, 'gateway', 'bin', 'medbridge.js');
/** A verification node's BLS signer service (gateway/src/signer/main.ts), compiled. */
export const SIGNER = join(REPO, 'gateway', 'dist', 'signer', 'main.js');
export const NETWORK = process.env.MULTIHOST_NETWORK ?? 'net1-hosts';
export const RUNTIME = process.env.MEDBRIDGE_RUNTIME ?? join(REPO, '.runtime', 'multihost');
export const RT = join(RUNTIME, NETWORK);

export interface Placed {
  address: string;
  name: string;
}

export interface Description {
  ordererOrg: { name: string; host?: Placed; orderers: { name: string; endpoint: string }[] };
  orgs: { name: string; mspId: string; host?: Placed; peers: { name: string; endpoint: string }[] }[];
}

export function description(): Description {
  const file = join(RT, 'network.json');
  if (!existsSync(file)) throw new Error(`${file} is missing: start the network with network/scripts/multihost.sh up`);
  return JSON.parse(readFileSync(file, 'utf8')) as Description;
}

/** address -> namespace, as multihost.sh wrote it. */
export function namespaces(): Map<string, string> {
  const file = process.env.MEDBRIDGE_NETNS_MAP ?? join(RUNTIME, '.multihost', 'netns.map');
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  return new Map(lines.map((l) => l.split(' ') as [string, string]));
}

/** The namespace a process runs in (`ip netns identify`), '' for the root namespace. */
export function namespaceOf(pid: number): string {
  const r = spawnSync('ip', ['netns', 'identify', String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip netns identify ${pid}: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * The pid of a node's process: the pid file's (native runtime), or the main process of the
 * container the pid file names (docker runtime).
 */
export function pidOf(node: string): number {
  const handle = readFileSync(join(RT, 'pids', `${node}.pid`), 'utf8').trim();
  if (/^\d+$/.test(handle)) return Number(handle);
  const r = spawnSync('docker', ['inspect', '-f', '{{.State.Pid}}', handle], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`docker inspect ${handle} (${node}): ${r.stderr}`);
  return Number(r.stdout.trim());
}

/** True when a TCP connection to host:port opens within 2 s (from this namespace). */
export function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/** The namespace of an org's (or the client's) host. */
export function hostNamespace(key: string): string {
  return `mbmh-${key.toLowerCase()}`;
}

/** `ip` arguments that run a node script on HOST: the CLI with --json, or another script as is. */
function argv(host: string, args: string[], script = CLI): string[] {
  return ['netns', 'exec', hostNamespace(host), process.execPath, script, ...args, ...(script === CLI ? ['--json'] : [])];
}

export interface CliResult<T = any> {
  code: number;
  json: T;
  stderr: string;
}

/** `medbridge <args> --json` on HOST (client, hospitala, ...), to completion. */
export function cliOn<T = any>(host: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<CliResult<T>> {
  return scriptOn<T>(host, env, CLI, ...args);
}

/** A node SCRIPT on HOST to completion; its stdout is one JSON document. */
export function scriptOn<T = any>(host: string, env: NodeJS.ProcessEnv, script: string, ...args: string[]): Promise<CliResult<T>> {
  return finished(spawn('ip', argv(host, args, script), { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] })).then(({ code, out, err }) => {
    try {
      return { code: code ?? -1, json: (out.trim() === '' ? null : JSON.parse(out)) as T, stderr: err };
    } catch {
      throw new Error(`medbridge ${args.join(' ')} on ${host} printed no JSON (exit ${code}):\n${out}\n${err}`);
    }
  });
}

/** A child's whole stdout and stderr and its exit code, once it closed; rejects if it could not start. */
function finished(child: ChildProcessByStdio<null, Readable, Readable>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolveRun, reject) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, out, err }));
  });
}

export async function okOn<T = any>(host: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<T> {
  const r = await cliOn<T>(host, env, ...args);
  if (r.code !== 0) throw new Error(`medbridge ${args.join(' ')} on ${host} exited ${r.code}: ${JSON.stringify(r.json)}\n${r.stderr}`);
  return r.json;
}

export interface Daemon<T = any> {
  child: ChildProcess;
  status: T;
}

/** A long-running `medbridge` command on HOST; ready once it printed its JSON status. */
export function daemonOn<T = any>(host: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<Daemon<T>> {
  return scriptDaemonOn<T>(host, env, CLI, ...args);
}

/** A long-running node SCRIPT on HOST that prints one JSON status once ready. */
export function scriptDaemonOn<T = any>(host: string, env: NodeJS.ProcessEnv, script: string, ...args: string[]): Promise<Daemon<T>> {
  return new Promise((resolveStart, reject) => {
    // `ip netns exec` replaces itself with node: the child's pid is the daemon's.
    const child = spawn('ip', argv(host, args, script), { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const onData = (c: Buffer) => {
      out += c.toString();
      try {
        const status = JSON.parse(out) as T;
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolveStart({ child, status });
      } catch {
        // the rest of the document is still coming
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`medbridge ${args.join(' ')} on ${host} exited ${code} before it was ready:\n${out}\n${err.slice(-2000)}`)));
  });
}

export function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolveStop());
    child.kill(signal);
  });
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** A program (a network script) on HOST to completion; rejects with its output's tail unless it exits 0. */
export function runOn(host: string, env: NodeJS.ProcessEnv, program: string, ...args: string[]): Promise<RunResult> {
  return finished(spawn('ip', ['netns', 'exec', hostNamespace(host), program, ...args], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] })).then(({ code, out, err }) => {
    if (code === 0) return { stdout: out, stderr: err };
    throw new Error(`${program} ${args.join(' ')} on ${host} exited ${code}:\n${out}\n${err.length > 4000 ? `${err.slice(0, 2000)}\n[…]\n${err.slice(-2000)}` : err}`);
  });
}
