import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileCheckpointer } from '../../../gateway/src/relay/checkpoint';

describe('relay checkpoint file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mb-ckpt-'));

  it('starts unset and survives a reopen at the last handled event', async () => {
    const file = join(dir, 'a', 'checkpoint.json');
    const c = FileCheckpointer.open(file);
    expect(c.getBlockNumber()).toBeUndefined();
    await c.checkpointChaincodeEvent({ blockNumber: 12n, transactionId: 'tx-7', chaincodeName: 'medbridge', eventName: 'PacketSent', payload: new Uint8Array() });
    const reopened = FileCheckpointer.open(file);
    expect(reopened.getBlockNumber()).toBe(12n);
    expect(reopened.getTransactionId()).toBe('tx-7');
    expect(existsSync(`${file}.tmp`)).toBe(false);
  });

  it('moves to the next block, with no transaction, once a block is done', async () => {
    const file = join(dir, 'b.json');
    const c = FileCheckpointer.open(file);
    await c.checkpointTransaction(3n, 'tx-1');
    await c.checkpointBlock(3n);
    const reopened = FileCheckpointer.open(file);
    expect(reopened.getBlockNumber()).toBe(4n);
    expect(reopened.getTransactionId()).toBeUndefined();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ version: 1, blockNumber: '4' });
  });

  it('keeps 64-bit block numbers exact', async () => {
    const file = join(dir, 'c.json');
    await FileCheckpointer.open(file).checkpointTransaction(2n ** 63n - 2n, 'tx');
    expect(FileCheckpointer.open(file).getBlockNumber()).toBe(2n ** 63n - 2n);
  });

  it('refuses a corrupt checkpoint instead of silently starting over', () => {
    const file = join(dir, 'd.json');
    writeFileSync(file, JSON.stringify({ version: 1, blockNumber: '-1' }));
    expect(() => FileCheckpointer.open(file)).toThrow(/corrupt/);
  });
});
