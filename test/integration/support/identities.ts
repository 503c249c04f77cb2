/**
 * Identities the network's crypto material does not hold, issued at run time by an org's own
 * CA (the CA key cryptogen left in the runtime crypto folder), never committed: a clinician
 * (Fabric CA-style attribute medbridge.role=clinician in extension 1.2.3.4.5.6.7.8.1), or a
 * node certificate. The peers' MSPs accept them because the org's root CA signed them.
 */
import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as x509 from '@peculiar/x509';
import type { Profile } from '../../../gateway/src/fabric/profile';
import { issue, type Issued, type IssueOptions } from '../../fixtures/pki';

/** The org's crypto folder of the runtime (peers/<peer>/tls/ca.crt is four levels below). */
export function orgCryptoDir(p: Profile): string {
  return dirname(dirname(dirname(dirname(p.peers[0]!.tlsRootCert))));
}

/** The org's own signing CA, loaded from the runtime crypto folder. */
export async function orgCa(p: Profile): Promise<Issued> {
  const dir = join(orgCryptoDir(p), 'ca');
  const certFile = readFileSync(join(dir, `ca.${orgCryptoDir(p).split('/').pop()}-cert.pem`), 'utf8');
  const der = createPrivateKey(readFileSync(join(dir, 'priv_sk'))).export({ type: 'pkcs8', format: 'der' });
  const privateKey = await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  return { cert: new x509.X509Certificate(certFile), keys: { privateKey } } as unknown as Issued;
}

/**
 * A client identity of the org issued now by its own CA (OU=client, so the MSP's NodeOU
 * check passes), with the given Fabric CA attributes; returns a copy of the org's profile
 * whose user identity it is, and the profile's file (for the CLI's --org <file>).
 */
export async function issuedClientProfile(
  p: Profile,
  cn: string,
  attributes: Record<string, string>,
  extra: Partial<IssueOptions> = {},
): Promise<{ profile: Profile; file: string; issued: Issued }> {
  // A positive, minimally encoded serial (first byte 0x40..0x7f): Go's x509 parser, which the
  // peers' MSPs use, refuses anything else as malformed.
  const serialNumber = (0x40 + (randomBytes(1)[0]! & 0x3f)).toString(16) + randomBytes(15).toString('hex');
  // Fabric's MSP checks the chain at the leaf's notBefore (+1 s): the CA must already be valid then.
  const ca = await orgCa(p);
  const notBefore = new Date(Math.max(ca.cert.notBefore.getTime(), Date.now() - 60_000));
  const issued = await issue(ca, { cn, ou: ['client'], org: p.mspId, attributes, serialNumber, notBefore, ...extra });
  const dir = mkdtempSync(join(tmpdir(), 'medbridge-identity-'));
  const certificate = join(dir, 'cert.pem');
  const privateKey = join(dir, 'key.pem');
  writeFileSync(certificate, issued.certPem);
  writeFileSync(privateKey, issued.keyPem, { mode: 0o600 });
  const profile: Profile = { ...p, identities: { ...p.identities, user: { certificate, privateKey } } };
  const file = join(dir, `${p.org.toLowerCase()}-${cn.replace(/[^A-Za-z0-9.-]/g, '_')}.json`);
  writeFileSync(file, JSON.stringify(profile));
  return { profile, file, issued };
}
