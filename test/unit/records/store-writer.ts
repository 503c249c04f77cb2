/**
 * A child process for the record store's crash tests (store-crash.test.ts), bundled with esbuild
 * at test time: `write <store> <first>` stores records rec-<first>, rec-<first+1>, ... (every third
 * one with a second version) and prints `ack <recordId> <versions>` after each put returned;
 * `backup <store> <out>` backs the store up again and again. It runs until it is killed.
 */
import { backupStore } from '../../../gateway/src/records/store-backup';
import { RecordStore } from '../../../gateway/src/records/store';
import { recordFor } from './store-records';

async function main(): Promise<void> {
  const [mode, file, arg] = process.argv.slice(2);
  const store = new RecordStore(file!);
  if (mode === 'write') {
    for (let i = Number(arg); ; i += 1) {
      const v1 = recordFor(i, 1);
      store.put(v1);
      store.setAnchorTx(v1.recordId, 1, `tx-${i}-1`);
      let versions = 1;
      if (i % 3 === 0) {
        store.put(recordFor(i, 2));
        versions = 2;
      }
      process.stdout.write(`ack ${v1.recordId} ${versions}\n`);
    }
  }
  if (mode === 'backup') {
    process.stdout.write('backing up\n');
    for (;;) await backupStore(store, arg!);
  }
}

void main();
