/**
 * A relay's two legs done by hand, for suites that check what a relay relies on: receive a
 * packet on the destination with a proof built from the source's peers, then acknowledge it on
 * the source with a proof built from the destination's peers. Both are one leg: the proving
 * chain's nodes sign a statement, proved against the epoch the other chain knows of it, and the
 * other chain takes the proof in a transaction and answers; the leg checks the answer.
 */
import type { Packet, PacketAccepted, PacketSettled, Proof } from '@medbridge/chaincode';
import { orAbsent, type Submitted } from '../../../gateway/src/fabric/contracts';
import { buildStatementProof, type BuiltProof, type ListBoundStatement, type ProofOptions } from '../../../gateway/src/proofs';
import { sourceOf, type Chain } from './chain-ops';

export interface Leg<R> {
  /** The chain's answer to the submitted transaction. */
  result: R;
  built: BuiltProof;
  /** The epoch of the proving chain that the other side knew when the proof was built. */
  knownEpoch: number;
  /** Wall time of the submit (endorse, order, commit), for figures only. */
  submitMs: number;
}

export interface LegOptions {
  /** Proof scheme and signers (default: the chain's endorsements). */
  proof?: ProofOptions;
  /** The epoch of the proving chain that the receiving chain knows (default: read from that chain). */
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
  const known = await orAbsent(on.cc.crossChain.getRemoteChain(remote), ['UNKNOWN_CHAIN']);
  if (!known) throw new Error(`${on.channel} has not registered ${remote}`);
  return known.epoch;
}

/** `prover`'s proof of `statement`, carried into `verifier` by `submit`. */
function leg<R>(prover: Chain, verifier: Chain, statement: ListBoundStatement, submit: (proof: Proof) => Promise<Submitted<R>>, options: LegOptions): Promise<Leg<R>> {
  return attempts(options.retryOnConflict, async () => {
    const knownEpoch = await knownEpochOf(verifier, prover.channel, options.knownEpoch);
    const built = await buildStatementProof(sourceOf(prover), statement, knownEpoch, options.proof);
    const t = performance.now();
    const { result } = await submit(built.proof);
    return { result, built, knownEpoch, submitMs: Math.round(performance.now() - t) };
  });
}

/** `CrossChain:ReceivePacket` of `packet` (sent on `from`) on `to`; expects outcome success. */
export async function receiveLeg(from: Chain, to: Chain, routeId: string, packet: Packet, options: LegOptions = {}): Promise<Leg<PacketAccepted>> {
  const received = await leg(from, to, { kind: 'packet', routeId, sequence: packet.sequence }, (proof) => to.cc.crossChain.receivePacket(packet, proof), options);
  expect(received.result).toMatchObject({ outcome: 'success', sequence: packet.sequence });
  return received as Leg<PacketAccepted>;
}

/** `CrossChain:AcknowledgePacket` on `from` of the receipt `to` holds for `sequence`; expects status acknowledged. */
export async function acknowledgeLeg(from: Chain, to: Chain, routeId: string, sequence: number, options: LegOptions = {}): Promise<Leg<PacketSettled>> {
  const { ack } = await to.cc.crossChain.getReceipt(routeId, sequence);
  const acked = await leg(to, from, { kind: 'ack', routeId, sequence }, (proof) => from.cc.crossChain.acknowledgePacket(ack, proof), options);
  expect(acked.result).toMatchObject({ status: 'acknowledged', sequence });
  return acked as Leg<PacketSettled>;
}

export interface DeliverOptions extends Omit<LegOptions, 'knownEpoch'> {
  /** Proof scheme and signers of the acknowledgement (`to`'s), default `proof`. */
  ackProof?: ProofOptions;
}

/** Both legs: `packet` (sent on `from`) received on `to`, then acknowledged on `from`. */
export async function deliver(from: Chain, to: Chain, routeId: string, packet: Packet, options: DeliverOptions = {}): Promise<{ received: Leg<PacketAccepted>; acked: Leg<PacketSettled> }> {
  const { ackProof, ...common } = options;
  const received = await receiveLeg(from, to, routeId, packet, common);
  const acked = await acknowledgeLeg(from, to, routeId, packet.sequence, { ...common, proof: ackProof ?? common.proof });
  return { received, acked };
}
