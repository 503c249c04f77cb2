/**
 * Hospital systems authenticate with mutual TLS using a Fabric identity of the server's own
 * org: a client certificate issued by the org's CA (the MSP's `cacerts`, from the crypto
 * material the connection profile points into, or `tls.clientCaCerts`). The role is read
 * the way the chaincode reads it from a transaction's creator (chaincode/CONSENT.md "Roles"):
 * the Fabric CA attribute `medbridge.role` when set, otherwise the NodeOU (admin -> admin,
 * client -> member). Peer and orderer certificates are not callers.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import * as x509 from '@peculiar/x509';
import type { Role } from '@medbridge/chaincode';
import { ConfigError } from '../config';
import type { Profile } from '../fabric/profile';
import { ApiError } from './errors';

/** Who called, from the client certificate. */
export interface HospitalCaller {
  mspId: string;
  role: Role;
  /** SHA-256 fingerprint of the certificate, lower-case hex (the chaincode's caller id). */
  id: string;
}

/** The certificate extension of Fabric CA attributes: JSON `{"attrs":{...}}`. */
export const FABRIC_ATTRIBUTES_OID = '1.2.3.4.5.6.7.8.1';
const ROLE_ATTRIBUTE = 'medbridge.role';
const ATTRIBUTE_ROLES: ReadonlySet<string> = new Set(['admin', 'member', 'clinician', 'privacy-officer']);

/**
 * The org's CA certificates (PEM texts): `explicit` files, or every file of the MSP's
 * `cacerts` folder beside the profile's user identity (`<org>/users/<user>/msp/signcerts/cert.pem`
 * -> `<org>/msp/cacerts`), the layout cryptogen and the embedded networks write.
 */
export function orgCaCerts(profile: Profile, explicit?: string[]): string[] {
  if (explicit && explicit.length > 0) return explicit.map((f) => readFileSync(f, 'utf8'));
  const orgDir = dirname(dirname(dirname(dirname(dirname(profile.identities.user.certificate)))));
  const dir = join(orgDir, 'msp', 'cacerts');
  if (!existsSync(dir)) throw new ConfigError(`no MSP cacerts folder at ${dir}; set tls.clientCaCerts to the CA certificates of ${profile.mspId}`);
  const files = readdirSync(dir).filter((f) => f.endsWith('.pem')).sort();
  if (files.length === 0) throw new ConfigError(`${dir} holds no CA certificate; set tls.clientCaCerts`);
  return files.map((f) => readFileSync(join(dir, f), 'utf8'));
}

/** Fabric CA attributes of a certificate ({} when it carries none). */
export function fabricAttributes(der: Buffer): Record<string, string> {
  const ext = new x509.X509Certificate(der).getExtension(FABRIC_ATTRIBUTES_OID);
  if (!ext) return {};
  try {
    const parsed = JSON.parse(Buffer.from(ext.value).toString('utf8')) as { attrs?: unknown };
    if (typeof parsed.attrs !== 'object' || parsed.attrs === null) return {};
    return Object.fromEntries(Object.entries(parsed.attrs).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    return {};
  }
}

/** The role of a certificate as the chaincode decides it; undefined when it has none a caller may have. */
export function roleOf(cert: X509Certificate, attributes: Record<string, string>): Role | undefined {
  const attr = attributes[ROLE_ATTRIBUTE];
  if (attr !== undefined && ATTRIBUTE_ROLES.has(attr)) return attr as Role;
  const ous = cert.subject
    .split('\n')
    .filter((l) => l.startsWith('OU='))
    .map((l) => l.slice(3));
  if (ous.includes('admin')) return 'admin';
  if (ous.includes('client')) return 'member';
  return undefined;
}

export class ClientCertificates {
  private readonly cas: X509Certificate[];

  constructor(
    readonly mspId: string,
    caPems: string[],
  ) {
    this.cas = caPems.map((p) => new X509Certificate(p));
  }

  /** The CA certificates, for the TLS server's `ca` option. */
  get caPems(): string[] {
    return this.cas.map((c) => c.toString());
  }

  /** The caller of a TLS connection; throws ApiError 401 when the certificate is absent or not the org's. */
  callerOf(socket: TLSSocket | undefined, now = Date.now()): HospitalCaller {
    const peer = socket?.getPeerCertificate?.();
    if (!socket || !peer || !peer.raw) {
      throw new ApiError(401, 'UNAUTHORIZED', `this route is for ${this.mspId}'s systems: present a client certificate issued by the ${this.mspId} CA`);
    }
    const cert = new X509Certificate(peer.raw);
    const issuer = this.cas.find((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
    // socket.authorized: the TLS layer checked the chain against the same CAs (dates included).
    if (!socket.authorized || issuer === undefined) {
      throw new ApiError(401, 'UNAUTHORIZED', `the client certificate is not issued by the ${this.mspId} CA (${socket.authorizationError?.toString() ?? 'unknown issuer'})`);
    }
    if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo)) {
      throw new ApiError(401, 'UNAUTHORIZED', 'the client certificate is outside its validity period');
    }
    const role = roleOf(cert, fabricAttributes(peer.raw));
    if (role === undefined) throw new ApiError(403, 'FORBIDDEN_ROLE', `the client certificate has no medbridge role (no ${ROLE_ATTRIBUTE} attribute, no client or admin OU)`);
    return { mspId: this.mspId, role, id: cert.fingerprint256.replace(/:/g, '').toLowerCase() };
  }
}
