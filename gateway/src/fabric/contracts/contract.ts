/**
 * What every typed contract client shares: the transport (FabricClient, which maps every
 * failure to the chaincode's own error code), the channel, and the contract's transaction
 * table, which says once per transaction whether it is evaluated (one peer, nothing
 * ordered) or submitted (endorsed, ordered, committed). `evaluate` accepts only the names
 * the table marks 'evaluate', `submit` only those it marks 'submit': a query can never be
 * ordered by mistake, nor a write read back from one peer.
 */
import type { PageRequest } from '@medbridge/chaincode';
import { toClientError, type Code } from '../../errors';
import type { FabricClient, SubmitOptions, Submitted } from '../client';

export type { Submitted, SubmitOptions };

/** How a transaction runs. */
export type Mode = 'evaluate' | 'submit';

/** A contract's transactions by name. */
export type TransactionTable = Readonly<Record<string, Mode>>;

/** The names in `T` that run in `M` mode. */
export type NamesIn<T extends TransactionTable, M extends Mode> = { [K in keyof T]: T[K] extends M ? K : never }[keyof T] & string;

/** The medbridge contracts, as the chaincode names them. */
export type ContractName = 'Consent' | 'CrossChain' | 'Governance' | 'Incentive' | 'System';

export abstract class ContractClient<T extends TransactionTable> {
  protected constructor(
    readonly client: FabricClient,
    readonly channel: string,
    readonly contract: ContractName,
    /** Every transaction of the contract and how it runs. */
    readonly transactions: T,
  ) {}

  /** Evaluates a read-only transaction; the result is its parsed JSON (string if not JSON, null if empty). */
  protected evaluate<R>(fn: NamesIn<T, 'evaluate'>, args: string[] = [], targetOrg?: string): Promise<R> {
    return this.client.evaluate<R>(this.channel, this.contract, fn, args, targetOrg);
  }

  /** Evaluates a read-only transaction whose result bytes are a message that is signed: returned as they are. */
  protected async evaluateBytes(fn: NamesIn<T, 'evaluate'>, args: string[]): Promise<Buffer> {
    return Buffer.from(await this.client.evaluateBytes(this.channel, this.contract, fn, args));
  }

  /** Submits a transaction and waits for its commit; throws unless it committed as valid. */
  protected submit<R>(fn: NamesIn<T, 'submit'>, args: string[], opts?: SubmitOptions): Promise<Submitted<R>> {
    return this.client.submit<R>(this.channel, this.contract, fn, args, opts);
  }
}

/** The two paging arguments of a `List...` transaction ('' = the contract's default page size, first page). */
export function pageArgs(page: PageRequest = {}): [string, string] {
  return [page.pageSize === undefined ? '' : String(page.pageSize), page.bookmark ?? ''];
}

/**
 * The value of a read, or undefined when it fails with one of `codes` (default NOT_FOUND):
 * for "is there one?" questions, where absence is an answer and not an error.
 *
 * @example
 *   const stake = await orAbsent(cc.incentive.getStake('peer0.hospitala'));
 */
export async function orAbsent<R>(read: Promise<R>, codes: readonly Code[] = ['NOT_FOUND']): Promise<R | undefined> {
  try {
    return await read;
  } catch (e) {
    if (codes.includes(toClientError(e).code)) return undefined;
    throw e;
  }
}

/**
 * Every item of a paged list, page after page until the bookmark is empty.
 *
 * @example
 *   const all = await allPages((page) => cc.incentive.listAccounts({ ...page, pageSize: 200 }));
 */
export async function allPages<I>(list: (page: { bookmark: string }) => Promise<{ items: I[]; bookmark: string }>, maxPages = 10_000): Promise<I[]> {
  const out: I[] = [];
  let bookmark = '';
  for (let pages = 0; pages < maxPages; pages += 1) {
    const page = await list({ bookmark });
    out.push(...page.items);
    if (!page.bookmark || page.items.length === 0) break;
    bookmark = page.bookmark;
  }
  return out;
}
