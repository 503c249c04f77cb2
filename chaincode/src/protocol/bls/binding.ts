/**
 * Registration of a node's BLS key: the key enters a verification node list only bound to the
 * node's X.509 identity (an ECDSA signature of the node's Fabric key over the binding message)
 * and with a proof of possession of the BLS secret key. Without both it is refused.
 *
 * Binding message (canonical JSON, UTF-8):
 *   {"blsPublicKey":"<b64>","certFingerprint":"<sha256 hex of the DER cert>","chainId":"...",
 *    "mspId":"...","nodeId":"...","type":"medbridge.bls-key-binding","version":1}
 * signed as Fabric signs: ECDSA with SHA-256 over those bytes, DER signature.
 *
 * The certificate's own validity (chain to the org's root, NodeOU peer) is checked where the
 * node enters the list, by the same code that checks certificates for scheme 1.
 */
import { createHash, KeyObject, sign as ecdsaSign, verify as ecdsaVerify, X509Certificate } from 'node:crypto';
import { check, fail } from '../../errors';
import { canonicalBytes } from '../canonical-json';
import { Memo } from '../verification-cache';
import { fromBase64, toBase64 } from './encoding';
import { checkPossession } from './keys';
import type { BlsNodeKey } from './node-key';

export const BLS_BINDING_TYPE = 'medbridge.bls-key-binding';
export const BLS_BINDING_VERSION = 1;

export interface BlsKeyBinding {
  chainId: string;
  nodeId: string;
  mspId: string;
  /** Lowercase hex SHA-256 of the node certificate's DER bytes. */
  certFingerprint: string;
  /** Base64 of the 48-byte compressed G1 key. */
  blsPublicKey: string;
}


export function bindingBytes(b: BlsKeyBinding): Buffer {
  return canonicalBytes({ type: BLS_BINDING_TYPE, version: BLS_BINDING_VERSION, ...pick(b) });
}

export function certFingerprint(certPem: string): string {
  return createHash('sha256').update(parseCert(certPem).raw).digest('hex');
}

/** Signer side, at enrolment: the node's Fabric private key signs the binding (base64 DER). */
export function signBinding(b: BlsKeyBinding, fabricPrivateKey: KeyObject | string): string {
  return toBase64(ecdsaSign('sha256', bindingBytes(b), fabricPrivateKey));
}

/**
 * Verifier side, where a node enters a list. Checks, in order: the key decodes strictly
 * (BLS_KEY_INVALID), the proof of possession (BLS_POP_INVALID), the binding signature against the
 * node's certificate over {chainId, nodeId, mspId, fingerprint of that certificate, key}
 * (BLS_BINDING_INVALID). Returns the binding that was checked.
 */
export function checkBlsRegistration(input: {
  chainId: string;
  nodeId: string;
  mspId: string;
  certPem: string;
  bls: BlsNodeKey;
}): BlsKeyBinding {
  const r: unknown = input.bls;
  if (typeof r !== 'object' || r === null) return registrationChecks(input);
  const { publicKey, pop, binding } = r as Partial<BlsNodeKey>;
  // A registration that verified once verifies again: remembered by its whole content.
  const content = JSON.stringify([input.chainId, input.nodeId, input.mspId, input.certPem, publicKey, pop, binding]);
  return { ...registrations.get(content, () => registrationChecks(input)) };
}

/**
 * Registrations already checked, by content. The proof of possession is a pairing check (tens
 * of milliseconds): a list of 64 BLS nodes carried by an epoch link would otherwise cost seconds
 * on every proof that carries the link, on every endorsing peer.
 */
const registrations = new Memo<BlsKeyBinding>(1024);

function registrationChecks(input: { chainId: string; nodeId: string; mspId: string; certPem: string; bls: BlsNodeKey }): BlsKeyBinding {
  const { bls: r } = input;
  check(typeof r === 'object' && r !== null, 'BLS_KEY_INVALID', `node ${input.nodeId} has no BLS key entry`);
  const key = fromBase64(r.publicKey, 'BLS_KEY_INVALID', 'BLS public key');
  checkPossession(key, fromBase64(r.pop, 'BLS_POP_INVALID', 'BLS proof of possession'));
  const cert = parseCert(input.certPem);
  const binding: BlsKeyBinding = {
    chainId: input.chainId,
    nodeId: input.nodeId,
    mspId: input.mspId,
    certFingerprint: createHash('sha256').update(cert.raw).digest('hex'),
    blsPublicKey: r.publicKey,
  };
  const sig = fromBase64(r.binding, 'BLS_BINDING_INVALID', 'binding signature');
  let ok = false;
  try {
    ok = ecdsaVerify('sha256', bindingBytes(binding), cert.publicKey, sig);
  } catch {
    ok = false;
  }
  if (!ok) fail('BLS_BINDING_INVALID', `binding of the BLS key to node ${input.nodeId} (${input.mspId}) is not signed by that node's certificate key`);
  return binding;
}

/**
 * The hook for parseNodeList: reads the optional `bls` member of a list node (exactly
 * publicKey, pop, binding) and runs checkBlsRegistration for it. Returns the normalised entry
 * to keep in the list (and so in the list hash).
 */
export function parseBlsNodeKey(
  raw: unknown,
  node: { chainId: string; nodeId: string; mspId: string; certPem: string },
): BlsNodeKey {
  check(typeof raw === 'object' && raw !== null && !Array.isArray(raw), 'BLS_KEY_INVALID', `node ${node.nodeId}: bls must be an object`);
  const o = raw as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  check(
    keys.length === 3 && keys[0] === 'binding' && keys[1] === 'pop' && keys[2] === 'publicKey',
    'BLS_KEY_INVALID',
    `node ${node.nodeId}: bls must have exactly the fields publicKey, pop, binding`,
  );
  const bls: BlsNodeKey = { publicKey: o.publicKey as string, pop: o.pop as string, binding: o.binding as string };
  checkBlsRegistration({ ...node, bls });
  return bls;
}

function parseCert(pem: string): X509Certificate {
  check(typeof pem === 'string' && pem.includes('BEGIN CERTIFICATE'), 'BLS_BINDING_INVALID', 'node certificate is not a PEM certificate');
  try {
    return new X509Certificate(pem);
  } catch {
    return fail('BLS_BINDING_INVALID', 'node certificate does not parse');
  }
}

function pick(b: BlsKeyBinding): BlsKeyBinding {
  for (const k of ['chainId', 'nodeId', 'mspId', 'certFingerprint', 'blsPublicKey'] as const) {
    if (typeof b[k] !== 'string' || b[k] === '') fail('INVALID_ARGUMENT', `binding ${k} must be a non-empty string`);
  }
  return { chainId: b.chainId, nodeId: b.nodeId, mspId: b.mspId, certFingerprint: b.certFingerprint, blsPublicKey: b.blsPublicKey };
}
