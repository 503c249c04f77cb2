/**
 * Connection profiles: one JSON file per org, written by `make network-up` for the
 * embedded networks (`.runtime/<network>/profiles/<org>.json`) or by hand for your own
 * network (format in gateway/CLI.md "Connection profiles"). Loaded and validated once.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { runtimeDir } from '../config';

const PeerSchema = z.object({
  name: z.string().min(1),
  endpoint: z.string().regex(/^[^:]+:\d+$/, 'endpoint must be host:port'),
  tlsRootCert: z.string().min(1),
  serverNameOverride: z.string().optional(),
});

const IdentitySchema = z.object({ certificate: z.string().min(1), privateKey: z.string().min(1) });

/**
 * Where the org's own services (record exchange, signers) run: they listen on `address` and the
 * other orgs reach them by `name`, which the org's TLS certificates carry. Absent: loopback.
 */
const HostSchema = z.object({ address: z.string().min(1), name: z.string().regex(/^[A-Za-z0-9.-]+$/, 'name must be a DNS name') });

export const ProfileSchema = z.object({
  network: z.string().min(1),
  org: z.string().min(1),
  mspId: z.string().min(1),
  channels: z.array(z.string().min(1)).min(1),
  chaincode: z.string().min(1).default('medbridge'),
  host: HostSchema.optional(),
  peers: z.array(PeerSchema).min(1),
  identities: z.object({ admin: IdentitySchema.optional(), user: IdentitySchema }),
  tls: z
    .object({ caCert: z.string().min(1), clientCert: z.string().min(1), clientKey: z.string().min(1) })
    .optional(),
});

export type Profile = z.infer<typeof ProfileSchema>;
export type PeerEndpoint = z.infer<typeof PeerSchema>;
export type OrgHost = z.infer<typeof HostSchema>;

/** The address an org's service listens on: `--host` if given, else the profile's host, else loopback. */
export function listenAddress(profile: Profile, explicit?: string): string {
  return explicit ?? profile.host?.address ?? '127.0.0.1';
}

/** The https URL other orgs use for a service of `profile`'s org listening on `host`:`port`. */
export function serviceUrl(profile: Profile, host: string, port: number): string {
  return `https://${profile.host?.name ?? host}:${port}`;
}
export type IdentityKind = 'user' | 'admin';

/** Profile directories to search: $MEDBRIDGE_PROFILES (colon-separated) or every `<runtime>/<net>/profiles`. */
export function profileDirs(): string[] {
  const explicit = process.env.MEDBRIDGE_PROFILES;
  if (explicit) return explicit.split(':').filter(Boolean);
  const root = runtimeDir();
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join(root, d.name, 'profiles'))
    .filter((p) => existsSync(p))
    .sort();
}

export class ProfileError extends Error {
  readonly code = 'PROFILE_ERROR';
}

/** Reads and validates a profile file; relative paths inside resolve against the file's folder. */
export function readProfile(file: string): Profile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ProfileError(`cannot read connection profile ${file}: ${(e as Error).message}`);
  }
  const parsed = ProfileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ProfileError(`connection profile ${file} is invalid: ${issues}`);
  }
  const base = resolve(file, '..');
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const p = parsed.data;
  return {
    ...p,
    peers: p.peers.map((peer) => ({ ...peer, tlsRootCert: abs(peer.tlsRootCert) })),
    identities: {
      user: { certificate: abs(p.identities.user.certificate), privateKey: abs(p.identities.user.privateKey) },
      admin: p.identities.admin && {
        certificate: abs(p.identities.admin.certificate),
        privateKey: abs(p.identities.admin.privateKey),
      },
    },
    tls: p.tls && { caCert: abs(p.tls.caCert), clientCert: abs(p.tls.clientCert), clientKey: abs(p.tls.clientKey) },
  };
}

/**
 * Finds an org's profile by org name ("HospitalA", "hospitala") or MSP id ("HospitalAMSP"),
 * or by a path to a profile file.
 */
export function loadProfile(org: string): Profile {
  if (org.endsWith('.json') && existsSync(org)) return readProfile(org);
  const wanted = org.toLowerCase().replace(/msp$/, '');
  const dirs = profileDirs();
  for (const dir of dirs) {
    const file = join(dir, `${wanted}.json`);
    if (existsSync(file)) return readProfile(file);
  }
  throw new ProfileError(
    dirs.length === 0
      ? `no connection profiles found under ${runtimeDir()}; run \`make network-up\` or set MEDBRIDGE_PROFILES`
      : `no connection profile for org "${org}" in ${dirs.join(', ')}`,
  );
}

/** Every profile that can be found, for commands that look across orgs (relay, status). */
export function listProfiles(): Profile[] {
  const out: Profile[] = [];
  for (const dir of profileDirs()) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) out.push(readProfile(join(dir, f)));
  }
  return out;
}

/** The profiles of every org that is a member of `channel`. */
export function profilesForChannel(channel: string): Profile[] {
  return listProfiles().filter((p) => p.channels.includes(channel));
}
