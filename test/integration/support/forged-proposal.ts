/**
 * A proposal whose channel-header timestamp the submitter chose: built by fabric-gateway as
 * usual, its Proposal re-encoded with the timestamp moved by `shiftMs`, then signed by the
 * connection's own identity (the proposal stays valid for the peer's MSP and signature
 * checks; only the time is a lie). The transaction id does not cover the timestamp.
 */
import { common, gateway as gw, peer } from '@hyperledger/fabric-protos';
import type { Proposal } from '@hyperledger/fabric-gateway';
import type { OrgConnection } from '../../../gateway/src/fabric/connection';

export function proposalWithShiftedTime(conn: OrgConnection, channel: string, contract: string, fn: string, args: string[], shiftMs: number): Proposal {
  const honest = conn.contract(channel, contract).newProposal(fn, { arguments: args });
  const proposed = gw.ProposedTransaction.deserializeBinary(honest.getBytes());
  const signed = proposed.getProposal();
  if (!signed) throw new Error('fabric-gateway built a proposal without its signed proposal');
  const proposal = peer.Proposal.deserializeBinary(signed.getProposalBytes_asU8());
  const header = common.Header.deserializeBinary(proposal.getHeader_asU8());
  const channelHeader = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
  const ts = channelHeader.getTimestamp();
  if (!ts) throw new Error('proposal without a timestamp');
  const ms = ts.getSeconds() * 1000 + Math.floor(ts.getNanos() / 1_000_000) + shiftMs;
  ts.setSeconds(Math.floor(ms / 1000));
  ts.setNanos((ms % 1000) * 1_000_000);
  channelHeader.setTimestamp(ts);
  header.setChannelHeader(channelHeader.serializeBinary());
  proposal.setHeader(header.serializeBinary());
  signed.setProposalBytes(proposal.serializeBinary());
  signed.setSignature(new Uint8Array(0));
  proposed.setProposal(signed);
  // Unsigned: the gateway signs the new proposal bytes with the connection's identity.
  return conn.gateway.newProposal(proposed.serializeBinary());
}

/** The timestamp (ms) a proposal carries in its channel header. */
export function proposalTimeMs(p: Proposal): number {
  const signed = gw.ProposedTransaction.deserializeBinary(p.getBytes()).getProposal();
  const proposal = peer.Proposal.deserializeBinary(signed!.getProposalBytes_asU8());
  const header = common.Header.deserializeBinary(proposal.getHeader_asU8());
  const ts = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8()).getTimestamp()!;
  return ts.getSeconds() * 1000 + Math.floor(ts.getNanos() / 1_000_000);
}
