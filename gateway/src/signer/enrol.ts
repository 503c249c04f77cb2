/**
 * Enrolment of a peer as a BLS verification node: its org creates the node's BLS key (key file,
 * mode 0600, in a 0700 directory outside the repository, by default
 * `<runtime>/<network>/bls/<chainId>/<nodeId>.json`) and the node's list entry (public key,
 * proof of possession, binding signed by the peer's own Fabric signing key from its MSP
 * directory). Re-running enrolment keeps the existing key and entry.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { VerificationNode } from '@medbridge/chaincode';
import { runtimeDir } from '../config';
import type { PeerEndpoint, Profile } from '../fabric/profile';
import { createKeyFile, listEntry, readKeyFile } from './key-file';

export interface PeerMaterial {
  peer: PeerEndpoint;
  /** The peer's MSP signing certificate (what a list pins) and its private key. */
  certPem: string;
  privateKeyPem: string;
  /** TLS server certificate and key of the peer, and the org TLS CA (signer service defaults). */
  tls: { cert: string; key: string; ca: string };
}

export interface EnrolledNode {
  keyFile: string;
  /** The list node with its BLS entry, ready for a set-node-list action. */
  node: VerificationNode;
}

/** The peer's directory in the crypto material: the parent of its `tls/` directory. */
function peerDir(peer: PeerEndpoint): string {
  return dirname(dirname(peer.tlsRootCert));
}

function onlyFile(dir: string, suffix: string): string {
  const files = readdirSync(dir).filter((n) => n.endsWith(suffix)).sort();
  if (files.length !== 1) throw new Error(`expected one *${suffix} in ${dir}, found ${files.length}`);
  return join(dir, files[0]!);
}

/** Reads the peer's signing identity and TLS material from the org's crypto material. */
export function peerMaterial(profile: Profile, peerIndex: number): PeerMaterial {
  const peer = profile.peers[peerIndex];
  if (!peer) throw new Error(`profile of ${profile.org} has no peer #${peerIndex}`);
  const dir = peerDir(peer);
  return {
    peer,
    certPem: readFileSync(onlyFile(join(dir, 'msp', 'signcerts'), '.pem'), 'utf8'),
    privateKeyPem: readFileSync(onlyFile(join(dir, 'msp', 'keystore'), '_sk'), 'utf8'),
    tls: {
      cert: readFileSync(join(dir, 'tls', 'server.crt'), 'utf8'),
      key: readFileSync(join(dir, 'tls', 'server.key'), 'utf8'),
      ca: readFileSync(peer.tlsRootCert, 'utf8'),
    },
  };
}

export function defaultKeyDir(profile: Profile): string {
  return join(runtimeDir(), profile.network, 'bls');
}

/**
 * Creates (or reuses) the BLS key of `profile`'s peer `peerIndex` for chain `chainId` and returns
 * the key file path and the node's list entry.
 *
 * @example const { node } = enrolBlsNode(loadProfile('HospitalA'), 0, 'chain-a');
 */
export function enrolBlsNode(profile: Profile, peerIndex: number, chainId: string, keyDir = defaultKeyDir(profile)): EnrolledNode {
  const m = peerMaterial(profile, peerIndex);
  const dir = join(keyDir, chainId);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(keyDir, 0o700);
  chmodSync(dir, 0o700);
  const keyFile = join(dir, `${m.peer.name}.json`);
  const entryFile = join(dir, `${m.peer.name}.entry.json`);
  const who = { chainId, nodeId: m.peer.name, mspId: profile.mspId };
  const key = existsSync(keyFile) ? readKeyFile(keyFile) : createKeyFile(keyFile, who);
  if (key.chainId !== chainId || key.nodeId !== who.nodeId || key.mspId !== who.mspId) {
    throw new Error(`key file ${keyFile} belongs to ${key.nodeId} of ${key.mspId} on ${key.chainId}`);
  }
  if (existsSync(entryFile)) {
    const node = JSON.parse(readFileSync(entryFile, 'utf8')) as VerificationNode;
    if (node.bls?.publicKey === key.publicKey && node.certPem === m.certPem) return { keyFile, node };
  }
  const bls = listEntry(key, m.certPem, createPrivateKey(m.privateKeyPem));
  const node: VerificationNode = { nodeId: m.peer.name, mspId: profile.mspId, certPem: m.certPem, bls };
  // The entry is public (it goes on chain); kept so that re-enrolment gives the same list hash.
  writeFileSync(entryFile, `${JSON.stringify(node, null, 2)}\n`, { mode: 0o644 });
  return { keyFile, node };
}
