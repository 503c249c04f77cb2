/**
 * Pseudonym links (chaincode/CONSENT.md "Per-chain pseudonyms"): the patient's device signs,
 * with the key of each of their ids, that those ids are one person; a verifier checks the
 * signatures (protocol/pseudonym-link.ts) and, on every chain it is a member of, that each id
 * is registered there with the key that signed as its current key. Nothing here writes to a
 * ledger: a link is shown, never stored, so the ledgers stay unlinkable.
 */
import { buildPseudonymLink, keyIdOf, MAX_LINK_VALIDITY_MS, signPseudonymLink, verifyPseudonymLink, type Patient, type PseudonymLink, type SignedPseudonymLink } from '@medbridge/chaincode';
import { ClientError, toClientError } from '../errors';
import type { Chaincode } from '../fabric/contracts';
import type { PatientKey } from './patient-keys';
import { newNonce } from './patient-signer';

/** One of the patient's ids, with the key that signs for it (its current key). */
export interface LinkedId {
  chainId: string;
  key: PatientKey;
  /** Default: the id the key derives (a patient who never rotated). */
  patientId?: string;
}

export interface LinkRequest {
  ids: readonly LinkedId[];
  /** MSP id of the org the link is for; absent: whoever the patient shows it to. */
  audience?: string;
  validForMs: number;
  nowMs: number;
}

/** Signs a link with every key, on the patient's device: the keys never leave it. */
export function createPseudonymLink(req: LinkRequest): SignedPseudonymLink {
  if (req.validForMs <= 0 || req.validForMs > MAX_LINK_VALIDITY_MS) {
    throw new ClientError('USAGE', 'usage', `a link is valid for 1 ms to ${MAX_LINK_VALIDITY_MS / 86_400_000} days`);
  }
  const link = buildPseudonymLink({
    pseudonyms: req.ids.map((id) => ({ chainId: id.chainId, patientId: id.patientId ?? id.key.patientId, publicKey: id.key.publicKey })),
    ...(req.audience === undefined ? {} : { audience: req.audience }),
    nonce: newNonce(),
    issuedAt: req.nowMs,
    expiresAt: req.nowMs + req.validForMs,
  });
  return signPseudonymLink(
    link,
    req.ids.map((id) => id.key.privateKey),
  );
}

/**
 * What a chain's ledger says of one id of the link:
 * - `current-key`: registered, and the key that signed is its current key;
 * - `retired-key`: registered, but that key was rotated away (it signs nothing any more);
 * - `other-key`: registered with keys that never included the one that signed;
 * - `not-registered`: no such patient on that chain;
 * - `not-checked`: the verifier is not a member of that chain.
 */
export type LedgerStanding = 'current-key' | 'retired-key' | 'other-key' | 'not-registered' | 'not-checked';

export interface PseudonymStanding {
  chainId: string;
  patientId: string;
  ledger: LedgerStanding;
}

export interface LinkVerdict {
  link: PseudonymLink;
  pseudonyms: PseudonymStanding[];
  /** Chains the verifier could read: each of their ids stands with its current key. */
  checkedOn: string[];
}

/** The standing of a patient record against the key that signed for it. */
export function standingOf(patient: Patient, publicKey: string, keyId: string): Exclude<LedgerStanding, 'not-registered' | 'not-checked'> {
  if (patient.publicKey === publicKey) return 'current-key';
  return (patient.keyRotations ?? []).some((r) => r.retiredKeyId === keyId) ? 'retired-key' : 'other-key';
}

const REFUSAL: Record<Exclude<LedgerStanding, 'current-key' | 'not-checked'>, { code: 'PATIENT_NOT_REGISTERED' | 'PATIENT_KEY_RETIRED' | 'PATIENT_SIGNATURE_INVALID'; says: string }> = {
  'not-registered': { code: 'PATIENT_NOT_REGISTERED', says: 'is not registered there' },
  'retired-key': { code: 'PATIENT_KEY_RETIRED', says: 'was signed for with a key that was rotated away there' },
  'other-key': { code: 'PATIENT_SIGNATURE_INVALID', says: 'was signed for with a key that is not that patient’s there' },
};

export class PseudonymLinkVerifier {
  /**
   * @param audience the verifier's MSP id (a link meant for another org is refused)
   * @param chaincodeOn the verifier's chaincode on a chain it is a member of, undefined otherwise
   */
  constructor(
    private readonly audience: string,
    private readonly chaincodeOn: (chainId: string) => Chaincode | undefined,
  ) {}

  /**
   * The signatures, the time window and the audience, then each id on its chain's ledger (side
   * by side). Fails with the first id whose ledger contradicts the link (PATIENT_NOT_REGISTERED,
   * PATIENT_KEY_RETIRED, PATIENT_SIGNATURE_INVALID); ids on chains the verifier cannot read are
   * reported `not-checked`.
   */
  async verify(input: unknown, nowMs: number): Promise<LinkVerdict> {
    const link = verifyPseudonymLink(input, { nowMs, audience: this.audience });
    const pseudonyms = await Promise.all(
      link.pseudonyms.map(async (p): Promise<PseudonymStanding> => {
        const cc = this.chaincodeOn(p.chainId);
        if (!cc) return { chainId: p.chainId, patientId: p.patientId, ledger: 'not-checked' };
        const patient = await cc.consent.getPatient(p.patientId).catch((e: unknown) => {
          if (toClientError(e).code === 'PATIENT_NOT_REGISTERED') return undefined;
          throw e;
        });
        const ledger = patient ? standingOf(patient, p.publicKey, keyIdOf(p.publicKey)) : 'not-registered';
        return { chainId: p.chainId, patientId: p.patientId, ledger };
      }),
    );
    for (const s of pseudonyms) {
      if (s.ledger === 'current-key' || s.ledger === 'not-checked') continue;
      const r = REFUSAL[s.ledger];
      throw new ClientError(r.code, 'rejected', `the link names ${s.patientId} on ${s.chainId}, which ${r.says}`);
    }
    return { link, pseudonyms, checkedOn: pseudonyms.filter((s) => s.ledger === 'current-key').map((s) => s.chainId) };
  }
}
