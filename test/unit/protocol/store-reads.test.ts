/**
 * state/store.ts: a transaction reads committed state only, so a key it reads twice is fetched
 * from the peer once (readState); another transaction (another stub) reads it again.
 */
import type { ChaincodeStub } from 'fabric-shim';
import { exists, getJson, markReadsOwnWrites, readState } from '../../../chaincode/src/state/store';

function countingStub(state: Record<string, string>): { stub: ChaincodeStub; calls: string[] } {
  const calls: string[] = [];
  const stub = {
    getState: async (k: string) => {
      calls.push(k);
      return new Uint8Array(Buffer.from(state[k] ?? ''));
    },
  } as unknown as ChaincodeStub;
  return { stub, calls };
}

describe('reads of one transaction', () => {
  it('reaches the peer once per key, whatever reads it (getJson, exists, readState)', async () => {
    const { stub, calls } = countingStub({ members: '{"chainId":"chain-a","members":["A"]}' });
    expect(await getJson(stub, 'members')).toEqual({ chainId: 'chain-a', members: ['A'] });
    expect(await getJson(stub, 'members')).toEqual({ chainId: 'chain-a', members: ['A'] });
    expect(await exists(stub, 'members')).toBe(true);
    expect(await exists(stub, 'absent')).toBe(false);
    expect(await getJson(stub, 'absent')).toBeUndefined();
    expect(Buffer.from(await readState(stub, 'members')).toString()).toContain('chain-a');
    expect(calls).toEqual(['members', 'absent']);
  });

  it('does not share reads between transactions: each stub reads committed state itself', async () => {
    const state: Record<string, string> = { k: '{"v":1}' };
    const first = countingStub(state);
    expect(await getJson(first.stub, 'k')).toEqual({ v: 1 });
    state.k = '{"v":2}';
    const second = countingStub(state);
    expect(await getJson(second.stub, 'k')).toEqual({ v: 2 });
    expect(first.calls).toEqual(['k']);
    expect(second.calls).toEqual(['k']);
  });
});

describe('a view that reads its own writes (batch transactions)', () => {
  it('is asked every time: a read after its own write sees the write', async () => {
    const { stub, calls } = countingStub({ k: '{"v":1}' });
    const own: { text?: string } = {};
    const view = {
      getState: async (k: string) => {
        calls.push(k);
        return new Uint8Array(Buffer.from(own.text ?? '{"v":1}'));
      },
    } as unknown as ChaincodeStub;
    markReadsOwnWrites(view);
    expect(await getJson(view, 'k')).toEqual({ v: 1 });
    own.text = '{"v":2}';
    expect(await getJson(view, 'k')).toEqual({ v: 2 });
    expect(calls).toEqual(['k', 'k']);
    expect(await getJson(stub, 'k')).toEqual({ v: 1 });
  });
});
