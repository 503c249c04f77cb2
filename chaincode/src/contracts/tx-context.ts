/**
 * The one place for what every contract method does around its rule: the transaction's
 * time (the proposal timestamp, never a clock), who calls (certificate -> rules/roles.ts),
 * membership of this channel's consortium, argument parsing, and the one event.
 */
import { X509Certificate } from 'node:crypto';
import type { Context } from 'fabric-contract-api';
import { check, fail } from '../errors';
import { canonicalize } from '../protocol/canonical-json';
import { organizationalUnits } from '../protocol/certificates';
import { Memo } from '../protocol/verification-cache';
import { isProtocolId } from '../protocol/limits';
import { type Caller, type Role, ROLE_ATTRIBUTE, roleAllowed, roleOf } from '../rules/roles';
import { getMemberSet, type MemberSet } from '../state/governance-repo';

export type { Caller, Role } from '../rules/roles';

/**
 * How far a proposal's timestamp may be from the endorsing peer's clock, either way
 * (PROTOCOL.md "Threat model: submitters, members and value"). The submitter writes the
 * timestamp; everything that runs on transaction time (packet timeouts, certificate
 * validity, rate-limit windows, consent periods, unbonding) trusts it only this far.
 */
export const MAX_CLOCK_SKEW_MS = 60_000;

/**
 * Refuses (CLOCK_SKEW) a proposal whose timestamp is more than `maxSkewMs` from `peerNowMs`.
 * Pure: the caller passes the peer's clock.
 */
export function checkClockSkew(txMs: number, peerNowMs: number, maxSkewMs = MAX_CLOCK_SKEW_MS): void {
  const skew = txMs - peerNowMs;
  if (!Number.isFinite(txMs) || Math.abs(skew) > maxSkewMs) {
    fail(
      'CLOCK_SKEW',
      `the proposal's timestamp is ${Math.round(skew / 1000)} s ${skew > 0 ? 'ahead of' : 'behind'} this peer's clock; at most ${maxSkewMs / 1000} s is accepted (check the client's clock)`,
    );
  }
}

/**
 * The endorsement-time check every medbridge transaction passes first (MedbridgeContract's
 * beforeTransaction). It reads the peer's clock, the one place chaincode does, and only
 * refuses: it writes nothing and nothing it computes reaches the write set, so endorsements
 * of one proposal by peers whose clocks agree within the skew stay identical.
 */
export function requireTimestampNearPeerClock(ctx: Context, peerNowMs: number = Date.now()): void {
  checkClockSkew(txTimeMs(ctx), peerNowMs);
}

/** Transaction time in milliseconds since the epoch, from the proposal's timestamp. */
export function txTimeMs(ctx: Context): number {
  const ts = ctx.stub.getTxTimestamp();
  const seconds = typeof ts.seconds === 'number' ? ts.seconds : Number(ts.seconds.toString());
  return seconds * 1000 + Math.floor(ts.nanos / 1_000_000);
}

/**
 * What a caller's certificate says (its SHA-256 fingerprint as lowercase hex, its subject's OUs),
 * by its PEM text. Parsing a certificate costs more than the rest of most checks, a transaction
 * asks who calls more than once (GrantAndSend: the send's caller, then the grant's staff), and an
 * org submits every transaction with the same few identities; the memo holds what the parse of
 * exactly that text gave (verification-cache.ts), so a hit answers as the parse would.
 */
const callerCertificates = new Memo<{ id: string; ous: readonly string[] }>(256);

function callerCertificate(certPem: string): { id: string; ous: readonly string[] } {
  return callerCertificates.get(certPem, () => {
    const cert = new X509Certificate(certPem);
    return { id: cert.fingerprint256.replace(/:/g, '').toLowerCase(), ous: organizationalUnits(cert.subject) };
  });
}

/** The calling identity: MSP id, certificate fingerprint and role (UNAUTHORIZED without one). */
export function caller(ctx: Context): Caller {
  const ci = ctx.clientIdentity;
  const mspId = ci.getMSPID();
  // fabric-shim hands the creator's id bytes as a Uint8Array (not a Buffer) on a real peer.
  const certPem = Buffer.from(ci.getIDBytes()).toString('utf8');
  const { id, ous } = callerCertificate(certPem);
  const role = roleOf(ci.getAttributeValue(ROLE_ATTRIBUTE), ous);
  if (role === undefined) fail('UNAUTHORIZED', `identity of ${mspId} has no medbridge role (no ${ROLE_ATTRIBUTE} attribute and no client/admin OU)`);
  return { mspId, id, role };
}

export function requireRole(ctx: Context, ...roles: Role[]): Caller {
  const who = caller(ctx);
  if (roleAllowed(who.role, roles)) return who;
  fail('FORBIDDEN_ROLE', `role ${who.role} of ${who.mspId} may not call this; needs ${roles.join(' or ')}`);
}

/** The caller, after checking that its org is a member of this channel's consortium. */
export async function requireMember(ctx: Context): Promise<Caller> {
  const who = caller(ctx);
  const set = await getMemberSet(ctx.stub);
  if (!set.members.includes(who.mspId)) fail('NOT_A_MEMBER', `${who.mspId} is not a member of ${set.chainId}`);
  return who;
}

/** A caller with one of `roles`, in a member org of this channel. */
export async function requireMemberRole(ctx: Context, ...roles: Role[]): Promise<Caller> {
  requireRole(ctx, ...roles);
  return requireMember(ctx);
}

/** An admin of a member org of this channel, with the member set. */
export async function requireMemberAdmin(ctx: Context): Promise<{ who: Caller; set: MemberSet }> {
  const who = requireRole(ctx, 'admin');
  const set = await getMemberSet(ctx.stub);
  if (!set.members.includes(who.mspId)) fail('NOT_A_MEMBER', `${who.mspId} is not a member of ${set.chainId}`);
  return { who, set };
}

/** Sets the transaction's one event: `payload` as canonical JSON. */
export function emit(ctx: Context, name: string, payload: unknown): void {
  emitReturning(ctx, name, payload);
}

/** emit, returning the event's canonical JSON: for a method whose result is its event's payload (encoded once). */
export function emitReturning(ctx: Context, name: string, payload: unknown): string {
  const json = canonicalize(payload);
  ctx.stub.setEvent(name, Buffer.from(json));
  return json;
}

// ------------------------------------------------------------------ arguments

/** The page size of a list call: '' = 50; the store refuses anything outside 1..MAX_PAGE_SIZE. */
export const DEFAULT_PAGE_SIZE = 50;

export function parsePageSize(text: string): number {
  if (text === '') return DEFAULT_PAGE_SIZE;
  return parseCount(text, 'pageSize');
}

/** A non-negative decimal integer argument. */
export function parseCount(text: string, what: string): number {
  if (!/^[0-9]{1,15}$/.test(text)) fail('INVALID_ARGUMENT', `${what} must be a non-negative integer`);
  return Number(text);
}

/** A packet sequence or epoch: a positive decimal integer. */
export function parseSequence(text: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(text)) fail('INVALID_ARGUMENT', 'sequence must be a positive integer');
  const n = Number(text);
  if (!Number.isSafeInteger(n)) fail('INVALID_ARGUMENT', 'sequence is too large');
  return n;
}

/** A protocol identifier argument (chain, route, record id). */
export function requireId(value: string, what: string): string {
  if (!isProtocolId(value)) fail('INVALID_ARGUMENT', `${what} must be an identifier`);
  return value;
}

/** An object argument given as JSON whose fields are all in `allowed`. */
export function checkFields(o: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(o)) check(allowed.includes(k), 'INVALID_ARGUMENT', `${what} has an unknown field "${k}"`);
}
