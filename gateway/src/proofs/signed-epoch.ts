/**
 * The epoch binding of a signed statement: packet, acknowledgement and record-anchor messages
 * name the epoch of the list whose nodes sign them (chaincode/PROTOCOL.md "Proof"). A proof is
 * assembled against the list read just before; when the source moved to a new list in between,
 * the message names another epoch and the proof would not verify, so building stops and the
 * caller tries again.
 */
import type { VerificationNodeList } from '@medbridge/chaincode';

/** The epoch `message` names, which must be `list`'s; throws (retry) when it is not. */
export function requireListEpoch(message: Buffer, list: Pick<VerificationNodeList, 'epoch'>): number {
  const epoch = (JSON.parse(message.toString('utf8')) as { epoch: number }).epoch;
  if (epoch !== list.epoch) throw new Error(`the source signed epoch ${epoch} while its list is at ${list.epoch}; retry`);
  return epoch;
}
