/**
 * SendBatcher (gateway/src/services/send-batcher.ts): one send transaction in flight; sends that
 * arrive meanwhile go together in the next SendPackets; every caller gets its own answer.
 */
import type { PacketType, SendPacketArgs, SendPacketResult, SendPacketsResult } from '@medbridge/chaincode';
import { ClientError } from '../../../gateway/src/errors';
import type { SendItem, Submitted } from '../../../gateway/src/fabric/contracts';
import { SendBatcher, type PacketSender } from '../../../gateway/src/services/send-batcher';

type Call = { fn: 'SendPacket'; items: SendItem[] } | { fn: 'SendPackets'; items: SendItem[] };

/** A sender whose transactions commit only when the test releases them, numbering sequences as the chaincode would. */
class FakeSender implements PacketSender {
  readonly calls: Call[] = [];
  private readonly gates: Array<() => void> = [];
  private sequence = 0;
  /** Decides each transaction's fate from its items: undefined = commits. */
  fail: (items: SendItem[]) => ClientError | undefined = () => undefined;

  private result(item: SendItem): SendPacketResult {
    this.sequence += 1;
    const routeId = item.args.routeId ?? 'r1';
    return { routeId, sequence: this.sequence, packetHash: `h${this.sequence}`, packet: { routeId, sequence: this.sequence, payload: item.args.payload } as never };
  }

  private async gate(call: Call): Promise<void> {
    this.calls.push(call);
    await new Promise<void>((release) => this.gates.push(release));
    const err = this.fail(call.items);
    if (err) throw err;
  }

  async sendPacket(destChain: string, type: PacketType, args: SendPacketArgs): Promise<Submitted<SendPacketResult>> {
    const item = { destChain, type, args };
    await this.gate({ fn: 'SendPacket', items: [item] });
    return { result: this.result(item), txId: `tx${this.calls.length}`, blockNumber: 1n };
  }

  async sendPackets(sends: readonly SendItem[]): Promise<Submitted<SendPacketsResult>> {
    await this.gate({ fn: 'SendPackets', items: [...sends] });
    return { result: { items: sends.map((s) => this.result(s)) }, txId: `tx${this.calls.length}`, blockNumber: 1n };
  }

  /** Lets the oldest transaction in flight finish, then lets the batcher react. */
  async release(): Promise<void> {
    const next = this.gates.shift();
    if (!next) throw new Error('no transaction in flight');
    next();
    for (let i = 0; i < 5; i++) await Promise.resolve();
    await new Promise((r) => setImmediate(r));
  }

  get inFlight(): number {
    return this.gates.length;
  }
}

const ping = (i: number) => ({ routeId: 'r1', payload: { i } });
const tick = () => new Promise((r) => setImmediate(r));
/** The promise's outcome, with its handler attached at once (a rejection is not left unhandled while the test releases). */
const outcome = <T>(p: Promise<T>): Promise<{ ok: T } | { err: unknown }> => p.then((ok) => ({ ok }), (err: unknown) => ({ err }));

describe('SendBatcher', () => {
  it('sends a lone send at once on SendPacket, with its own result', async () => {
    const sender = new FakeSender();
    const sends = new SendBatcher(sender);
    const p = sends.send('chain-b', 'ping', ping(1));
    await tick();
    expect(sender.calls).toEqual([{ fn: 'SendPacket', items: [{ destChain: 'chain-b', type: 'ping', args: ping(1) }] }]);
    await sender.release();
    await expect(p).resolves.toMatchObject({ result: { sequence: 1, routeId: 'r1' }, txId: 'tx1' });
  });

  it('keeps one transaction in flight and sends what arrived meanwhile as one SendPackets, in arrival order', async () => {
    const sender = new FakeSender();
    const sends = new SendBatcher(sender);
    const first = sends.send('chain-b', 'ping', ping(0));
    await tick();
    const rest = [1, 2, 3].map((i) => sends.send(i === 2 ? 'chain-c' : 'chain-b', 'ping', ping(i)));
    await tick();
    expect(sender.inFlight).toBe(1);
    expect(sends.queued).toBe(3);
    await sender.release();
    expect(sender.calls.map((c) => [c.fn, c.items.map((i) => (i.args.payload as { i: number }).i)])).toEqual([
      ['SendPacket', [0]],
      ['SendPackets', [1, 2, 3]],
    ]);
    expect(sender.calls[1]!.items[1]!.destChain).toBe('chain-c');
    await sender.release();
    await expect(first).resolves.toMatchObject({ result: { sequence: 1 }, txId: 'tx1' });
    const answers = await Promise.all(rest);
    expect(answers.map((a) => [a.result.sequence, (a.result.packet.payload as { i: number }).i, a.txId])).toEqual([
      [2, 1, 'tx2'],
      [3, 2, 'tx2'],
      [4, 3, 'tx2'],
    ]);
    // Idle again: the next send goes alone.
    const later = sends.send('chain-b', 'ping', ping(9));
    await tick();
    expect(sender.calls[2]!.fn).toBe('SendPacket');
    await sender.release();
    await expect(later).resolves.toMatchObject({ result: { sequence: 5 } });
  });

  it('splits what waits into transactions of at most maxBatch sends', async () => {
    const sender = new FakeSender();
    const sends = new SendBatcher(sender, 2);
    const all = [0, 1, 2, 3, 4].map((i) => sends.send('chain-b', 'ping', ping(i)));
    await tick();
    await sender.release();
    await sender.release();
    await sender.release();
    await Promise.all(all);
    expect(sender.calls.map((c) => c.items.length)).toEqual([1, 2, 2]);
    expect(() => new SendBatcher(sender, 0)).toThrow(RangeError);
    expect(() => new SendBatcher(sender, 33)).toThrow(RangeError);
  });

  it('sends a batch the chaincode refused again one send at a time: only the bad send fails, with its own code', async () => {
    const sender = new FakeSender();
    const bad = (items: SendItem[]) => items.some((i) => i.type === ('nope' as PacketType));
    sender.fail = (items) => (bad(items) ? new ClientError('PACKET_TYPE_NOT_ALLOWED', 'rejected', 'packet type nope is not allowlisted') : undefined);
    const sends = new SendBatcher(sender);
    const first = sends.send('chain-b', 'ping', ping(0));
    await tick();
    const good1 = outcome(sends.send('chain-b', 'ping', ping(1)));
    const wrong = outcome(sends.send('chain-b', 'nope' as PacketType, ping(2)));
    const good2 = outcome(sends.send('chain-b', 'ping', ping(3)));
    await tick();
    await sender.release(); // the lone first send
    await sender.release(); // the batch, refused
    await sender.release(); // then each alone
    await sender.release();
    await sender.release();
    await expect(first).resolves.toBeDefined();
    expect(await good1).toMatchObject({ ok: { result: { packet: { payload: { i: 1 } } } } });
    expect(await wrong).toMatchObject({ err: { code: 'PACKET_TYPE_NOT_ALLOWED' } });
    expect(await good2).toMatchObject({ ok: { result: { packet: { payload: { i: 3 } } } } });
    expect(sender.calls.map((c) => `${c.fn}:${c.items.length}`)).toEqual(['SendPacket:1', 'SendPackets:3', 'SendPacket:1', 'SendPacket:1', 'SendPacket:1']);
  });

  it('fails every send of a batch that failed for the network with that error, and sends none of them again', async () => {
    const sender = new FakeSender();
    sender.fail = (items) => (items.length > 1 ? new ClientError('UNAVAILABLE', 'unavailable', 'CrossChain:SendPackets on chain-a: peer 127.0.0.1:7051 unreachable') : undefined);
    const sends = new SendBatcher(sender);
    const first = sends.send('chain-b', 'ping', ping(0));
    await tick();
    const batch = [1, 2].map((i) => outcome(sends.send('chain-b', 'ping', ping(i))));
    await tick();
    await sender.release();
    await sender.release();
    await expect(first).resolves.toBeDefined();
    for (const p of batch) expect(await p).toMatchObject({ err: { code: 'UNAVAILABLE' } });
    expect(sender.calls).toHaveLength(2);
  });
});
