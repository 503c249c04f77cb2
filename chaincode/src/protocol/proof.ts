/**
 * Proof: what a relay hands to the destination with a packet or acknowledgement
 * (PROTOCOL.md "Proof"). Versioned by `scheme` and `version`; the signature part is the
 * scheme's own. Parsing checks the hard limits before anything else and fails closed:
 * an unknown scheme or version, or a missing field, is an error.
 */
import { X509Certificate } from 'node:crypto';
import { fail } from '../errors';
import { parsedCert } from './certificates';
import { asObject, reqArray, reqId, reqInt, reqString, type Obj } from './fields';
import { Limits } from './limits';
import { deepFreeze, parseNodeList, sharedList, type VerificationNodeList } from './node-list';
import type { ProofScheme } from './scheme';
import { getScheme } from './schemes';
import { Memo } from './verification-cache';

/** The signature part of a proof or of an epoch link. */
export interface SignatureSet {
  scheme: string;
  version: number;
  /** Scheme-specific; for fabric-endorsement an array of EndorsementSignature. */
  signatures: unknown;
  /** Intermediate CA certificates (PEM) for the signers' paths, beyond the registered ones. */
  intermediates?: string[];
}

/** A change of the source's list from `fromEpoch` to `toEpoch = fromEpoch + 1`, signed by list `fromEpoch`. */
export interface EpochLink {
  chainId: string;
  fromEpoch: number;
  toEpoch: number;
  newList: VerificationNodeList;
  proof: SignatureSet;
}

export interface Proof extends SignatureSet {
  /** Epoch of the list whose nodes signed `signatures`. */
  epoch: number;
  /** Links from the destination's known epoch of the source up to `epoch`, in order. */
  links: EpochLink[];
}

/**
 * Signature parts parseProof parsed with their scheme, by the signatures value: the verifier
 * (verify.ts) takes the parse instead of decoding the same base64 and protobuf bytes a second
 * time. Only parts of JSON.parse output are kept, deep-frozen first, so the value verified is
 * the value that was parsed.
 */
const parsedParts = new WeakMap<object, { scheme: ProofScheme; parsed: unknown }>();

/** What parseProof's scheme parse gave for `set`'s signatures with `scheme`; undefined when it did not parse them (a scheme's parse never returns undefined). */
export function parsedSignatures(set: SignatureSet, scheme: ProofScheme): unknown {
  const s = set.signatures;
  const hit = s !== null && typeof s === 'object' ? parsedParts.get(s) : undefined;
  return hit?.scheme === scheme ? hit.parsed : undefined;
}

/** `keep`: `o` is JSON.parse output, so its parsed signature part may be handed to the verifier. */
function parseSignatureSet(o: Obj, what: string, keep: boolean): SignatureSet & { parsedIntermediates: X509Certificate[] } {
  const C = 'MALFORMED_PROOF' as const;
  if (o.scheme === undefined) fail(C, `${what}.scheme is missing`);
  if (o.version === undefined) fail(C, `${what}.version is missing`);
  const scheme = reqString(o, 'scheme', C, what, 64);
  const version = reqInt(o, 'version', C, what, 0, 1_000_000);
  const impl = getScheme(scheme, version);
  if (o.signatures === undefined) fail(C, `${what}.signatures is missing`);
  const parsed = impl.parse(o.signatures);
  if (keep && o.signatures !== null && typeof o.signatures === 'object') {
    deepFreeze(o.signatures);
    parsedParts.set(o.signatures, { scheme: impl, parsed });
  }
  let intermediates: string[] | undefined;
  let parsedIntermediates: X509Certificate[] = [];
  if (o.intermediates !== undefined) {
    if (Array.isArray(o.intermediates) && o.intermediates.length > Limits.maxProofIntermediates) {
      fail('PROOF_TOO_LARGE', `${what} carries more than ${Limits.maxProofIntermediates} intermediate certificates`);
    }
    const raw = reqArray(o, 'intermediates', C, what, Limits.maxProofIntermediates, 0);
    intermediates = raw.map((pem, i) => reqString({ pem }, 'pem', C, `${what} intermediate ${i}`, Limits.maxCertPemChars));
    parsedIntermediates = intermediates.map((pem, i) => {
      try {
        return parsedCert(pem).cert;
      } catch {
        fail(C, `${what} intermediate ${i} is not a PEM X.509 certificate`);
      }
    });
  }
  return { scheme, version, signatures: o.signatures, intermediates, parsedIntermediates };
}

/** Parsed intermediates of a signature set (PEM validated by parseProof). */
export function intermediatesOf(set: SignatureSet): X509Certificate[] {
  return (set.intermediates ?? []).map((pem) => parsedCert(pem).cert);
}

export function parseProof(text: string): Proof {
  if (typeof text !== 'string' || text.length === 0) fail('MALFORMED_PROOF', 'proof is empty');
  // UTF-8 takes 1 to 3 bytes per UTF-16 unit: count the bytes only when the length leaves it open.
  const tooLarge = text.length > Limits.maxProofBytes || (text.length * 3 > Limits.maxProofBytes && Buffer.byteLength(text, 'utf8') > Limits.maxProofBytes);
  if (tooLarge) fail('PROOF_TOO_LARGE', `a proof is at most ${Limits.maxProofBytes} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    fail('MALFORMED_PROOF', 'proof is not valid JSON');
  }
  return parseProofValue(value, true);
}

/**
 * Lists carried by epoch links, parsed (parseNodeList) by the JSON text of what the proof carried:
 * every proof a relay sends until the destination stores the new list carries the same list, and
 * parsing it checks every node's certificate, BLS binding and proof of possession. Only values read
 * from proof text are kept (JSON.parse output, which JSON.stringify writes back in full: the text
 * fixes the value, so it fixes the parse); a refusal is never kept (verification-cache.ts). The
 * list is deep-frozen and shared (node-list.ts sharedList): every caller gets the same object, and
 * its hash and index are found by that object.
 */
const linkLists = new Memo<VerificationNodeList>(16);

function parseLinkList(value: unknown, fromText: boolean): VerificationNodeList {
  let text: string | undefined;
  try {
    text = fromText ? JSON.stringify(value) : undefined;
  } catch {
    // Nested beyond what JSON.stringify walks: parsed (and refused) without the memo.
  }
  if (text === undefined) return parseNodeList(value);
  return linkLists.get(text, () => sharedList(parseNodeList(value)));
}

/** `fromText`: `value` is JSON.parse output (parseProof), so its link lists may be remembered by their text. */
export function parseProofValue(value: unknown, fromText = false): Proof {
  const C = 'MALFORMED_PROOF' as const;
  const o = asObject(value, C, 'proof', ['scheme', 'version', 'epoch', 'links', 'signatures', 'intermediates']);
  const set = parseSignatureSet(o, 'proof', fromText);
  const epoch = reqInt(o, 'epoch', C, 'proof', 1);
  if (o.links === undefined) fail(C, 'proof.links is missing (use [] when there is no epoch change)');
  if (Array.isArray(o.links) && o.links.length > Limits.maxLinks) fail('PROOF_TOO_LARGE', `a proof carries at most ${Limits.maxLinks} epoch links`);
  const links = reqArray(o, 'links', C, 'proof', Limits.maxLinks, 0).map((raw, i) => {
    const what = `epoch link ${i}`;
    const l = asObject(raw, C, what, ['chainId', 'fromEpoch', 'toEpoch', 'newList', 'proof']);
    const lp = asObject(l.proof, C, `${what}.proof`, ['scheme', 'version', 'signatures', 'intermediates']);
    const linkSet = parseSignatureSet(lp, `${what}.proof`, fromText);
    return {
      chainId: reqId(l, 'chainId', C, what),
      fromEpoch: reqInt(l, 'fromEpoch', C, what, 1),
      toEpoch: reqInt(l, 'toEpoch', C, what, 2),
      newList: parseLinkList(l.newList, fromText),
      proof: { scheme: linkSet.scheme, version: linkSet.version, signatures: linkSet.signatures, intermediates: linkSet.intermediates },
    };
  });
  return { scheme: set.scheme, version: set.version, epoch, links, signatures: set.signatures, intermediates: set.intermediates };
}
