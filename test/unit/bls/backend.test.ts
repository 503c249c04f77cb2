/**
 * Scheme bls12381-aggregate version 2 on both backends (chaincode/BLS.md "Backends"): native
 * blst and the pure-JS fallback compute the same signatures, accept the same proofs and refuse
 * the same malformed ones with the same codes, so peers with different backends decide alike.
 * Version 1 and version 2 signatures never verify as each other. Where the native module
 * cannot load, the fallback is used; asked for explicitly, a missing native module stops the start.
 */
import { bls12_381 } from '@noble/curves/bls12-381';
import {
  aggregatePartials,
  BLS_SCHEME,
  BLS_SCHEME_VERSION_2,
  BLS_SIGNATURE_BYTES,
  blsBackendInfo,
  encodeBitmap,
  signMessage,
  signMessageAs,
  toBase64,
  useBlsBackend,
  verifyBlsAggregate,
  type BlsAggregateProof,
  type BlsBackendName,
  type PartialSignature,
} from '../../../chaincode/src/protocol/bls';
import { epochLinkMessage, packetMessage } from '../../../chaincode/src/protocol/commitment';
import { listHash, type VerificationNodeList } from '../../../chaincode/src/protocol/node-list';
import { verifyProof, type RemoteView } from '../../../chaincode/src/protocol/verify';
import { be, g2OffSubgroup } from './points';
import { blsList, createBlsChain, expectCode, messageFor, packet, testKeys, type BlsTestChain, type BlsTestNode } from './support';

let chain: BlsTestChain;
let list: VerificationNodeList;
let all: BlsTestNode[];
const P = bls12_381.fields.Fp.ORDER;

beforeAll(async () => {
  chain = await createBlsChain('chain-a', ['HospitalAMSP', 'HospitalCMSP'], 2);
  list = blsList(chain, 1, { threshold: 1 });
  all = chain.nodes.flat();
});

afterAll(() => {
  useBlsBackend('auto');
});

function partialsV2(nodes: BlsTestNode[], msg: Uint8Array): PartialSignature[] {
  return nodes.map((n) => ({ nodeId: n.nodeId, signature: toBase64(signMessageAs(BLS_SCHEME_VERSION_2, n.keys.secretKey, msg)) }));
}

function withSignature(proof: BlsAggregateProof, signature: Uint8Array): BlsAggregateProof {
  return { ...proof, signatures: { ...proof.signatures, signature: toBase64(signature) } };
}

const backends: BlsBackendName[] = ['native', 'js'];

describe.each(backends)('bls12381-aggregate version 2 on the %s backend', (name) => {
  beforeAll(() => {
    useBlsBackend(name);
    expect(blsBackendInfo().backend).toBe(name);
  });

  it('accepts the relay aggregate of every node and names them', () => {
    const msg = messageFor(packet(), list);
    const { proof, dropped } = aggregatePartials(list, msg, partialsV2(all, msg), BLS_SCHEME_VERSION_2);
    expect(dropped).toEqual([]);
    expect(proof.version).toBe(2);
    const result = verifyBlsAggregate(list, msg, proof);
    expect(result.signers.map((s) => s.nodeId)).toEqual(all.map((n) => n.nodeId));
  });

  it('makes byte for byte the signatures and aggregate of the other backend', () => {
    const msg = messageFor(packet({ sequence: 11 }), list);
    const here = partialsV2(all, msg);
    const hereAggregate = aggregatePartials(list, msg, here, BLS_SCHEME_VERSION_2).proof;
    useBlsBackend(name === 'native' ? 'js' : 'native');
    try {
      expect(partialsV2(all, msg)).toEqual(here);
      expect(aggregatePartials(list, msg, here, BLS_SCHEME_VERSION_2).proof).toEqual(hereAggregate);
      expect(verifyBlsAggregate(list, msg, hereAggregate).threshold.met).toBe(true);
    } finally {
      useBlsBackend(name);
    }
  });

  it('rejects a version-1 aggregate presented as version 2, and a version-2 one as version 1', () => {
    const msg = messageFor(packet({ sequence: 12 }), list);
    const v2 = aggregatePartials(list, msg, partialsV2(all, msg), BLS_SCHEME_VERSION_2).proof;
    const v1partials = all.map((n) => ({ nodeId: n.nodeId, signature: toBase64(signMessage(n.keys.secretKey, msg)) }));
    const v1 = aggregatePartials(list, msg, v1partials).proof;
    expectCode(() => verifyBlsAggregate(list, msg, { ...v1, version: 2 }), 'SIGNATURE_INVALID', list, v1);
    expectCode(() => verifyBlsAggregate(list, msg, { ...v2, version: 1 }), 'SIGNATURE_INVALID', list, v2);
  });

  it('rejects a bitmap naming a node that did not sign', () => {
    const msg = messageFor(packet({ sequence: 13 }), list);
    const signing = all.slice(0, 3);
    const { proof } = aggregatePartials(list, msg, partialsV2(signing, msg).concat(partialsV2([all[3]!], Buffer.from('other'))), BLS_SCHEME_VERSION_2);
    expect(proof.signatures.signers).toBe(toBase64(encodeBitmap([0, 1, 2], all.length)));
    const forged = { ...proof, signatures: { ...proof.signatures, signers: toBase64(encodeBitmap([0, 1, 2, 3], all.length)) } };
    expectCode(() => verifyBlsAggregate(list, msg, forged), 'SIGNATURE_INVALID', list, forged);
  });

  it('drops a bad partial at the relay and still meets the threshold without it', () => {
    const msg = messageFor(packet({ sequence: 14 }), list);
    const parts = partialsV2(all, msg);
    parts[1] = partialsV2([all[1]!], Buffer.from('another message'))[0]!;
    const result = aggregatePartials(list, msg, parts, BLS_SCHEME_VERSION_2);
    expect(result.dropped).toEqual([{ nodeId: all[1]!.nodeId, code: 'SIGNATURE_INVALID', reason: 'does not verify over this message' }]);
    expect(result.signers).toEqual([all[0]!.nodeId, all[2]!.nodeId, all[3]!.nodeId]);
    expect(verifyBlsAggregate(list, msg, result.proof).signers.map((s) => s.nodeId)).toEqual(result.signers);
  });

  describe('refuses a malformed aggregate signature with BLS_SIGNATURE_INVALID', () => {
    const msg = () => messageFor(packet({ sequence: 15 }), list);
    const good = () => aggregatePartials(list, msg(), partialsV2(all, msg()), BLS_SCHEME_VERSION_2).proof;
    const goodBytes = () => Buffer.from(good().signatures.signature, 'base64');
    const cases: Array<[string, () => Uint8Array]> = [
      ['95 bytes', () => goodBytes().subarray(0, 95)],
      ['the identity point', () => Uint8Array.from([0xc0, ...new Uint8Array(BLS_SIGNATURE_BYTES - 1)])],
      ['a point outside the prime-order subgroup', () => g2OffSubgroup()],
      ['a cleared compression flag', () => {
        const b = Uint8Array.from(goodBytes());
        b[0] = b[0]! & 0x7f;
        return b;
      }],
      ['an infinity flag over non-zero bytes', () => {
        const b = Uint8Array.from(goodBytes());
        b[0] = (b[0]! & 0x1f) | 0xc0;
        return b;
      }],
      ['x.c1 not reduced modulo p', () => {
        for (let i = 0; i < 64; i++) {
          const m = messageFor(packet({ sequence: 100 + i }), list);
          const s = Buffer.from(aggregatePartials(list, m, partialsV2(all, m), BLS_SCHEME_VERSION_2).proof.signatures.signature, 'base64');
          const flags = s[0]! & 0xe0;
          const x1 = BigInt(`0x${s.subarray(0, 48).toString('hex')}`) & ((1n << 381n) - 1n);
          if (x1 + P >= 1n << 381n) continue;
          const b = Uint8Array.from(s);
          b.set(be(x1 + P), 0);
          b[0] = b[0]! | flags;
          return b;
        }
        throw new Error('no signature with a small enough x among 64: the case could not be built');
      }],
    ];
    it.each(cases)('%s', (_what, bytes) => {
      const proof = withSignature(good(), bytes());
      expectCode(() => verifyBlsAggregate(list, msg(), proof), 'BLS_SIGNATURE_INVALID', list, proof);
    });
  });

  it('verifies in the cross-chain verifier with an epoch link signed in version 2', () => {
    // The same nodes move to new BLS keys in epoch 2 (each with its proof of possession).
    const moved = { ...chain, nodes: chain.nodes.map((row) => row.map((n) => ({ ...n, keys: testKeys(`epoch-2/${n.nodeId}`) }))) };
    const list2 = blsList(moved, 2, { threshold: 1 });
    const linkMsg = epochLinkMessage({ chainId: 'chain-a', fromEpoch: 1, toEpoch: 2, fromListHash: listHash(list), newListHash: listHash(list2) });
    const link = aggregatePartials(list, linkMsg, partialsV2(all, linkMsg), BLS_SCHEME_VERSION_2).proof;
    const p = packet({ sequence: 16 });
    const msg = messageFor(p, list2);
    const movedNodes = moved.nodes.flat();
    const proof = aggregatePartials(list2, msg, partialsV2(movedNodes, msg), BLS_SCHEME_VERSION_2).proof;
    const remote: RemoteView = {
      trust: { chainId: 'chain-a', orgs: chain.orgs.map((o) => ({ mspId: o.mspId, rootCerts: [o.ca.certPem], intermediateCerts: [], revokedSerials: [] })) },
      list,
      schemes: [BLS_SCHEME],
    };
    const verified = verifyProof(
      remote,
      { ...proof, links: [{ chainId: 'chain-a', fromEpoch: 1, toEpoch: 2, newList: list2, proof: { scheme: BLS_SCHEME, version: 2, signatures: link.signatures } }] },
      Date.now(),
      (ref) => packetMessage(p, ref),
    );
    expect(verified.list.epoch).toBe(2);
    expect(verified.signers).toEqual(movedNodes.map((n) => n.nodeId).sort());
  });
});

describe('BLS backend selection', () => {
  const original = process.env.MEDBRIDGE_BLS_BACKEND;
  afterEach(() => {
    if (original === undefined) delete process.env.MEDBRIDGE_BLS_BACKEND;
    else process.env.MEDBRIDGE_BLS_BACKEND = original;
    jest.dontMock('@chainsafe/blst');
  });

  function loadWithoutNative(env: string | undefined): () => typeof import('../../../chaincode/src/protocol/bls/backend') {
    return () => {
      if (env === undefined) delete process.env.MEDBRIDGE_BLS_BACKEND;
      else process.env.MEDBRIDGE_BLS_BACKEND = env;
      jest.doMock('@chainsafe/blst', () => {
        throw new Error('no prebuilt binary for this platform');
      });
      let loaded!: typeof import('../../../chaincode/src/protocol/bls/backend');
      jest.isolateModules(() => {
        loaded = jest.requireActual<typeof import('../../../chaincode/src/protocol/bls/backend')>('../../../chaincode/src/protocol/bls/backend');
      });
      return loaded;
    };
  }

  it('uses the native module where it loads', () => {
    useBlsBackend('auto');
    expect(blsBackendInfo()).toEqual({ backend: 'native' });
  });

  it('falls back to pure JS where the native module cannot load, and signs as the native backend does', () => {
    const msg = messageFor(packet({ sequence: 17 }), list);
    useBlsBackend('native');
    const nativeSig = signMessageAs(BLS_SCHEME_VERSION_2, all[0]!.keys.secretKey, msg);
    const backend = loadWithoutNative(undefined)();
    expect(backend.blsBackendInfo()).toEqual({ backend: 'js', nativeUnavailable: 'no prebuilt binary for this platform' });
    expect(Buffer.from(backend.blsBackend().sign(all[0]!.keys.secretKey, msg))).toEqual(Buffer.from(nativeSig));
  });

  it('refuses to start with MEDBRIDGE_BLS_BACKEND=native when the native module cannot load', () => {
    expect(loadWithoutNative('native')).toThrow(/MEDBRIDGE_BLS_BACKEND=native but @chainsafe\/blst does not load/);
  });

  it('refuses an unknown MEDBRIDGE_BLS_BACKEND', () => {
    expect(loadWithoutNative('fast')).toThrow(/must be auto, native or js/);
  });

  it('uses pure JS when MEDBRIDGE_BLS_BACKEND=js asks for it', () => {
    expect(loadWithoutNative('js')().blsBackendInfo()).toEqual({ backend: 'js', nativeUnavailable: 'MEDBRIDGE_BLS_BACKEND=js' });
  });
});
