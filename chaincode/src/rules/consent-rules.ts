/**
 * Consent, shaped after FHIR R4 Consent: a patient-signed grant of `actions` on a
 * `scope` of records to one `grantee` org for some `purposes` during a `period`.
 * Status is a function of stored state and time: revoked wins, then the period.
 */
import { fail } from '../errors';
import { CONSENT_POLICY_FORMAT, type ConsentPolicy } from '../protocol/consent-policy/model';
import { parseConsentPolicy } from '../protocol/consent-policy/parse';
import {
  CONSENT_ACTIONS,
  consentIdOf,
  PURPOSES_OF_USE,
  type ConsentGrantMessage,
  type ConsentPolicyGrantMessage,
  type ConsentRevocationMessage,
  type ConsentTerms,
  type GuardianDelegationMessage,
  type SignedPatientMessage,
  type VerifiedPatientMessage,
} from '../protocol/patient-messages';
import { permittedRecipientOrgs, validatePolicyForGrant } from './consent-policy';
import type { SignerAuthority } from './patient-rules';

/** Longest period a single grant may cover; longer sharing needs a new grant. */
export const MAX_CONSENT_PERIOD_MS = 5 * 365 * 86_400_000;

export type ConsentStatus = 'active' | 'pending' | 'expired' | 'revoked';

export interface SignedBy {
  keyId: string;
  authority: SignerAuthority;
  /** When a guardian signed: the patient-signed delegation of that guardian's key. */
  delegation: SignedPatientMessage<GuardianDelegationMessage> | null;
}

export interface Consent {
  consentId: string;
  /** Chain id of the home channel where the grant was made. */
  chainId: string;
  patientId: string;
  grantee: string;
  terms: ConsentTerms;
  /** Stored status: 'active' until revoked. Use consentStatusAt for the effective status. */
  status: 'active' | 'revoked';
  /** 1 when granted, bumped on every change (revocation); cross-chain mirrors only move forward. */
  version: number;
  grantedAt: number;
  grantTxId: string;
  grant: SignedPatientMessage<ConsentGrantMessage>;
  grantSignedBy: SignedBy;
  revocation: {
    signed: SignedPatientMessage<ConsentRevocationMessage>;
    signedBy: SignedBy;
    revokedAt: number;
    txId: string;
  } | null;
}

/**
 * A consent v2 (CONSENT.md "Consent language (v2)"): the patient-signed policy, evaluated by
 * rules/consent-policy.ts. `grantees` are the requester orgs some permit of the policy can
 * reach, sorted, or ['*'] when a permit reaches every org: where the consent is indexed, so
 * a decision for one org reads only the policies that can decide for it.
 */
export interface PolicyConsent {
  consentId: string;
  chainId: string;
  patientId: string;
  format: typeof CONSENT_POLICY_FORMAT;
  grantees: string[];
  policy: ConsentPolicy;
  status: 'active' | 'revoked';
  version: number;
  grantedAt: number;
  grantTxId: string;
  grant: SignedPatientMessage<ConsentPolicyGrantMessage>;
  grantSignedBy: SignedBy;
  revocation: Consent['revocation'];
}

/** Any consent in state: v1 terms or a v2 policy. */
export type StoredConsent = Consent | PolicyConsent;

/** The grantee index entry that stands for "every org" (not an MSP id, so it collides with none). */
export const ANY_GRANTEE = '*';

/** The org that keeps a private consent (its grant names it), or null for a public consent. */
export function keeperOf(c: StoredConsent): string | null {
  return c.grant.message.keeper ?? null;
}

/** What a keeper's index holds of one private consent: enough to pick those that can decide for a requester org. */
export interface PrivateConsentEntry {
  consentId: string;
  /** v1: [its grantee]; v2: its `grantees` (orgs, or ['*']). */
  grantees: string[];
}

/** The index entry of a private consent. */
export function privateConsentEntry(c: StoredConsent): PrivateConsentEntry {
  return { consentId: c.consentId, grantees: isPolicyConsent(c) ? [...c.grantees] : [c.grantee] };
}

/** The private consents of an index that can decide for requester org `grantee`, in consent-id order. */
export function privateConsentIdsFor(entries: readonly PrivateConsentEntry[], grantee: string): string[] {
  return entries
    .filter((e) => e.grantees.includes(grantee) || e.grantees.includes(ANY_GRANTEE))
    .map((e) => e.consentId)
    .sort();
}

export function isPolicyConsent(c: StoredConsent): c is PolicyConsent {
  return (c as Partial<PolicyConsent>).format === CONSENT_POLICY_FORMAT;
}

/**
 * A new consent v2 from a verified consent.grant-policy message. The policy must be in
 * canonical form (what was signed is what is enforced; CONSENT_POLICY_INVALID names the
 * element otherwise), in force for a bounded period of at most 5 years that has not ended,
 * and able to permit something: a policy that permits no requester would change no decision
 * (a base deny is not an opt-out; revoking consents is), so it is refused, not stored.
 */
export function grantPolicyConsent(
  verified: VerifiedPatientMessage<ConsentPolicyGrantMessage>,
  signedBy: SignedBy,
  now: number,
  txId: string,
): PolicyConsent {
  const m = verified.message;
  const policy = parseConsentPolicy(m.policy);
  validatePolicyForGrant(policy, now);
  const reach = permittedRecipientOrgs(policy);
  if (!reach.any && reach.orgs.length === 0) {
    fail('CONSENT_POLICY_INVALID', 'policy permits no requester (a base deny without a permit provision changes no decision); to stop sharing, revoke the consents that permit it');
  }
  return {
    ...newlyGranted(verified, signedBy, now, txId),
    format: CONSENT_POLICY_FORMAT,
    grantees: reach.any ? [ANY_GRANTEE] : reach.orgs,
    policy,
  };
}

/** What every consent holds when it is granted, v1 or v2: ids, the signed grant, who signed, when. */
function newlyGranted<M extends ConsentGrantMessage | ConsentPolicyGrantMessage>(
  verified: VerifiedPatientMessage<M>,
  signedBy: SignedBy,
  now: number,
  txId: string,
) {
  const m = verified.message;
  return {
    consentId: consentIdOf(m),
    chainId: m.channel,
    patientId: m.patientId,
    status: 'active' as const,
    version: 1,
    grantedAt: now,
    grantTxId: txId,
    grant: verified.signed,
    grantSignedBy: signedBy,
    revocation: null,
  };
}

export interface ConsentTarget {
  recordId: string;
  category: string;
}

/** Meaningful checks of consent terms at transaction time `now` (structure is checked by the protocol). */
export function validateGrantTerms(t: ConsentTerms, now: number): void {
  if (t.actions.length === 0) fail('INVALID_ARGUMENT', 'a consent must allow at least one action');
  for (const a of t.actions) {
    if (!(CONSENT_ACTIONS as readonly string[]).includes(a)) fail('INVALID_ARGUMENT', `action ${a} is not one of ${CONSENT_ACTIONS.join(', ')}`);
  }
  unique(t.actions, 'actions');
  if (t.purposes.length === 0) fail('INVALID_ARGUMENT', 'a consent must name at least one purpose of use');
  for (const p of t.purposes) {
    if (!(PURPOSES_OF_USE as readonly string[]).includes(p)) fail('INVALID_ARGUMENT', `purpose ${p} is not one of ${PURPOSES_OF_USE.join(', ')}`);
  }
  unique(t.purposes, 'purposes');
  if (t.scope.recordIds.length + t.scope.categories.length === 0) {
    fail('INVALID_ARGUMENT', 'a consent must name at least one record id or category');
  }
  unique(t.scope.recordIds, 'scope.recordIds');
  unique(t.scope.categories, 'scope.categories');
  if (t.period.end <= t.period.start) fail('INVALID_ARGUMENT', 'period.end must be after period.start');
  if (t.period.end - t.period.start > MAX_CONSENT_PERIOD_MS) fail('INVALID_ARGUMENT', 'period is longer than 5 years');
  if (t.period.end <= now) fail('CONSENT_EXPIRED', `the consent period ended at ${t.period.end}, before the transaction time`);
}

function unique(list: string[], what: string): void {
  if (new Set(list).size !== list.length) fail('INVALID_ARGUMENT', `${what} has duplicates`);
}

/** A new consent from a verified grant whose signer authority has been established. */
export function grantConsent(
  verified: VerifiedPatientMessage<ConsentGrantMessage>,
  signedBy: SignedBy,
  now: number,
  txId: string,
): Consent {
  const m = verified.message;
  validateGrantTerms(m.terms, now);
  return { ...newlyGranted(verified, signedBy, now, txId), grantee: m.terms.grantee, terms: m.terms };
}

/** The consent after a verified revocation: revoked, version bumped. Revocation is final. */
export function revokeConsent<C extends StoredConsent>(
  c: C,
  verified: VerifiedPatientMessage<ConsentRevocationMessage>,
  signedBy: SignedBy,
  now: number,
  txId: string,
): C {
  const m = verified.message;
  if (m.consentId !== c.consentId) fail('INVALID_ARGUMENT', 'revocation names another consent');
  if (m.patientId !== c.patientId) fail('UNAUTHORIZED', `consent ${c.consentId} belongs to another patient`);
  if (c.status === 'revoked') fail('CONSENT_NOT_ACTIVE', `consent ${c.consentId} is already revoked`);
  return { ...c, status: 'revoked', version: c.version + 1, revocation: { signed: verified.signed, signedBy, revokedAt: now, txId } };
}

/**
 * Effective status at time t: revoked, else by period [start, end): the terms' period (v1), or
 * the policy's (v2; bounded at grant time).
 */
export function consentStatusAt(c: { status: 'active' | 'revoked'; terms: ConsentTerms } | { status: 'active' | 'revoked'; policy: ConsentPolicy }, t: number): ConsentStatus {
  if (c.status === 'revoked') return 'revoked';
  const period = 'terms' in c ? c.terms.period : c.policy.period;
  if (period?.start !== undefined && t < period.start) return 'pending';
  if (period?.end !== undefined && t >= period.end) return 'expired';
  return 'active';
}

/** The end of a consent's period (v1 terms, v2 policy); v2 periods are bounded at grant time. */
export function consentPeriodEnd(c: StoredConsent): number {
  return isPolicyConsent(c) ? (c.policy.period?.end ?? 0) : c.terms.period.end;
}

export function scopeCovers(t: ConsentTerms, target: ConsentTarget): boolean {
  return t.scope.recordIds.includes(target.recordId) || t.scope.categories.includes(target.category);
}

export function purposeCovered(t: ConsentTerms, purpose: string): boolean {
  return t.purposes.includes(purpose);
}

export function actionCovered(t: ConsentTerms, action: string): boolean {
  return t.actions.includes(action);
}
