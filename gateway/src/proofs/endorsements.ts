/**
 * Collects scheme-1 signatures (Fabric endorsements) straight from each source peer's
 * Endorser service: the relay builds ONE signed proposal for a read-only medbridge query
 * (GetPacketCommitment, GetAckCommitment, GetEpochLinkMessage) and sends it to every peer;
 * each peer executes the query on its own ledger and signs the response. The relay never
 * supplies the bytes that are signed: it only carries what the peers returned.
 */
import * as grpc from '@grpc/grpc-js';
import { peer as peerProtos } from '@hyperledger/fabric-protos';
import type { EndorsementSignature } from '@medbridge/chaincode';
import { peerClient } from '../fabric/connection';
import type { PeerEndpoint } from '../fabric/profile';
import type { PeerClients } from './peer-clients';

export interface PeerFailure {
  peer: string;
  error: string;
}

export interface CollectedEndorsements {
  /** The response payload every collected peer returned (the message they signed). */
  message: Buffer;
  /** One per peer that answered with status 200 and the same message. */
  signatures: Array<EndorsementSignature & { peer: string }>;
  failures: PeerFailure[];
}

const ENDORSER_METHOD = '/protos.Endorser/ProcessProposal';

function processProposal(client: grpc.Client, signed: peerProtos.SignedProposal, deadlineMs: number): Promise<peerProtos.ProposalResponse> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      ENDORSER_METHOD,
      (m: peerProtos.SignedProposal) => Buffer.from(m.serializeBinary()),
      (b: Buffer) => peerProtos.ProposalResponse.deserializeBinary(b),
      signed,
      new grpc.Metadata(),
      { deadline: Date.now() + deadlineMs },
      (err, res) => (err || !res ? reject(err ?? new Error('no response')) : resolve(res)),
    );
  });
}

/**
 * Sends one signed proposal to every peer and keeps the endorsements of those that
 * answered 200 with the majority message. Peers are contacted in parallel, through the
 * pool's open clients when one is given (peer-clients.ts), else through new ones closed after.
 */
export async function collectEndorsements(
  peers: readonly PeerEndpoint[],
  signed: peerProtos.SignedProposal,
  deadlineMs = 15_000,
  pool?: PeerClients,
): Promise<CollectedEndorsements> {
  const results = await Promise.all(
    peers.map(async (p) => {
      const client = pool ? pool.get(p) : peerClient(p);
      try {
        const res = await processProposal(client, signed, deadlineMs);
        const response = res.getResponse();
        const endorsement = res.getEndorsement();
        if (!response || response.getStatus() !== 200 || !endorsement) {
          return { peer: p.name, error: `status ${response?.getStatus() ?? '?'}: ${response?.getMessage() ?? 'no response'}` };
        }
        return {
          peer: p.name,
          message: Buffer.from(response.getPayload_asU8()),
          signature: {
            peer: p.name,
            endorser: Buffer.from(endorsement.getEndorser_asU8()).toString('base64'),
            signature: Buffer.from(endorsement.getSignature_asU8()).toString('base64'),
            payload: Buffer.from(res.getPayload_asU8()).toString('base64'),
            // The proposal the peer executed: the verifier checks its hash, channel, chaincode and function.
            proposal: Buffer.from(signed.getProposalBytes_asU8()).toString('base64'),
          },
        };
      } catch (e) {
        return { peer: p.name, error: e instanceof Error ? e.message : String(e) };
      } finally {
        if (!pool) client.close();
      }
    }),
  );
  const failures: PeerFailure[] = [];
  const byMessage = new Map<string, Array<EndorsementSignature & { peer: string }>>();
  for (const r of results) {
    if ('error' in r && r.error !== undefined) {
      failures.push({ peer: r.peer, error: r.error });
      continue;
    }
    if (!('message' in r) || !r.message || !r.signature) continue;
    const k = r.message.toString('base64');
    byMessage.set(k, [...(byMessage.get(k) ?? []), r.signature]);
  }
  // Peers at different block heights may answer differently; keep the largest agreeing set.
  let best: [string, Array<EndorsementSignature & { peer: string }>] | undefined;
  for (const entry of byMessage) if (!best || entry[1].length > best[1].length) best = entry;
  if (!best) throw new Error(`no peer endorsed: ${failures.map((f) => `${f.peer}: ${f.error}`).join('; ')}`);
  for (const [k, sigs] of byMessage) {
    if (k !== best[0]) for (const s of sigs) failures.push({ peer: s.peer, error: 'answered a different message (ledger height?)' });
  }
  return { message: Buffer.from(best[0], 'base64'), signatures: best[1], failures };
}
