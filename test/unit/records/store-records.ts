/** Records the crash tests write and check: content, salt and hash follow from the number alone. */
import { createHash } from 'node:crypto';
import { recordHash } from '../../../chaincode/src/protocol/record-hash';
import type { StoredRecord } from '../../../gateway/src/records/store';

/** Deterministic bytes: sizes from 1 byte to about 96 KiB, so some rows span many pages. */
function bytesOf(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(seed).digest();
  for (let at = 0; at < size; at += block.length) {
    block.copy(out, at);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

export function recordFor(i: number, version: number): Omit<StoredRecord, 'anchorTxId'> {
  const content = bytesOf(`content ${i} ${version}`, 1 + ((i * 7_919 + version * 104_729) % 98_304));
  const salt = bytesOf(`salt ${i} ${version}`, 32);
  return {
    recordId: `rec-${String(i).padStart(6, '0')}`,
    version,
    channel: 'chain-a',
    patientId: `pt_${i % 17}`,
    category: 'Observation',
    content,
    salt,
    hash: recordHash(salt, content),
    contentType: 'application/fhir+json',
    storedAt: 1_760_000_000_000 + i,
  };
}
