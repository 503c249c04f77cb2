/**
 * Errors the gateway shows to people and scripts. Fabric reports a chaincode rejection
 * deep inside a gRPC error (`10 ABORTED: failed to endorse transaction` with per-peer
 * details such as `chaincode response 500, CONSENT_EXPIRED: ...`); `toClientError` digs
 * the chaincode's own code and message back out, and turns transport failures into a
 * sentence that says what to do next.
 *
 * Exit codes (CLI): 0 success, 1 other, 2 usage, 3 rejected by chaincode or ledger, 4 network.
 */
import { CommitError, GatewayError } from '@hyperledger/fabric-gateway';
import { StatusNames } from '@hyperledger/fabric-gateway/dist/status';
import { ErrorCodes, parseErrorText, type ErrorCode } from '@medbridge/chaincode';

/** Codes the gateway adds beside the chaincode's own. */
export const ClientErrorCodes = [
  'UNAVAILABLE',
  'TIMEOUT',
  'PERMISSION_DENIED',
  'CHAINCODE_ERROR',
  'COMMIT_FAILED',
  'PROFILE_ERROR',
  'CONFIG_ERROR',
  'USAGE',
  'RECORD_NOT_FOUND',
  'RECORD_HASH_MISMATCH',
  'SEALED_DIGEST_MISMATCH',
  'RECORD_REFUSED',
  'RECORD_CORRUPT',
  'BACKUP_INVALID',
  'STORE_IN_USE',
  'KEY_ERROR',
  'INTERNAL',
  'BUNDLE_INVALID',
  'BUNDLE_HASH_MISMATCH',
  'NO_BLS_SIGNERS',
  'SIGNER_REFUSED',
  'ENROLMENT_UNKNOWN',
  'ENROLMENT_USED',
  'ENROLMENT_EXPIRED',
] as const;
export type ClientErrorCode = (typeof ClientErrorCodes)[number];

export type Code = ErrorCode | ClientErrorCode;

/** What kind of failure, which decides the exit code. */
export type ErrorKind = 'rejected' | 'unavailable' | 'usage' | 'other';

export const ExitCodes = { ok: 0, other: 1, usage: 2, rejected: 3, unavailable: 4 } as const;

export interface PeerDetail {
  address: string;
  mspId: string;
  message: string;
}

export class ClientError extends Error {
  readonly code: Code;
  readonly kind: ErrorKind;
  /** What the user should do next, when there is something useful to say. */
  readonly hint?: string;
  readonly txId?: string;
  /** Per-peer details from Fabric, for --verbose and logs. */
  readonly peers: PeerDetail[];

  constructor(
    code: Code,
    kind: ErrorKind,
    message: string,
    extra: { hint?: string; txId?: string; peers?: PeerDetail[]; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'ClientError';
    this.code = code;
    this.kind = kind;
    this.hint = extra.hint;
    this.txId = extra.txId;
    this.peers = extra.peers ?? [];
  }

  get exitCode(): number {
    return ExitCodes[this.kind];
  }

  /** The object printed with --json and logged. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { code: this.code, kind: this.kind, message: this.message };
    if (this.hint) out.hint = this.hint;
    if (this.txId) out.txId = this.txId;
    if (this.peers.length > 0) out.peers = this.peers;
    return out;
  }
}

const chaincodeCodes: ReadonlySet<string> = new Set(ErrorCodes);

export function isChaincodeCode(code: string): code is ErrorCode {
  return chaincodeCodes.has(code);
}

/**
 * The first medbridge `CODE: message` inside a text. A peer wraps it (`2 UNKNOWN: evaluate
 * call ... chaincode response 500, NOT_FOUND: ...`), and a wrapper's own `WORD: ` prefix
 * would swallow the rest of the line, so every candidate position is tried in turn.
 */
export function findChaincodeError(text: string): ReturnType<typeof parseErrorText> {
  const candidates = /\b[A-Z][A-Z0-9_]{2,}: /g;
  for (let m = candidates.exec(text); m !== null; m = candidates.exec(text)) {
    const parsed = parseErrorText(text.slice(m.index));
    if (parsed && text.slice(m.index).startsWith(`${parsed.code}: `)) return parsed;
  }
  return undefined;
}

/** Where the failing call went, so messages can name it. */
export interface CallSite {
  channel?: string;
  contract?: string;
  fn?: string;
  org?: string;
  /** The peer endpoint the client talks to. */
  endpoint?: string;
}

const NETWORK_HINT = 'is the network up? run `make network-status` (or `make network-up`)';

/** Turns anything thrown by fabric-gateway, grpc-js or the gateway itself into a ClientError. */
export function toClientError(err: unknown, site: CallSite = {}): ClientError {
  if (err instanceof ClientError) return err;
  const what = describeSite(site);
  if (err instanceof CommitError) {
    const status = commitStatusName(err.code);
    return commitFailure(status, err.transactionId, what);
  }
  if (err instanceof GatewayError) {
    const peers: PeerDetail[] = err.details.map((d) => ({ address: d.address, mspId: d.mspId, message: d.message }));
    const txId = (err as GatewayError & { transactionId?: string }).transactionId;
    return fromGrpc(err.code, err.message, peers, txId, site, what, err);
  }
  if (isGrpcServiceError(err)) return fromGrpc(err.code, err.message, [], undefined, site, what, err);
  if (err instanceof Error) {
    const named = (err as Error & { code?: unknown }).code;
    if (named === 'PROFILE_ERROR') {
      return new ClientError('PROFILE_ERROR', 'usage', err.message, { cause: err });
    }
    const parsed = findChaincodeError(err.message);
    if (parsed) return new ClientError(parsed.code, 'rejected', parsed.message, { cause: err });
    if (typeof named === 'string' && /^(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ETIMEDOUT)$/.test(named)) {
      return new ClientError('UNAVAILABLE', 'unavailable', `${what}: ${err.message}`, { hint: NETWORK_HINT, cause: err });
    }
    return new ClientError('INTERNAL', 'other', err.message, { cause: err });
  }
  return new ClientError('INTERNAL', 'other', String(err));
}

function fromGrpc(
  grpcCode: number,
  message: string,
  peers: PeerDetail[],
  txId: string | undefined,
  site: CallSite,
  what: string,
  cause: unknown,
): ClientError {
  const extra = { txId, peers, cause };
  // The chaincode's own words win: look in each peer's detail first, then in the message.
  for (const text of [...peers.map((p) => p.message), message]) {
    const parsed = findChaincodeError(text);
    if (parsed) return new ClientError(parsed.code, 'rejected', parsed.message, extra);
  }
  const endpoint = site.endpoint ?? peers[0]?.address ?? 'the peer';
  const peerText = peers.map((p) => `${p.address} (${p.mspId}): ${summarizePeerMessage(p.message)}`).join('; ');
  switch (grpcCode) {
    case 14: // UNAVAILABLE
      return new ClientError('UNAVAILABLE', 'unavailable', `${what}: peer ${endpoint} unreachable`, {
        ...extra,
        hint: NETWORK_HINT,
      });
    case 4: // DEADLINE_EXCEEDED
      return new ClientError('TIMEOUT', 'unavailable', `${what}: no answer from ${endpoint} before the deadline`, {
        ...extra,
        hint: `the peer or orderer may be overloaded or down; ${NETWORK_HINT}`,
      });
    case 7: // PERMISSION_DENIED
    case 16: // UNAUTHENTICATED
      return new ClientError('PERMISSION_DENIED', 'rejected', `${what}: the peer refused this identity (${stripGrpcPrefix(message)})`, {
        ...extra,
        hint: `check --org/--identity; ${site.org ?? 'this org'} must be a member of channel ${site.channel ?? '?'}`,
      });
    default:
      break;
  }
  const chaincodeText = peerText || stripGrpcPrefix(message);
  // Endorsers at different block heights read different versions: a transient fault of the
  // network (a restarted peer catching up), not of the request; nothing was ordered.
  if (/ProposalResponsePayloads do not match/.test(chaincodeText)) {
    return new ClientError('UNAVAILABLE', 'unavailable', `${what}: the endorsing peers answered differently (one is behind the others); nothing was ordered`, {
      ...extra,
      hint: 'a restarted peer is catching up on blocks; try again in a few seconds',
    });
  }
  if (/connection refused|failed to connect|unavailable|no peers available|no combination of peers/i.test(chaincodeText)) {
    return new ClientError('UNAVAILABLE', 'unavailable', `${what}: ${cleanChaincodeText(chaincodeText)}`, {
      ...extra,
      hint: `not enough endorsing peers are up; ${NETWORK_HINT}`,
    });
  }
  if (/chaincode response|transaction returned with failure|does not exist|not found/i.test(chaincodeText)) {
    return new ClientError('CHAINCODE_ERROR', 'rejected', `${what}: ${cleanChaincodeText(chaincodeText)}`, {
      ...extra,
      hint: 'check the contract and function name (`medbridge query System Version`) and that the chaincode is deployed',
    });
  }
  return new ClientError('INTERNAL', 'other', `${what}: ${chaincodeText}`, extra);
}

/** A transaction that was ordered but committed as invalid (MVCC conflict, policy failure...). */
export function commitFailedError(statusCode: number, txId: string, site: CallSite = {}): ClientError {
  return commitFailure(commitStatusName(statusCode), txId, describeSite(site));
}

function commitFailure(status: string, txId: string, what: string): ClientError {
  const hints: Record<string, string> = {
    MVCC_READ_CONFLICT: 'another transaction changed the same state first; run the command again',
    PHANTOM_READ_CONFLICT: 'another transaction changed the same range first; run the command again',
    ENDORSEMENT_POLICY_FAILURE: 'not enough orgs endorsed; check that every member org has a peer up',
    DUPLICATE_TXID: 'this transaction was already submitted',
  };
  return new ClientError('COMMIT_FAILED', 'rejected', `${what}: transaction ${txId} was not committed: ${status}`, {
    txId,
    hint: hints[status],
  });
}

/** The name of a transaction validation code (MVCC_READ_CONFLICT...). */
export function commitStatusName(code: number): string {
  return (StatusNames as Readonly<Record<number, string>>)[code] ?? `status ${code}`;
}

function describeSite(site: CallSite): string {
  const call = site.contract && site.fn ? `${site.contract}:${site.fn}` : site.fn ?? 'call';
  return site.channel ? `${call} on ${site.channel}` : call;
}

/** A peer's message cut to what a person needs (the full text stays in `peers` for --verbose). */
export function summarizePeerMessage(message: string): string {
  const dial = /dial tcp ([^\s:]+:\d+): connect: connection refused/.exec(message);
  if (dial) {
    const what = /could not launch chaincode/.test(message) ? 'chaincode server' : 'endpoint';
    return `cannot reach ${what} ${dial[1]} (connection refused)`;
  }
  const oneLine = message.replace(/\s+/g, ' ').trim();
  return oneLine.length > 240 ? `${oneLine.slice(0, 239)}…` : oneLine;
}

function stripGrpcPrefix(message: string): string {
  return message.replace(/^\d+ [A-Z_]+: /, '');
}

function cleanChaincodeText(text: string): string {
  return text.replace(/chaincode response \d+, /g, '').replace(/\s+/g, ' ').trim();
}

interface GrpcLikeError {
  code: number;
  message: string;
  details?: string;
  metadata?: unknown;
}

function isGrpcServiceError(err: unknown): err is GrpcLikeError & Error {
  return err instanceof Error && typeof (err as Partial<GrpcLikeError>).code === 'number' && 'metadata' in err;
}

/** A usage error (bad flag, missing argument): exit 2. */
export function usageError(message: string, hint?: string): ClientError {
  return new ClientError('USAGE', 'usage', message, { hint });
}
