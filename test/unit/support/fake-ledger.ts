/**
 * An in-memory stand-in for a channel's world state, for unit tests of contracts.
 * It keeps Fabric's transaction semantics that the contracts rely on:
 *  - reads see committed state only (no read-your-own-writes inside a transaction);
 *  - a transaction's writes and events are applied only if the method returns normally,
 *    so a rejected call provably changes nothing;
 *  - range and partial-composite-key queries return keys in lexical order;
 *  - private data: each collection is its own state, written with the transaction; an implicit
 *    org collection (`_implicit_org_<MSP>`) is read only on a peer of that org (`peerMsp`, by
 *    default the caller's org), as on Fabric, where other orgs' peers do not hold it; and a
 *    transaction that ran a range query over private data may not write, as Fabric refuses it;
 *    the hash of a private value (getPrivateDataHash) is readable on every peer;
 *  - with `recordReads` on, `lastReads` is the read set of the last transaction as a peer records it: public keys read
 *    (point reads, and each key a range query returned, with the range), private keys by the
 *    collection and the key's hash only.
 * Unit tests may stub the chaincode stub; integration tests use real peers.
 */
import { createHash } from 'node:crypto';
import type { Context } from 'fabric-contract-api';

const NS = '\u0000';
const MAX_UNICODE = '\u{10FFFF}';

export interface FakeIdentity {
  mspId: string;
  certPem: string;
  attributes?: Record<string, string>;
}

export interface TxOptions {
  identity: FakeIdentity;
  /** Transaction time, ms since the epoch. */
  timeMs: number;
  txId?: string;
  /** The proposal's transient map. */
  transient?: Record<string, Uint8Array | string>;
  /** The org of the peer that executes the transaction (default: the caller's). */
  peerMsp?: string;
}

export interface EmittedEvent {
  txId: string;
  name: string;
  payload: unknown;
}

export type Iter = {
  next(): Promise<{ done: boolean; value: { key: string; value: Uint8Array } }>;
  close(): Promise<void>;
};

export class FakeLedger {
  readonly state = new Map<string, Buffer>();
  /** Private data by collection, then key. */
  readonly privateState = new Map<string, Map<string, Buffer>>();
  readonly events: EmittedEvent[] = [];
  /** Whether transactions record their reads in lastReads (off: nothing is recorded, as benchmarks run it). */
  recordReads = false;
  /** The read set of the last transaction run (see the file's comment), in the order of reading. */
  lastReads: string[] = [];
  private txCounter = 0;

  constructor(readonly channel: string) {}

  /** A copy of committed state, to compare before and after a rejected call. */
  snapshot(): Map<string, string> {
    return new Map([...this.state.entries()].map(([k, v]) => [k, v.toString('utf8')]));
  }

  /** Runs `fn` as one transaction; commits writes and events only if it resolves. */
  async invoke<T>(opts: TxOptions, fn: (ctx: Context) => Promise<T>): Promise<T> {
    this.txCounter += 1;
    const txId = opts.txId ?? createHash('sha256').update(`${this.channel}/${this.txCounter}`).digest('hex');
    const writes = new Map<string, Buffer | null>();
    const privateWrites = new Map<string, Map<string, Buffer | null>>();
    const txEvents: EmittedEvent[] = [];
    this.lastReads = [];
    const ctx = this.makeContext(opts, txId, writes, txEvents, privateWrites);
    const result = await fn(ctx);
    for (const [k, v] of writes) {
      if (v === null) this.state.delete(k);
      else this.state.set(k, v);
    }
    for (const [collection, kv] of privateWrites) {
      const target = this.privateState.get(collection) ?? new Map<string, Buffer>();
      this.privateState.set(collection, target);
      for (const [k, v] of kv) {
        if (v === null) target.delete(k);
        else target.set(k, v);
      }
    }
    this.events.push(...txEvents);
    return result;
  }

  protected sortedRange(start: string, end: string): Array<[string, Buffer]> {
    return [...this.state.entries()].filter(([k]) => k >= start && k < end).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** An iterator over [start, end) in key order (a subclass may read it lazily, as a peer does). */
  protected rangeIterator(start: string, end: string): Iter {
    return this.iterator(this.sortedRange(start, end));
  }

  private noteRead(read: string): void {
    if (this.recordReads) this.lastReads.push(read);
  }

  /** `it`, recording its range and each key it returns in lastReads (when recordReads is on). */
  private recorded(range: string, it: Iter): Iter {
    if (!this.recordReads) return it;
    this.lastReads.push(range);
    return {
      next: async () => {
        const r = await it.next();
        if (!r.done) this.lastReads.push(`  ${r.value.key}`);
        return r;
      },
      close: () => it.close(),
    };
  }

  protected iterator(entries: Array<[string, Buffer]>): Iter {
    let i = 0;
    return {
      next: async () => {
        const e = entries[i++];
        if (!e) return { done: true, value: { key: '', value: new Uint8Array() } };
        return { done: false, value: { key: e[0], value: new Uint8Array(e[1]) } };
      },
      close: async () => undefined,
    };
  }

  private makeContext(
    opts: TxOptions,
    txId: string,
    writes: Map<string, Buffer | null>,
    txEvents: EmittedEvent[],
    privateWrites: Map<string, Map<string, Buffer | null>>,
  ): Context {
    let eventSet = false;
    // Fabric refuses any write in a transaction that ran a range query over private data
    // (such a query is not re-validated at commit, so it may not feed a write).
    let privateRangeQueried = false;
    const writable = (): void => {
      if (privateRangeQueried) throw new Error('PUT_STATE failed: transaction has already performed queries on pvt data; writes are not allowed');
    };
    const peerMsp = opts.peerMsp ?? opts.identity.mspId;
    const readable = (collection: string): Map<string, Buffer> => {
      const implicit = /^_implicit_org_(.+)$/.exec(collection);
      if (!implicit) throw new Error(`collection ${collection} is not defined`);
      if (implicit[1] !== peerMsp) throw new Error(`private data of ${collection} is not available on a peer of ${peerMsp}`);
      return this.privateState.get(collection) ?? new Map<string, Buffer>();
    };
    const privateWrite = (collection: string, k: string, v: Buffer | null): void => {
      writable();
      if (!/^_implicit_org_.+$/.test(collection)) throw new Error(`collection ${collection} is not defined`);
      if (!k) throw new Error('empty key');
      const kv = privateWrites.get(collection) ?? new Map<string, Buffer | null>();
      privateWrites.set(collection, kv);
      kv.set(k, v);
    };
    const transient = new Map<string, Uint8Array>(Object.entries(opts.transient ?? {}).map(([k, v]) => [k, typeof v === 'string' ? Buffer.from(v) : v]));
    const seconds = Math.floor(opts.timeMs / 1000);
    const nanos = (opts.timeMs % 1000) * 1_000_000;
    const createCompositeKey = (type: string, attrs: string[]) => `${NS}${type}${NS}${attrs.map((a) => `${a}${NS}`).join('')}`;
    const stub = {
      getChannelID: () => this.channel,
      getTxID: () => txId,
      getTxTimestamp: () => ({ seconds, nanos }),
      getState: async (k: string) => {
        this.noteRead(`read ${k}`);
        return new Uint8Array(this.state.get(k) ?? Buffer.alloc(0));
      },
      putState: async (k: string, v: Uint8Array) => {
        writable();
        if (!k) throw new Error('empty key');
        writes.set(k, Buffer.from(v));
      },
      deleteState: async (k: string) => {
        writable();
        writes.set(k, null);
      },
      setEvent: (name: string, payload: Uint8Array) => {
        // Fabric keeps only the last event a transaction sets; medbridge sets exactly one.
        if (eventSet) txEvents.pop();
        eventSet = true;
        const text = Buffer.from(payload).toString('utf8');
        txEvents.push({ txId, name, payload: text ? JSON.parse(text) : null });
      },
      createCompositeKey,
      splitCompositeKey: (k: string) => {
        const parts = k.split(NS).slice(1, -1);
        return { objectType: parts[0] ?? '', attributes: parts.slice(1) };
      },
      getStateByRange: async (start: string, end: string) => this.recorded(`range ${start}`, this.iterator(this.sortedRange(start, end || MAX_UNICODE))),
      getStateByPartialCompositeKey: async (type: string, attrs: string[]) => {
        const prefix = createCompositeKey(type, attrs);
        return this.recorded(`range ${prefix}`, this.rangeIterator(prefix, prefix + MAX_UNICODE));
      },
      getTransient: () => transient,
      putPrivateData: async (collection: string, k: string, v: Uint8Array) => privateWrite(collection, k, Buffer.from(v)),
      deletePrivateData: async (collection: string, k: string) => privateWrite(collection, k, null),
      getPrivateData: async (collection: string, k: string) => {
        this.noteRead(`private ${collection} ${createHash('sha256').update(k).digest('hex')}`);
        return new Uint8Array(readable(collection).get(k) ?? Buffer.alloc(0));
      },
      // Every peer of the channel holds the hashes of every collection's values (member or not).
      getPrivateDataHash: async (collection: string, k: string) => {
        this.noteRead(`private ${collection} ${createHash('sha256').update(k).digest('hex')}`);
        if (!/^_implicit_org_.+$/.test(collection)) throw new Error(`collection ${collection} is not defined`);
        const v = this.privateState.get(collection)?.get(k);
        return new Uint8Array(v === undefined ? Buffer.alloc(0) : createHash('sha256').update(v).digest());
      },
      // Fabric 2.5: gone from state and from the private history (which this ledger does not keep).
      purgePrivateData: async (collection: string, k: string) => privateWrite(collection, k, null),
      getPrivateDataByPartialCompositeKey: async (collection: string, type: string, attrs: string[]) => {
        privateRangeQueried = true;
        const prefix = createCompositeKey(type, attrs);
        const entries = [...readable(collection).entries()].filter(([k]) => k >= prefix && k < prefix + MAX_UNICODE);
        // As fabric-shim 2.5 answers a private range query: {iterator}, not unwrapped.
        return { iterator: this.iterator(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) };
      },
      getStateByPartialCompositeKeyWithPagination: async (type: string, attrs: string[], pageSize: number, bookmark: string) => {
        const prefix = createCompositeKey(type, attrs);
        const all = this.sortedRange(bookmark && bookmark > prefix ? bookmark : prefix, prefix + MAX_UNICODE);
        const page = all.slice(0, pageSize);
        const next = all[pageSize];
        return {
          iterator: this.iterator(page),
          metadata: { fetchedRecordsCount: page.length, bookmark: next ? next[0] : '' },
        };
      },
    };
    const clientIdentity = {
      getMSPID: () => opts.identity.mspId,
      getIDBytes: () => Buffer.from(opts.identity.certPem),
      getID: () => `x509::${opts.identity.mspId}`,
      getAttributeValue: (name: string) => opts.identity.attributes?.[name] ?? null,
      assertAttributeValue: (name: string, value: string) => opts.identity.attributes?.[name] === value,
    };
    return { stub, clientIdentity, logging: { getLogger: () => console } } as unknown as Context;
  }
}
