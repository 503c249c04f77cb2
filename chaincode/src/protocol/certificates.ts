/**
 * X.509 certificates as the verifier reads them, parsed once per content: every proof of a list
 * names the same node certificates, every signer path ends at the same registered roots, so a
 * certificate's parse and an issuer's signature over it are computed once and remembered by
 * content (verification-cache.ts: bounded, failures never kept, results never depend on a hit).
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { Memo } from './verification-cache';

export interface ParsedCert {
  cert: X509Certificate;
  /** SHA-256 fingerprint of the DER bytes (node:crypto's colon-separated hex). */
  fingerprint: string;
  /** The certificate re-encoded as PEM by node:crypto (the normalised form lists keep). */
  pem: string;
  /** Organizational units of the subject. */
  ous: readonly string[];
  /** The certificate's public key (one KeyObject, not a new one per signature). */
  key: KeyObject;
  /** Basic constraints CA flag. */
  ca: boolean;
  /** Validity bounds in ms since the epoch (NaN when unreadable: path-proof.ts refuses those). */
  validFromMs: number;
  validToMs: number;
  /** Serial number as the certificate holds it (hex). */
  serialNumber: string;
}

const parsed = new Memo<ParsedCert>(2048);
const issued = new Memo<boolean>(4096);

/** OU values from an X509Certificate subject string (one `OU=` per line). */
export function organizationalUnits(subject: string): string[] {
  return subject
    .split('\n')
    .filter((l) => l.startsWith('OU='))
    .map((l) => l.slice(3));
}

/** The certificate in `pem`, parsed once per text; throws what `new X509Certificate` throws. */
export function parsedCert(pem: string): ParsedCert {
  return parsed.get(pem, () => {
    const cert = new X509Certificate(pem);
    return {
      cert,
      fingerprint: cert.fingerprint256,
      pem: cert.toString(),
      ous: organizationalUnits(cert.subject),
      key: cert.publicKey,
      ca: cert.ca,
      validFromMs: Date.parse(cert.validFrom),
      validToMs: Date.parse(cert.validTo),
      serialNumber: cert.serialNumber,
    };
  });
}

/** The same record for a certificate already parsed elsewhere (keyed by its PEM form). */
export function parsedFrom(cert: X509Certificate): ParsedCert {
  return parsedCert(cert.toString());
}

/** `issuer` issued `child`: names and key identifiers match, and `issuer`'s key verifies `child`'s signature. */
export function issuedBy(child: ParsedCert, issuer: ParsedCert): boolean {
  return issued.get(`${child.fingerprint}<${issuer.fingerprint}`, () => child.cert.checkIssued(issuer.cert) && child.cert.verify(issuer.cert.publicKey));
}
