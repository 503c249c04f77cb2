/**
 * What a contract method may know about its transaction: time from the transaction
 * timestamp (never a clock), the channel, and who calls (MSP id and role).
 *
 * Roles: a `medbridge.role` attribute in the caller's certificate (Fabric CA enrollments)
 * wins; otherwise the NodeOU of the certificate: OU=admin -> `admin`, OU=client -> `member`.
 */
import { X509Certificate } from 'node:crypto';
import type { Context } from 'fabric-contract-api';
import { fail } from '../errors';
import { organizationalUnits } from '../protocol/certificates';

export { organizationalUnits };

export type Role = 'admin' | 'member' | 'clinician' | 'privacy-officer' | 'peer';

export interface Caller {
  mspId: string;
  /** Stable id of the calling identity: sha256 of its certificate, hex. */
  id: string;
  role: Role;
}

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

const ROLE_ATTRIBUTE = 'medbridge.role';
const ATTRIBUTE_ROLES: ReadonlySet<string> = new Set(['admin', 'member', 'clinician', 'privacy-officer']);

export function caller(ctx: Context): Caller {
  const ci = ctx.clientIdentity;
  const mspId = ci.getMSPID();
  // fabric-shim hands the creator's id bytes as a Uint8Array (not a Buffer) on a real peer.
  const certPem = Buffer.from(ci.getIDBytes()).toString('utf8');
  const cert = new X509Certificate(certPem);
  const id = cert.fingerprint256.replace(/:/g, '').toLowerCase();
  const attr = ci.getAttributeValue(ROLE_ATTRIBUTE);
  if (attr !== null && ATTRIBUTE_ROLES.has(attr)) return { mspId, id, role: attr as Role };
  const ous = organizationalUnits(cert.subject);
  if (ous.includes('admin')) return { mspId, id, role: 'admin' };
  if (ous.includes('peer')) return { mspId, id, role: 'peer' };
  if (ous.includes('client')) return { mspId, id, role: 'member' };
  fail('UNAUTHORIZED', `identity of ${mspId} has no medbridge role (no ${ROLE_ATTRIBUTE} attribute and no client/admin OU)`);
}

export function requireRole(ctx: Context, ...roles: Role[]): Caller {
  const who = caller(ctx);
  // An admin of an org may do what its members may do.
  if (roles.includes(who.role) || (who.role === 'admin' && roles.includes('member'))) return who;
  fail('FORBIDDEN_ROLE', `role ${who.role} of ${who.mspId} may not call this; needs ${roles.join(' or ')}`);
}
