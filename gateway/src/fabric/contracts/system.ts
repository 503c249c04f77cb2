/**
 * The `System` contract: liveness and version of the chaincode.
 *
 * @example
 *   const ping = await cc.system.ping(); // { channel, mspId, role, txTimeMs }
 */
import type { ChaincodeVersion, HeartbeatRecord, PingResult } from '@medbridge/chaincode';
import type { FabricClient } from '../client';
import { ContractClient, type Submitted } from './contract';

export const SystemTransactions = {
  Ping: 'evaluate',
  Heartbeat: 'submit',
  LastHeartbeat: 'evaluate',
  Version: 'evaluate',
} as const;

export class SystemClient extends ContractClient<typeof SystemTransactions> {
  constructor(client: FabricClient, channel: string) {
    super(client, channel, 'System', SystemTransactions);
  }

  /** Who called, on which channel, at which transaction time (read-only). */
  ping(): Promise<PingResult> {
    return this.evaluate('Ping');
  }

  /** Records a heartbeat: a write checked end to end (submit and commit). */
  heartbeat(note: string): Promise<Submitted<HeartbeatRecord>> {
    return this.submit('Heartbeat', [note]);
  }

  /** The last heartbeat of an org, or null when it has none. */
  lastHeartbeat(mspId: string): Promise<HeartbeatRecord | null> {
    return this.evaluate('LastHeartbeat', [mspId]);
  }

  version(): Promise<ChaincodeVersion> {
    return this.evaluate('Version');
  }
}
