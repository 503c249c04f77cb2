/**
 * The configuration of `medbridge serve`: one JSON file, read and validated once at start-up
 * (zod). Relative paths resolve against the file's folder. Format and defaults: gateway/API.md
 * "Configuration".
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../config';
import { DEFAULT_HTTP_LIMITS } from '../http-limits';

const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export const ServeConfigSchema = z
  .object({
    /** The hospital org the server acts as: org name, MSP id or connection profile file. */
    org: z.string().min(1),
    /** The channel (the hospital's home chain); default: the org's first channel. */
    channel: z.string().min(1).optional(),
    listen: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65_535).default(8443),
      })
      .strict()
      .default({}),
    /**
     * TLS of the server. Hospital systems authenticate with a client certificate issued by the
     * org's CA (`clientCaCerts`, default: the org's MSP `cacerts` next to the profile's
     * crypto material). Without `tls`, the server speaks plain HTTP and refuses every
     * hospital-authenticated route (patient-signed requests still work): for loopback only.
     */
    tls: z
      .object({
        cert: z.string().min(1),
        key: z.string().min(1),
        clientCaCerts: z.array(z.string().min(1)).optional(),
      })
      .strict()
      .optional(),
    /**
     * A connection profile whose user identity is a clinician of the same org (medbridge.role =
     * clinician): break-glass is submitted with it, after the caller's own certificate showed
     * the clinician role. Without it, break-glass is refused with FORBIDDEN_ROLE.
     */
    clinicianProfile: z.string().min(1).optional(),
    /** Largest request body accepted (bytes). */
    bodyLimitBytes: z.number().int().min(1024).max(10_485_760).default(65_536),
    /**
     * Request heads and slow clients (gateway/API.md "Configuration"): a head over maxHeaderBytes is
     * 431; one not received within headersTimeoutMs, or a request not whole within
     * requestTimeoutMs, is 408 and the connection is closed; a TLS handshake must finish within
     * handshakeTimeoutMs; an idle keep-alive connection closes after keepAliveTimeoutMs.
     */
    limits: z
      .object({
        maxHeaderBytes: z.number().int().min(1024).max(65_536).default(DEFAULT_HTTP_LIMITS.maxHeaderBytes),
        headersTimeoutMs: z.number().int().min(100).max(120_000).default(DEFAULT_HTTP_LIMITS.headersTimeoutMs),
        requestTimeoutMs: z.number().int().min(100).max(600_000).default(DEFAULT_HTTP_LIMITS.requestTimeoutMs),
        keepAliveTimeoutMs: z.number().int().min(100).max(600_000).default(72_000),
        handshakeTimeoutMs: z.number().int().min(100).max(120_000).default(DEFAULT_HTTP_LIMITS.handshakeTimeoutMs),
        checkIntervalMs: z.number().int().min(100).max(30_000).default(DEFAULT_HTTP_LIMITS.checkIntervalMs),
      })
      .strict()
      .default({}),
    requestSigning: z
      .object({
        /** A signed request is refused when its timestamp is further than this from the server clock. */
        maxSkewMs: z.number().int().min(1_000).max(600_000).default(60_000),
      })
      .strict()
      .default({}),
    /**
     * Where custodians' record exchanges listen, by MSP id (e.g. `{"HospitalAMSP":
     * "https://hospital-a.example:7443"}`), for GET /v1/records/{recordId}/content. A custodian
     * not named here: the URL its `records serve` published in the network's data folder.
     */
    recordExchanges: z.record(z.string().url()).default({}),
    /**
     * How often the server receives the consents shared sealed with this org (gateway/API.md
     * "Sealed consents"): it walks the arrivals from every registered chain, fetches each one not
     * yet delivered from its custodian's record exchange and delivers it. 0: never (the CLI's
     * `consent receive` does it).
     */
    sealedReceiveIntervalMs: z.number().int().min(0).max(3_600_000).default(5_000),
    /** How long shutdown waits for in-flight requests before closing connections. */
    shutdownGraceMs: z.number().int().min(0).max(300_000).default(10_000),
    logLevel: LogLevel.default('info'),
    /**
     * The server's own state (enrolment codes). Default: `serve-<mspId>` in the gateway's data
     * folder of the org's network (MEDBRIDGE_DATA_DIR or the runtime folder).
     */
    dataDir: z.string().min(1).optional(),
    /** The built patient app (served at /app/). Default: gateway/app/dist of this installation. */
    appDir: z.string().min(1).optional(),
  })
  .strict();

export type ServeConfig = z.infer<typeof ServeConfigSchema>;

/** Validates a parsed config object; `base` is the folder relative paths resolve against. */
export function parseServeConfig(raw: unknown, base: string): ServeConfig {
  const parsed = ServeConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid serve configuration: ${issues}`);
  }
  const c = parsed.data;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  // An org given as a profile file is a path too; a bare name or MSP id is left as it is.
  const org = c.org.endsWith('.json') ? abs(c.org) : c.org;
  return {
    ...c,
    org,
    tls: c.tls && {
      cert: abs(c.tls.cert),
      key: abs(c.tls.key),
      ...(c.tls.clientCaCerts ? { clientCaCerts: c.tls.clientCaCerts.map(abs) } : {}),
    },
    ...(c.clinicianProfile ? { clinicianProfile: abs(c.clinicianProfile) } : {}),
    ...(c.dataDir ? { dataDir: abs(c.dataDir) } : {}),
    ...(c.appDir ? { appDir: abs(c.appDir) } : {}),
  };
}

/** Reads and validates a serve configuration file. */
export function loadServeConfig(file: string): ServeConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`cannot read serve configuration ${file}: ${(e as Error).message}`);
  }
  return parseServeConfig(raw, resolve(file, '..'));
}
