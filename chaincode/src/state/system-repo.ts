/**
 * The System contract's state: the last heartbeat of each org, written to check submit and
 * commit end to end.
 */
import type { ChaincodeStub } from 'fabric-shim';
import { key, KeyTypes } from './keys';
import { putJson } from './store';

export interface Heartbeat {
  mspId: string;
  note: string;
  txId: string;
  txTimeMs: number;
}

export async function putHeartbeat(stub: ChaincodeStub, heartbeat: Heartbeat): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.Heartbeat, heartbeat.mspId), heartbeat);
}

/** The last heartbeat of `mspId` as stored (canonical JSON), or '' if it has none. */
export async function lastHeartbeatText(stub: ChaincodeStub, mspId: string): Promise<string> {
  const bytes = await stub.getState(key(stub, KeyTypes.Heartbeat, mspId));
  return bytes.length === 0 ? '' : Buffer.from(bytes).toString('utf8');
}
