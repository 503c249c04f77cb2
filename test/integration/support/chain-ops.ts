/**
 * Reading, writing and governing a channel from integration tests, the same way in every
 * suite: results parsed as canonical JSON, failures with each peer's own (chaincode) message,
 * governance as a proposal approved by every member org's admin.
 */
import type { OrgConnection } from '../../../gateway/src/fabric/connection';
import { toClientError } from '../../../gateway/src/errors';

export interface ChainHandle {
  channel: string;
  /** A member's user identity, for reads. */
  user: OrgConnection;
  /** One admin per member org; governance needs all of them. */
  admins: OrgConnection[];
}

export const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

export async function evaluate(c: ChainHandle, contract: string, fn: string, ...args: string[]): Promise<any> {
  return JSON.parse(text(await c.user.contract(c.channel, contract).evaluateTransaction(fn, ...args)));
}

export async function submit(conn: OrgConnection, channel: string, contract: string, fn: string, ...args: string[]): Promise<any> {
  try {
    return JSON.parse(text(await conn.contract(channel, contract).submitTransaction(fn, ...args)));
  } catch (e) {
    // Surface each peer's chaincode message (the medbridge error code) instead of gRPC noise.
    const details = ((e as { details?: Array<{ address?: string; message?: string }> }).details ?? []).map((d) => `${d.address}: ${d.message}`);
    throw new Error(`${contract}:${fn} on ${channel} failed: ${(e as Error).message} ${details.join(' | ')}`);
  }
}

/** The medbridge error code a call fails with, or undefined when it succeeds. */
export async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return toClientError(e).code;
  }
}

/** Proposes with the first member admin, approves with the others; returns the executed proposal. */
export async function govern(c: ChainHandle, action: unknown): Promise<any> {
  const [first, ...rest] = c.admins;
  if (!first) throw new Error(`no admin for ${c.channel}`);
  let p = await submit(first, c.channel, 'Governance', 'Propose', JSON.stringify(action));
  for (const admin of rest) p = await submit(admin, c.channel, 'Governance', 'Approve', p.proposalId);
  expect(p.status).toBe('executed');
  return p;
}
