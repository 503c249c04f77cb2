/**
 * Errors are data: every rejection carries a stable `code` that the gateway
 * recovers from Fabric's endorsement error, so the CLI shows the chaincode's own words.
 *
 * Wire form (what a peer returns as the chaincode error message): `CODE: message`.
 */
export const ErrorCodes = [
  // generic input and authorisation
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'UNAUTHORIZED',
  'FORBIDDEN_ROLE',
  'NOT_BOOTSTRAPPED',
  // a proposal whose timestamp is too far from the endorsing peer's clock (tx-context.ts)
  'CLOCK_SKEW',
  // patients, records, consent
  'PATIENT_SIGNATURE_INVALID',
  'NONCE_REPLAYED',
  'WRONG_CHANNEL',
  'GUARDIAN_NOT_AUTHORIZED',
  'NOT_CUSTODIAN',
  'RECORD_HASH_MISMATCH',
  'STALE_VERSION',
  'CONSENT_NOT_ACTIVE',
  'CONSENT_EXPIRED',
  'ACCESS_DENIED',
  'PATIENT_NOT_REGISTERED',
  'MESSAGE_STALE',
  'EMERGENCY_LIMIT',
  'ALREADY_REVIEWED',
  'PATIENT_KEY_RETIRED',
  'PATIENT_KEY_IN_USE',
  'PATIENT_KEY_ROTATION_LIMIT',
  // a record erased on request (GDPR art. 17): its anchor holds no hash any more (CONSENT.md "Erasure")
  'RECORD_ERASED',
  // governance
  'NOT_A_MEMBER',
  'PROPOSAL_NOT_FOUND',
  'ALREADY_APPROVED',
  // cross-chain protocol
  'UNSUPPORTED_SCHEME',
  'MALFORMED_PROOF',
  'PROOF_TOO_LARGE',
  'UNKNOWN_CHAIN',
  'UNKNOWN_ROOT',
  'CERT_EXPIRED',
  'CERT_NOT_PEER',
  'CERT_CHAIN_INVALID',
  'CERT_REVOKED',
  'SIGNER_NOT_IN_LIST',
  'DUPLICATE_SIGNER',
  'THRESHOLD_NOT_MET',
  'SIGNATURE_INVALID',
  'COMMITMENT_MISMATCH',
  'PROPOSAL_MISMATCH',
  'EPOCH_SKIPPED',
  'EPOCH_STALE',
  'EPOCH_LINK_INVALID',
  'INVALID_NODE_LIST',
  'TRUST_FLOOR_VIOLATED',
  'TRUSTING_PERIOD_EXPIRED',
  'WRONG_DESTINATION',
  'OUT_OF_ORDER',
  'PACKET_REPLAYED',
  'PACKET_TIMED_OUT',
  'PACKET_NOT_TIMED_OUT',
  'ROUTE_NOT_OPEN',
  'ROUTE_PAUSED',
  'ROUTE_FROZEN',
  'RATE_LIMITED',
  'PACKET_TYPE_NOT_ALLOWED',
  // a batch of packets or acknowledgements that is not one contiguous run of one route (rules/batch-rules.ts)
  'BATCH_INVALID',
  // value transfer
  'INSUFFICIENT_FUNDS',
  'INSUFFICIENT_STAKE',
  'UNBONDING',
  'EVIDENCE_INVALID',
  'PARAMETERS_UNSAFE',
  'ESCROW_SETTLED',
  'ALREADY_SLASHED',
  // aggregated BLS12-381 proofs (protocol/bls)
  'BLS_KEY_INVALID',
  'BLS_POP_INVALID',
  'BLS_BINDING_INVALID',
  'BLS_SIGNATURE_INVALID',
  'BITMAP_INVALID',
  // remote chain lifecycle (CA roll-over)
  'ROOT_IN_USE',
  // record anchor attestations (protocol/record-attestation.ts)
  'ANCHOR_UNATTESTED',
  // consent language v2 (protocol/consent-policy, protocol/fhir-consent.ts)
  'CONSENT_POLICY_INVALID',
  'CONSENT_POLICY_TOO_LARGE',
  'FHIR_CONSENT_INVALID',
  'FHIR_ELEMENT_UNSUPPORTED',
] as const;

export type ErrorCode = (typeof ErrorCodes)[number];

const codeSet: ReadonlySet<string> = new Set(ErrorCodes);

export class MedbridgeError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'MedbridgeError';
  }

  /** The message without the code prefix. */
  get detail(): string {
    return this.message.slice(this.code.length + 2);
  }
}

/**
 * Finds a medbridge error code and its message inside any text (a peer's error, a gRPC
 * detail). Wrappers put their own `WORD: ` prefixes first (`UNKNOWN: ... failure: CODE: msg`),
 * so every `WORD: ` position is tried, not only the first one on a line.
 */
export function parseErrorText(text: string): { code: ErrorCode; message: string } | undefined {
  const re = /\b([A-Z][A-Z0-9_]{2,}): /g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const code = m[1];
    if (code !== undefined && codeSet.has(code)) {
      const rest = text.slice(m.index + m[0].length);
      const end = rest.indexOf('\n');
      return { code: code as ErrorCode, message: (end < 0 ? rest : rest.slice(0, end)).trim() };
    }
  }
  return undefined;
}

export function fail(code: ErrorCode, message: string): never {
  throw new MedbridgeError(code, message);
}

export function check(condition: unknown, code: ErrorCode, message: string): asserts condition {
  if (!condition) throw new MedbridgeError(code, message);
}
