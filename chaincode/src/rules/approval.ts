/**
 * The one approval rule of the consortium, for governance proposals (PROTOCOL.md
 * "Governance") and value actions (INCENTIVES.md "Governance"): a proposal carries one
 * action; the admin of each member org approves it once; it executes in the transaction of
 * the last required approval, and never twice. Who is required is the caller's to say
 * (every member org, or every one but the accused org for remove-node).
 */
import { fail } from '../errors';

export type ProposalStatus = 'pending' | 'executed';

/** What every proposal carries for the approval rule. */
export interface Approvals {
  proposalId: string;
  /** MSP ids whose admins approved, sorted. */
  approvals: string[];
  status: ProposalStatus;
  executedAtMs?: number;
}

/** How refusals name a proposal ('proposal', 'action') and what they add about an executed one. */
export interface ProposalNaming {
  noun: string;
  afterExecuted?: string;
}

/**
 * Adds `mspId`'s approval (approvals stay sorted). ALREADY_APPROVED for an executed
 * proposal, or a second approval by the same org.
 */
export function addApproval<P extends Approvals>(proposal: P, mspId: string, naming: ProposalNaming): P {
  if (proposal.status === 'executed') fail('ALREADY_APPROVED', `${naming.noun} ${proposal.proposalId} was already executed${naming.afterExecuted ?? ''}`);
  if (proposal.approvals.includes(mspId)) fail('ALREADY_APPROVED', `${mspId} already approved ${naming.noun} ${proposal.proposalId}`);
  return { ...proposal, approvals: [...proposal.approvals, mspId].sort() };
}

/** Whether every required org approved (a proposal with nobody required never executes). */
export function isApproved(approvals: readonly string[], required: readonly string[]): boolean {
  return required.length > 0 && required.every((m) => approvals.includes(m));
}

/** The proposal as executed at `nowMs`. */
export function markExecuted<P extends Approvals>(proposal: P, nowMs: number): P {
  return { ...proposal, status: 'executed', executedAtMs: nowMs };
}
