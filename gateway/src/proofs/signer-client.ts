/**
 * The relay's client for verification nodes' BLS signer services (gateway/src/signer/server.ts),
 * over mutual TLS. A request names what to sign (route and sequence, or an epoch); the answer is
 * one node's partial signature, which the relay verifies before it counts (bls-builder.ts).
 */
import { createHash } from 'node:crypto';
import { Agent, request } from 'node:https';
import type { PartialSignature } from '@medbridge/chaincode';
import type { Statement } from './source-chain';

/** Where one verification node's signer listens, and the TLS material to reach it. */
export interface SignerEndpoint {
  /** The node id of the signer's node in the verification node list. */
  nodeId: string;
  /** e.g. https://127.0.0.1:7441 */
  url: string;
  tls: {
    /** PEM of the CA that issued the signer's TLS server certificate. */
    ca: string;
    /** PEM client certificate and key issued by the CA the signer accepts clients from (its org's TLS CA). */
    cert: string;
    key: string;
    /** Name checked against the server certificate (default: the URL's host). */
    serverName?: string;
  };
}

/** What a signer service signs: the statements of packets, acknowledgements and epoch links. */
export type SignRequest = Extract<Statement, { kind: 'packet' | 'ack' | 'epoch-link' }>;

const MAX_ANSWER_BYTES = 4096;

/**
 * One keep-alive agent per signer and client identity: a relay asks every signer for every
 * packet and acknowledgement, and a TLS handshake per request would cost more than the
 * signature. Idle connections close when the signer's keep-alive timeout ends them.
 */
const agents = new Map<string, Agent>();

function agentFor(endpoint: SignerEndpoint, servername: string): Agent {
  const key = createHash('sha256').update([endpoint.url, servername, endpoint.tls.ca, endpoint.tls.cert].join('\n')).digest('hex');
  let agent = agents.get(key);
  if (!agent) {
    agent = new Agent({ keepAlive: true, maxSockets: 16, ca: endpoint.tls.ca, cert: endpoint.tls.cert, key: endpoint.tls.key, servername });
    agents.set(key, agent);
  }
  return agent;
}

/**
 * POSTs one named request to a signer and returns its partial signature (or throws with the
 * signer's reason). `version`: the scheme version to sign in (omitted from the request for 1).
 */
export function requestPartial(endpoint: SignerEndpoint, what: SignRequest, deadlineMs = 15_000, version = 1): Promise<PartialSignature> {
  const path = `/v1/sign/${what.kind}`;
  const named = what.kind === 'epoch-link' ? { toEpoch: what.toEpoch } : { routeId: what.routeId, sequence: what.sequence };
  const body = JSON.stringify(version === 1 ? named : { ...named, version });
  const url = new URL(path, endpoint.url);
  const servername = endpoint.tls.serverName ?? url.hostname;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca: endpoint.tls.ca,
        cert: endpoint.tls.cert,
        key: endpoint.tls.key,
        servername,
        agent: agentFor(endpoint, servername),
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: deadlineMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_ANSWER_BYTES) req.destroy(new Error('signer answer too large'));
          else chunks.push(c);
        });
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            reject(new Error(`signer ${endpoint.nodeId} answered ${res.statusCode ?? '?'} with something that is not JSON`));
            return;
          }
          const o = json as { nodeId?: unknown; signature?: unknown; error?: unknown };
          if (res.statusCode !== 200) {
            reject(new Error(`signer ${endpoint.nodeId} refused (${res.statusCode ?? '?'}): ${String(o.error ?? 'no reason')}`));
          } else if (typeof o.nodeId !== 'string' || typeof o.signature !== 'string') {
            reject(new Error(`signer ${endpoint.nodeId} answered without nodeId and signature`));
          } else if (o.nodeId !== endpoint.nodeId) {
            reject(new Error(`signer at ${endpoint.url} signs as ${o.nodeId}, expected ${endpoint.nodeId}`));
          } else {
            resolve({ nodeId: o.nodeId, signature: o.signature });
          }
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`signer ${endpoint.nodeId} did not answer within ${deadlineMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
