/**
 * Mutual TLS between hospital gateways with the orgs' Fabric TLS identities: each side
 * presents its org's TLS client certificate from the connection profile, and the other
 * side accepts it only if one of the known orgs' TLS CAs issued it. The org of the peer
 * is the org whose CA issued its certificate — never a claim in a request body.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PeerCertificate } from 'node:tls';
import type { Profile } from '../fabric/profile';

export interface TrustedOrg {
  mspId: string;
  org: string;
  caPem: string;
  ca: X509Certificate;
}

export interface OrgTlsIdentity {
  mspId: string;
  cert: Buffer;
  key: Buffer;
}

/** The TLS CAs of every org with a profile that has a `tls` section. */
export function trustedOrgs(profiles: readonly Profile[]): TrustedOrg[] {
  const out: TrustedOrg[] = [];
  for (const p of profiles) {
    if (!p.tls) continue;
    const caPem = readFileSync(p.tls.caCert, 'utf8');
    out.push({ mspId: p.mspId, org: p.org, caPem, ca: new X509Certificate(caPem) });
  }
  return out;
}

export function tlsIdentityOf(profile: Profile): OrgTlsIdentity {
  if (!profile.tls) throw new Error(`profile of ${profile.org} has no tls section (caCert, clientCert, clientKey)`);
  return { mspId: profile.mspId, cert: readFileSync(profile.tls.clientCert), key: readFileSync(profile.tls.clientKey) };
}

/** Which trusted org issued this certificate (signature and issuer name checked), if any. */
export function orgOfCertificate(certDer: Buffer, trusted: readonly TrustedOrg[]): TrustedOrg | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certDer);
  } catch {
    return undefined;
  }
  return trusted.find((t) => {
    try {
      return cert.checkIssued(t.ca) && cert.verify(t.ca.publicKey);
    } catch {
      return false;
    }
  });
}

/** The org of the peer of a TLS socket (server side: the requester). */
export function orgOfPeer(peer: PeerCertificate | undefined, trusted: readonly TrustedOrg[]): TrustedOrg | undefined {
  if (!peer || !peer.raw) return undefined;
  return orgOfCertificate(peer.raw, trusted);
}
