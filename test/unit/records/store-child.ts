/**
 * Runs store-writer.ts as a child process (bundled once with esbuild; packages resolve from the
 * repository's node_modules) and kills it with SIGKILL when its output says so.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { buildSync } from 'esbuild';

const ROOT = resolve(__dirname, '../../..');

/** Bundles the writer into a fresh folder; returns the script's path. */
export function bundleWriter(): string {
  const outfile = join(mkdtempSync(join(tmpdir(), 'medbridge-store-writer-')), 'store-writer.js');
  buildSync({
    entryPoints: [join(__dirname, 'store-writer.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    outfile,
    packages: 'external',
    alias: { '@medbridge/chaincode': join(ROOT, 'chaincode/src/api.ts') },
    logLevel: 'warning',
  });
  return outfile;
}

export interface KilledRun {
  pid: number;
  /** Every line the child printed before it was killed. */
  lines: string[];
}

/**
 * Starts `node script ...args`, calls `killWhen` with every line it prints (and every 20 ms)
 * and sends SIGKILL when it answers true; rejects after `deadlineMs` without a kill.
 */
export function runUntilKilled(script: string, args: string[], killWhen: (lines: readonly string[]) => boolean, deadlineMs = 30_000): Promise<KilledRun> {
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  return new Promise((resolveRun, reject) => {
    let killed = false;
    const check = () => {
      if (!killed && killWhen(lines)) {
        killed = true;
        child.kill('SIGKILL');
      }
    };
    const poll = setInterval(check, 20);
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child did not reach its kill point within ${deadlineMs} ms (printed ${lines.length} lines)`));
    }, deadlineMs);
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      check();
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearInterval(poll);
      clearTimeout(deadline);
      if (signal !== 'SIGKILL') reject(new Error(`the child ended by itself (code ${code}, signal ${signal})`));
      else resolveRun({ pid: child.pid!, lines });
    });
  });
}
