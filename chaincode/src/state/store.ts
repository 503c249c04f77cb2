/**
 * Typed JSON access to the world state. Values are canonical JSON (sorted keys), so
 * every peer writes byte-identical values; iteration is always in key order.
 */
import type { ChaincodeStub, Iterators } from 'fabric-shim';
import { canonicalBytes } from '../protocol/canonical-json';
import { fail } from '../errors';
import type { KeyType } from './keys';

/**
 * Reads of one transaction by key. A transaction reads committed state only (its own writes are
 * not visible to it, on a peer as in the tests' ledger), so a key read twice gives the same
 * bytes: the second read is answered here instead of by another round trip to the peer (the
 * member set, for one, is read by several checks of one transaction). Keyed by the transaction's
 * stub object, so nothing outlives the transaction.
 */
const readsOfTx = new WeakMap<object, Map<string, Promise<Uint8Array>>>();

/** Views whose reads follow their own writes (own-writes.ts): their reads are never remembered. */
const followsOwnWrites = new WeakSet<object>();

/**
 * Views that read exactly what the stub they wrap reads (a packet handler's buffered view:
 * packet-handlers.ts), by the stub whose reads they share.
 */
const readsShared = new WeakMap<object, object>();

/** Marks `stub` as a view whose getState answers with the transaction's own writes. */
export function markReadsOwnWrites(stub: ChaincodeStub): void {
  followsOwnWrites.add(stub);
}

/**
 * Marks `view` as reading what `stub` reads (its getState is `stub`'s), so that a key read
 * through either is read from the peer once: a packet handler's member check, for one, reads
 * the member set its ReceivePacket already read.
 */
export function markSharesReads(view: ChaincodeStub, stub: ChaincodeStub): void {
  readsShared.set(view, readsShared.get(stub) ?? stub);
}

/** The committed value of `k` (empty when absent), read from the peer once per transaction. */
export function readState(stub: ChaincodeStub, k: string): Promise<Uint8Array> {
  const owner = readsShared.get(stub) ?? stub;
  if (followsOwnWrites.has(owner)) return stub.getState(k);
  let reads = readsOfTx.get(owner);
  if (reads === undefined) {
    reads = new Map();
    readsOfTx.set(owner, reads);
  }
  let read = reads.get(k);
  if (read === undefined) {
    read = stub.getState(k);
    reads.set(k, read);
  }
  return read;
}

export async function getJson<T>(stub: ChaincodeStub, k: string): Promise<T | undefined> {
  const bytes = await readState(stub, k);
  if (!bytes || bytes.length === 0) return undefined;
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
}

/** A JSON value of a private data collection as this peer holds it (its own org's collection), or undefined. */
export async function getPrivateJson<T>(stub: ChaincodeStub, collection: string, k: string): Promise<T | undefined> {
  const bytes = await stub.getPrivateData(collection, k);
  if (bytes === undefined || bytes.length === 0) return undefined;
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
}

/** getPrivateJson of a value written with its writer's salt (so its hash cannot be matched to a guess), returned without the salt. */
export async function getSaltedPrivateJson<T extends object>(stub: ChaincodeStub, collection: string, k: string): Promise<T | undefined> {
  const stored = await getPrivateJson<T & { salt?: string }>(stub, collection, k);
  if (stored === undefined) return undefined;
  const { salt: _salt, ...value } = stored;
  return value as T;
}

export async function mustGetJson<T>(stub: ChaincodeStub, k: string, what: string): Promise<T> {
  return found(await getJson<T>(stub, k), what);
}

/** `value`, or NOT_FOUND "<what> does not exist". */
export function found<T>(value: T | undefined, what: string): T {
  if (value === undefined) fail('NOT_FOUND', `${what} does not exist`);
  return value;
}

export async function putJson(stub: ChaincodeStub, k: string, value: unknown): Promise<void> {
  await stub.putState(k, canonicalBytes(value));
}

export async function exists(stub: ChaincodeStub, k: string): Promise<boolean> {
  const bytes = await readState(stub, k);
  return !!bytes && bytes.length > 0;
}

export interface Page<T> {
  items: T[];
  /** Pass back as `bookmark` for the next page; empty when there is none. */
  bookmark: string;
}

export const MAX_PAGE_SIZE = 200;

/** Lists values under a partial composite key, in key order, one page at a time. */
export async function listByPartialKey<T>(
  stub: ChaincodeStub,
  type: KeyType,
  attributes: string[],
  pageSize = 50,
  bookmark = '',
): Promise<Page<T>> {
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    fail('INVALID_ARGUMENT', `page size must be 1..${MAX_PAGE_SIZE}`);
  }
  const { iterator, metadata } = await stub.getStateByPartialCompositeKeyWithPagination(
    type,
    attributes,
    pageSize,
    bookmark,
  );
  const items = await drain<T>(iterator);
  return { items, bookmark: items.length < pageSize ? '' : metadata.bookmark };
}

/** Every value under a partial composite key, in key order (for small, bounded sets). */
export async function listAllByPartialKey<T>(stub: ChaincodeStub, type: KeyType, attributes: string[]): Promise<T[]> {
  const iterator = await stub.getStateByPartialCompositeKey(type, attributes);
  return drain<T>(iterator);
}

/** Every entry (key and value) under a partial composite key, in key order (for small, bounded sets). */
export async function listEntriesByPartialKey<T>(stub: ChaincodeStub, type: KeyType, attributes: string[]): Promise<{ key: string; value: T }[]> {
  return drainEntries<T>(await stub.getStateByPartialCompositeKey(type, attributes));
}

/**
 * Every value under a partial composite key in a private data collection, in key order (for small,
 * bounded sets). fabric-shim 2.5 answers a private range query with {iterator} (its getStateBy*
 * unwrap theirs; this one does not).
 */
export async function listAllPrivateByPartialKey<T>(stub: ChaincodeStub, collection: string, type: KeyType, attributes: string[]): Promise<T[]> {
  const answer = (await stub.getPrivateDataByPartialCompositeKey(collection, type, attributes)) as unknown as
    | Iterators.StateQueryIterator
    | { iterator: Iterators.StateQueryIterator };
  return drain<T>('iterator' in answer ? answer.iterator : answer);
}

/**
 * Every value of a query, in key order. An iterator read to its end is not closed: the peer
 * releases a query when it sends the answer that has no more results (the only way `next`
 * reports done), so a close would be one more round trip that the peer answers doing nothing.
 * An iterator left early (a parse failure) is closed.
 */
async function drain<T>(iterator: Iterators.StateQueryIterator): Promise<T[]> {
  return (await drainEntries<T>(iterator)).map((e) => e.value);
}

/** drain's entries with their keys. */
async function drainEntries<T>(iterator: Iterators.StateQueryIterator): Promise<{ key: string; value: T }[]> {
  const out: { key: string; value: T }[] = [];
  let exhausted = false;
  try {
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) {
      out.push({ key: r.value.key, value: JSON.parse(Buffer.from(r.value.value).toString('utf8')) as T });
    }
    exhausted = true;
  } finally {
    if (!exhausted) await iterator.close();
  }
  return out;
}
