/**
 * A relay's two legs done by hand, for suites that check what a relay relies on: receive a
 * packet on the destination with a proof built from the source's peers, then acknowledge it on
 * the source with a proof built from the destination's peers. Each leg proves against the epoch
 * the other side knows and checks the chain's answer.
 */
import { buildAckProof, buildPacketProof, type BuiltProof, type ProofOptions } from '../../../gateway/src/proofs';
import { evaluate, remoteChainOf, sourceOf, submit, type Chain } from './chain-ops';

export interface Leg {
  /** The chain's answer to the submitted transaction. */
  result: any;
  built: BuiltProof;
  /** The epoch of the proving chain that the other side knew when the proof was built. */
  knownEpoch: number;
  /** Wall time of the submit (endorse, order, commit), for figures only. */
  submitMs: number;
}

export interface LegOptions {
  /** Proof scheme and signers (default: the chain's endorsements). */
  proof?: ProofOptions;
  /** The epoch of `from` that the receiving chain knows (default: read from that chain). */
  knownEpoch?: number;
  /**
   * Rebuild and resubmit up to 3 times on MVCC_READ_CONFLICT / PHANTOM_READ_CONFLICT: other suites
   * share the network, and a transaction that read the remote record or a list while another one
   * changed it fails this way; a relay rebuilds its proof and retries.
   */
  retryOnConflict?: boolean;
}

async function attempts<T>(retry: boolean | undefined, attempt: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (e) {
      if (!retry || i >= 3 || !/MVCC_READ_CONFLICT|PHANTOM_READ_CONFLICT/.test((e as Error).message)) throw e;
    }
  }
}

async function knownEpochOf(on: Chain, remote: string, given: number | undefined): Promise<number> {
  if (given !== undefined) return given;
  const known = await remoteChainOf(on, remote);
  if (!known) throw new Error(`${on.channel} has not registered ${remote}`);
  return known.epoch as number;
}

/** `CrossChain:ReceivePacket` of `packet` (sent on `from`) on `to`; expects outcome success. */
export async function receiveLeg(from: Chain, to: Chain, routeId: string, packet: any, options: LegOptions = {}): Promise<Leg> {
  const leg = await attempts(options.retryOnConflict, async () => {
    const knownEpoch = await knownEpochOf(to, from.channel, options.knownEpoch);
    const built = await buildPacketProof(sourceOf(from), routeId, packet.sequence, knownEpoch, options.proof);
    const t = performance.now();
    const result = await submit(to.user, to.channel, 'CrossChain', 'ReceivePacket', JSON.stringify(packet), JSON.stringify(built.proof));
    return { result, built, knownEpoch, submitMs: Math.round(performance.now() - t) };
  });
  expect(leg.result).toMatchObject({ outcome: 'success', sequence: packet.sequence });
  return leg;
}

/** `CrossChain:AcknowledgePacket` on `from` of the receipt `to` holds for `sequence`; expects status acknowledged. */
export async function acknowledgeLeg(from: Chain, to: Chain, routeId: string, sequence: number, options: LegOptions = {}): Promise<Leg> {
  const receipt = await evaluate(to, 'CrossChain', 'GetReceipt', routeId, String(sequence));
  const leg = await attempts(options.retryOnConflict, async () => {
    const knownEpoch = await knownEpochOf(from, to.channel, options.knownEpoch);
    const built = await buildAckProof(sourceOf(to), routeId, sequence, knownEpoch, options.proof);
    const t = performance.now();
    const result = await submit(from.user, from.channel, 'CrossChain', 'AcknowledgePacket', JSON.stringify(receipt.ack), JSON.stringify(built.proof));
    return { result, built, knownEpoch, submitMs: Math.round(performance.now() - t) };
  });
  expect(leg.result).toMatchObject({ status: 'acknowledged', sequence });
  return leg;
}

export interface DeliverOptions extends Omit<LegOptions, 'knownEpoch'> {
  /** Proof scheme and signers of the acknowledgement (`to`'s), default `proof`. */
  ackProof?: ProofOptions;
}

/** Both legs: `packet` (sent on `from`) received on `to`, then acknowledged on `from`. */
export async function deliver(from: Chain, to: Chain, routeId: string, packet: any, options: DeliverOptions = {}): Promise<{ received: Leg; acked: Leg }> {
  const { ackProof, ...common } = options;
  const received = await receiveLeg(from, to, routeId, packet, common);
  const acked = await acknowledgeLeg(from, to, routeId, packet.sequence, { ...common, proof: ackProof ?? common.proof });
  return { received, acked };
}
