/**
 * Pseudonym links in the app (chaincode/CONSENT.md "Per-chain pseudonyms and pseudonym links"):
 * the patient's ids on two chains, each with its own key, and both keys signing that they are
 * one person. This device's key signs for the id at this hospital; the other id's key comes from
 * its backup file (made in the other hospital's app, whose browser storage this page cannot
 * reach), opened with its passphrase for this one signature and then dropped. Nothing is sent:
 * the patient hands the link file to whom they choose, and it is never written to a ledger.
 */
import { assemblePseudonymLink, canonicalBytes, MAX_LINK_VALIDITY_MS, type SignedPseudonymLink } from '@medbridge/chaincode';
import { bytesOf, newNonce } from './bytes';
import { signBytes, type DeviceKey } from './keys';

/** One of the patient's ids with the key that is current for it. */
export interface LinkedKey {
  chainId: string;
  key: DeviceKey;
}

export interface LinkRequest {
  ids: readonly LinkedKey[];
  /** The MSP id of the org the link is for; absent: anyone the patient shows it to. */
  audience?: string;
  days: number;
  now?: number;
}

const DAY = 86_400_000;

/**
 * Signs the link with every key, in the link's (chainId, patientId) order. Each key was checked
 * against its public key when it came onto the device (made, or opened from a backup: keys.ts),
 * and every verifier checks the signatures again.
 */
export async function makePseudonymLink(req: LinkRequest): Promise<SignedPseudonymLink> {
  if (!Number.isInteger(req.days) || req.days < 1 || req.days * DAY > MAX_LINK_VALIDITY_MS) {
    throw new Error(`a link is valid for 1 to ${MAX_LINK_VALIDITY_MS / DAY} days`);
  }
  const keys = new Set(req.ids.map((i) => i.key.publicKey));
  if (keys.size !== req.ids.length) throw new Error('this backup holds the key of this browser: choose the backup of your other id');
  const now = req.now ?? Date.now();
  const link = assemblePseudonymLink({
    pseudonyms: req.ids.map((i) => ({ chainId: i.chainId, patientId: i.key.patientId, publicKey: i.key.publicKey })),
    ...(req.audience ? { audience: req.audience } : {}),
    nonce: newNonce(),
    issuedAt: now,
    expiresAt: now + req.days * DAY,
  });
  const bytes = bytesOf(canonicalBytes(link));
  const signatures: string[] = [];
  for (const p of link.pseudonyms) {
    const id = req.ids.find((i) => i.key.publicKey === p.publicKey)!;
    signatures.push(await signBytes(id.key, bytes));
  }
  return { link, signatures };
}
