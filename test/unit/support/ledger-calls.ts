/**
 * The requests a transaction makes to its peer, in order, as the node shim sends them: every
 * getState, putState, deleteState, range or partial-composite-key query and iterator close is
 * one request and one answer (a round trip), and the shim sends a transaction's requests one
 * after another. Used to pin how many round trips a transaction costs at endorsement.
 */
import type { Context } from 'fabric-contract-api';
import type { FakeLedger, Iter, TxOptions } from './fake-ledger';

/** One request: its kind and the key or key prefix, with composite-key separators shown as '/'. */
export interface LedgerCall {
  op: 'get' | 'put' | 'delete' | 'range' | 'close';
  /** The composite key's object type and attributes, e.g. 'mb.route/route-ab'. */
  key: string;
}

const STUB_REQUESTS: Record<string, LedgerCall['op']> = {
  getState: 'get',
  putState: 'put',
  deleteState: 'delete',
  getStateByRange: 'range',
  getStateByPartialCompositeKey: 'range',
  getStateByPartialCompositeKeyWithPagination: 'range',
};

function shown(key: string): string {
  return key.split('\u0000').filter((p) => p !== '').join('/');
}

/** Runs `fn` as one transaction on `ledger` and returns its result with the requests it made. */
export async function withLedgerCalls<T>(ledger: FakeLedger, opts: TxOptions, fn: (ctx: Context) => Promise<T>): Promise<{ result: T; calls: LedgerCall[] }> {
  const calls: LedgerCall[] = [];
  const result = await ledger.invoke(opts, (ctx) => {
    // The stub object stays the same (state/store.ts remembers reads per stub object): only its methods are wrapped.
    const stub = ctx.stub as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    for (const [method, op] of Object.entries(STUB_REQUESTS)) {
      const original = stub[method]!.bind(stub);
      stub[method] = async (...args: unknown[]) => {
        const key = typeof args[0] === 'string' && Array.isArray(args[1]) ? [args[0], ...(args[1] as string[])].join('/') : shown(String(args[0]));
        calls.push({ op, key });
        const answer = await original(...args);
        if (op !== 'range') return answer;
        const iterator = (method === 'getStateByPartialCompositeKeyWithPagination' ? (answer as { iterator: Iter }).iterator : answer) as Iter;
        const close = iterator.close.bind(iterator);
        iterator.close = async () => {
          calls.push({ op: 'close', key });
          await close();
        };
        return answer;
      };
    }
    return fn(ctx);
  });
  return { result, calls };
}

/** `calls` as 'op key-type' lines, ids left out: what a test pins. */
export function callShapes(calls: LedgerCall[]): string[] {
  return calls.map((c) => `${c.op} ${c.key.split('/')[0]}`);
}
