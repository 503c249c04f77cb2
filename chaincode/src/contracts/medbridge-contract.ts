/**
 * The base of every medbridge contract: what runs before any transaction function, on
 * every peer that endorses or evaluates it. Today that is one refusal: a proposal whose
 * timestamp is further than MAX_CLOCK_SKEW_MS from the peer's clock (tx-context.ts).
 */
import { Context, Contract } from 'fabric-contract-api';
import { requireTimestampNearPeerClock } from './tx-context';

export abstract class MedbridgeContract extends Contract {
  override async beforeTransaction(ctx: Context): Promise<void> {
    requireTimestampNearPeerClock(ctx);
    await super.beforeTransaction(ctx);
  }
}
