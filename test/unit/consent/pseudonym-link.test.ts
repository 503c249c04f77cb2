import { sign } from 'node:crypto';
import { canonicalBytes } from '../../../chaincode/src/protocol/canonical-json';
import {
  assemblePseudonymLink,
  buildPseudonymLink,
  LINK_CLOCK_SKEW_MS,
  MAX_LINK_VALIDITY_MS,
  PSEUDONYM_LINK_DOMAIN,
  signPseudonymLink,
  verifyPseudonymLink,
  type Pseudonym,
  type SignedPseudonymLink,
} from '../../../chaincode/src/protocol/pseudonym-link';
import { DAY, expectCodeSync, newKey, T0, type KeyHolder } from './support';

const onA = newKey();
const onB = newKey();
const onC = newKey();

function pseudonym(chainId: string, k: KeyHolder): Pseudonym {
  return { chainId, patientId: k.patientId, publicKey: k.publicKey };
}

function link(over: { audience?: string; expiresAt?: number; pseudonyms?: Pseudonym[] } = {}) {
  return buildPseudonymLink({
    pseudonyms: over.pseudonyms ?? [pseudonym('chain-b', onB), pseudonym('chain-a', onA)],
    nonce: 'n0nce-0123456789abcdef',
    issuedAt: T0,
    expiresAt: over.expiresAt ?? T0 + DAY,
    ...(over.audience === undefined ? {} : { audience: over.audience }),
  });
}

/** A deep copy, as a link travels (a file, a request body). */
function copy(s: SignedPseudonymLink): any {
  return JSON.parse(JSON.stringify(s));
}

const at = { nowMs: T0 + 1000 };

describe('pseudonym links (per-chain pseudonyms)', () => {
  it('verifies a link signed by the key of every pseudonym, listed in (chainId, patientId) order', () => {
    const signed = signPseudonymLink(link(), [onA.privateKey, onB.privateKey]);
    const out = verifyPseudonymLink(copy(signed), at);
    expect(out.domain).toBe(PSEUDONYM_LINK_DOMAIN);
    expect(out.pseudonyms.map((p) => p.chainId)).toEqual(['chain-a', 'chain-b']);
    expect(out.pseudonyms.map((p) => p.patientId)).toEqual([onA.patientId, onB.patientId]);
    expect(signed.signatures).toHaveLength(2);
  });

  it('has each key sign the canonical bytes of the link (any P-256 signer can make one)', () => {
    const l = link();
    const signatures = [onA, onB].map((k) => sign('sha256', canonicalBytes(l as never), { key: k.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64'));
    expect(() => verifyPseudonymLink({ link: l, signatures }, at)).not.toThrow();
  });

  it('assembles, without checking, the link buildPseudonymLink builds (the patient app signs it with WebCrypto); a verifier checks it whole', () => {
    const input = { pseudonyms: [pseudonym('chain-b', onB), pseudonym('chain-a', onA)], nonce: 'n0nce-0123456789abcdef', issuedAt: T0, expiresAt: T0 + DAY, audience: 'HospitalBMSP' };
    const assembled = assemblePseudonymLink(input);
    expect(canonicalBytes(assembled as never).equals(canonicalBytes(buildPseudonymLink(input) as never))).toBe(true);
    const signatures = assembled.pseudonyms.map((p) => sign('sha256', canonicalBytes(assembled as never), { key: (p.chainId === 'chain-a' ? onA : onB).privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64'));
    expect(verifyPseudonymLink({ link: assembled, signatures }, { ...at, audience: 'HospitalBMSP' }).pseudonyms.map((p) => p.chainId)).toEqual(['chain-a', 'chain-b']);
    // What assemble does not check, the verifier refuses: one key for two pseudonyms.
    const oneKey = assemblePseudonymLink({ ...input, pseudonyms: [pseudonym('chain-a', onA), { ...pseudonym('chain-b', onB), publicKey: onA.publicKey }] });
    const sig = sign('sha256', canonicalBytes(oneKey as never), { key: onA.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64');
    expectCodeSync(() => verifyPseudonymLink({ link: oneKey, signatures: [sig, sig] }, { ...at, audience: 'HospitalBMSP' }), 'INVALID_ARGUMENT');
    expectCodeSync(() => buildPseudonymLink({ ...input, pseudonyms: oneKey.pseudonyms }), 'INVALID_ARGUMENT');
  });

  it('refuses to sign when the key of a pseudonym is missing', () => {
    expectCodeSync(() => signPseudonymLink(link(), [onA.privateKey]), 'INVALID_ARGUMENT');
  });

  it('rejects a link whose signature was made by another key', () => {
    const signed = copy(signPseudonymLink(link(), [onA.privateKey, onB.privateKey]));
    const forged = copy(signPseudonymLink(link({ pseudonyms: [pseudonym('chain-a', onA), pseudonym('chain-c', onC)] }), [onA.privateKey, onC.privateKey]));
    signed.signatures[1] = forged.signatures[1];
    expectCodeSync(() => verifyPseudonymLink(signed, at), 'PATIENT_SIGNATURE_INVALID');
  });

  it('rejects a link changed after signing: a third id added, an id swapped, the time moved', () => {
    const signed = copy(signPseudonymLink(link(), [onA.privateKey, onB.privateKey]));
    const swapped = copy(signed);
    swapped.link.pseudonyms[1] = pseudonym('chain-b', onC);
    expectCodeSync(() => verifyPseudonymLink(swapped, at), 'PATIENT_SIGNATURE_INVALID');
    const later = copy(signed);
    later.link.expiresAt += 1;
    expectCodeSync(() => verifyPseudonymLink(later, at), 'PATIENT_SIGNATURE_INVALID');
    const grown = copy(signed);
    grown.link.pseudonyms.push(pseudonym('chain-c', onC));
    grown.signatures.push(signed.signatures[0]);
    expectCodeSync(() => verifyPseudonymLink(grown, at), 'PATIENT_SIGNATURE_INVALID');
  });

  it('rejects a link with a signature missing or one too many', () => {
    const signed = copy(signPseudonymLink(link(), [onA.privateKey, onB.privateKey]));
    expectCodeSync(() => verifyPseudonymLink({ ...signed, signatures: signed.signatures.slice(0, 1) }, at), 'INVALID_ARGUMENT');
    expectCodeSync(() => verifyPseudonymLink({ ...signed, signatures: [...signed.signatures, signed.signatures[0]] }, at), 'INVALID_ARGUMENT');
  });

  it('rejects a signature that is not 64 bytes of canonical base64', () => {
    const signed = copy(signPseudonymLink(link(), [onA.privateKey, onB.privateKey]));
    signed.signatures[0] = Buffer.alloc(70, 1).toString('base64');
    expectCodeSync(() => verifyPseudonymLink(signed, at), 'PATIENT_SIGNATURE_INVALID');
    signed.signatures[0] = 'not base64!';
    expectCodeSync(() => verifyPseudonymLink(signed, at), 'PATIENT_SIGNATURE_INVALID');
  });

  it('needs two pseudonyms at least, each pair and each key once', () => {
    expectCodeSync(() => link({ pseudonyms: [pseudonym('chain-a', onA)] }), 'INVALID_ARGUMENT');
    expectCodeSync(() => link({ pseudonyms: [pseudonym('chain-a', onA), pseudonym('chain-a', onA)] }), 'INVALID_ARGUMENT');
    // one key named under two chains would "link" a pseudonym to itself
    expectCodeSync(() => link({ pseudonyms: [pseudonym('chain-a', onA), pseudonym('chain-b', onA)] }), 'INVALID_ARGUMENT');
    // two ids on one chain (a patient re-enrolled after losing a key) may be linked
    expect(() => link({ pseudonyms: [pseudonym('chain-a', onA), pseudonym('chain-a', onB)] })).not.toThrow();
  });

  it('rejects a link whose pseudonyms are out of canonical order, so one set has one form', () => {
    const signed = copy(signPseudonymLink(link(), [onA.privateKey, onB.privateKey]));
    signed.link.pseudonyms.reverse();
    signed.signatures.reverse();
    expectCodeSync(() => verifyPseudonymLink(signed, at), 'INVALID_ARGUMENT');
  });

  it('rejects unknown fields, a wrong domain, a malformed id or key', () => {
    const signed = copy(signPseudonymLink(link(), [onA.privateKey, onB.privateKey]));
    expectCodeSync(() => verifyPseudonymLink({ ...signed, extra: 1 }, at), 'INVALID_ARGUMENT');
    expectCodeSync(() => verifyPseudonymLink({ ...signed, link: { ...signed.link, name: 'Jane' } }, at), 'INVALID_ARGUMENT');
    expectCodeSync(() => verifyPseudonymLink({ ...signed, link: { ...signed.link, domain: 'medbridge/patient-message/v1' } }, at), 'INVALID_ARGUMENT');
    const badId = copy(signed);
    badId.link.pseudonyms[0].patientId = 'patient-1';
    expectCodeSync(() => verifyPseudonymLink(badId, at), 'INVALID_ARGUMENT');
    const badKey = copy(signed);
    badKey.link.pseudonyms[0].publicKey = Buffer.alloc(91, 7).toString('base64');
    expectCodeSync(() => verifyPseudonymLink(badKey, at), 'INVALID_ARGUMENT');
    expectCodeSync(() => verifyPseudonymLink(null, at), 'INVALID_ARGUMENT');
  });

  it('is valid from its issue time (with clock skew) until it expires, for at most 30 days', () => {
    const signed = copy(signPseudonymLink(link(), [onA.privateKey, onB.privateKey]));
    expect(() => verifyPseudonymLink(signed, { nowMs: T0 - LINK_CLOCK_SKEW_MS })).not.toThrow();
    expectCodeSync(() => verifyPseudonymLink(signed, { nowMs: T0 - LINK_CLOCK_SKEW_MS - 1 }), 'MESSAGE_STALE');
    expect(() => verifyPseudonymLink(signed, { nowMs: T0 + DAY - 1 })).not.toThrow();
    expectCodeSync(() => verifyPseudonymLink(signed, { nowMs: T0 + DAY }), 'MESSAGE_STALE');
    expectCodeSync(() => link({ expiresAt: T0 + MAX_LINK_VALIDITY_MS + 1 }), 'INVALID_ARGUMENT');
    expectCodeSync(() => link({ expiresAt: T0 }), 'INVALID_ARGUMENT');
  });

  it('binds a link to its audience: another org, or a verifier that does not say who it is, is refused', () => {
    const signed = copy(signPseudonymLink(link({ audience: 'HospitalCMSP' }), [onA.privateKey, onB.privateKey]));
    expect(verifyPseudonymLink(signed, { ...at, audience: 'HospitalCMSP' }).audience).toBe('HospitalCMSP');
    expectCodeSync(() => verifyPseudonymLink(signed, { ...at, audience: 'HospitalBMSP' }), 'INVALID_ARGUMENT');
    expectCodeSync(() => verifyPseudonymLink(signed, at), 'INVALID_ARGUMENT');
    // an audience cannot be removed without breaking every signature
    const { audience: _dropped, ...open } = signed.link;
    expectCodeSync(() => verifyPseudonymLink({ ...signed, link: open }, at), 'PATIENT_SIGNATURE_INVALID');
  });
});
