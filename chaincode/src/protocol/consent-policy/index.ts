/**
 * The consent language (v2): model, vocabularies, strict parser and canonical form
 * (CONSENT.md "Consent language (v2)"). The evaluator is rules/consent-policy.ts.
 *
 * A browser bundle imports model.ts, vocabulary.ts and parse.ts directly (they use no node
 * API); canonical.ts hashes with node:crypto.
 */
export * from './model';
export * from './vocabulary';
export { parseConsentPolicy, normalizeConsentPolicy, compareActors, compareCodings, compareStrings, type ParseOptions } from './parse';
export { canonicalPolicy, consentPolicyBytes, consentPolicyHash, consentPolicyText } from './canonical';
