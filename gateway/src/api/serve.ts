/**
 * Runs the API for one org: opens its Fabric connection (and the clinician identity for
 * break-glass), starts the chaincode event stream and the receiver of consents shared sealed
 * with this org, listens, and on close finishes in-flight
 * requests (up to shutdownGraceMs, then the remaining connections are cut) before the
 * Fabric connections close.
 *
 * @example
 *   const api = await startApi(loadServeConfig('serve.json'), logger);
 *   process.once('SIGTERM', () => void api.close());
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { config, gatewayDataDir } from '../config';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { FabricClient } from '../fabric/client';
import { Chaincode } from '../fabric/contracts';
import { readProfile } from '../fabric/profile';
import { readEndpoint } from '../records/endpoints';
import { RecordFetcher } from '../records/record-fetcher';
import { SealedConsentReceiver, watchSealedConsents } from '../records/sealed-receiver';
import { ClientCertificates, orgCaCerts } from './client-identity';
import type { ServeConfig } from './config';
import { EnrolmentStore } from './enrolments';
import { EventHub } from './event-hub';
import { ApiMetrics } from './metrics';
import { buildApi } from './server';

export interface RunningApi {
  app: FastifyInstance;
  /** https://host:port (or http:// without TLS). */
  url: string;
  mspId: string;
  channel: string;
  /** Graceful shutdown: stop accepting, finish in-flight requests, close Fabric connections. */
  close(): Promise<void>;
}

export async function startApi(cfg: ServeConfig, log: Logger): Promise<RunningApi> {
  const client = FabricClient.open(cfg.org, { logger: log });
  const clinicianClient = cfg.clinicianProfile ? FabricClient.open(readProfile(cfg.clinicianProfile), { logger: log }) : undefined;
  try {
    const chaincode = new Chaincode(client, cfg.channel ?? client.defaultChannel);
    const clinician = clinicianClient && new Chaincode(clinicianClient, chaincode.channel);
    const tls = cfg.tls && {
      certificates: new ClientCertificates(client.mspId, orgCaCerts(client.profile, cfg.tls.clientCaCerts)),
      cert: readFileSync(cfg.tls.cert, 'utf8'),
      key: readFileSync(cfg.tls.key, 'utf8'),
    };
    const metrics = new ApiMetrics();
    const events = new EventHub(chaincode, log, (name) => metrics.event(name));
    // A peer that is down at start-up makes the server not ready (readyz), not absent.
    await events.start().catch((e: unknown) => log.warn({ err: (e as Error).message }, 'event stream not open yet'));
    const dataDir = cfg.dataDir ?? join(gatewayDataDir(config(), client.profile.network), `serve-${client.mspId}`);
    const enrolments = new EnrolmentStore(join(dataDir, 'enrolments.json'));
    const records = new RecordFetcher(client, {
      exchangeUrl: (custodian) => cfg.recordExchanges[custodian.mspId] ?? readEndpoint(gatewayDataDir(config(), custodian.network), custodian.mspId)?.url,
    });
    const app = await buildApi({ config: cfg, chaincode, clinician, tls, events, records, logger: log, metrics, enrolments });
    const sealed =
      cfg.sealedReceiveIntervalMs > 0
        ? watchSealedConsents(
            chaincode,
            new SealedConsentReceiver(chaincode, records),
            cfg.sealedReceiveIntervalMs,
            // Ids and outcomes only: a sealed arrival names a custodian, a reference and a digest.
            (o) => log.info({ sourceChain: o.sourceChain, custodian: o.custodian, digest: o.digest, outcome: o.outcome, ...('code' in o ? { code: o.code } : {}) }, 'sealed consent'),
            (sourceChain, err) => log.warn({ sourceChain, err: err.message }, 'sealed consents not received this time'),
          )
        : undefined;
    await app.listen({ host: cfg.listen.host, port: cfg.listen.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : cfg.listen.port;
    const url = `${tls ? 'https' : 'http'}://${cfg.listen.host.includes(':') ? `[${cfg.listen.host}]` : cfg.listen.host}:${port}`;
    log.info({ url, mspId: client.mspId, channel: chaincode.channel }, 'medbridge API listening');

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        log.info('shutting down: finishing in-flight requests');
        const cut = setTimeout(() => app.server.closeAllConnections(), cfg.shutdownGraceMs);
        try {
          await app.close();
        } finally {
          clearTimeout(cut);
          await sealed?.stop();
          await events.close();
          client.close();
          clinicianClient?.close();
          log.info('stopped');
        }
      })());
    return { app, url, mspId: client.mspId, channel: chaincode.channel, close };
  } catch (e) {
    client.close();
    clinicianClient?.close();
    throw e;
  }
}
