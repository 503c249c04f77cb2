import { Context, Info, Transaction } from 'fabric-contract-api';
import { MedbridgeContract } from './medbridge-contract';
import { canonicalize } from '../protocol/canonical-json';
import { lastHeartbeatText, putHeartbeat, type Heartbeat } from '../state/system-repo';
import { caller, emit, txTimeMs } from './tx-context';

export const CHAINCODE_VERSION = '0.1.0';

@Info({ title: 'System', description: 'Liveness and version of the medbridge chaincode' })
export class SystemContract extends MedbridgeContract {
  constructor() {
    super('System');
  }

  /** Read-only liveness check: echoes who called, on which channel, at which transaction time. */
  @Transaction(false)
  async Ping(ctx: Context): Promise<string> {
    const who = caller(ctx);
    return canonicalize({ channel: ctx.stub.getChannelID(), mspId: who.mspId, role: who.role, txTimeMs: txTimeMs(ctx) });
  }

  /** Records a heartbeat so that submit and commit can be checked end to end. */
  @Transaction()
  async Heartbeat(ctx: Context, note: string): Promise<string> {
    const who = caller(ctx);
    const record: Heartbeat = { mspId: who.mspId, note: note.slice(0, 200), txId: ctx.stub.getTxID(), txTimeMs: txTimeMs(ctx) };
    await putHeartbeat(ctx.stub, record);
    emit(ctx, 'Heartbeat', record);
    return canonicalize(record);
  }

  @Transaction(false)
  async LastHeartbeat(ctx: Context, mspId: string): Promise<string> {
    return lastHeartbeatText(ctx.stub, mspId);
  }

  @Transaction(false)
  async Version(_ctx: Context): Promise<string> {
    return canonicalize({ chaincode: 'medbridge', version: CHAINCODE_VERSION });
  }
}
