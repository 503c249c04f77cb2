/**
 * Attack material for the security suite, generated at run time: a second certificate for an
 * existing peer key (the same P-256 point in compressed SPKI form), and a BLS key's negation.
 */
import * as x509 from '@peculiar/x509';
import { ECDH, webcrypto } from 'node:crypto';
import { bls12_381 } from '@noble/curves/bls12-381';
import { type BlsKeyPair } from '../../../chaincode/src/protocol/bls';
import type { Issued, TestOrg } from '../../fixtures/pki';

/** DER prefix of a P-256 SubjectPublicKeyInfo holding a 33-byte compressed point. */
const P256_COMPRESSED_SPKI_PREFIX = Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex');

/**
 * A peer certificate issued by `org`'s CA for the key of `victim`, with the public key written
 * in compressed form: a different certificate (different bytes, fingerprint and SPKI encoding)
 * whose key is the same point, so the holder of one private key appears as two nodes.
 */
export async function compressedTwin(org: TestOrg, victim: Issued, cn: string): Promise<Issued> {
  const raw = Buffer.from(await webcrypto.subtle.exportKey('raw', victim.keys.publicKey as webcrypto.CryptoKey));
  const compressed = ECDH.convertKey(raw, 'prime256v1', undefined, undefined, 'compressed') as Buffer;
  const spki = Buffer.concat([P256_COMPRESSED_SPKI_PREFIX, compressed]);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: `7${now.toString(16)}`,
    subject: `CN=${cn}, OU=peer, O=${org.mspId}, C=US`,
    issuer: org.ca.cert.subject,
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 30 * 86_400_000),
    signingKey: org.ca.keys.privateKey,
    publicKey: spki,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      await x509.AuthorityKeyIdentifierExtension.create(org.ca.cert),
    ],
  });
  return { ...victim, cert, certPem: cert.toString('pem') };
}

/** The key pair (-sk, -pk) of a BLS key pair: its public key is the negation of `keys.publicKey`. */
export function negatedKeys(keys: BlsKeyPair): BlsKeyPair {
  const order = bls12_381.fields.Fr.ORDER;
  const sk = BigInt(`0x${Buffer.from(keys.secretKey).toString('hex')}`);
  const neg = (order - sk) % order;
  const secretKey = Buffer.from(neg.toString(16).padStart(64, '0'), 'hex');
  const point = bls12_381.G1.Point.fromBytes(keys.publicKey).negate();
  return { secretKey, publicKey: point.toBytes(true) };
}
