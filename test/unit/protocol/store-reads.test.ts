/**
 * state/store.ts: a transaction reads committed state only, so a key it reads twice is fetched
 * from the peer once (readState); another transaction (another stub) reads it again. A query
 * read to its end is not closed (the peer released it with its last answer); one left early is.
 */
import type { ChaincodeStub } from 'fabric-shim';
import { exists, getJson, listAllByPartialKey, listEntriesByPartialKey, markReadsOwnWrites, markSharesReads, readState } from '../../../chaincode/src/state/store';
import { KeyTypes } from '../../../chaincode/src/state/keys';

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

describe('a view that reads what its stub reads (a packet handler\'s buffered view)', () => {
  it('shares the stub\'s remembered reads: a key read through either reaches the peer once', async () => {
    const { stub, calls } = countingStub({ members: '{"chainId":"chain-b","members":["B"]}' });
    const view = { getState: (k: string) => stub.getState(k) } as unknown as ChaincodeStub;
    markSharesReads(view, stub);
    expect(await getJson(stub, 'members')).toEqual({ chainId: 'chain-b', members: ['B'] });
    expect(await getJson(view, 'members')).toEqual({ chainId: 'chain-b', members: ['B'] });
    expect(await exists(view, 'absent')).toBe(false);
    expect(await exists(stub, 'absent')).toBe(false);
    expect(calls).toEqual(['members', 'absent']);
  });

  it('over a view that reads its own writes, is asked every time as that view is', async () => {
    const { stub, calls } = countingStub({ k: '{"v":1}' });
    const own = { getState: (k: string) => stub.getState(k) } as unknown as ChaincodeStub;
    markReadsOwnWrites(own);
    const view = { getState: (k: string) => own.getState(k) } as unknown as ChaincodeStub;
    markSharesReads(view, own);
    expect(await getJson(view, 'k')).toEqual({ v: 1 });
    expect(await getJson(view, 'k')).toEqual({ v: 1 });
    expect(calls).toEqual(['k', 'k']);
  });
});

describe('queries', () => {
  /** A stub whose partial-composite-key query answers `values` in order and records whether the iterator was closed. */
  function queryStub(values: unknown[]): { stub: ChaincodeStub; closes: number[]; nexts: number[] } {
    const closes: number[] = [];
    const nexts: number[] = [];
    const stub = {
      getStateByPartialCompositeKey: async () => {
        let i = 0;
        return {
          next: async () => {
            nexts.push(i);
            const v = values[i++];
            return v === undefined ? { done: true, value: { key: '', value: new Uint8Array() } } : { done: false, value: { key: `k${i}`, value: new Uint8Array(Buffer.from(JSON.stringify(v))) } };
          },
          close: async () => {
            closes.push(i);
          },
        };
      },
    } as unknown as ChaincodeStub;
    return { stub, closes, nexts };
  }

  it('a query read to its end is not closed (no round trip the peer answers doing nothing)', async () => {
    const all = queryStub([{ n: 1 }, { n: 2 }]);
    expect(await listAllByPartialKey(all.stub, KeyTypes.RemoteExcluded, ['chain-a'])).toEqual([{ n: 1 }, { n: 2 }]);
    expect(all.closes).toEqual([]);
    const none = queryStub([]);
    expect(await listAllByPartialKey(none.stub, KeyTypes.ConsentByPatient, ['pt_1'])).toEqual([]);
    expect(none.closes).toEqual([]);
  });

  it('entries come with their keys, in order, and a query read to its end is not closed', async () => {
    const all = queryStub([{ amount: 3 }, { amount: 4 }]);
    expect(await listEntriesByPartialKey(all.stub, KeyTypes.Credit, ['org:HospitalB'])).toEqual([
      { key: 'k1', value: { amount: 3 } },
      { key: 'k2', value: { amount: 4 } },
    ]);
    expect(all.closes).toEqual([]);
    expect(all.nexts).toEqual([0, 1, 2]);
  });

  it('a query left before its end is closed: a value that is not JSON', async () => {
    const broken = queryStub([{ n: 1 }]);
    const stub = broken.stub as unknown as { getStateByPartialCompositeKey: () => Promise<{ next: () => Promise<unknown>; close: () => Promise<void> }> };
    const query = stub.getStateByPartialCompositeKey.bind(stub);
    stub.getStateByPartialCompositeKey = async () => {
      const it = await query();
      return { next: async () => ({ done: false, value: { key: 'k', value: new Uint8Array(Buffer.from('not json')) } }), close: it.close };
    };
    await expect(listAllByPartialKey(broken.stub, KeyTypes.RemoteExcluded, ['chain-a'])).rejects.toThrow(SyntaxError);
    expect(broken.closes).toEqual([0]);
  });
});
