/**
 * Pseudonym links (CONSENT.md "Per-chain pseudonyms"): a patient's statement that several
 * pseudonymous patient ids, each on its own chain and each with its own key, are one person,
 * signed by every one of those keys. The patient makes it when they choose and shows it to
 * whom they choose; it is never written to a ledger, so comparing ledgers still matches
 * nothing. A verifier checks the signatures here (offline) and, on each chain it can reach,
 * that the id's current key is the one that signed (gateway/src/services/pseudonym-links.ts).
 *
 * - Bytes signed: canonicalBytes(link), as every patient message; each key signs the same bytes.
 * - Signature i: ECDSA P-256 / SHA-256, IEEE P1363 (64 bytes), base64, by pseudonyms[i].publicKey.
 * - The pseudonyms are listed in (chainId, patientId) order, so one set has one canonical form.
 * - Bounded in time (at most MAX_LINK_VALIDITY_MS) and optionally bound to an audience (the
 *   MSP id of the org it is shown to), so a link handed to one hospital is no use to another.
 *
 * Refusals: INVALID_ARGUMENT (shape, order, duplicates, audience), PATIENT_SIGNATURE_INVALID,
 * MESSAGE_STALE (not yet valid or expired).
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { fail } from '../errors';
import { canonicalBytes } from './canonical-json';
import { asObject, reqArray, reqBase64, reqInt, reqString, type Obj } from './fields';
import { exportPublicKey, Formats, importPatientPublicKey } from './patient-messages';

export const PSEUDONYM_LINK_DOMAIN = 'medbridge/pseudonym-link/v1';

/** A link names 2..MAX_LINKED_PSEUDONYMS ids. */
export const MAX_LINKED_PSEUDONYMS = 8;
/** A link is valid for at most 30 days after it was issued. */
export const MAX_LINK_VALIDITY_MS = 30 * 86_400_000;
/** How far ahead of the verifier's clock a link may be issued (the signer's clock may run fast). */
export const LINK_CLOCK_SKEW_MS = 5 * 60_000;

/** One of the patient's ids: on `chainId`, `patientId`, whose current key is `publicKey` (base64 SPKI DER). */
export interface Pseudonym {
  chainId: string;
  patientId: string;
  publicKey: string;
}

export interface PseudonymLink {
  domain: typeof PSEUDONYM_LINK_DOMAIN;
  /** In (chainId, patientId) order; no pair and no key twice. */
  pseudonyms: Pseudonym[];
  /** MSP id of the org the link is meant for; absent: whoever the patient hands it to. */
  audience?: string;
  nonce: string;
  /** Milliseconds since the epoch, by the signer's device. */
  issuedAt: number;
  /** The link is refused from this time on; issuedAt < expiresAt <= issuedAt + MAX_LINK_VALIDITY_MS. */
  expiresAt: number;
}

/** A link and one signature per pseudonym, in the same order. */
export interface SignedPseudonymLink {
  link: PseudonymLink;
  signatures: string[];
}

export interface LinkInput {
  pseudonyms: readonly Pseudonym[];
  audience?: string;
  nonce: string;
  issuedAt: number;
  expiresAt: number;
}

const SIGNATURE_CHARS = 88;
const PUBLIC_KEY_CHARS = 124;

function byChainThenId(a: Pseudonym, b: Pseudonym): number {
  return a.chainId === b.chainId ? compare(a.patientId, b.patientId) : compare(a.chainId, b.chainId);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The link over `input`, pseudonyms put in canonical order; checked as verifyPseudonymLink checks it. */
export function buildPseudonymLink(input: LinkInput): PseudonymLink {
  return parseLink(assemblePseudonymLink(input));
}

/**
 * The same link, not checked: the patient app builds it so in a browser, where keys are not
 * imported with node:crypto (WebCrypto signs there), and every verifier checks it whole.
 */
export function assemblePseudonymLink(input: LinkInput): PseudonymLink {
  const pseudonyms = input.pseudonyms.map((p) => ({ chainId: p.chainId, patientId: p.patientId, publicKey: p.publicKey })).sort(byChainThenId);
  const link: PseudonymLink = { domain: PSEUDONYM_LINK_DOMAIN, pseudonyms, nonce: input.nonce, issuedAt: input.issuedAt, expiresAt: input.expiresAt };
  if (input.audience !== undefined) link.audience = input.audience;
  return link;
}

/**
 * Signs a link with the private key of every pseudonym (gateway and tests). `keys` may come in
 * any order; each pseudonym's key is found by its public key, and a pseudonym without one is
 * INVALID_ARGUMENT: a link is never handed out with a signature missing.
 */
export function signPseudonymLink(link: PseudonymLink, keys: readonly KeyObject[]): SignedPseudonymLink {
  const checked = parseLink(link);
  const byPublicKey = new Map(keys.map((k) => [exportPublicKey(k), k]));
  const bytes = canonicalBytes(checked as never);
  const signatures = checked.pseudonyms.map((p) => {
    const key = byPublicKey.get(p.publicKey);
    if (!key) fail('INVALID_ARGUMENT', `no private key given for ${p.patientId} on ${p.chainId}`);
    return sign('sha256', bytes, { key, dsaEncoding: 'ieee-p1363' }).toString('base64');
  });
  return { link: checked, signatures };
}

export interface LinkVerifyOptions {
  /** The verifier's clock. */
  nowMs: number;
  /** The verifier's MSP id: a link bound to another audience is refused. */
  audience?: string;
}

/**
 * Verifies a signed link, in this order: shape (every field, no extra ones), canonical order
 * and uniqueness of the pseudonyms, each public key a canonical P-256 key, every signature over
 * canonicalBytes(link) with its pseudonym's key, the time window, the audience. Pure: whether
 * each id's current key on its chain is the key that signed is for the caller to check on
 * that chain's ledger. Throws MedbridgeError; returns the link.
 */
export function verifyPseudonymLink(input: unknown, opts: LinkVerifyOptions): PseudonymLink {
  const o = asObject(input, 'INVALID_ARGUMENT', 'signed pseudonym link', ['link', 'signatures']);
  const link = parseLink(o.link);
  const sigs = reqArray(o, 'signatures', 'INVALID_ARGUMENT', 'signed pseudonym link', MAX_LINKED_PSEUDONYMS, 0);
  if (sigs.length !== link.pseudonyms.length) fail('INVALID_ARGUMENT', `a link of ${link.pseudonyms.length} pseudonyms carries one signature each, got ${sigs.length}`);
  const bytes = canonicalBytes(link as never);
  link.pseudonyms.forEach((p, i) => {
    const sig = reqBase64({ s: sigs[i] }, 's', 'PATIENT_SIGNATURE_INVALID', `signatures[${i}]`, SIGNATURE_CHARS);
    if (sig.length !== 64) fail('PATIENT_SIGNATURE_INVALID', `signatures[${i}] must be 64 bytes (IEEE P1363 r || s)`);
    let ok = false;
    try {
      ok = verify('sha256', bytes, { key: importPatientPublicKey(p.publicKey), dsaEncoding: 'ieee-p1363' }, sig);
    } catch {
      ok = false;
    }
    if (!ok) fail('PATIENT_SIGNATURE_INVALID', `signatures[${i}] does not verify with the key of ${p.patientId} on ${p.chainId}`);
  });
  if (link.issuedAt > opts.nowMs + LINK_CLOCK_SKEW_MS) fail('MESSAGE_STALE', `the link is issued at ${link.issuedAt}, ahead of this clock (${opts.nowMs}); check the signer's clock`);
  if (opts.nowMs >= link.expiresAt) fail('MESSAGE_STALE', `the link expired at ${link.expiresAt}; ask the patient for a new one`);
  if (link.audience !== undefined && link.audience !== opts.audience) {
    fail('INVALID_ARGUMENT', `the link is meant for ${link.audience}${opts.audience === undefined ? '; say who verifies it' : `, not ${opts.audience}`}`);
  }
  return link;
}

/** Strict structural parse of a link, with its invariants; returns a fresh plain copy. */
function parseLink(input: unknown): PseudonymLink {
  const o = asObject(input, 'INVALID_ARGUMENT', 'link', ['domain', 'pseudonyms', 'audience', 'nonce', 'issuedAt', 'expiresAt']);
  if (o.domain !== PSEUDONYM_LINK_DOMAIN) fail('INVALID_ARGUMENT', `link.domain must be ${PSEUDONYM_LINK_DOMAIN}`);
  const pseudonyms = reqArray(o, 'pseudonyms', 'INVALID_ARGUMENT', 'link', MAX_LINKED_PSEUDONYMS, 2).map((p, i) => parsePseudonym(p, i));
  const keys = new Set<string>();
  pseudonyms.forEach((p, i) => {
    const before = pseudonyms[i - 1];
    if (before && byChainThenId(before, p) >= 0) fail('INVALID_ARGUMENT', `link.pseudonyms must be in (chainId, patientId) order without repeats; ${p.chainId}/${p.patientId} is not`);
    if (keys.has(p.publicKey)) fail('INVALID_ARGUMENT', `link.pseudonyms[${i}] repeats a public key: one key is one pseudonym`);
    keys.add(p.publicKey);
  });
  const nonce = reqString(o, 'nonce', 'INVALID_ARGUMENT', 'link', 128);
  if (!Formats.nonce.test(nonce)) fail('INVALID_ARGUMENT', `link.nonce must match ${Formats.nonce.source}`);
  const issuedAt = reqInt(o, 'issuedAt', 'INVALID_ARGUMENT', 'link', 0);
  const expiresAt = reqInt(o, 'expiresAt', 'INVALID_ARGUMENT', 'link', 0);
  if (expiresAt <= issuedAt || expiresAt - issuedAt > MAX_LINK_VALIDITY_MS) {
    fail('INVALID_ARGUMENT', `link.expiresAt must be after issuedAt and at most ${MAX_LINK_VALIDITY_MS / 86_400_000} days after it`);
  }
  const link: PseudonymLink = { domain: PSEUDONYM_LINK_DOMAIN, pseudonyms, nonce, issuedAt, expiresAt };
  if (o.audience !== undefined) {
    const audience = reqString(o, 'audience', 'INVALID_ARGUMENT', 'link', 100);
    if (!Formats.mspId.test(audience)) fail('INVALID_ARGUMENT', 'link.audience must be an MSP id');
    link.audience = audience;
  }
  return link;
}

function parsePseudonym(input: unknown, i: number): Pseudonym {
  const what = `link.pseudonyms[${i}]`;
  const o: Obj = asObject(input, 'INVALID_ARGUMENT', what, ['chainId', 'patientId', 'publicKey']);
  const chainId = reqString(o, 'chainId', 'INVALID_ARGUMENT', what, 100);
  if (!Formats.chainId.test(chainId)) fail('INVALID_ARGUMENT', `${what}.chainId is not a chain id`);
  const patientId = reqString(o, 'patientId', 'INVALID_ARGUMENT', what, 67);
  if (!Formats.patientId.test(patientId)) fail('INVALID_ARGUMENT', `${what}.patientId is not a patient id`);
  const publicKey = reqString(o, 'publicKey', 'INVALID_ARGUMENT', what, PUBLIC_KEY_CHARS);
  importPatientPublicKey(publicKey);
  return { chainId, patientId, publicKey };
}
