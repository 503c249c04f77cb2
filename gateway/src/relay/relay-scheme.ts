/**
 * Which proof scheme the relay builds for a route (chaincode/BLS.md "Relay side"), and the BLS
 * signer endpoints it is given per chain (`relay start --bls-signers <file>`).
 *
 * The verifying end's route decides (proofs/scheme-builders.ts builderForRoute): a route
 * registered without `schemes`, or with `fabric-endorsement` among them, gets scheme 1
 * (endorsements of the signing chain's own peers); a route whose schemes hold
 * `bls12381-aggregate` but not `fabric-endorsement` gets an aggregate proof from the signing
 * chain's signer services. Anything else stays scheme 1 and the destination's
 * UNSUPPORTED_SCHEME says why.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { BLS_SCHEME } from '@medbridge/chaincode';
import { ENDORSEMENT_SCHEME } from '@medbridge/chaincode';
import { ClientError, usageError } from '../errors';
import { builderForRoute, DEFAULT_BUILDER, type ProofOptions, type SignerEndpoint } from '../proofs';

export { signerCount } from '../proofs';
export { ENDORSEMENT_SCHEME };
export const AGGREGATE_SCHEME = BLS_SCHEME;

/** BLS signer services of each chain's verification nodes, by channel. */
export type SignerConfig = Readonly<Record<string, readonly SignerEndpoint[]>>;

/**
 * Proof options for a statement signed by `signingChannel` and verified on a route whose
 * registered schemes are `routeSchemes` (undefined: the route names none). Returns undefined
 * for scheme 1; throws `NO_BLS_SIGNERS` when the route needs the aggregate scheme and no
 * signers are configured for `signingChannel` (the relay retries with backoff).
 */
export function proofOptionsFor(routeSchemes: readonly string[] | undefined, signingChannel: string, signers: SignerConfig | undefined, routeId: string): ProofOptions | undefined {
  const builder = builderForRoute(routeSchemes);
  if (builder === DEFAULT_BUILDER) return undefined;
  if (!builder.usesSignerServices) return { scheme: builder.scheme };
  const endpoints = signers?.[signingChannel] ?? [];
  if (endpoints.length === 0) {
    throw new ClientError('NO_BLS_SIGNERS', 'usage', `route ${routeId} accepts only ${(routeSchemes ?? []).join(', ')} proofs, but the relay has no BLS signer endpoints for ${signingChannel}`, {
      hint: 'give the relay the signer services of that chain: relay start --bls-signers <file>',
    });
  }
  return { scheme: builder.scheme, signers: endpoints };
}

const PEM = /^-----BEGIN [A-Z0-9 ]+-----/;

/** A PEM given inline, or read from a path (relative to the signers file's folder). */
function pemOf(value: unknown, where: string, baseDir: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw usageError(`${where} must be a PEM or a path to a PEM file`);
  if (PEM.test(value.trim())) return value;
  const path = isAbsolute(value) ? value : resolve(baseDir, value);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw usageError(`${where}: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!PEM.test(text.trim())) throw usageError(`${where}: ${path} is not a PEM file`);
  return text;
}

/**
 * Parses the `--bls-signers` JSON: `{ "<channel>": [{ nodeId, url, tls: { ca, cert, key, serverName? } }, ...] }`,
 * where `ca`, `cert` and `key` are each an inline PEM or a path to one (relative paths from `baseDir`).
 */
export function parseSignerConfig(json: unknown, baseDir: string): Record<string, SignerEndpoint[]> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw usageError('the BLS signers file must be a JSON object {"<channel>": [endpoint, ...]}');
  const out: Record<string, SignerEndpoint[]> = {};
  for (const [channel, list] of Object.entries(json as Record<string, unknown>)) {
    if (!Array.isArray(list)) throw usageError(`signers of ${channel} must be an array`);
    out[channel] = list.map((raw: unknown, i): SignerEndpoint => {
      const where = `${channel}[${i}]`;
      const e = raw as { nodeId?: unknown; url?: unknown; tls?: { ca?: unknown; cert?: unknown; key?: unknown; serverName?: unknown } } | null;
      if (typeof e !== 'object' || e === null) throw usageError(`${where} must be an object`);
      if (typeof e.nodeId !== 'string' || e.nodeId === '') throw usageError(`${where}.nodeId must be a non-empty string`);
      if (typeof e.url !== 'string' || !/^https:\/\//.test(e.url)) throw usageError(`${where}.url must be an https:// URL`);
      if (typeof e.tls !== 'object' || e.tls === null) throw usageError(`${where}.tls must hold ca, cert and key`);
      if (e.tls.serverName !== undefined && typeof e.tls.serverName !== 'string') throw usageError(`${where}.tls.serverName must be a string`);
      return {
        nodeId: e.nodeId,
        url: e.url,
        tls: {
          ca: pemOf(e.tls.ca, `${where}.tls.ca`, baseDir),
          cert: pemOf(e.tls.cert, `${where}.tls.cert`, baseDir),
          key: pemOf(e.tls.key, `${where}.tls.key`, baseDir),
          ...(e.tls.serverName !== undefined ? { serverName: e.tls.serverName } : {}),
        },
      };
    });
  }
  return out;
}

/** Reads and parses a `--bls-signers` file. */
export function loadSignerConfig(file: string): Record<string, SignerEndpoint[]> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw usageError(`cannot read the BLS signers file ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseSignerConfig(json, dirname(resolve(file)));
}
