/**
 * gRPC/TLS clients to the source peers, kept open across proofs: a relay collects endorsements
 * for every packet and acknowledgement, and a new TLS connection per peer per proof costs a
 * handshake each time. One client per peer endpoint for the pool's life; grpc-js reconnects it
 * by itself when a peer restarts. Without a pool, collectEndorsements opens and closes its own.
 *
 * @example
 *   const clients = new PeerClients();
 *   const chain = sourceChain(client, 'chain-a', undefined, clients);   // every proof of this chain reuses them
 *   clients.close();                                                    // when the relay stops
 */
import type * as grpc from '@grpc/grpc-js';
import { peerClient } from '../fabric/connection';
import type { PeerEndpoint } from '../fabric/profile';

export class PeerClients {
  private readonly clients = new Map<string, grpc.Client>();

  /** The open client of `peer` (opened on first use). */
  get(peer: PeerEndpoint): grpc.Client {
    const key = `${peer.endpoint}|${peer.serverNameOverride ?? ''}|${peer.tlsRootCert}`;
    let client = this.clients.get(key);
    if (!client) {
      client = peerClient(peer);
      this.clients.set(key, client);
    }
    return client;
  }

  get size(): number {
    return this.clients.size;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
