/**
 * The gateway's proof builders mirror the chaincode's scheme registry: every scheme the
 * chaincode verifies has one builder, under the same name and version, and the choices the
 * relay makes between them (route, epoch link, signer count) are the registry's, not branches
 * on scheme names spread through the relay.
 */
import { knownSchemes, type VerificationNodeList } from '@medbridge/chaincode';
import { getScheme } from '../../../chaincode/src/protocol/schemes';
import { builderFor, builderForRoute, DEFAULT_BUILDER, knownBuilders, linkSchemeFor, signerCount } from '../../../gateway/src/proofs';
import { requireListEpoch } from '../../../gateway/src/proofs/signed-epoch';

const BLS = 'bls12381-aggregate';
const ENDORSEMENT = 'fabric-endorsement';

/** A list whose nodes have BLS keys, all but `without`. */
function list(epoch: number, without: string[] = []): VerificationNodeList {
  const node = (nodeId: string) => ({ nodeId, mspId: 'HospitalAMSP', certPem: 'pem', ...(without.includes(nodeId) ? {} : { bls: { publicKey: 'k', pop: 'p', binding: 'b' } }) });
  return { chainId: 'chain-a', epoch, rule: { kind: 'all' }, subgroups: [{ id: 'sg-a', mspId: 'HospitalAMSP', threshold: 1, nodes: [node('peer0'), node('peer1')] }] } as VerificationNodeList;
}

describe('proof scheme builders', () => {
  it('builds exactly the schemes the chaincode verifies, under the names and versions it verifies', () => {
    expect([...knownBuilders()].sort()).toEqual(knownSchemes());
    for (const scheme of knownBuilders()) {
      const b = builderFor(scheme);
      expect(b.scheme).toBe(scheme);
      expect(getScheme(b.scheme, b.version).scheme).toBe(scheme);
    }
  });

  it('builds scheme 1 when nothing asks for another', () => {
    expect(builderFor(undefined)).toBe(DEFAULT_BUILDER);
    expect(DEFAULT_BUILDER.scheme).toBe(ENDORSEMENT);
    expect(DEFAULT_BUILDER.usesSignerServices).toBe(false);
    expect(builderFor(BLS).usesSignerServices).toBe(true);
  });

  it('refuses a scheme it does not build with UNSUPPORTED_SCHEME', () => {
    expect(() => builderFor('some-future-scheme')).toThrow(/^UNSUPPORTED_SCHEME: .*some-future-scheme/);
  });

  it('gives a route the first scheme it accepts in order of preference, scheme 1 when it names none this gateway builds', () => {
    expect(builderForRoute(undefined).scheme).toBe(ENDORSEMENT);
    expect(builderForRoute([BLS, ENDORSEMENT]).scheme).toBe(ENDORSEMENT);
    expect(builderForRoute([BLS]).scheme).toBe(BLS);
    expect(builderForRoute(['some-future-scheme']).scheme).toBe(ENDORSEMENT);
  });

  it('signs an epoch link in the proof scheme only when every node of the signing list has a key for it', () => {
    expect(linkSchemeFor(list(1), { scheme: BLS })).toBe(BLS);
    expect(linkSchemeFor(list(1, ['peer1']), { scheme: BLS })).toBe(ENDORSEMENT);
    expect(linkSchemeFor(list(1), {})).toBe(ENDORSEMENT);
    expect(linkSchemeFor(list(1), { scheme: BLS, linkScheme: ENDORSEMENT })).toBe(ENDORSEMENT);
    expect(linkSchemeFor(list(1, ['peer1']), { linkScheme: BLS })).toBe(BLS);
  });

  it('counts signers in each scheme, and an unknown scheme by its array', () => {
    expect(signerCount({ scheme: ENDORSEMENT, signatures: [{}, {}, {}] })).toBe(3);
    expect(signerCount({ scheme: BLS, signatures: { signature: 'c2ln', signers: Buffer.from([0b101]).toString('base64') } })).toBe(2);
    expect(signerCount({ scheme: 'some-future-scheme', signatures: [{}] })).toBe(1);
    expect(signerCount({ scheme: 'some-future-scheme', signatures: { signature: 'x' } })).toBe(0);
  });
});

describe('epoch binding of a signed statement', () => {
  const message = (epoch: number) => Buffer.from(JSON.stringify({ domain: 'medbridge/packet/v1', epoch }), 'utf8');

  it('takes a message that names the signing list epoch', () => {
    expect(requireListEpoch(message(3), list(3))).toBe(3);
  });

  it('refuses, to be retried, a message that names another epoch than the list read before it', () => {
    expect(() => requireListEpoch(message(2), list(3))).toThrow(/epoch 2 while its list is at 3; retry/);
  });
});
