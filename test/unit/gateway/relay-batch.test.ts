/**
 * The relay's batching (gateway/src/relay/relay.ts, chaincode/PROTOCOL.md "Batches"): which
 * ready packets of a route go under one proof, how the runs of several routes gather under one
 * attempt, and how a batch transaction's one event reads as one event per packet for every consumer.
 */
import type { ChaincodeEvent as FabricEvent } from '@hyperledger/fabric-gateway';
import { toChaincodeEvents } from '../../../gateway/src/fabric/contracts/events';
import { batchStatement } from '../../../gateway/src/fabric/contracts/crosschain';
import { takeRun } from '../../../gateway/src/relay/route-queues';
import { RunCollector, type OfferedRun } from '../../../gateway/src/relay/run-collector';
import { deferred } from '../support/deferred';

const item = (sequence: number, outcome = 'success') => ({ packet: { sequence }, outcome });

describe('takeRun: the ready packets one batch carries', () => {
  it('takes the consecutive sequences at the head, up to the limit, and leaves the rest waiting', () => {
    const waiting = [1, 2, 3, 4, 5].map((s) => item(s));
    expect(takeRun(waiting, 3).map((i) => i.packet.sequence)).toEqual([1, 2, 3]);
    expect(waiting.map((i) => i.packet.sequence)).toEqual([4, 5]);
  });

  it('stops at a gap in the sequences', () => {
    const waiting = [4, 5, 7, 8].map((s) => item(s));
    expect(takeRun(waiting, 32).map((i) => i.packet.sequence)).toEqual([4, 5]);
    expect(takeRun(waiting, 32).map((i) => i.packet.sequence)).toEqual([7, 8]);
    expect(takeRun(waiting, 32)).toEqual([]);
  });

  it('stops before an item that does not fit, and sends a head that does not fit alone', () => {
    const fits = (i: { outcome: string }) => i.outcome !== 'timeout';
    const waiting = [item(1), item(2), item(3, 'timeout'), item(4)];
    expect(takeRun(waiting, 32, fits).map((i) => i.packet.sequence)).toEqual([1, 2]);
    expect(takeRun(waiting, 32, fits).map((i) => i.packet.sequence)).toEqual([3]);
    expect(takeRun(waiting, 32, fits).map((i) => i.packet.sequence)).toEqual([4]);
  });

  it('with a limit of 1 always takes one packet (the single path)', () => {
    const waiting = [1, 2].map((s) => item(s));
    expect(takeRun(waiting, 1)).toHaveLength(1);
  });
});

describe('toChaincodeEvents: a batch event reads as one event per packet', () => {
  const fabricEvent = (eventName: string, payload: unknown): FabricEvent =>
    ({ eventName, payload: Buffer.from(JSON.stringify(payload)), transactionId: 'tx1', blockNumber: 7n, chaincodeName: 'medbridge' }) as FabricEvent;

  it('unfolds PacketsReceived into PacketReceived events of the same transaction and block, in order', () => {
    const items = [
      { routeId: 'r', sequence: 1, outcome: 'success' },
      { routeId: 'r', sequence: 2, outcome: 'error' },
    ];
    const out = toChaincodeEvents(fabricEvent('PacketsReceived', { routeId: 'r', fromSequence: 1, count: 2, items }));
    expect(out).toEqual(items.map((payload, item) => ({ name: 'PacketReceived', payload, txId: 'tx1', blockNumber: 7n, item, items: 2 })));
  });

  it('unfolds PacketsSent into PacketSent events, each naming its item and the count (the relay checkpoints the transaction once all are carried)', () => {
    const items = [1, 2, 3].map((sequence) => ({ routeId: sequence === 2 ? 'r2' : 'r', sequence, packetHash: `h${sequence}`, packet: { routeId: 'r', sequence } }));
    const out = toChaincodeEvents(fabricEvent('PacketsSent', { items }), new Set(['PacketSent']));
    expect(out).toEqual(items.map((payload, item) => ({ name: 'PacketSent', payload, txId: 'tx1', blockNumber: 7n, item, items: 3 })));
    expect(toChaincodeEvents(fabricEvent('PacketsSent', { items }), new Set(['PacketReceived']))).toEqual([]);
  });

  it('unfolds PacketsAcknowledged into PacketAcknowledged events, and filters by the item name', () => {
    const e = fabricEvent('PacketsAcknowledged', { routeId: 'r', fromSequence: 3, count: 1, items: [{ routeId: 'r', sequence: 3, status: 'acknowledged' }] });
    expect(toChaincodeEvents(e).map((x) => [x.name, (x.payload as { sequence: number }).sequence])).toEqual([['PacketAcknowledged', 3]]);
    expect(toChaincodeEvents(e, new Set(['PacketAcknowledged']))).toHaveLength(1);
    expect(toChaincodeEvents(e, new Set(['PacketsAcknowledged', 'PacketReceived']))).toEqual([]);
  });

  it('passes a single event through as it is, and drops unknown names', () => {
    expect(toChaincodeEvents(fabricEvent('PacketReceived', { routeId: 'r', sequence: 1 }))).toHaveLength(1);
    expect(toChaincodeEvents(fabricEvent('SomethingElse', {}))).toEqual([]);
  });
});

describe('RunCollector: runs of several routes under one attempt (group commit)', () => {
  /** A collector whose attempts wait until the test answers them; records what each carried. */
  function harness(slots: number, maxItems: number) {
    const attempts: { runs: OfferedRun<number>[]; done: ReturnType<typeof deferred<string[] | undefined>> }[] = [];
    const collector = new RunCollector<number, string>(slots, maxItems, (runs) => {
      const done = deferred<string[] | undefined>();
      attempts.push({ runs, done });
      return done.promise;
    });
    return { collector, attempts };
  }
  /** Two turns of the event loop: an attempt's end schedules the next fill a few promise steps later. */
  const flush = async () => {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
  };

  it('carries a run in the next turn while a slot is free, and gathers the runs offered meanwhile into the next attempt, in route-id order', async () => {
    const { collector, attempts } = harness(1, 32);
    const a = collector.offer('r-b', [1]);
    await flush();
    expect(attempts).toHaveLength(1);
    const b = collector.offer('r-c', [5, 6]);
    const c = collector.offer('r-a', [9]);
    await flush();
    expect(attempts).toHaveLength(1);
    attempts[0]!.done.resolve(['b1']);
    expect(await a).toBe('b1');
    await flush();
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.runs).toEqual([
      { routeId: 'r-a', items: [9] },
      { routeId: 'r-c', items: [5, 6] },
    ]);
    attempts[1]!.done.resolve(['a', 'c']);
    expect([await b, await c]).toEqual(['c', 'a']);
    await flush();
    expect(collector.inFlight).toBe(0);
  });

  it('puts the runs offered in one turn into one attempt', async () => {
    const { collector, attempts } = harness(2, 32);
    void collector.offer('r2', [1]);
    void collector.offer('r1', [1, 2]);
    await flush();
    expect(attempts.map((x) => x.runs.map((r) => r.routeId))).toEqual([['r1', 'r2']]);
  });

  it('keeps at most `slots` attempts in flight', async () => {
    const { collector, attempts } = harness(2, 32);
    const first = collector.offer('r1', [1]);
    await flush();
    const second = collector.offer('r2', [1]);
    await flush();
    const third = collector.offer('r3', [1]);
    await flush();
    expect(attempts).toHaveLength(2);
    expect(collector.inFlight).toBe(2);
    attempts[0]!.done.resolve(['x']);
    await flush();
    expect(attempts).toHaveLength(3);
    attempts[1]!.done.resolve(['y']);
    attempts[2]!.done.resolve(['z']);
    expect(await Promise.all([first, second, third])).toEqual(['x', 'y', 'z']);
  });

  it('takes whole runs up to the item limit; a run that does not fit waits for the next attempt', async () => {
    const { collector, attempts } = harness(1, 4);
    void collector.offer('r0', [0]);
    await flush();
    void collector.offer('r1', [1, 2, 3]);
    void collector.offer('r2', [4, 5]);
    void collector.offer('r3', [6]);
    attempts[0]!.done.resolve(['0']);
    await flush();
    expect(attempts[1]!.runs.map((r) => r.routeId)).toEqual(['r1', 'r3']);
    attempts[1]!.done.resolve(['1', '3']);
    await flush();
    expect(attempts[2]!.runs.map((r) => r.routeId)).toEqual(['r2']);
  });

  it('answers undefined to every run of an attempt that did not apply, and passes on what the attempt threw', async () => {
    const { collector, attempts } = harness(1, 32);
    const first = collector.offer('r1', [1]);
    await flush();
    attempts[0]!.done.resolve(undefined);
    expect(await first).toBeUndefined();
    await flush();
    const second = collector.offer('r1', [2]);
    await flush();
    attempts[1]!.done.reject(new Error('relay stopped'));
    await expect(second).rejects.toThrow('relay stopped');
    await flush();
    expect(collector.inFlight).toBe(0);
  });
});

describe('batchStatement: the statement a batch proof needs', () => {
  it('is the batch statement for one route and the runs statement for several', () => {
    expect(batchStatement('packet', [{ routeId: 'r', sequence: 4 }])).toEqual({ kind: 'packet-batch', routeId: 'r', fromSequence: 4, count: 1 });
    expect(batchStatement('ack', [{ routeId: 'r', sequence: 4 }, { routeId: 'r', sequence: 5 }])).toEqual({ kind: 'ack-batch', routeId: 'r', fromSequence: 4, count: 2 });
    expect(
      batchStatement('packet', [
        { routeId: 'a', sequence: 2 },
        { routeId: 'a', sequence: 3 },
        { routeId: 'b', sequence: 7 },
      ]),
    ).toEqual({
      kind: 'packet-runs',
      runs: [
        { routeId: 'a', fromSequence: 2, count: 2 },
        { routeId: 'b', fromSequence: 7, count: 1 },
      ],
    });
  });
});
