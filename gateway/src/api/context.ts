/**
 * What every route of the API gets from the server (server.ts builds it once): the
 * configuration, the typed chaincode client and the services over it, the event hub,
 * metrics, the clock and whether shutdown began. Its own file, so routes and server do not
 * import each other.
 */
import type { Chaincode } from '../fabric/contracts';
import type { RecordFetch } from '../records/record-fetcher';
import type { ConsentService } from '../services/consent-service';
import type { CrossChainService } from '../services/crosschain-service';
import type { ServeConfig } from './config';
import type { EnrolmentStore } from './enrolments';
import type { EventHub } from './event-hub';
import type { ApiMetrics } from './metrics';

export interface ApiContext {
  config: ServeConfig;
  chaincode: Chaincode;
  clinician?: Chaincode;
  consents: ConsentService;
  crossChain: CrossChainService;
  events?: EventHub;
  /** Fetches records from their custodians' exchanges for this org (routes/records.ts). */
  records?: RecordFetch;
  metrics: ApiMetrics;
  /** One-time enrolment codes (routes/enrolments.ts). */
  enrolments: EnrolmentStore;
  clock: () => number;
  /** True once shutdown began (readiness answers 503). */
  closing: () => boolean;
}
