/**
 * Properties of every parser of external input: canonical JSON, packets, acknowledgements,
 * proofs, node lists, patient messages. For any input: no crash (only the project's typed
 * errors), no acceptance of a malformed input (the parser agrees with the format's own
 * definition), and one error code per kind of malformation.
 */
import fc from 'fast-check';
import { canonicalBytes, canonicalize, parseJson } from '../../../chaincode/src/protocol/canonical-json';
import { isProtocolId, Limits } from '../../../chaincode/src/protocol/limits';
import { parseNodeList, type VerificationNodeList } from '../../../chaincode/src/protocol/node-list';
import { isPacketType, packetHash, parseAck, parsePacket, parsePacketHashed, type Packet } from '../../../chaincode/src/protocol/packet';
import { parseSignedPatientMessage, verifyPatientMessage } from '../../../chaincode/src/protocol/patient-messages';
import { parseProof, parseProofValue } from '../../../chaincode/src/protocol/proof';
import { newKey, signedGrant, signedRevocation, T0, terms } from '../consent/support';
import { createChain, nodeList, signatureSet } from '../crosschain/support';
import { anyJson, canonicalValue, mutations, outcomeOf, RUNS } from './arbitraries';

const isSafeInt = (v: unknown, min: number): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const encodable = (v: unknown): boolean => outcomeOf(() => canonicalize(v)).ok;

describe('canonical JSON', () => {
  it('round-trips every canonical value: parse(canonicalize(v)) encodes to the same text', () => {
    fc.assert(
      fc.property(canonicalValue, (v) => {
        const text = canonicalize(v);
        const back = parseJson(text, 'value');
        expect(canonicalize(back)).toBe(text);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(v)));
      }),
      RUNS,
    );
  });

  it('does not depend on the order in which object keys were written', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 6 }), canonicalValue, { maxKeys: 8 }), (o) => {
        const reversed = Object.fromEntries(Object.entries(o).reverse());
        expect(canonicalize(reversed)).toBe(canonicalize(o));
      }),
      RUNS,
    );
  });

  it('parses any text to a canonical-encodable value or refuses it with INVALID_ARGUMENT, never crashing', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), anyJson.map((v) => JSON.stringify(v))), (text) => {
        const out = outcomeOf(() => parseJson(text, 'input'));
        if (out.ok) expect(encodable(out.value)).toBe(true);
        else expect(out.code).toBe('INVALID_ARGUMENT');
      }),
      RUNS,
    );
  });

  it('refuses every number that is not a safe integer, wherever it is', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isSafeInteger(d)), fc.constantFrom(2 ** 53, -(2 ** 53), 1e300)),
        fc.constantFrom((n: number) => n, (n: number) => [n], (n: number) => ({ a: { b: [1, n] } })),
        (n, wrap) => {
          expect(outcomeOf(() => parseJson(JSON.stringify(wrap(n)), 'input'))).toEqual({ ok: false, code: 'INVALID_ARGUMENT' });
        },
      ),
      RUNS,
    );
  });

  it('refuses nesting deeper than its bound with INVALID_ARGUMENT', () => {
    fc.assert(
      fc.property(fc.integer({ min: 34, max: 5000 }), (depth) => {
        expect(outcomeOf(() => parseJson(`${'['.repeat(depth)}${']'.repeat(depth)}`, 'input'))).toEqual({ ok: false, code: 'INVALID_ARGUMENT' });
      }),
      { numRuns: 50 },
    );
  });
});

// ------------------------------------------------------------------ packets

const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,40}$/);
const validPacket: fc.Arbitrary<Packet> = fc.record({
  sourceChain: id,
  destChain: id,
  routeId: id,
  sequence: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  type: fc.constantFrom('ping' as const, 'consent.grant' as const, 'consent.revoke' as const),
  payload: canonicalValue,
  timeoutMs: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  sentAtMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  sender: id,
});

/** The packet format as PROTOCOL.md "Packet" defines it, written independently of the parser. */
function packetFieldValid(field: string, v: unknown): boolean {
  switch (field) {
    case 'sourceChain':
    case 'destChain':
    case 'routeId':
    case 'sender':
      return isProtocolId(v);
    case 'sequence':
    case 'timeoutMs':
      return isSafeInt(v, 1);
    case 'sentAtMs':
      return isSafeInt(v, 0);
    case 'type':
      return isPacketType(v);
    case 'payload':
      return v !== undefined && encodable(v);
    default:
      return false;
  }
}

describe('packets', () => {
  it('accepts every well-formed packet within the size limit, unchanged', () => {
    fc.assert(
      fc.property(validPacket, (p) => {
        const out = outcomeOf(() => parsePacket(p));
        if (canonicalBytes(p).length > Limits.maxPacketBytes) expect(out).toEqual({ ok: false, code: 'PROOF_TOO_LARGE' });
        else expect(out).toEqual({ ok: true, value: p });
      }),
      RUNS,
    );
  });

  it('refuses any packet with a field missing, unknown or malformed, with one code per kind', () => {
    fc.assert(
      fc.property(validPacket.chain((p) => mutations(p as unknown as Record<string, unknown>)), (m) => {
        const out = outcomeOf(() => parsePacket(m.value));
        const valid = m.kind === 'replace' && packetFieldValid(m.field, m.value[m.field]);
        if (valid) {
          expect(out.ok || (!out.ok && out.code === 'PROOF_TOO_LARGE')).toBe(true);
          return;
        }
        expect(out.ok).toBe(false);
        if (out.ok) return;
        if (!encodable(m.value)) expect(out.code).toBe('INVALID_ARGUMENT');
        else if (canonicalBytes(m.value).length > Limits.maxPacketBytes) expect(out.code).toBe('PROOF_TOO_LARGE');
        else if (m.kind === 'replace' && m.field === 'type' && typeof m.value.type === 'string') expect(out.code).toBe('PACKET_TYPE_NOT_ALLOWED');
        else expect(out.code).toBe('INVALID_ARGUMENT');
      }),
      RUNS,
    );
  });

  it('parsePacketHashed answers as parsePacket then packetHash, for every packet and every mutation of one', () => {
    fc.assert(
      fc.property(validPacket.chain((p) => fc.oneof(fc.constant(p as unknown as Record<string, unknown>), mutations(p as unknown as Record<string, unknown>).map((m) => m.value))), (v) => {
        const alone = outcomeOf(() => {
          const packet = parsePacket(v);
          return { packet, packetHash: packetHash(packet) };
        });
        expect(outcomeOf(() => parsePacketHashed(v))).toEqual(alone);
      }),
      RUNS,
    );
  });

  it('never crashes on arbitrary input to the packet and acknowledgement parsers', () => {
    fc.assert(
      fc.property(anyJson, (v) => {
        const p = outcomeOf(() => parsePacket(v));
        if (!p.ok) expect(['INVALID_ARGUMENT', 'PROOF_TOO_LARGE', 'PACKET_TYPE_NOT_ALLOWED']).toContain(p.code);
        const a = outcomeOf(() => parseAck(v));
        if (!a.ok) expect(['INVALID_ARGUMENT', 'PROOF_TOO_LARGE']).toContain(a.code);
      }),
      RUNS,
    );
  });
});

// ------------------------------------------------------------------ acknowledgements

const hash = fc.stringMatching(/^[0-9a-f]{64}$/);
const signerIds = fc.uniqueArray(id, { maxLength: 5 }).map((ids) => [...ids].sort());
const validAck = fc.oneof(
  fc.record({ sourceChain: id, destChain: id, routeId: id, sequence: fc.integer({ min: 1 }), packetHash: hash, outcome: fc.constant('success'), result: canonicalValue, packetSigners: signerIds }),
  fc.record({ sourceChain: id, destChain: id, routeId: id, sequence: fc.integer({ min: 1 }), packetHash: hash, outcome: fc.constant('error'), error: fc.string({ minLength: 1, maxLength: 200 }) }),
  fc.record({ sourceChain: id, destChain: id, routeId: id, sequence: fc.integer({ min: 1 }), packetHash: hash, outcome: fc.constant('timeout') }),
);

describe('acknowledgements', () => {
  it('accepts every well-formed acknowledgement unchanged', () => {
    fc.assert(
      fc.property(validAck, (ack) => {
        expect(outcomeOf(() => parseAck(ack))).toEqual({ ok: true, value: ack });
      }),
      RUNS,
    );
  });

  it('refuses an acknowledgement with a required field removed or an unknown field added (INVALID_ARGUMENT)', () => {
    fc.assert(
      fc.property(
        validAck.chain((a) => mutations(a as Record<string, unknown>)).filter((m) => m.kind !== 'replace' && !(m.kind === 'remove' && m.field === 'packetSigners')),
        (m) => {
          const out = outcomeOf(() => parseAck(m.value));
          expect(out.ok).toBe(false);
          if (!out.ok) expect(out.code).toBe(encodable(m.value) && canonicalBytes(m.value).length > Limits.maxPacketBytes ? 'PROOF_TOO_LARGE' : 'INVALID_ARGUMENT');
        },
      ),
      RUNS,
    );
  });

  it('refuses packet signers that are unsorted or repeated', () => {
    fc.assert(
      fc.property(validAck.filter((a) => a.outcome === 'success'), id, (ack, extra) => {
        const signers = [...((ack as { packetSigners: string[] }).packetSigners), extra, extra];
        expect(outcomeOf(() => parseAck({ ...ack, packetSigners: signers }))).toEqual({ ok: false, code: 'INVALID_ARGUMENT' });
      }),
      RUNS,
    );
  });
});

// ------------------------------------------------------------------ proofs and node lists

describe('proofs and node lists', () => {
  let list: VerificationNodeList;
  let proof: Record<string, unknown>;

  beforeAll(async () => {
    const chain = await createChain('chain-p', ['OrgAMSP', 'OrgBMSP'], 1);
    list = nodeList(chain, 1);
    proof = { ...signatureSet([chain.nodes[0]![0]!, chain.nodes[1]![0]!], Buffer.from('message')), epoch: 1, links: [] };
  });

  it('parses any text as a proof or refuses it with its own codes, never crashing', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), anyJson.map((v) => JSON.stringify(v))), (text) => {
        const out = outcomeOf(() => parseProof(text));
        expect(out.ok).toBe(false);
        if (!out.ok) expect(['MALFORMED_PROOF', 'UNSUPPORTED_SCHEME', 'PROOF_TOO_LARGE']).toContain(out.code);
      }),
      RUNS,
    );
  });

  it('accepts a well-formed proof and refuses it with any top-level field missing or unknown (MALFORMED_PROOF)', () => {
    expect(outcomeOf(() => parseProofValue(proof)).ok).toBe(true);
    fc.assert(
      fc.property(
        fc.constant(null).chain(() => mutations(proof)).filter((m) => m.kind !== 'replace' && m.field !== 'intermediates'),
        (m) => {
          expect(outcomeOf(() => parseProofValue(m.value))).toEqual({ ok: false, code: 'MALFORMED_PROOF' });
        },
      ),
      RUNS,
    );
  });

  it('refuses a proof field replaced by a value of another shape with one code, or accepts an equivalent well-formed one', () => {
    fc.assert(
      fc.property(fc.constant(null).chain(() => mutations(proof)).filter((m) => m.kind === 'replace'), (m) => {
        const out = outcomeOf(() => parseProofValue(m.value));
        if (out.ok) {
          // Only a different epoch (an integer >= 1) or an empty list of intermediates is still well formed.
          expect(['epoch', 'intermediates']).toContain(m.field);
          return;
        }
        const expected = m.field === 'scheme' || m.field === 'version' ? ['MALFORMED_PROOF', 'UNSUPPORTED_SCHEME'] : ['MALFORMED_PROOF', 'PROOF_TOO_LARGE'];
        expect(expected).toContain(out.code);
      }),
      RUNS,
    );
  });

  it('refuses any node list that is not well formed with INVALID_NODE_LIST only', () => {
    expect(outcomeOf(() => parseNodeList(list)).ok).toBe(true);
    fc.assert(
      fc.property(fc.oneof(anyJson, fc.constant(null).chain(() => mutations(list as unknown as Record<string, unknown>)).map((m) => m.value)), (v) => {
        const out = outcomeOf(() => parseNodeList(v));
        if (!out.ok) expect(out.code).toBe('INVALID_NODE_LIST');
        else expect(out.value.chainId).toBe((v as { chainId: unknown }).chainId);
      }),
      RUNS,
    );
  });

  it('refuses a node list whose subgroup or node fields are mutated, with INVALID_NODE_LIST', () => {
    const sg = list.subgroups[0]! as unknown as Record<string, unknown>;
    const node = list.subgroups[0]!.nodes[0]! as unknown as Record<string, unknown>;
    fc.assert(
      fc.property(
        fc.oneof(
          mutations(sg).map((m) => ({ ...list, subgroups: [m.value, ...list.subgroups.slice(1)] })),
          mutations(node).map((m) => ({ ...list, subgroups: [{ ...list.subgroups[0]!, nodes: [m.value] }, ...list.subgroups.slice(1)] })),
        ),
        (v) => {
          const out = outcomeOf(() => parseNodeList(v));
          if (!out.ok) expect(out.code).toBe('INVALID_NODE_LIST');
        },
      ),
      RUNS,
    );
  });
});

// ------------------------------------------------------------------ patient messages

describe('patient messages', () => {
  const patient = newKey();
  const grant = signedGrant('chain-a', patient, terms(), patient, T0) as unknown as Record<string, unknown>;
  const revoke = signedRevocation('chain-a', patient, `cs_${'a'.repeat(64)}`, patient, T0) as unknown as Record<string, unknown>;

  it('never crashes on arbitrary input and refuses it with INVALID_ARGUMENT', () => {
    fc.assert(
      fc.property(anyJson, (v) => {
        const out = outcomeOf(() => parseSignedPatientMessage(v));
        if (!out.ok) expect(out.code).toBe('INVALID_ARGUMENT');
        const verified = outcomeOf(() => verifyPatientMessage(v, { channel: 'chain-a', kinds: ['consent.grant'] }));
        expect(verified.ok).toBe(false);
      }),
      RUNS,
    );
  });

  it('accepts the signed messages and refuses any change to the message, key or signature', () => {
    expect(outcomeOf(() => verifyPatientMessage(grant, { channel: 'chain-a', kinds: ['consent.grant'] })).ok).toBe(true);
    fc.assert(
      fc.property(
        fc.constantFrom(grant, revoke).chain((signed) =>
          fc.oneof(
            mutations(signed),
            mutations(signed.message as Record<string, unknown>).map((m) => ({ ...m, value: { ...signed, message: m.value } })),
          ),
        ),
        (m) => {
          const kinds = ['consent.grant', 'consent.revoke'] as const;
          const out = outcomeOf(() => verifyPatientMessage(m.value, { channel: 'chain-a', kinds: [...kinds] }));
          expect(out.ok).toBe(false);
          if (!out.ok) expect(['INVALID_ARGUMENT', 'PATIENT_SIGNATURE_INVALID', 'WRONG_CHANNEL']).toContain(out.code);
        },
      ),
      RUNS,
    );
  });
});
