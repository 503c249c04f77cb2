/**
 * Extension points of the packet lifecycle, for the value-transfer contract (fees on send,
 * rewards to the signers of an accepted proof and to the relayer, refunds on timeout).
 * A hook runs inside the cross-chain transaction after every cross-chain check passed;
 * if it throws, the whole transaction is refused and nothing changes.
 */
import type { Context } from 'fabric-contract-api';
import type { Acknowledgement, Packet } from '../protocol/packet';

export interface PacketLifecycleEvent {
  packet: Packet;
  packetHash: string;
  /** Caller id (sha256 of the certificate) and MSP of whoever submitted this transaction. */
  submitter: { id: string; mspId: string };
  /** Remote nodes whose signatures were in the accepted proof (receive, acknowledge, timeout). */
  signers?: string[];
  /** Epoch of the remote list that signed. */
  proofEpoch?: number;
  ack?: Acknowledgement;
}

export interface CrossChainHooks {
  /** Source chain, SendPacket: e.g. take the fee into escrow. */
  onSend?(ctx: Context, e: PacketLifecycleEvent): Promise<void>;
  /** Destination chain, ReceivePacket and RecordTimeout. */
  onReceive?(ctx: Context, e: PacketLifecycleEvent): Promise<void>;
  /** Source chain, AcknowledgePacket (ack.outcome success or error). */
  onAcknowledge?(ctx: Context, e: PacketLifecycleEvent): Promise<void>;
  /** Source chain, TimeoutPacket. */
  onTimeout?(ctx: Context, e: PacketLifecycleEvent): Promise<void>;
}

const registered: CrossChainHooks[] = [];

export function registerCrossChainHooks(hooks: CrossChainHooks): void {
  if (!registered.includes(hooks)) registered.push(hooks);
}

export async function runHooks(stage: keyof CrossChainHooks, ctx: Context, e: PacketLifecycleEvent): Promise<void> {
  for (const h of registered) {
    const fn = h[stage];
    if (fn) await fn.call(h, ctx, e);
  }
}
