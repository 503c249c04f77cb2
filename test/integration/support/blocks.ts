/**
 * Reading transactions out of the blocks a member's peer holds (qscc GetBlockByNumber), as a
 * member org that is not a party would: the block-scan privacy tests (chaincode/CONSENT.md
 * "Who can see what, today").
 */
import { common, ledger, peer } from '@hyperledger/fabric-protos';

/** The serialized envelope of transaction `txId` in a serialized block. */
export function envelopeOf(blockBytes: Uint8Array, txId: string): Buffer {
  const block = common.Block.deserializeBinary(blockBytes);
  for (const envelope of block.getData()?.getDataList_asU8() ?? []) {
    const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(envelope).getPayload_asU8());
    const channelHeader = common.ChannelHeader.deserializeBinary(payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array());
    if (channelHeader.getTxId() === txId) return Buffer.from(envelope);
  }
  throw new Error(`transaction ${txId} is not in block ${block.getHeader()?.getNumber()}`);
}

/**
 * What a transaction read, as its envelope records it, per chaincode namespace: public point
 * reads, each range query with the keys it returned, and private reads as the collection and the
 * key's hash (all a block holds of them).
 */
export function readsOf(envelope: Buffer): string[] {
  const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(envelope).getPayload_asU8());
  const tx = peer.Transaction.deserializeBinary(payload.getData_asU8());
  const out: string[] = [];
  for (const action of tx.getActionsList()) {
    const endorsed = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8()).getAction();
    const response = peer.ProposalResponsePayload.deserializeBinary(endorsed?.getProposalResponsePayload_asU8() ?? new Uint8Array());
    const results = peer.ChaincodeAction.deserializeBinary(response.getExtension_asU8()).getResults_asU8();
    for (const ns of ledger.rwset.TxReadWriteSet.deserializeBinary(results).getNsRwsetList()) {
      const kv = ledger.rwset.kvrwset.KVRWSet.deserializeBinary(ns.getRwset_asU8());
      for (const r of kv.getReadsList()) out.push(`${ns.getNamespace()} read ${r.getKey()}`);
      for (const q of kv.getRangeQueriesInfoList()) {
        out.push(`${ns.getNamespace()} range ${q.getStartKey()}..${q.getEndKey()}`);
        for (const r of q.getRawReads()?.getKvReadsList() ?? []) out.push(`  ${r.getKey()}`);
      }
      for (const collection of ns.getCollectionHashedRwsetList()) {
        const hashed = ledger.rwset.kvrwset.HashedRWSet.deserializeBinary(collection.getHashedRwset_asU8());
        for (const r of hashed.getHashedReadsList()) out.push(`${ns.getNamespace()} private ${collection.getCollectionName()} ${Buffer.from(r.getKeyHash_asU8()).toString('hex')}`);
      }
    }
  }
  return out;
}
