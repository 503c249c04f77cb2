/**
 * A BLS key enters a verification node list only with a proof of possession and a binding to
 * the node's X.509 identity signed by the node's Fabric key. The rogue-key attack shows why.
 */
import { bls12_381 } from '@noble/curves/bls12-381';
import {
  BLS_SCHEME,
  checkBlsRegistration,
  parseBlsNodeKey,
  provePossession,
  signMessage,
  toBase64,
  verifyBlsAggregate,
  encodeBitmap,
  encodeSignature,
  type BlsNodeKey,
} from '../../../chaincode/src/protocol/bls';
import type { VerificationNodeList } from '../../../chaincode/src/protocol/node-list';
import { blsEntry, blsList, createBlsChain, expectCode, messageFor, packet, testKeys, type BlsTestChain } from './support';

let chain: BlsTestChain;
beforeAll(async () => {
  chain = await createBlsChain('chain-a', ['HospitalAMSP', 'HospitalCMSP'], 2);
});

function registration(node = chain.nodes[0]![0]!, bls: BlsNodeKey = blsEntry(chain.chainId, node)) {
  return { chainId: chain.chainId, nodeId: node.nodeId, mspId: node.mspId, certPem: node.identity.certPem, bls };
}

describe('BLS key registration', () => {
  it('accepts a key with a valid proof of possession and a binding signed by the node certificate', () => {
    const r = registration();
    const binding = checkBlsRegistration(r);
    expect(binding.blsPublicKey).toBe(r.bls.publicKey);
    expect(binding.certFingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a proof of possession made with another secret key', () => {
    const r = registration();
    const bls = { ...r.bls, pop: toBase64(provePossession(testKeys('someone-else').secretKey)) };
    expectCode(() => checkBlsRegistration({ ...r, bls }), 'BLS_POP_INVALID', bls);
  });

  it('refuses a signature over the key under the signing tag offered as a proof of possession', () => {
    const node = chain.nodes[0]![0]!;
    const r = registration(node);
    const bls = { ...r.bls, pop: toBase64(signMessage(node.keys.secretKey, node.keys.publicKey)) };
    expectCode(() => checkBlsRegistration({ ...r, bls }), 'BLS_POP_INVALID', bls);
  });

  it('refuses a binding signed by another node certificate', () => {
    const node = chain.nodes[0]![0]!;
    const other = chain.nodes[0]![1]!;
    const forged = blsEntry(chain.chainId, { ...other, keys: node.keys });
    expectCode(() => checkBlsRegistration(registration(node, forged)), 'BLS_BINDING_INVALID', forged);
  });

  it('refuses a binding made for another chain', () => {
    const node = chain.nodes[0]![0]!;
    const bls = blsEntry('chain-b', node);
    expectCode(() => checkBlsRegistration(registration(node, bls)), 'BLS_BINDING_INVALID', bls);
  });

  it('refuses a binding made for another node id of the same certificate', () => {
    const node = chain.nodes[0]![0]!;
    const bls = blsEntry(chain.chainId, { ...node, nodeId: 'peer9.hospitalamsp.chain-a' });
    expectCode(() => checkBlsRegistration(registration(node, bls)), 'BLS_BINDING_INVALID', bls);
  });

  it('refuses a binding for one BLS key presented with another key and that key\u2019s valid PoP', () => {
    const node = chain.nodes[0]![0]!;
    const swapped = testKeys('swapped');
    const bls = { ...blsEntry(chain.chainId, node), publicKey: toBase64(swapped.publicKey), pop: toBase64(provePossession(swapped.secretKey)) };
    expectCode(() => checkBlsRegistration(registration(node, bls)), 'BLS_BINDING_INVALID', bls);
  });

  it('refuses a list entry with fields beyond publicKey, pop, binding, or without them', () => {
    const node = chain.nodes[0]![0]!;
    const ctx = { chainId: chain.chainId, nodeId: node.nodeId, mspId: node.mspId, certPem: node.identity.certPem };
    const entry = blsEntry(chain.chainId, node);
    expect(parseBlsNodeKey(entry, ctx)).toEqual(entry);
    expectCode(() => parseBlsNodeKey({ ...entry, note: 'x' }, ctx), 'BLS_KEY_INVALID', entry);
    expectCode(() => parseBlsNodeKey({ publicKey: entry.publicKey, binding: entry.binding }, ctx), 'BLS_KEY_INVALID', entry);
  });
});

describe('rogue-key attack', () => {
  it('lets an attacker forge an aggregate "signed by victim and attacker" when keys enter without PoP, and registration refuses the rogue key', async () => {
    const org = chain.orgs[0]!;
    const victim = chain.nodes[0]![0]!;
    const attackerIdentity = await org.peer('peer7.hospitalamsp.chain-a');
    // The attacker picks x and publishes pk_rogue = x*G - pk_victim; it knows no secret key for it.
    const x = 0x1234567890abcdef1234567890abcdefn;
    const victimPoint = bls12_381.G1.Point.fromBytes(victim.keys.publicKey);
    const roguePoint = bls12_381.G1.Point.BASE.multiply(x).subtract(victimPoint);
    const rogueKey = toBase64(roguePoint.toBytes(true));
    const list: VerificationNodeList = {
      chainId: chain.chainId,
      epoch: 1,
      rule: { kind: 'all' },
      subgroups: [
        {
          id: 'sg-HospitalAMSP',
          mspId: org.mspId,
          threshold: 2,
          nodes: [
            { nodeId: victim.nodeId, mspId: org.mspId, certPem: victim.identity.certPem, bls: blsEntry(chain.chainId, victim) },
            // Entered without any check: no PoP is possible, so these are placeholders.
            { nodeId: 'peer7.hospitalamsp.chain-a', mspId: org.mspId, certPem: attackerIdentity.certPem, bls: { publicKey: rogueKey, pop: '', binding: '' } },
          ] as unknown as VerificationNodeList['subgroups'][number]['nodes'],
        },
      ],
    };
    const msg = messageFor(packet({ payload: { forged: true } }), list);
    // sum(pk_victim, pk_rogue) = x*G, so x*H(m) verifies as "both signed" — the victim never did.
    const forgedSig = bls12_381.longSignatures.hash(msg, 'MEDBRIDGE-BLS12381G2-AGG-V1_XMD:SHA-256_SSWU_RO_').multiply(x);
    const proof = {
      scheme: BLS_SCHEME,
      version: 1,
      epoch: 1,
      signatures: { signers: toBase64(encodeBitmap([0, 1], 2)), signature: toBase64(encodeSignature(forgedSig)) },
    };
    const verified = verifyBlsAggregate(list, msg, proof);
    expect(verified.signers.map((s) => s.nodeId).sort()).toEqual(['peer0.hospitalamsp.chain-a', 'peer7.hospitalamsp.chain-a']);

    // Registration is where the attack stops: the attacker cannot prove possession of pk_rogue.
    const attacker = { nodeId: 'peer7.hospitalamsp.chain-a', mspId: org.mspId, identity: attackerIdentity, keys: testKeys('attacker') };
    const honestLooking = blsEntry(chain.chainId, attacker);
    // Best effort: a PoP made with x for x*G, and the attacker's genuine binding signature over the rogue key.
    const attempt: BlsNodeKey = {
      publicKey: rogueKey,
      pop: toBase64(
        encodeSignature(bls12_381.longSignatures.hash(roguePoint.toBytes(true), 'MEDBRIDGE-BLS12381G2-POP-V1_XMD:SHA-256_SSWU_RO_').multiply(x)),
      ),
      binding: blsEntry(chain.chainId, { ...attacker, keys: { secretKey: attacker.keys.secretKey, publicKey: roguePoint.toBytes(true) } }).binding,
    };
    expectCode(
      () => checkBlsRegistration({ chainId: chain.chainId, nodeId: attacker.nodeId, mspId: org.mspId, certPem: attackerIdentity.certPem, bls: attempt }),
      'BLS_POP_INVALID',
      attempt,
    );
    expectCode(
      () => checkBlsRegistration({ chainId: chain.chainId, nodeId: attacker.nodeId, mspId: org.mspId, certPem: attackerIdentity.certPem, bls: { ...attempt, pop: '' } }),
      'BLS_POP_INVALID',
      attempt,
    );
    // Its honest key registers fine, and with it the forged aggregate no longer verifies.
    checkBlsRegistration({ chainId: chain.chainId, nodeId: attacker.nodeId, mspId: org.mspId, certPem: attackerIdentity.certPem, bls: honestLooking });
    const honestList = blsList(chain, 1, { threshold: 1 });
    honestList.subgroups[0]!.nodes = [honestList.subgroups[0]!.nodes[0]!, { nodeId: attacker.nodeId, mspId: org.mspId, certPem: attackerIdentity.certPem, bls: honestLooking } as never];
    expectCode(() => verifyBlsAggregate({ ...honestList, subgroups: [honestList.subgroups[0]!] }, msg, proof), 'SIGNATURE_INVALID', proof);
  });
});
