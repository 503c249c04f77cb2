/**
 * Splitting an escrowed fee when its packet is acknowledged (chaincode/INCENTIVES.md
 * "Fee split"). Integer arithmetic only:
 *
 *   signerPool = floor(fee · signerShareBps / 10000)
 *   perSigner  = floor(signerPool / n)            n = eligible signers
 *   relayer    = fee − n · perSigner              (its share plus all rounding dust)
 *
 * Eligible signers are the distinct nodes whose signatures were in the accepted proof and
 * whose stake counts (active, at least minStake bonded). If none is eligible the signer
 * pool goes to the treasury, not the relayer, so a relayer gains nothing by collecting
 * signatures from unstaked nodes. The payouts always sum to exactly the fee.
 */
import { check } from '../errors';
import { BPS } from './parameter-safety';
import {
  type AccountId,
  type Escrow,
  type Payout,
  type Stake,
  isStaked,
  nodeAccount,
  orgAccount,
  requireHeld,
  requireName,
  TREASURY,
} from './value-rules';

export interface FeeSplit {
  payouts: Payout[];
  /** Signers paid (sorted); signers of the proof without a counting stake are not in it. */
  paidSigners: string[];
  unpaidSigners: string[];
}

/**
 * Decides who gets what of a held escrow. `stakes` holds the stake records of the
 * signers (missing = never staked). Rejects a settled escrow and duplicate signers.
 */
export function splitFee(
  escrow: Escrow,
  signerNodeIds: readonly string[],
  relayerMspId: string,
  stakes: ReadonlyMap<string, Stake>,
  params: { signerShareBps: number; minStake: number },
): FeeSplit {
  requireHeld(escrow);
  check(signerNodeIds.length > 0, 'INVALID_ARGUMENT', 'an accepted proof has at least one signer');
  const seen = new Set<string>();
  for (const id of signerNodeIds) {
    requireName(id, 'signer node id');
    check(!seen.has(id), 'DUPLICATE_SIGNER', `signer ${id} appears twice; a signature is paid once`);
    seen.add(id);
  }
  const relayer = orgAccount(relayerMspId);
  const sorted = [...seen].sort();
  const paidSigners = sorted.filter((id) => isStaked(stakes.get(id), params.minStake));
  const unpaidSigners = sorted.filter((id) => !paidSigners.includes(id));

  const fee = escrow.amount;
  const signerPool = Number((BigInt(fee) * BigInt(params.signerShareBps)) / BigInt(BPS));
  const amounts = new Map<AccountId, number>();
  const add = (account: AccountId, amount: number): void => {
    amounts.set(account, (amounts.get(account) ?? 0) + amount);
  };
  if (paidSigners.length === 0) {
    add(TREASURY, signerPool);
    add(relayer, fee - signerPool);
  } else {
    const perSigner = Math.floor(signerPool / paidSigners.length);
    for (const id of paidSigners) add(nodeAccount(id), perSigner);
    add(relayer, fee - perSigner * paidSigners.length);
  }
  const payouts = [...amounts.entries()]
    .filter(([, amount]) => amount > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([account, amount]) => ({ account, amount }));
  return { payouts, paidSigners, unpaidSigners };
}

/** The escrow after payment: marked paid with its payouts, so it can never be paid again. */
export function markPaid(escrow: Escrow, split: FeeSplit, nowMs: number): Escrow {
  requireHeld(escrow);
  const sum = split.payouts.reduce((s, p) => s + p.amount, 0);
  check(sum === escrow.amount, 'INVALID_ARGUMENT', `payouts sum to ${sum}, escrow holds ${escrow.amount}`);
  return { ...escrow, status: 'paid', settledAtMs: nowMs, payouts: split.payouts };
}
