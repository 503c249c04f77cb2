/**
 * Drives the `medbridge` CLI as a user would: spawned processes with --json, for the
 * cli/relay/records integration tests. Builds the gateway once (tsc -b is incremental).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REPO = join(__dirname, '..', '..');
export const CLI = join(REPO, 'gateway', 'bin', 'medbridge.js');

export function buildGateway(): void {
  const r = spawnSync('npx', ['tsc', '-b', 'chaincode', 'gateway'], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gateway does not compile:\n${r.stdout}\n${r.stderr}`);
}

/** A private keys/data folder per test file, so runs never share state. */
export function testEnv(): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'medbridge-it-'));
  return { ...process.env, MEDBRIDGE_KEYS_DIR: join(dir, 'keys'), MEDBRIDGE_DATA_DIR: join(dir, 'data'), MEDBRIDGE_LOG_LEVEL: 'warn' };
}

export interface CliResult<T = any> {
  code: number;
  json: T;
  stderr: string;
}

/** Runs `medbridge <args> --json` to completion. */
export function cli<T = any>(env: NodeJS.ProcessEnv, ...args: string[]): Promise<CliResult<T>> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [CLI, ...args, '--json'], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      let json: unknown = null;
      try {
        json = out.trim() === '' ? null : JSON.parse(out);
      } catch {
        reject(new Error(`medbridge ${args.join(' ')} printed no JSON (exit ${code}):\n${out}\n${err}`));
        return;
      }
      resolveRun({ code: code ?? -1, json: json as T, stderr: err });
    });
  });
}

/** Like cli() but fails the test with the CLI's own error unless it exits 0. */
export async function ok<T = any>(env: NodeJS.ProcessEnv, ...args: string[]): Promise<T> {
  const r = await cli<T>(env, ...args);
  if (r.code !== 0) throw new Error(`medbridge ${args.join(' ')} exited ${r.code}: ${JSON.stringify(r.json)}\n${r.stderr}`);
  return r.json;
}

export interface Running<T = any> {
  child: ChildProcess;
  status: T;
}

/** Starts a long-running command (relay start, records serve); ready once it printed its JSON status. */
export function startDaemon<T = any>(env: NodeJS.ProcessEnv, ...args: string[]): Promise<Running<T>> {
  return new Promise((resolveStart, reject) => {
    const child = spawn(process.execPath, [CLI, ...args, '--json'], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
        // wait for the rest of the document
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`medbridge ${args.join(' ')} exited ${code} before it was ready:\n${out}\n${err.slice(-2000)}`)));
  });
}

/** Stops a daemon: SIGTERM (graceful) or SIGKILL (a crash), and waits for it to be gone. */
export function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolveStop());
    child.kill(signal);
  });
}
