import { canonicalize, canonicalHash, parseJson } from '../../chaincode/src/protocol/canonical-json';
import { MedbridgeError, parseErrorText } from '../../chaincode/src/errors';

describe('canonical JSON', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalize({ b: 1, a: { d: [1, { z: true, y: null }], c: 'x' }, u: undefined })).toBe(
      '{"a":{"c":"x","d":[1,{"y":null,"z":true}]},"b":1}',
    );
  });

  it('gives the same hash whatever the insertion order', () => {
    expect(canonicalHash({ x: 1, y: 2 })).toBe(canonicalHash({ y: 2, x: 1 }));
  });

  it('rejects numbers that are not safe integers', () => {
    expect(() => canonicalize({ amount: 1.5 })).toThrow(MedbridgeError);
    expect(() => canonicalize({ amount: Number.MAX_SAFE_INTEGER + 1 })).toThrow('INVALID_ARGUMENT');
  });

  it('rejects malformed JSON with a clear code', () => {
    expect(() => parseJson('{nope', 'packet')).toThrow('INVALID_ARGUMENT: packet is not valid JSON');
  });
});

describe('error text', () => {
  it('recovers a chaincode error code from a peer error message', () => {
    const text = 'error in simulation: transaction returned with failure: THRESHOLD_NOT_MET: subgroup HospitalA has 1 of 2';
    expect(parseErrorText(text)).toEqual({ code: 'THRESHOLD_NOT_MET', message: 'subgroup HospitalA has 1 of 2' });
  });

  it('ignores words that are not medbridge codes', () => {
    expect(parseErrorText('UNAVAILABLE: no healthy connection')).toBeUndefined();
  });
});

describe('error text behind wrapper prefixes', () => {
  it('finds the chaincode code after a gRPC status word on the same line', () => {
    const text = 'UNKNOWN: evaluate call to endorser returned error: chaincode response 500, ROUTE_PAUSED: route r1 is paused';
    expect(parseErrorText(text)).toEqual({ code: 'ROUTE_PAUSED', message: 'route r1 is paused' });
  });
});
