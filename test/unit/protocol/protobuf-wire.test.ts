/**
 * The scheme-1 check reads Fabric's proposal and proposal response with its own wire reader:
 * it must read exactly what google-protobuf (the messages' generated code) reads from the bytes a
 * peer and a relay produce, and refuse what a Fabric peer's decoder refuses.
 */
import { createHash } from 'node:crypto';
import { common, peer } from '@hyperledger/fabric-protos';
import { singleBytesField, WireError, WireMessage } from '../../../chaincode/src/protocol/protobuf-wire';
import { proposalBytes, proposalHash } from '../../fixtures/endorsement';

const HEADER = { 1: 2, 2: 2 } as const;
const CHANNEL_HEADER = { 1: 0, 2: 0, 3: 2, 4: 2, 5: 2, 6: 0, 7: 2, 8: 2 } as const;
const SPEC = { 1: 0, 2: 2, 3: 2, 4: 0 } as const;
const INPUT = { 1: 2, 2: 2, 3: 0 } as const;

const bytes = (...xs: number[]): Buffer => Buffer.from(xs);

describe('protobuf wire reader', () => {
  it('reads a Fabric proposal as google-protobuf reads it', () => {
    const raw = proposalBytes('chain-a', 'medbridge', 'CrossChain:GetPacketCommitment', ['route-ab', '17']);
    const proposal = WireMessage.read(raw, { 1: 2, 2: 2, 3: 2 });
    const header = WireMessage.read(proposal.bytes(1), HEADER);
    const channelHeader = WireMessage.read(header.bytes(1), CHANNEL_HEADER);
    const payload = WireMessage.read(proposal.bytes(2), { 1: 2, 2: 2 });
    const spec = WireMessage.read(payload.bytes(1), { 1: 2 }).message(1, SPEC);
    const args = spec?.message(3, INPUT)?.repeated(1).map((a) => a.toString('utf8'));

    const gp = peer.Proposal.deserializeBinary(raw);
    const gh = common.Header.deserializeBinary(gp.getHeader_asU8());
    const gch = common.ChannelHeader.deserializeBinary(gh.getChannelHeader_asU8());
    const gpayload = peer.ChaincodeProposalPayload.deserializeBinary(gp.getPayload_asU8());
    const gspec = peer.ChaincodeInvocationSpec.deserializeBinary(gpayload.getInput_asU8()).getChaincodeSpec();
    expect(channelHeader.int32(1)).toBe(gch.getType());
    expect(channelHeader.string(4)).toBe(gch.getChannelId());
    expect(channelHeader.string(5)).toBe(gch.getTxId());
    expect(args).toEqual((gspec?.getInput()?.getArgsList_asU8() ?? []).map((a) => Buffer.from(a).toString('utf8')));
    expect(args).toEqual(['CrossChain:GetPacketCommitment', 'route-ab', '17']);
    // The proposal hash Fabric signs, rebuilt from the fields read here.
    const hash = createHash('sha256').update(header.bytes(1)).update(header.bytes(2)).update(singleBytesField(payload.bytes(1))).digest();
    expect(hash.equals(proposalHash(raw))).toBe(true);
  });

  it('reads a negative int32 and a status as google-protobuf does', () => {
    for (const status of [200, 500, -1, 0x7fffffff, -0x80000000]) {
      const r = new peer.Response();
      r.setStatus(status);
      r.setPayload(Buffer.from('x'));
      const read = WireMessage.read(Buffer.from(r.serializeBinary()), { 1: 0, 2: 2, 3: 2 });
      expect(read.int32(1)).toBe(peer.Response.deserializeBinary(r.serializeBinary()).getStatus());
      expect(read.bytes(3).toString()).toBe('x');
    }
  });

  it('encodes a single bytes field 1 as google-protobuf serialises it, at every length width', () => {
    for (const n of [0, 1, 127, 128, 300, 16_383, 16_384, 70_000]) {
      const value = Buffer.alloc(n, 7);
      const m = new peer.ChaincodeProposalPayload();
      m.setInput(value);
      expect(singleBytesField(value).equals(Buffer.from(m.serializeBinary()))).toBe(true);
    }
  });

  it('skips unknown fields of every wire type it reads, and keeps the last value of a repeated singular field', () => {
    const m = WireMessage.read(bytes(0x28, 0x96, 0x01, 0x31, 1, 2, 3, 4, 5, 6, 7, 8, 0x3d, 1, 2, 3, 4, 0x0a, 1, 0x41, 0x0a, 1, 0x42), HEADER);
    expect(m.bytes(1).toString()).toBe('B');
    expect(m.bytes(2).length).toBe(0);
  });

  it('refuses what a Fabric peer refuses: truncation, a known field of another wire type, field 0, groups, long varints', () => {
    const refused = [
      bytes(0x0a, 0x05, 1, 2), // length beyond the end
      bytes(0x08, 0x05), // Header field 1 as a varint
      bytes(0x02, 0x00), // field number 0
      bytes(0x1b, 0x1c), // a group
      bytes(0x1f, 0x01), // wire type 7
      bytes(0x28, 0x80), // truncated varint
      bytes(0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), // eleven bytes
      bytes(0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02), // beyond 64 bits
    ];
    for (const b of refused) expect(() => WireMessage.read(b, HEADER)).toThrow(WireError);
  });

  it('refuses an embedded message that occurs twice (Go would merge it, google-protobuf keep the last)', () => {
    const input = (arg: string): Buffer => {
      const i = new peer.ChaincodeInput();
      i.setArgsList([Buffer.from(arg)]);
      return Buffer.from(i.serializeBinary());
    };
    const a = input('a');
    const b = input('b');
    const spec = Buffer.concat([bytes(0x1a, a.length), a, bytes(0x1a, b.length), b]);
    const read = WireMessage.read(spec, SPEC);
    expect(() => read.message(3, INPUT)).toThrow(WireError);
    // Once, it is read.
    expect(WireMessage.read(Buffer.concat([bytes(0x1a, a.length), a]), SPEC).message(3, INPUT)?.repeated(1).map(String)).toEqual(['a']);
  });
});
