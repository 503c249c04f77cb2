/**
 * The grantee's side of sealed consent shares (chaincode/CONSENT.md "Sealed consent shares"):
 * for each sealed consent that arrived on this org's chain and that this org has not delivered,
 * ask the custodian the arrival names for its bytes (over mutual TLS; the custodian releases
 * them only to a grantee), check them against the arrival's digest, and deliver them in a
 * private transaction of this org (Consent:DeliverSealedConsent), which writes the mirror to
 * this org's own collection.
 *
 * Nothing is lost when the process stops: arrivals are on the ledger, and what this org
 * delivered is marked in its collection, so the next walk starts again from the ledger. A
 * custodian's refusal (the consent is for another org) is remembered for the life of the
 * receiver only.
 *
 * @example
 *   const receiver = new SealedConsentReceiver(new Chaincode(hospitalB, 'chain-b'), new RecordFetcher(hospitalB, { exchangeUrl }));
 *   const outcomes = await receiver.receivePending('chain-a');
 *   const watch = watchSealedConsents(chaincodeB, receiver, 5_000, (o) => log.info(o), (chain, err) => log.warn(err));   // await watch.stop() on shutdown
 */
import type { SealedArrival, SealedConsentDelivery } from '@medbridge/chaincode';
import { toClientError } from '../errors';
import { allPages, type Chaincode } from '../fabric/contracts';
import type { RecordFetcher } from './record-fetcher';

export type SealedOutcome =
  | { digest: string; custodian: string; outcome: 'delivered'; txId: string; result: SealedConsentDelivery }
  | { digest: string; custodian: string; outcome: 'not-for-this-org' }
  | { digest: string; custodian: string; outcome: 'refused'; code: string; message: string }
  /** The custodian's exchange or this org's peer could not be reached: asked again on the next walk. */
  | { digest: string; custodian: string; outcome: 'unavailable'; code: string; message: string };

export class SealedConsentReceiver {
  /** Digests a custodian refused to this org (ACCESS_DENIED): not asked again by this receiver. */
  private readonly notOurs = new Set<string>();

  constructor(
    private readonly chaincode: Chaincode,
    private readonly fetcher: Pick<RecordFetcher, 'fetchSealed'>,
  ) {}

  /** Fetches and delivers one arrival. A refusal or an unreachable custodian is an outcome, not a throw. */
  async receive(arrival: SealedArrival): Promise<SealedOutcome> {
    const { digest, custodian } = arrival;
    let sealed: string;
    try {
      sealed = await this.fetcher.fetchSealed(custodian, { sourceChain: arrival.sourceChain, ref: arrival.ref, digest });
    } catch (e) {
      const err = toClientError(e);
      if (err.code === 'ACCESS_DENIED') {
        this.notOurs.add(digest);
        return { digest, custodian, outcome: 'not-for-this-org' };
      }
      if (err.kind === 'unavailable') return { digest, custodian, outcome: 'unavailable', code: err.code, message: err.message };
      return { digest, custodian, outcome: 'refused', code: err.code, message: err.message };
    }
    try {
      const done = await this.chaincode.consent.deliverSealedConsent(sealed);
      return { digest, custodian, outcome: 'delivered', txId: done.txId, result: done.result };
    } catch (e) {
      const err = toClientError(e);
      return { digest, custodian, outcome: err.kind === 'unavailable' ? 'unavailable' : 'refused', code: err.code, message: err.message };
    }
  }

  /** Walks the arrivals from `sourceChain` and receives each one this org has not delivered (and no custodian refused it). */
  async receivePending(sourceChain: string): Promise<SealedOutcome[]> {
    const arrivals = await allPages((page) => this.chaincode.consent.listSealedArrivals(sourceChain, page));
    const out: SealedOutcome[] = [];
    for (const a of arrivals) {
      if (a.delivered || this.notOurs.has(a.digest)) continue;
      out.push(await this.receive(a));
    }
    return out;
  }
}

/** A receiver walking on a timer: one walk at a time, the next one `intervalMs` after the last ended. */
export interface SealedWatch {
  /** Stops the timer and waits for a walk in progress. */
  stop(): Promise<void>;
}

/**
 * Runs `receiver` over the arrivals from every chain registered on this org's chain, every
 * `intervalMs`: what a hospital's server does so that a consent shared sealed with it is
 * delivered without an operator. Outcomes and walk failures (a peer down) go to `report`; the
 * next walk tries again, from the ledger.
 */
export function watchSealedConsents(
  chaincode: Chaincode,
  receiver: Pick<SealedConsentReceiver, 'receivePending'>,
  intervalMs: number,
  report: (o: SealedOutcome & { sourceChain: string }) => void,
  failed: (sourceChain: string | undefined, err: Error) => void,
): SealedWatch {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const walk = async () => {
    let chains: string[];
    try {
      chains = (await chaincode.crossChain.listRemoteChains()).map((c) => c.chainId).sort();
    } catch (e) {
      failed(undefined, e as Error);
      return;
    }
    for (const sourceChain of chains) {
      if (stopped) return;
      try {
        for (const o of await receiver.receivePending(sourceChain)) report({ ...o, sourceChain });
      } catch (e) {
        failed(sourceChain, e as Error);
      }
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = walk().finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
