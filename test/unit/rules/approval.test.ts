/**
 * rules/approval.ts: the one approval rule behind governance proposals and value actions:
 * each member org's admin approves once, the proposal executes when every required org
 * approved, and never twice.
 */
import { addApproval, isApproved, markExecuted, type Approvals } from '../../../chaincode/src/rules/approval';
import { approveProposal, propose } from '../../../chaincode/src/rules/governance-actions';
import { approve } from '../../../chaincode/src/rules/value-actions';
import { MedbridgeError } from '../../../chaincode/src/errors';
import { expectCodeSync } from '../support/codes';

const pending = (approvals: string[] = []): Approvals => ({ proposalId: 'p1', approvals, status: 'pending' });

/** The `CODE: message` text a refusal carries on the wire. */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof MedbridgeError) return e.message;
    throw e;
  }
  throw new Error('no refusal');
}

describe('approval', () => {
  it('adds approvals in MSP id order', () => {
    const once = addApproval(pending(), 'OrgC', { noun: 'proposal' });
    expect(addApproval(once, 'OrgA', { noun: 'proposal' }).approvals).toEqual(['OrgA', 'OrgC']);
  });

  it('refuses a second approval by the same org with ALREADY_APPROVED, naming the proposal', () => {
    expect(refusal(() => addApproval(pending(['OrgA']), 'OrgA', { noun: 'action' }))).toBe('ALREADY_APPROVED: OrgA already approved action p1');
  });

  it('refuses any approval of an executed proposal with ALREADY_APPROVED', () => {
    const done = markExecuted(pending(['OrgA']), 5);
    expect(done).toEqual({ proposalId: 'p1', approvals: ['OrgA'], status: 'executed', executedAtMs: 5 });
    expect(refusal(() => addApproval(done, 'OrgB', { noun: 'action', afterExecuted: '; use a new memo' }))).toBe(
      'ALREADY_APPROVED: action p1 was already executed; use a new memo',
    );
  });

  it('is approved only when every required org approved, and never with nobody required', () => {
    expect(isApproved(['OrgA'], ['OrgA', 'OrgB'])).toBe(false);
    expect(isApproved(['OrgA', 'OrgB', 'OrgX'], ['OrgA', 'OrgB'])).toBe(true);
    expect(isApproved(['OrgA'], [])).toBe(false);
  });

  it('governs governance proposals and value actions alike', () => {
    const action = { kind: 'pause-route' as const, routeId: 'route-ab' };
    const proposal = propose(action, 'OrgA', 'tx1', 7);
    expect(proposal).toMatchObject({ proposalId: 'tx1', approvals: ['OrgA'], proposer: 'OrgA', status: 'pending', createdAtMs: 7 });
    expect(approveProposal(proposal, 'OrgB').approvals).toEqual(['OrgA', 'OrgB']);
    expectCodeSync(() => approveProposal(proposal, 'OrgA'), 'ALREADY_APPROVED');

    const value = approve(undefined, { kind: 'mint', to: 'org:OrgA', amount: 5, memo: 'm' }, 'OrgB', 7);
    expect(value).toMatchObject({ approvals: ['OrgB'], status: 'pending', createdAtMs: 7 });
    expectCodeSync(() => approve(value, value.action, 'OrgB', 8), 'ALREADY_APPROVED');
  });
});
