/**
 * Gateway configuration: read from the environment once, validated with zod, passed
 * down from the entry point. Nothing else in the gateway reads process.env (the
 * profile search path in fabric/profile.ts follows the same variables).
 *
 * | variable                  | default                              | meaning                                   |
 * |---------------------------|--------------------------------------|-------------------------------------------|
 * | MEDBRIDGE_RUNTIME         | <repo>/.runtime                      | runtime state of embedded networks        |
 * | MEDBRIDGE_NETWORK         | net1                                 | embedded network that demo/bench drive    |
 * | MEDBRIDGE_LOG_LEVEL       | info (services), warn (CLI)          | pino level                                |
 * | MEDBRIDGE_KEYS_DIR        | ~/.medbridge/keys                    | patient key files (0600), outside the repo|
 * | MEDBRIDGE_DATA_DIR        | <runtime>/<profile's network>/gateway| record stores, relay checkpoints          |
 * | MEDBRIDGE_DEFAULT_ORG     | (none)                               | org when --org is not given               |
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';

/** Repository root (two levels above gateway/src or gateway/dist). */
export const REPO_ROOT = resolve(__dirname, '..', '..');

/** Where runtime state lives: $MEDBRIDGE_RUNTIME or <repo>/.runtime. */
export function runtimeDir(): string {
  return process.env.MEDBRIDGE_RUNTIME ?? join(REPO_ROOT, '.runtime');
}

const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
export type LogLevel = z.infer<typeof LogLevel>;

const EnvSchema = z.object({
  MEDBRIDGE_RUNTIME: z.string().min(1).optional(),
  MEDBRIDGE_NETWORK: z.string().regex(/^[A-Za-z0-9_-]+$/, 'a directory name').default('net1'),
  MEDBRIDGE_LOG_LEVEL: LogLevel.optional(),
  MEDBRIDGE_KEYS_DIR: z.string().min(1).optional(),
  MEDBRIDGE_DATA_DIR: z.string().min(1).optional(),
  MEDBRIDGE_DEFAULT_ORG: z.string().min(1).optional(),
});

export interface Config {
  runtimeDir: string;
  network: string;
  /** Explicit log level, if the environment set one. */
  logLevel?: LogLevel;
  keysDir: string;
  /**
   * MEDBRIDGE_DATA_DIR: one folder for the gateway state of every network. Unset, the state of
   * each network lives under the runtime, keyed by the network its profiles name (gatewayDataDir).
   */
  dataDir?: string;
  defaultOrg?: string;
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_ERROR';
}

/** Validates an environment into a Config (pure; tests pass their own env). */
export function parseConfig(env: Record<string, string | undefined>, home = homedir()): Config {
  // An empty variable means "not set", as in most shells' conventions.
  const set = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('MEDBRIDGE_') && v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(set);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid medbridge environment: ${issues}`);
  }
  const e = parsed.data;
  const runtime = e.MEDBRIDGE_RUNTIME ?? runtimeDir();
  return {
    runtimeDir: runtime,
    network: e.MEDBRIDGE_NETWORK,
    logLevel: e.MEDBRIDGE_LOG_LEVEL,
    keysDir: e.MEDBRIDGE_KEYS_DIR ?? join(home, '.medbridge', 'keys'),
    dataDir: e.MEDBRIDGE_DATA_DIR,
    defaultOrg: e.MEDBRIDGE_DEFAULT_ORG,
  };
}

const FOLDER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * Where the gateway keeps the state of one network (`records/<mspId>.sqlite`, record exchange
 * endpoints, `relay/` checkpoints): MEDBRIDGE_DATA_DIR when set, otherwise
 * `<runtime>/<network>/gateway`, where `network` is the one the org's connection profile names
 * (net1, net2, fabric-samples-test-network, ...), so two networks never share a record store.
 */
export function gatewayDataDir(cfg: Config, network: string): string {
  if (cfg.dataDir) return cfg.dataDir;
  if (!FOLDER_NAME.test(network)) {
    throw new ConfigError(`the network name "${network}" of a connection profile is not a folder name; set MEDBRIDGE_DATA_DIR or rename it`);
  }
  return join(cfg.runtimeDir, network, 'gateway');
}

let loaded: Config | undefined;

/** The process's configuration, read from process.env on first use. */
export function config(): Config {
  loaded ??= parseConfig(process.env);
  return loaded;
}
