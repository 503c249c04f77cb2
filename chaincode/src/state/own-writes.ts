/**
 * A transaction view that reads its own writes, for the batch transactions (ReceivePackets,
 * AcknowledgePackets). Fabric's getState returns the state committed before the
 * transaction, so two packets of one batch that update one key (an account credited by two
 * acknowledgements, a consent granted then revoked) would each read the old value and the
 * second write would drop the first. Through this view, getState returns the value the
 * transaction last wrote (or nothing after a delete), so each item sees the items before it as
 * if they had been committed one by one. Writes still go to the real stub (last write wins).
 * Range and composite-key queries still see committed state only; the handlers and hooks a
 * batch runs read single keys. A key the transaction has not written is read from the peer once
 * (the parameters, the signers' stakes and lists every item of a batch reads).
 */
import type { Context } from 'fabric-contract-api';
import type { ChaincodeStub } from 'fabric-shim';
import { markReadsOwnWrites, readState } from './store';

export function withOwnWrites(ctx: Context): Context {
  const stub = ctx.stub;
  const written = new Map<string, Uint8Array | undefined>();
  const own: Partial<Record<keyof ChaincodeStub, unknown>> = {
    getState: async (key: string): Promise<Uint8Array> => {
      if (written.has(key)) return written.get(key) ?? new Uint8Array(0);
      // Committed state does not change during the transaction: each key is read from the peer
      // once (store.ts readState on the stub underneath), however many items of the batch ask.
      return readState(stub, key);
    },
    putState: async (key: string, value: Uint8Array): Promise<void> => {
      written.set(key, Uint8Array.from(value));
      await stub.putState(key, value);
    },
    deleteState: async (key: string): Promise<void> => {
      written.set(key, undefined);
      await stub.deleteState(key);
    },
  };
  const proxy = new Proxy(stub, {
    get(target, prop) {
      if (typeof prop === 'string' && prop in own) return own[prop as keyof ChaincodeStub];
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  // Its reads change with its writes, so store.ts must not answer them from the reads it remembers.
  markReadsOwnWrites(proxy);
  const view = Object.create(ctx) as Context;
  Object.defineProperty(view, 'stub', { value: proxy, enumerable: true });
  return view;
}
