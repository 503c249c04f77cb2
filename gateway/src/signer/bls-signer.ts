/**
 * A verification node's BLS signer. It signs only messages it read from its own peer
 * (CommitmentSource), and only messages of a known domain that name its own chain: the relay
 * asks "sign packet (route, sequence)", never "sign these bytes".
 *
 * @example
 *   const signer = new BlsSigner(readKeyFile(path), fabricCommitmentSource(new CrossChainClient(FabricClient.open('HospitalA'), 'chain-a')));
 *   const part = await signer.signPacket('consent', 7, 2); // {nodeId, signature}, scheme version 2
 */
import { BLS_SCHEME_VERSION, type BlsSchemeVersion, Domains, fromBase64, type PartialSignature, signMessageAs, toBase64 } from '@medbridge/chaincode';
import type { BlsKeyFile } from './key-file';
import type { CommitmentSource } from './commitment-source';

export class SignerRefusal extends Error {
  override readonly name = 'SignerRefusal';
}

export class BlsSigner {
  private readonly secretKey: Uint8Array;

  constructor(
    private readonly key: BlsKeyFile,
    private readonly source: CommitmentSource,
  ) {
    this.secretKey = fromBase64(key.secretKey, 'INVALID_ARGUMENT', 'BLS secret key');
  }

  get nodeId(): string {
    return this.key.nodeId;
  }

  /**
   * Source side: sign the packet this chain sent on (routeId, sequence), in scheme version
   * `version` (1 when a request names none; version 2 uses the native backend where it loads).
   */
  async signPacket(routeId: string, sequence: number, version: BlsSchemeVersion = BLS_SCHEME_VERSION): Promise<PartialSignature> {
    const message = await this.source.packetMessage(routeId, sequence);
    this.expect(message, Domains.packet, 'sourceChain', { routeId, sequence });
    return this.sign(message, version);
  }

  /** Destination side: sign the acknowledgement of a packet this chain received. */
  async signAck(routeId: string, sequence: number, version: BlsSchemeVersion = BLS_SCHEME_VERSION): Promise<PartialSignature> {
    const message = await this.source.ackMessage(routeId, sequence);
    this.expect(message, Domains.ack, 'destChain', { routeId, sequence });
    return this.sign(message, version);
  }

  /** Sign the link from this chain's list toEpoch-1 to list toEpoch. */
  async signEpochLink(toEpoch: number, version: BlsSchemeVersion = BLS_SCHEME_VERSION): Promise<PartialSignature> {
    const message = await this.source.epochLinkMessage(toEpoch);
    this.expect(message, Domains.epochLink, 'chainId', { toEpoch });
    return this.sign(message, version);
  }

  private sign(message: Buffer, version: BlsSchemeVersion): PartialSignature {
    return { nodeId: this.key.nodeId, signature: toBase64(signMessageAs(version, this.secretKey, message)) };
  }

  /** Defence in depth: the peer's answer must be the message asked for, for this chain. */
  private expect(message: Buffer, domain: string, chainField: string, fields: Record<string, string | number>): void {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(message.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new SignerRefusal('the peer returned something that is not a signed-message JSON');
    }
    if (parsed.domain !== domain) throw new SignerRefusal(`expected a ${domain} message, the peer returned ${String(parsed.domain)}`);
    if (parsed[chainField] !== this.key.chainId) {
      throw new SignerRefusal(`message ${chainField} is ${String(parsed[chainField])}, this signer speaks for ${this.key.chainId}`);
    }
    for (const [k, v] of Object.entries(fields)) {
      if (parsed[k] !== v) throw new SignerRefusal(`message ${k} is ${String(parsed[k])}, asked for ${v}`);
    }
  }
}
