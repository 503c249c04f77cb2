/**
 * The relay's durable position in the source chain's event stream: the block and the last
 * transaction of it whose events were fully handled. Written to a temporary file,
 * fsync'd, renamed over the old one and the directory fsync'd, so a kill -9 at any point
 * leaves either the old or the new position, never a torn one. Implements
 * fabric-gateway's Checkpointer, so the event stream resumes right after it.
 */
import type { ChaincodeEvent, Checkpointer } from '@hyperledger/fabric-gateway';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

const StateSchema = z.object({
  version: z.literal(1),
  /** Next block to read (decimal string: block numbers are 64-bit). */
  blockNumber: z.string().regex(/^\d+$/),
  /** Last handled transaction in that block, if the block is only partly handled. */
  transactionId: z.string().min(1).optional(),
  updatedAt: z.string(),
});

export class FileCheckpointer implements Checkpointer {
  private blockNumber?: bigint;
  private transactionId?: string;

  private constructor(readonly file: string) {}

  /** Opens the checkpoint at `file` (absent = start of history unless the caller says otherwise). */
  static open(file: string): FileCheckpointer {
    const c = new FileCheckpointer(file);
    mkdirSync(dirname(file), { recursive: true });
    if (existsSync(file)) {
      const parsed = StateSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      if (!parsed.success) throw new Error(`relay checkpoint ${file} is corrupt: ${parsed.error.message}; move it away to restart from the beginning`);
      c.blockNumber = BigInt(parsed.data.blockNumber);
      c.transactionId = parsed.data.transactionId;
    }
    return c;
  }

  getBlockNumber(): bigint | undefined {
    return this.blockNumber;
  }

  getTransactionId(): string | undefined {
    return this.transactionId;
  }

  /** The whole block is handled: resume at the next one. */
  async checkpointBlock(blockNumber: bigint): Promise<void> {
    this.save(blockNumber + 1n, undefined);
  }

  async checkpointTransaction(blockNumber: bigint, transactionId: string): Promise<void> {
    this.save(blockNumber, transactionId);
  }

  async checkpointChaincodeEvent(event: ChaincodeEvent): Promise<void> {
    this.save(event.blockNumber, event.transactionId);
  }

  private save(blockNumber: bigint, transactionId: string | undefined): void {
    const state = { version: 1 as const, blockNumber: blockNumber.toString(), ...(transactionId ? { transactionId } : {}), updatedAt: new Date().toISOString() };
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(state));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    const dirFd = openSync(dirname(this.file), 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    this.blockNumber = blockNumber;
    this.transactionId = transactionId;
  }
}
