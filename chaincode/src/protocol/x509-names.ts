/** Reading names out of X.509 certificates (node:crypto's subject text). */

/** OU values from an X509Certificate subject string (one `OU=` per line). */
export function organizationalUnits(subject: string): string[] {
  return subject
    .split('\n')
    .filter((l) => l.startsWith('OU='))
    .map((l) => l.slice(3));
}
