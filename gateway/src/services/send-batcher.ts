/**
 * Group commit of packet sends (chaincode/PROTOCOL.md "Batches"). The sends of one org share
 * their route's send counter and, with value transfer on, the org's fee account, so two sends
 * in one block conflict and one of them is proposed again: a route carries about one send per
 * block. A SendBatcher keeps at most one send transaction of its client in flight. A send that
 * finds none goes at once, alone, on SendPacket (it waits for nothing more than before); sends
 * that arrive while one is in flight wait for it and then go together, up to `maxBatch`, in ONE
 * SendPackets transaction. Under load a block carries a batch instead of one send per route.
 *
 * Each caller gets its own answer:
 *  - a batch that committed resolves every send with its own item and the batch's txId;
 *  - a batch the chaincode refused (one refused send refuses all, it wrote nothing) is sent
 *    again one send at a time, so only the bad send fails, with its own code;
 *  - a batch that failed for the network (peers or orderer unreachable, commit status unknown)
 *    fails every send in it with that error, as the single path would have.
 *
 * @example
 *   const sends = new SendBatcher(chaincode.crossChain);
 *   const { result } = await sends.send('chain-b', 'ping', { routeId: 'a-b', payload: { i: 1 } });
 */
import { Limits, type PacketType, type SendPacketArgs, type SendPacketResult, type SendPacketsResult } from '@medbridge/chaincode';
import { toClientError } from '../errors';
import type { SendItem, Submitted } from '../fabric/contracts';

/** What a SendBatcher submits through: the typed client's two send transactions. */
export interface PacketSender {
  sendPacket(destChain: string, type: PacketType, args: SendPacketArgs): Promise<Submitted<SendPacketResult>>;
  sendPackets(sends: readonly SendItem[]): Promise<Submitted<SendPacketsResult>>;
}

interface Waiting {
  item: SendItem;
  resolve: (r: Submitted<SendPacketResult>) => void;
  reject: (e: unknown) => void;
}

export class SendBatcher {
  private readonly waiting: Waiting[] = [];
  private flushing = false;

  constructor(
    private readonly sender: PacketSender,
    private readonly maxBatch: number = Limits.maxBatchPackets,
  ) {
    if (!Number.isSafeInteger(maxBatch) || maxBatch < 1 || maxBatch > Limits.maxBatchPackets) {
      throw new RangeError(`maxBatch must be 1..${Limits.maxBatchPackets}`);
    }
  }

  /** Sends one packet, alone or in the next batch; resolves once its transaction committed. */
  send(destChain: string, type: PacketType, args: SendPacketArgs): Promise<Submitted<SendPacketResult>> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item: { destChain, type, args }, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  /** Sends waiting for the transaction in flight. */
  get queued(): number {
    return this.waiting.length;
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.waiting.length > 0) await this.sendRun(this.waiting.splice(0, this.maxBatch));
    } finally {
      this.flushing = false;
    }
  }

  private async sendRun(run: Waiting[]): Promise<void> {
    if (run.length === 1) return this.sendAlone(run[0]!);
    let done: Submitted<SendPacketsResult>;
    try {
      done = await this.sender.sendPackets(run.map((w) => w.item));
    } catch (e) {
      const err = toClientError(e);
      if (err.kind !== 'rejected') {
        for (const w of run) w.reject(err);
        return;
      }
      // Refused as a whole for one send (or lost its conflicts): each alone, each with its own answer.
      for (const w of run) await this.sendAlone(w);
      return;
    }
    run.forEach((w, i) => {
      const result = done.result.items[i];
      if (result) w.resolve({ result, txId: done.txId, blockNumber: done.blockNumber });
      else w.reject(new Error(`SendPackets ${done.txId} answered ${done.result.items.length} items for ${run.length} sends`));
    });
  }

  private async sendAlone(w: Waiting): Promise<void> {
    try {
      w.resolve(await this.sender.sendPacket(w.item.destChain, w.item.type, w.item.args));
    } catch (e) {
      w.reject(e);
    }
  }
}
