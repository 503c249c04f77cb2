/**
 * Path-proof, certificate part: a signer's certificate must chain, through intermediate
 * CAs, to a root CA that the destination registered for the signer's own org, every
 * certificate on the way valid at transaction time, every issuer a CA, the signer a
 * peer, nothing on the path revoked. PROTOCOL.md "Path-proof".
 *
 * All X.509 work is node:crypto's X509Certificate (OpenSSL): name and key-identifier
 * matching (checkIssued) and signature checks (verify). No ASN.1 is parsed here.
 */
import { X509Certificate } from 'node:crypto';
import { fail } from '../errors';
import { issuedBy, parsedCert, parsedFrom, type ParsedCert } from './certificates';
import { asObject, reqArray, reqId } from './fields';
import { Memo } from './verification-cache';
import { Limits } from './limits';

/** What a destination trusts about one org of a remote chain. */
export interface OrgTrust {
  mspId: string;
  rootCerts: string[];
  intermediateCerts: string[];
  /** Serial numbers (hex) of revoked certificates issued under this org's CAs. */
  revokedSerials: string[];
}

export interface ChainTrust {
  chainId: string;
  orgs: OrgTrust[];
}

/** Uppercase hex without leading zeros, the form compared against revocation lists. */
export function normaliseSerial(serial: string): string {
  const s = serial.replace(/^0+/, '').toUpperCase();
  return s === '' ? '0' : s;
}

function timeMs(text: string, what: string): number {
  const t = Date.parse(text);
  if (Number.isNaN(t)) fail('CERT_CHAIN_INVALID', `${what} has an unreadable validity date`);
  return t;
}

export function checkValidAt(cert: X509Certificate, atMs: number, what: string): void {
  const from = timeMs(cert.validFrom, what);
  const to = timeMs(cert.validTo, what);
  if (atMs < from) fail('CERT_EXPIRED', `${what} is not valid yet at transaction time (valid from ${cert.validFrom})`);
  if (atMs > to) fail('CERT_EXPIRED', `${what} expired at ${cert.validTo}`);
}

/** checkValidAt on a certificate parsed once (certificates.ts): the bounds are already numbers. */
function checkParsedValidAt(c: ParsedCert, atMs: number, what: string): void {
  if (Number.isNaN(c.validFromMs) || Number.isNaN(c.validToMs)) fail('CERT_CHAIN_INVALID', `${what} has an unreadable validity date`);
  if (atMs < c.validFromMs) fail('CERT_EXPIRED', `${what} is not valid yet at transaction time (valid from ${c.cert.validFrom})`);
  if (atMs > c.validToMs) fail('CERT_EXPIRED', `${what} expired at ${c.cert.validTo}`);
}

function isSelfSigned(cert: X509Certificate): boolean {
  return cert.checkIssued(cert) && cert.verify(cert.publicKey);
}

/**
 * Validates an org's trust entry (registration by governance): at least one root, every
 * root a self-signed CA, every intermediate a CA; fails closed on anything empty.
 */
export function parseOrgTrust(value: unknown, what: string): OrgTrust {
  const C = 'INVALID_ARGUMENT' as const;
  const o = asObject(value, C, what, ['mspId', 'rootCerts', 'intermediateCerts', 'revokedSerials']);
  const mspId = reqId(o, 'mspId', C, what);
  if (!Array.isArray(o.rootCerts) || o.rootCerts.length === 0) fail('UNKNOWN_ROOT', `${what} registers no root certificate`);
  const roots = reqArray(o, 'rootCerts', C, what, Limits.maxCertsPerOrg, 1).map((pem, i) => {
    const cert = certFrom(pem, `${what} root ${i}`);
    if (!cert.ca || !isSelfSigned(cert)) fail('UNKNOWN_ROOT', `${what} root ${i} is not a self-signed CA certificate`);
    return cert.toString();
  });
  const intermediates = (o.intermediateCerts === undefined ? [] : reqArray(o, 'intermediateCerts', C, what, Limits.maxCertsPerOrg, 0)).map(
    (pem, i) => {
      const cert = certFrom(pem, `${what} intermediate ${i}`);
      if (!cert.ca) fail('CERT_CHAIN_INVALID', `${what} intermediate ${i} is not a CA certificate`);
      return cert.toString();
    },
  );
  const revoked = (o.revokedSerials === undefined ? [] : reqArray(o, 'revokedSerials', C, what, Limits.maxRevokedPerOrg, 0)).map((s, i) => {
    if (typeof s !== 'string' || !/^[0-9A-Fa-f]{1,64}$/.test(s)) fail(C, `${what} revoked serial ${i} must be hex`);
    return normaliseSerial(s);
  });
  return { mspId, rootCerts: roots, intermediateCerts: intermediates, revokedSerials: [...new Set(revoked)].sort() };

  function certFrom(pem: unknown, w: string): X509Certificate {
    if (typeof pem !== 'string' || pem.trim().length === 0) fail('UNKNOWN_ROOT', `${w} is empty`);
    if (pem.length > Limits.maxCertPemChars) fail(C, `${w} is longer than ${Limits.maxCertPemChars} characters`);
    try {
      return new X509Certificate(pem);
    } catch {
      fail(C, `${w} is not a PEM X.509 certificate`);
    }
  }
}

/** A chain trust must name each org once and never share a root between two orgs. */
export function checkChainTrust(trust: ChainTrust): void {
  const msps = new Set<string>();
  const roots = new Map<string, string>();
  if (trust.orgs.length === 0) fail('UNKNOWN_ROOT', `${trust.chainId} has no org with a root certificate`);
  for (const org of trust.orgs) {
    if (msps.has(org.mspId)) fail('INVALID_ARGUMENT', `${org.mspId} is registered twice for ${trust.chainId}`);
    msps.add(org.mspId);
    for (const pem of org.rootCerts) {
      const fp = new X509Certificate(pem).fingerprint256;
      const other = roots.get(fp);
      if (other !== undefined) fail('INVALID_ARGUMENT', `${org.mspId} and ${other} register the same root; one org could sign for the other`);
      roots.set(fp, org.mspId);
    }
  }
}

export interface CertPathInput {
  cert: X509Certificate;
  mspId: string;
  trust: ChainTrust;
  /** Intermediate CA certificates carried by the proof (the registered ones are always used). */
  extraIntermediates: readonly X509Certificate[];
  /** Transaction time, ms. */
  atMs: number;
  what: string;
  /** `cert` as parsed once per content (certificates.ts), if the caller has it. */
  parsed?: ParsedCert;
  /** The org's certificates prepared once for all signers of a proof (orgPreparer), if the caller has them. */
  prepared?: (org: OrgTrust) => PreparedOrg;
}

/** An org's registered roots and intermediates parsed, and its revoked serials as a set. */
export interface PreparedOrg {
  roots: ParsedCert[];
  intermediates: ParsedCert[];
  revoked: Set<string> | undefined;
  /** Everything of the org a path search reads: root and intermediate fingerprints in order, revoked serials. */
  key: string;
}

function prepareOrg(org: OrgTrust): PreparedOrg {
  const roots = org.rootCerts.map(parsedCert);
  const intermediates = org.intermediateCerts.map(parsedCert);
  const fps = (cs: readonly ParsedCert[]): string => cs.map((c) => c.fingerprint).join(',');
  return {
    roots,
    intermediates,
    revoked: org.revokedSerials.length === 0 ? undefined : new Set(org.revokedSerials),
    key: `${fps(roots)};${fps(intermediates)};${org.revokedSerials.join(',')}`,
  };
}

/**
 * Paths that passed every check, by what decided them: the leaf (its fingerprint is the SHA-256 of
 * its DER bytes, which fix its CA flag, OUs, serial, validity and issuer), the org it signs for with
 * that org's roots, intermediates and revoked serials (PreparedOrg.key), and the proof's extra
 * intermediates in order. Which path the search finds does not depend on the time; only validity
 * does, so a remembered path is accepted only when every certificate on it is valid at the
 * transaction's time, and anything else runs the whole check again (same result, same code).
 */
const passedPaths = new Memo<readonly ParsedCert[]>(4096);

const validAt = (c: ParsedCert, atMs: number): boolean => c.validFromMs <= atMs && atMs <= c.validToMs;

/** Prepares each org once for the signers of one proof (the trust object is read, never kept). */
export function orgPreparer(): (org: OrgTrust) => PreparedOrg {
  const prepared = new Map<OrgTrust, PreparedOrg>();
  return (org) => {
    let p = prepared.get(org);
    if (p === undefined) {
      p = prepareOrg(org);
      prepared.set(org, p);
    }
    return p;
  };
}

/**
 * Checks one signer's certificate path; throws UNKNOWN_ROOT, CERT_EXPIRED, CERT_NOT_PEER,
 * CERT_CHAIN_INVALID or CERT_REVOKED. Returns the fingerprints from leaf to root.
 */
export function verifyCertPath(input: CertPathInput): string[] {
  const { mspId, trust, atMs, what } = input;
  const org = trust.orgs.find((o) => o.mspId === mspId);
  if (!org) fail('UNKNOWN_ROOT', `${what}: ${mspId} is not a registered org of ${trust.chainId}`);
  const prepared = input.prepared?.(org) ?? prepareOrg(org);
  const extras = input.extraIntermediates.length === 0 ? [] : input.extraIntermediates.map(parsedFrom);
  const leaf = input.parsed ?? parsedFrom(input.cert);
  const key = `${leaf.fingerprint}|${mspId}|${prepared.key}|${extras.map((c) => c.fingerprint).join(',')}`;
  const known = passedPaths.find(key);
  if (known !== undefined && known.every((c) => validAt(c, atMs))) return known.map((c) => c.fingerprint);
  const path = searchPath(leaf, prepared, extras, input);
  passedPaths.get(key, () => path);
  return path.map((c) => c.fingerprint);
}

/** The whole check of one signer's path; the certificates from leaf to root. */
function searchPath(leaf: ParsedCert, prepared: PreparedOrg, extras: readonly ParsedCert[], input: CertPathInput): ParsedCert[] {
  const { mspId, trust, atMs, what } = input;
  const { roots, intermediates, revoked } = prepared;
  if (roots.length === 0) fail('UNKNOWN_ROOT', `${what}: ${mspId} of ${trust.chainId} has no registered root`);
  const pool = extras.length === 0 ? intermediates : [...intermediates, ...extras];
  const isRevoked = (c: ParsedCert): boolean => revoked !== undefined && revoked.has(normaliseSerial(c.serialNumber));

  if (leaf.ca) fail('CERT_NOT_PEER', `${what} is a CA certificate, not a node`);
  if (!leaf.ous.includes('peer')) fail('CERT_NOT_PEER', `${what} is not a peer certificate (OU=peer)`);
  checkParsedValidAt(leaf, atMs, what);
  if (isRevoked(leaf)) fail('CERT_REVOKED', `${what} (serial ${leaf.serialNumber}) is revoked`);

  const path = [leaf];
  let current = leaf;
  for (let depth = 0; depth <= Limits.maxChainLength; depth++) {
    const root = roots.find((r) => issuedBy(current, r));
    if (root) {
      if (!root.ca) fail('CERT_CHAIN_INVALID', `${what}: registered root ${root.cert.subject} is not a CA`);
      checkParsedValidAt(root, atMs, `root of ${what}`);
      path.push(root);
      return path;
    }
    if (depth === Limits.maxChainLength) break;
    const issuer = pool.find((c) => !path.some((p) => p.fingerprint === c.fingerprint) && issuedBy(current, c));
    if (!issuer) {
      fail('UNKNOWN_ROOT', `${what} does not chain to a registered root of ${mspId} on ${trust.chainId}`);
    }
    if (!issuer.ca) fail('CERT_CHAIN_INVALID', `an issuer on the path of ${what} is not a CA`);
    checkParsedValidAt(issuer, atMs, `intermediate CA of ${what}`);
    if (isRevoked(issuer)) fail('CERT_REVOKED', `an intermediate CA of ${what} is revoked`);
    path.push(issuer);
    current = issuer;
  }
  fail('CERT_CHAIN_INVALID', `the path of ${what} is longer than ${Limits.maxChainLength} intermediates`);
}
