/**
 * The governance actions of the value ledger: the only ways to create credits, change
 * the incentive parameters, or spend the treasury. Each runs only when the admins of
 * every member org approved exactly the same action (INCENTIVES.md "Governance"; the
 * approval rule itself, shared with governance proposals, is rules/approval.ts).
 * A `memo` names the decision, so that two mints of the same amount are two actions.
 */
import { fail } from '../errors';
import { canonicalHash } from '../protocol/canonical-json';
import { asObject, reqString } from '../protocol/fields';
import { addApproval, isApproved, type Approvals } from './approval';
import { checkParams, type IncentiveParams, parseParams } from './parameter-safety';
import { type AccountId, parseAccountId, requireAmount, TREASURY } from './value-rules';

export type ValueAction =
  | { kind: 'mint'; to: AccountId; amount: number; memo: string }
  | { kind: 'set-params'; params: IncentiveParams; memo: string }
  | { kind: 'treasury-transfer'; to: AccountId; amount: number; memo: string };

const C = 'INVALID_ARGUMENT' as const;

export function parseValueAction(value: unknown): ValueAction {
  const o = asObject(value, C, 'value action');
  const memo = reqString(o, 'memo', C, 'value action', 200);
  switch (o.kind) {
    case 'mint':
    case 'treasury-transfer': {
      asObject(o, C, 'value action', ['kind', 'to', 'amount', 'memo']);
      const to = o.to as string;
      parseAccountId(to);
      if (to === TREASURY) fail(C, `${o.kind} cannot credit the treasury itself`);
      return { kind: o.kind, to, amount: requireAmount(o.amount, 'amount'), memo };
    }
    case 'set-params':
      asObject(o, C, 'value action', ['kind', 'params', 'memo']);
      return { kind: 'set-params', params: checkParams(parseParams(o.params)), memo };
    default:
      fail(C, 'value action kind must be mint, set-params or treasury-transfer');
  }
}

/** The proposal id of an action: the same action proposed by two orgs is one proposal. */
export function valueActionId(action: ValueAction): string {
  return canonicalHash(action);
}

export interface ValueProposal extends Approvals {
  action: ValueAction;
  createdAtMs: number;
}

/** Adds an org's approval; a second approval by the same org, or of an executed action, is refused. */
export function approve(proposal: ValueProposal | undefined, action: ValueAction, mspId: string, nowMs: number): ValueProposal {
  const base: ValueProposal = proposal ?? { proposalId: valueActionId(action), action, approvals: [], status: 'pending', createdAtMs: nowMs };
  return addApproval(base, mspId, { noun: 'action', afterExecuted: '; use a new memo' });
}

export function approvedByAll(proposal: ValueProposal, members: readonly string[]): boolean {
  return isApproved(proposal.approvals, members);
}
