import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileCheckpointer } from '../../../gateway/src/relay/checkpoint';
import { RouteQueues, Watermark, type StreamPosition } from '../../../gateway/src/relay/route-queues';
import { deferred } from '../support/deferred';

const at = (block: number, tx: string): StreamPosition => ({ blockNumber: BigInt(block), transactionId: tx });

describe('relay low-watermark over the event stream', () => {
  it('moves the checkpoint only past a fully handled prefix of the stream', () => {
    const w = new Watermark();
    for (const p of [at(5, 'a'), at(5, 'b'), at(6, 'c'), at(7, 'd')]) expect(w.track(p)).toBe(true);
    // Later events finish first: nothing may be checkpointed while 5/a is in flight.
    expect(w.complete(at(6, 'c'))).toBeUndefined();
    expect(w.complete(at(5, 'b'))).toBeUndefined();
    expect(w.size).toBe(4);
    // 5/a done: the prefix a, b, c is handled; d is not.
    expect(w.complete(at(5, 'a'))).toEqual(at(6, 'c'));
    expect(w.size).toBe(1);
    expect(w.pending).toBe(1);
    expect(w.complete(at(7, 'd'))).toEqual(at(7, 'd'));
    expect(w.size).toBe(0);
  });

  it('ignores an event a reconnected stream delivers again while it is still in flight', () => {
    const w = new Watermark();
    expect(w.track(at(3, 'x'))).toBe(true);
    expect(w.track(at(3, 'x'))).toBe(false);
    expect(w.has(at(3, 'x'))).toBe(true);
    expect(w.complete(at(3, 'x'))).toEqual(at(3, 'x'));
    expect(w.has(at(3, 'x'))).toBe(false);
  });

  it('refuses to complete an event it never saw and a stream that goes back in blocks', () => {
    const w = new Watermark();
    w.track(at(9, 'a'));
    expect(() => w.complete(at(9, 'zz'))).toThrow(/never tracked/);
    expect(() => w.track(at(8, 'b'))).toThrow(/went back/);
    expect(w.size).toBe(1);
  });
});

describe('low-watermark over a batch event (one transaction, one event, several packets)', () => {
  const item = (block: number, tx: string, i: number, n: number): StreamPosition => ({ ...at(block, tx), item: i, items: n });

  it('moves the checkpoint past the transaction only when every item is handled, whatever the order', () => {
    const w = new Watermark();
    expect(w.track(at(4, 'a'))).toBe(true);
    expect(w.track(item(5, 'b', 0, 3))).toBe(true);
    expect(w.complete(at(4, 'a'))).toEqual(at(4, 'a'));
    // Item 0 handled before items 1 and 2 are even read: the checkpoint stays before 5/b.
    expect(w.complete(item(5, 'b', 0, 3))).toBeUndefined();
    expect(w.track(item(5, 'b', 1, 3))).toBe(true);
    expect(w.track(item(5, 'b', 2, 3))).toBe(true);
    expect(w.track(at(6, 'c'))).toBe(true);
    expect(w.complete(at(6, 'c'))).toBeUndefined();
    expect(w.complete(item(5, 'b', 2, 3))).toBeUndefined();
    // Four events in memory: the three items of 5/b and 6/c.
    expect(w.size).toBe(4);
    expect(w.pending).toBe(1);
    expect(w.complete(item(5, 'b', 1, 3))).toEqual(at(6, 'c'));
    expect(w.size).toBe(0);
  });

  it('ignores an item delivered again, and an item handled twice counts once', () => {
    const w = new Watermark();
    expect(w.track(item(5, 'b', 0, 2))).toBe(true);
    expect(w.track(item(5, 'b', 0, 2))).toBe(false);
    expect(w.has(item(5, 'b', 1, 2))).toBe(false);
    expect(w.track(item(5, 'b', 1, 2))).toBe(true);
    expect(w.complete(item(5, 'b', 0, 2))).toBeUndefined();
    expect(w.complete(item(5, 'b', 0, 2))).toBeUndefined();
    expect(w.size).toBe(2);
    expect(w.complete(item(5, 'b', 1, 2))).toEqual(at(5, 'b'));
    expect(() => w.complete(item(7, 'z', 0, 2))).toThrow(/never tracked/);
  });
});

describe('per-route queues', () => {
  it('runs the jobs of one route strictly in order, one at a time', async () => {
    const q = new RouteQueues();
    const log: string[] = [];
    const g1 = deferred();
    void q.push('r', async () => {
      log.push('1 start');
      await g1.promise;
      log.push('1 end');
    });
    void q.push('r', async () => {
      log.push('2 start');
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(log).toEqual(['1 start']);
    expect(q.snapshot()).toEqual({ r: 2 });
    g1.resolve();
    await q.idle();
    expect(log).toEqual(['1 start', '1 end', '2 start']);
    expect(q.snapshot()).toEqual({});
  });

  it('does not let an undeliverable packet of one route block another route', async () => {
    const q = new RouteQueues();
    const blocked = deferred();
    const done: string[] = [];
    void q.push('stuck', async () => {
      await blocked.promise;
      done.push('stuck/1');
    });
    await q.push('other', async () => {
      done.push('other/1');
    });
    await q.push('other', async () => {
      done.push('other/2');
    });
    expect(done).toEqual(['other/1', 'other/2']);
    expect(q.snapshot()).toEqual({ stuck: 1 });
    blocked.resolve();
    await q.idle();
    expect(done).toEqual(['other/1', 'other/2', 'stuck/1']);
  });

  it('reports a failed job and keeps the route usable for the jobs after it', async () => {
    const errors: string[] = [];
    const q = new RouteQueues((key, e) => errors.push(`${key}: ${(e as Error).message}`));
    const ran: number[] = [];
    void q.push('r', () => Promise.reject(new Error('relay stopped')));
    await q.push('r', async () => {
      ran.push(2);
    });
    expect(errors).toEqual(['r: relay stopped']);
    expect(ran).toEqual([2]);
  });
});

describe('relay checkpoint with a blocked route (queues + watermark + file)', () => {
  /**
   * Replays what the relay does: events of two routes interleaved in the stream, route
   * "slow" stuck on its first packet, route "fast" delivered. Each handled event is completed
   * on the watermark and the checkpoint file follows it. A "crash" is reopening the file.
   */
  it('never checkpoints past a packet that is not handled, and resumes there after a crash', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mb-wm-')), 'checkpoint.json');
    const ckpt = FileCheckpointer.open(file);
    const w = new Watermark();
    const q = new RouteQueues();
    const stuck = deferred();
    const handled: string[] = [];
    const complete = async (p: StreamPosition) => {
      const next = w.complete(p);
      if (next) await ckpt.checkpointTransaction(next.blockNumber, next.transactionId);
    };
    const stream: Array<{ p: StreamPosition; route?: string }> = [
      { p: at(10, 'other-event') },
      { p: at(11, 'slow-1'), route: 'slow' },
      { p: at(11, 'fast-1'), route: 'fast' },
      { p: at(12, 'fast-2'), route: 'fast' },
      { p: at(13, 'slow-2'), route: 'slow' },
    ];
    for (const e of stream) {
      w.track(e.p);
      if (!e.route) {
        await complete(e.p);
        continue;
      }
      const route = e.route;
      void q.push(route, async () => {
        if (e.p.transactionId === 'slow-1') await stuck.promise;
        handled.push(e.p.transactionId);
        await complete(e.p);
      });
    }
    // Let the fast route finish.
    for (let i = 0; i < 20 && handled.length < 2; i++) await new Promise((r) => setImmediate(r));
    expect(handled).toEqual(['fast-1', 'fast-2']);
    // The checkpoint stays right after the last event before slow-1.
    let crashed = FileCheckpointer.open(file);
    expect([crashed.getBlockNumber(), crashed.getTransactionId()]).toEqual([10n, 'other-event']);

    stuck.resolve();
    await q.idle();
    expect(handled).toEqual(['fast-1', 'fast-2', 'slow-1', 'slow-2']);
    crashed = FileCheckpointer.open(file);
    expect([crashed.getBlockNumber(), crashed.getTransactionId()]).toEqual([13n, 'slow-2']);
    expect(w.size).toBe(0);
  });
});
