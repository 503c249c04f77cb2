/**
 * Long-running `medbridge` services started by the demo and the benchmark (relays, the
 * record exchange): spawned as real processes, ready when they print their JSON status,
 * stopped with SIGTERM (and SIGKILL if they do not go).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../config';

export const CLI = join(REPO_ROOT, 'gateway', 'bin', 'medbridge.js');

export interface Service<T = Record<string, unknown>> {
  name: string;
  child: ChildProcess;
  status: T;
  logFile: string;
  stop(): Promise<void>;
}

/** Starts `medbridge <args> --json`; resolves with the first JSON object it prints. */
export function startService<T = Record<string, unknown>>(name: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env, readyTimeoutMs = 60_000): Promise<Service<T>> {
  return startScript<T>(name, CLI, [...args, '--json'], logFile, env, readyTimeoutMs);
}

/** Starts `node <script> <args>` (another of the project's executables, e.g. the BLS signer); ready as startService. */
export async function startScript<T = Record<string, unknown>>(name: string, script: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env, readyTimeoutMs = 60_000): Promise<Service<T>> {
  mkdirSync(dirname(logFile), { recursive: true });
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [script, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr?.pipe(log);
  let out = '';
  const status = await new Promise<T>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not report ready within ${readyTimeoutMs} ms; see ${logFile}`)), readyTimeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      log.write(chunk);
      try {
        const parsed = JSON.parse(out) as T & { error?: { message: string } };
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.pipe(log);
        if (parsed.error) reject(new Error(`${name} failed: ${parsed.error.message}`));
        else resolveReady(parsed);
      } catch {
        // not a whole JSON document yet
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was ready; see ${logFile}`));
    });
  });
  return {
    name,
    child,
    status,
    logFile,
    stop: () => stopProcess(child),
  };
}

export function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolveStop();
    });
    child.kill('SIGTERM');
  });
}
