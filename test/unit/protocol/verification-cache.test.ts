/**
 * The verifier remembers what it derived from content (parsed certificates, issuer checks,
 * endorser identities, BLS key registrations, a list's hash and index): a remembered result must
 * never let something through that the first check refused, nor carry one proof's signatures over
 * to another, and a warm verifier answers exactly as a cold one.
 */
import { packetMessage } from '../../../chaincode/src/protocol/commitment';
import { checkBlsRegistration, provePossession, toBase64 } from '../../../chaincode/src/protocol/bls';
import { listHash, parseNodeList, type VerificationNodeList } from '../../../chaincode/src/protocol/node-list';
import { parseProof } from '../../../chaincode/src/protocol/proof';
import { clearVerificationCaches } from '../../../chaincode/src/protocol/verification-cache';
import { verifyProof, type RemoteView } from '../../../chaincode/src/protocol/verify';
import { verifyCertPath, type ChainTrust } from '../../../chaincode/src/protocol/path-proof';
import { parsedCert } from '../../../chaincode/src/protocol/certificates';
import { blsEntry, createBlsChain, expectCode, messageFor, packet, testKeys, type BlsTestChain } from '../bls/support';
import { chainTrust, createChain, firstOfEach, nodeList, orgTrust, proofOf, type TestChain } from '../crosschain/support';

describe('verification caches', () => {
  let chain: TestChain;
  let list: VerificationNodeList;
  let remote: RemoteView;

  beforeAll(async () => {
    chain = await createChain('chain-a', ['HospitalAMSP', 'HospitalCMSP']);
    list = parseNodeList(nodeList(chain, 1));
    remote = { trust: chainTrust(chain), list, schemes: ['fabric-endorsement'] };
  });

  function signedText(sequence: number): { text: string; p: ReturnType<typeof packet> } {
    const p = packet({ sourceChain: 'chain-a', sequence });
    return { p, text: JSON.stringify(proofOf(1, firstOfEach(chain), messageFor(p, list))) };
  }

  it('does not carry a signature over from a proof verified before to another packet', () => {
    const a = signedText(1);
    const b = signedText(2);
    expect(verifyProof(remote, parseProof(a.text), Date.now(), (ref) => packetMessage(a.p, ref)).signers).toHaveLength(2);
    // Proof a's endorsements (endorsers already remembered) presented for packet b.
    expectCode(() => verifyProof(remote, parseProof(a.text), Date.now(), (ref) => packetMessage(b.p, ref)), 'COMMITMENT_MISMATCH', a.text);
    // One signature of b swapped for the same node's signature of a: the signature is checked again.
    const mixed = JSON.parse(b.text) as { signatures: { signature: string }[] };
    mixed.signatures[0]!.signature = (JSON.parse(a.text) as typeof mixed).signatures[0]!.signature;
    expectCode(() => verifyProof(remote, parseProof(JSON.stringify(mixed)), Date.now(), (ref) => packetMessage(b.p, ref)), 'SIGNATURE_INVALID', mixed);
  });

  it('answers the same warm as cold', () => {
    const a = signedText(3);
    clearVerificationCaches();
    const cold = verifyProof({ ...remote, list: structuredClone(list) }, parseProof(a.text), Date.now(), (ref) => packetMessage(a.p, ref));
    const warm = verifyProof({ ...remote, list: structuredClone(list) }, parseProof(a.text), Date.now(), (ref) => packetMessage(a.p, ref));
    expect(warm).toEqual(cold);
    expect(listHash(warm.list)).toBe(listHash(list));
  });

  it('hashes a changed list as the changed list, not as the list remembered before', () => {
    const before = listHash(list);
    const changed = { ...list, subgroups: list.subgroups.map((s, i) => (i === 0 ? { ...s, threshold: s.threshold + 1 } : s)) };
    expect(listHash(changed)).not.toBe(before);
    expect(listHash(structuredClone(list))).toBe(before);
  });

  describe('certificate paths', () => {
    const DAY = 86_400_000;
    const pathOf = (node: { mspId: string; identity: { certPem: string } }, trust: ChainTrust, atMs: number): string[] => {
      const parsed = parsedCert(node.identity.certPem);
      return verifyCertPath({ cert: parsed.cert, parsed, mspId: node.mspId, trust, extraIntermediates: [], atMs, what: 'signer' });
    };

    it('gives a remembered path only while every certificate on it is valid at the transaction time', () => {
      const node = chain.nodes[0]![0]!;
      const trust = chainTrust(chain);
      clearVerificationCaches();
      const cold = pathOf(node, trust, Date.now());
      expect(pathOf(node, trust, Date.now())).toEqual(cold);
      expect(cold).toEqual([parsedCert(node.identity.certPem).fingerprint, parsedCert(chain.orgs[0]!.ca.certPem).fingerprint]);
      // The same leaf after it expired, and before it was valid: refused as a cold check refuses it.
      expectCode(() => pathOf(node, trust, Date.now() + 400 * DAY), 'CERT_EXPIRED');
      expectCode(() => pathOf(node, trust, Date.now() - 2 * DAY), 'CERT_EXPIRED');
      expect(pathOf(node, trust, Date.now())).toEqual(cold);
    });

    it('refuses a remembered leaf once its org revokes it, or under another org or root', async () => {
      const node = chain.nodes[0]![0]!;
      const trust = chainTrust(chain);
      pathOf(node, trust, Date.now());
      const serial = parsedCert(node.identity.certPem).serialNumber;
      const revoked: ChainTrust = { ...trust, orgs: trust.orgs.map((o, i) => (i === 0 ? { ...o, revokedSerials: [serial.replace(/^0+/, '').toUpperCase()] } : o)) };
      expectCode(() => pathOf(node, revoked, Date.now()), 'CERT_REVOKED');
      // The same certificate claimed for the other org: its path is searched there, and it does not chain.
      expectCode(() => pathOf({ ...node, mspId: chain.orgs[1]!.mspId }, trust, Date.now()), 'UNKNOWN_ROOT');
      // The org's root replaced by another CA's: the remembered path does not apply.
      const other = await createChain('chain-z', ['HospitalAMSP'], 1);
      const rerooted: ChainTrust = { ...trust, orgs: [orgTrust(other.orgs[0]!), ...trust.orgs.slice(1)] };
      expectCode(() => pathOf(node, rerooted, Date.now()), 'UNKNOWN_ROOT');
      expect(pathOf(node, trust, Date.now())).toHaveLength(2);
    });

    it('does not accept another certificate of the same node name and org because its path was remembered', async () => {
      const node = chain.nodes[0]![0]!;
      const trust = chainTrust(chain);
      pathOf(node, trust, Date.now());
      // Same subject, issued by a CA the destination never registered.
      const rogue = await createChain('chain-a', [node.mspId], 1);
      const impostor = await rogue.orgs[0]!.peer(node.nodeId);
      expectCode(() => pathOf({ mspId: node.mspId, identity: impostor }, trust, Date.now()), 'UNKNOWN_ROOT');
    });
  });

  describe('BLS key registrations', () => {
    let bls: BlsTestChain;

    beforeAll(async () => {
      bls = await createBlsChain('chain-a', ['HospitalAMSP'], 1);
    });

    it('refuses a bad proof of possession every time, before and after the good one is remembered', () => {
      const node = bls.nodes[0]![0]!;
      const good = blsEntry(bls.chainId, node);
      const bad = { ...good, pop: toBase64(provePossession(testKeys('another key').secretKey)) };
      const input = (entry: typeof good) => ({ chainId: bls.chainId, nodeId: node.nodeId, mspId: node.mspId, certPem: node.identity.certPem, bls: entry });
      expectCode(() => checkBlsRegistration(input(bad)), 'BLS_POP_INVALID', bad);
      expect(checkBlsRegistration(input(good)).blsPublicKey).toBe(good.publicKey);
      expectCode(() => checkBlsRegistration(input(bad)), 'BLS_POP_INVALID', bad);
      // The same key and proof bound to another node id is another registration: its binding is checked.
      expectCode(() => checkBlsRegistration({ ...input(good), nodeId: 'someone.else' }), 'BLS_BINDING_INVALID', good);
    });
  });
});
