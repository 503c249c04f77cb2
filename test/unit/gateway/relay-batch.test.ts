/**
 * The relay's batching (gateway/src/relay/relay.ts, chaincode/PROTOCOL.md "Batches"): which
 * ready packets of a route go under one proof, and how a batch transaction's one event reads
 * as one event per packet for every consumer.
 */
import type { ChaincodeEvent as FabricEvent } from '@hyperledger/fabric-gateway';
import { toChaincodeEvents } from '../../../gateway/src/fabric/contracts/events';
import { takeRun } from '../../../gateway/src/relay/route-queues';

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
