/**
 * Where each org's record exchange listens, for the embedded network: `records serve`
 * writes `<dataDir>/records/endpoints/<mspId>.json`; `records fetch --from <org>` reads it.
 * On a real deployment pass `--url`.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Endpoint {
  mspId: string;
  url: string;
  pid: number;
}

function fileOf(dataDir: string, mspId: string): string {
  return join(dataDir, 'records', 'endpoints', `${mspId}.json`);
}

export function publishEndpoint(dataDir: string, e: Endpoint): void {
  const file = fileOf(dataDir, e.mspId);
  mkdirSync(join(dataDir, 'records', 'endpoints'), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(e));
  renameSync(`${file}.tmp`, file);
}

export function withdrawEndpoint(dataDir: string, mspId: string): void {
  rmSync(fileOf(dataDir, mspId), { force: true });
}

export function readEndpoint(dataDir: string, mspId: string): Endpoint | undefined {
  const file = fileOf(dataDir, mspId);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as Endpoint;
}

export function storeFileOf(dataDir: string, mspId: string): string {
  return join(dataDir, 'records', `${mspId}.sqlite`);
}
