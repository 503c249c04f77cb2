/**
 * Starts one verification node's signer service: reads its key file, reads messages from its own
 * peer only (own-peer-source.ts), and serves the signer API over mutual TLS (server.ts) with the
 * peer's TLS server certificate, accepting clients whose certificates the org's TLS CA issued.
 */
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { FabricClient } from '../fabric/client';
import { CrossChainClient } from '../fabric/contracts';
import { listenAddress, serviceUrl, type Profile } from '../fabric/profile';
import { BlsSigner } from './bls-signer';
import { peerMaterial } from './enrol';
import { readKeyFile } from './key-file';
import { ownPeerCommitmentSource } from './own-peer-source';
import { startSignerServer, type SignerTls } from './server';

export interface SignerServiceOptions {
  profile: Profile;
  peerIndex: number;
  /** The channel (chain) this signer speaks for; must match the key file. */
  channel: string;
  keyFile: string;
  /** 0 = any free port. */
  port: number;
  /** Listen address (default: the profile's host address, else 127.0.0.1). */
  host?: string;
  /** Override the TLS material (default: the peer's TLS server pair, clients of the org's TLS CA). */
  tls?: SignerTls;
}

export interface RunningSigner {
  nodeId: string;
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/**
 * @example
 *   const s = await startSignerService({ profile: loadProfile('HospitalA'), peerIndex: 0,
 *                                        channel: 'chain-a', keyFile, port: 0 });
 *   // s.url -> https://127.0.0.1:<port>; s.close() when done
 */
export async function startSignerService(o: SignerServiceOptions): Promise<RunningSigner> {
  const key = readKeyFile(o.keyFile);
  if (key.chainId !== o.channel) throw new Error(`key file ${o.keyFile} is for ${key.chainId}, not ${o.channel}`);
  const m = peerMaterial(o.profile, o.peerIndex);
  if (key.nodeId !== m.peer.name) throw new Error(`key file ${o.keyFile} is for ${key.nodeId}, not ${m.peer.name}`);
  const orgTls = o.profile.tls;
  if (o.tls === undefined && orgTls === undefined) throw new Error(`profile of ${o.profile.org} names no TLS CA for the signer's clients`);
  const tls = o.tls ?? { cert: m.tls.cert, key: m.tls.key, clientCa: readFileSync(orgTls!.caCert, 'utf8') };
  const connection = FabricClient.open(o.profile, { identity: 'user', peer: o.peerIndex });
  const source = ownPeerCommitmentSource(new CrossChainClient(connection, o.channel), m.peer);
  const signer = new BlsSigner(key, source);
  const host = listenAddress(o.profile, o.host);
  const server = startSignerServer(signer, tls, o.port, host);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
  } catch (e) {
    source.close();
    connection.close();
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  return {
    nodeId: key.nodeId,
    url: serviceUrl(o.profile, host, port),
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        source.close();
        connection.close();
      }),
  };
}
