/**
 * One org's connection to Fabric through the peer Gateway service: a gRPC client to one of
 * its peers (TLS), an identity and signer from the profile, and handles per channel.
 */
import * as grpc from '@grpc/grpc-js';
import { connect, Contract, Gateway, hash, Identity, Network, Signer, signers } from '@hyperledger/fabric-gateway';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IdentityKind, PeerEndpoint, Profile } from './profile';
import { ProfileError } from './profile';

export interface ConnectOptions {
  identity?: IdentityKind;
  /** Index of the org peer to connect to (default 0). */
  peer?: number;
}

export interface OrgConnection {
  readonly profile: Profile;
  readonly gateway: Gateway;
  readonly client: grpc.Client;
  readonly identity: Identity;
  readonly signer: Signer;
  network(channel: string): Network;
  contract(channel: string, contractName?: string): Contract;
  close(): void;
}

/** A TLS gRPC client for one peer, checked against that peer's TLS root certificate. */
export function peerClient(peer: PeerEndpoint): grpc.Client {
  const credentials = grpc.credentials.createSsl(readFileSync(peer.tlsRootCert));
  const options: grpc.ClientOptions = {};
  // grpc-js would otherwise use the bare IP as TLS server name; certificates carry `localhost`.
  if (peer.serverNameOverride) options['grpc.ssl_target_name_override'] = peer.serverNameOverride;
  return new grpc.Client(peer.endpoint, credentials, options);
}

export function identityOf(profile: Profile, kind: IdentityKind): { identity: Identity; signer: Signer } {
  const id = kind === 'admin' ? profile.identities.admin : profile.identities.user;
  if (!id) throw new ProfileError(`profile of ${profile.org} has no ${kind} identity`);
  const credentials = readFileSync(id.certificate);
  const privateKey = createPrivateKey(readFileSync(id.privateKey));
  return { identity: { mspId: profile.mspId, credentials }, signer: signers.newPrivateKeySigner(privateKey) };
}

export function connectOrg(profile: Profile, opts: ConnectOptions = {}): OrgConnection {
  const peer = profile.peers[opts.peer ?? 0];
  if (!peer) throw new ProfileError(`profile of ${profile.org} has no peer #${opts.peer ?? 0}`);
  const client = peerClient(peer);
  const { identity, signer } = identityOf(profile, opts.identity ?? 'user');
  const gateway = connect({
    client,
    identity,
    signer,
    hash: hash.sha256,
    evaluateOptions: () => ({ deadline: Date.now() + 15_000 }),
    endorseOptions: () => ({ deadline: Date.now() + 30_000 }),
    submitOptions: () => ({ deadline: Date.now() + 15_000 }),
    commitStatusOptions: () => ({ deadline: Date.now() + 60_000 }),
  });
  return {
    profile,
    gateway,
    client,
    identity,
    signer,
    network: (channel) => gateway.getNetwork(channel),
    contract: (channel, contractName) => gateway.getNetwork(channel).getContract(profile.chaincode, contractName),
    close: () => {
      gateway.close();
      client.close();
    },
  };
}
