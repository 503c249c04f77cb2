/**
 * The verifier remembers what it derived from content (parsed certificates, issuer checks,
 * endorser identities, BLS key registrations, a list's hash and index): a remembered result must
 * never let something through that the first check refused, nor carry one proof's signatures over
 * to another, and a warm verifier answers exactly as a cold one.
 */
import { epochLinkMessage, packetMessage } from '../../../chaincode/src/protocol/commitment';
import {
  aggregatePartials,
  BLS_SCHEME,
  BLS_SCHEME_VERSION_2,
  checkBlsRegistration,
  provePossession,
  signMessageAs,
  toBase64,
} from '../../../chaincode/src/protocol/bls';
import { blsAggregateSchemeV2 } from '../../../chaincode/src/protocol/bls/scheme';
import { listFacts, listHash, parseNodeList, type VerificationNodeList } from '../../../chaincode/src/protocol/node-list';
import { evaluateThreshold, requireThreshold } from '../../../chaincode/src/protocol/threshold';
import { parseProof } from '../../../chaincode/src/protocol/proof';
import { clearVerificationCaches, Memo } from '../../../chaincode/src/protocol/verification-cache';
import { verifyProof, type RemoteView } from '../../../chaincode/src/protocol/verify';
import { verifyCertPath, type ChainTrust } from '../../../chaincode/src/protocol/path-proof';
import { parsedCert } from '../../../chaincode/src/protocol/certificates';
import { endorsementScheme } from '../../../chaincode/src/protocol/scheme-endorsement';
import { blsEntry, blsList, createBlsChain, expectCode, messageFor, packet, testKeys, type BlsTestChain, type BlsTestNode } from '../bls/support';
import { chainTrust, createChain, firstOfEach, nodeList, orgTrust, proofOf, signatureSet, type TestChain } from '../crosschain/support';

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

  it("verifies parseProof's own parse of the signatures, which it freezes so nothing changes between the two", () => {
    const a = signedText(4);
    const parse = jest.spyOn(endorsementScheme, 'parse');
    try {
      const proof = parseProof(a.text);
      expect(parse).toHaveBeenCalledTimes(1);
      expect(verifyProof(remote, proof, Date.now(), (ref) => packetMessage(a.p, ref)).signers).toHaveLength(2);
      expect(parse).toHaveBeenCalledTimes(1);
      const first = (proof.signatures as { signature: string }[])[0]!;
      expect(() => {
        first.signature = 'AAAA';
      }).toThrow(TypeError);
      // A proof built by hand (not parsed from text) is parsed by the verifier itself, and still checked.
      const byHand = { ...proof, signatures: structuredClone(proof.signatures) as { signature: string }[] };
      byHand.signatures[0]!.signature = (JSON.parse(signedText(5).text) as typeof byHand).signatures[0]!.signature;
      expectCode(() => verifyProof(remote, byHand, Date.now(), (ref) => packetMessage(a.p, ref)), 'SIGNATURE_INVALID', byHand);
      expect(parse).toHaveBeenCalledTimes(2);
    } finally {
      parse.mockRestore();
    }
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

  describe('epoch links', () => {
    // List 2 keeps the nodes of list 1 in another order of subgroups' thresholds: a new hash, the same signers.
    const next = (): VerificationNodeList => parseNodeList({ ...nodeList(chain, 2), subgroups: nodeList(chain, 2).subgroups.map((sg) => ({ ...sg, threshold: 2 })) });
    const linkFor = (newList: VerificationNodeList, signers = firstOfEach(chain)) => {
      const message = epochLinkMessage({ chainId: chain.chainId, fromEpoch: 1, toEpoch: 2, fromListHash: listHash(list), newListHash: listHash(newList) });
      return { chainId: chain.chainId, fromEpoch: 1, toEpoch: 2, newList, proof: signatureSet(signers, message) };
    };
    const linkedProof = (link: ReturnType<typeof linkFor>, sequence: number) => {
      const p = packet({ sourceChain: 'chain-a', sequence });
      const newList = link.newList;
      const text = JSON.stringify({ ...proofOf(2, chain.nodes.flat(), messageFor(p, newList)), links: [link] });
      return { p, text };
    };
    const verify = (r: RemoteView, x: { p: ReturnType<typeof packet>; text: string }) => verifyProof(r, parseProof(x.text), Date.now(), (ref) => packetMessage(x.p, ref));

    it('follows a link again, and hands every proof the same new list, which no caller can change', () => {
      clearVerificationCaches();
      const link = linkFor(next());
      const first = verify({ ...remote, list: structuredClone(list) }, linkedProof(link, 11));
      expect(() => {
        first.newLists[0]!.subgroups[0]!.threshold = 99;
      }).toThrow(TypeError);
      expect(() => first.newLists[0]!.subgroups[0]!.nodes.pop()).toThrow(TypeError);
      const checks = jest.spyOn(endorsementScheme, 'verifySignatures');
      const second = verify({ ...remote, list: structuredClone(list) }, linkedProof(link, 12));
      // Scheme-1 endorsements carry a new proposal in every proof: the link's are checked again, as the packet's.
      expect(checks).toHaveBeenCalledTimes(2);
      checks.mockRestore();
      expect(second.list.epoch).toBe(2);
      expect(second.newLists[0]!.subgroups[0]!.threshold).toBe(2);
      expect(second.newLists[0]).toBe(first.newLists[0]);
      expect(listHash(second.list)).toBe(listHash(link.newList));
    });

    it('refuses the remembered link with one signature changed, or signed over another list', () => {
      const link = linkFor(next());
      verify({ ...remote, list: structuredClone(list) }, linkedProof(link, 13));
      // The same link with one endorsement's signature taken from another link: checked again, refused.
      const other = linkFor(parseNodeList({ ...nodeList(chain, 2), rule: { kind: 'k-of-m', k: 1 } }));
      const forged = structuredClone(link);
      (forged.proof.signatures as { signature: string }[])[0]!.signature = (other.proof.signatures as { signature: string }[])[0]!.signature;
      expectCode(() => verify({ ...remote, list: structuredClone(list) }, linkedProof(forged, 14)), 'EPOCH_LINK_INVALID');
      // The remembered signatures presented with another new list: its link message differs, refused.
      const swapped = { ...link, newList: other.newList };
      expectCode(() => verify({ ...remote, list: structuredClone(list) }, linkedProof(swapped, 15)), 'EPOCH_LINK_INVALID');
      // And from another known list (another hash): refused, whatever was remembered.
      const known = parseNodeList({ ...nodeList(chain, 1), rule: { kind: 'k-of-m', k: 1 } });
      expectCode(() => verify({ ...remote, list: known }, linkedProof(link, 16)), 'EPOCH_LINK_INVALID');
    });

    it('checks the certificate paths of a remembered link at every proof', () => {
      const link = linkFor(next());
      verify({ ...remote, list: structuredClone(list) }, linkedProof(link, 17));
      const signer = parsedCert(firstOfEach(chain)[0]!.identity.certPem);
      const trust: ChainTrust = { ...remote.trust, orgs: remote.trust.orgs.map((o, i) => (i === 0 ? { ...o, revokedSerials: [signer.serialNumber.replace(/^0+/, '').toUpperCase()] } : o)) };
      expectCode(() => verify({ ...remote, trust, list: structuredClone(list) }, linkedProof(link, 18)), 'EPOCH_LINK_INVALID');
    });

    it('refuses a carried list whose text differs from a remembered one by one certificate', async () => {
      const good = nodeList(chain, 2);
      const link = linkFor(parseNodeList(good));
      verify({ ...remote, list: structuredClone(list) }, linkedProof(link, 19));
      // The same list with one node's certificate replaced by one from a CA nobody registered.
      const rogue = await createChain('chain-a', [chain.orgs[0]!.mspId], 1);
      const impostor = await rogue.orgs[0]!.peer(chain.nodes[0]![0]!.nodeId);
      const bad = structuredClone(good);
      bad.subgroups[0]!.nodes[0]!.certPem = impostor.certPem;
      const text = JSON.stringify({ scheme: 'fabric-endorsement', version: 2, epoch: 2, links: [{ ...link, newList: bad }], signatures: link.proof.signatures });
      const parsed = parseProof(text);
      expect(parsed.links[0]!.newList.subgroups[0]!.nodes[0]!.certPem).not.toBe(link.newList.subgroups[0]!.nodes[0]!.certPem);
      expectCode(() => verifyProof({ ...remote, list: structuredClone(list) }, parsed, Date.now(), () => Buffer.from('x')), 'EPOCH_LINK_INVALID');
    });
  });

  describe('epoch links signed in bls12381-aggregate', () => {
    let bls: BlsTestChain;
    let list1: VerificationNodeList;
    let moved: BlsTestChain;
    let list2: VerificationNodeList;
    let blsRemote: RemoteView;
    const v2 = (nodes: BlsTestNode[], listOf: VerificationNodeList, msg: Buffer) =>
      aggregatePartials(listOf, msg, nodes.map((n) => ({ nodeId: n.nodeId, signature: toBase64(signMessageAs(BLS_SCHEME_VERSION_2, n.keys.secretKey, msg)) })), BLS_SCHEME_VERSION_2).proof.signatures;

    beforeAll(async () => {
      bls = await createBlsChain('chain-a', ['HospitalAMSP', 'HospitalCMSP'], 1);
      list1 = parseNodeList(blsList(bls, 1));
      moved = { ...bls, nodes: bls.nodes.map((row) => row.map((n) => ({ ...n, keys: testKeys(`cache-epoch-2/${n.nodeId}`) }))) };
      list2 = parseNodeList(blsList(moved, 2));
      blsRemote = { trust: chainTrust(bls), list: list1, schemes: [BLS_SCHEME] };
    });

    const linkedText = (linkSignatures: unknown, sequence: number, newList = list2) => {
      const p = packet({ sourceChain: 'chain-a', sequence });
      const signatures = v2(moved.nodes.flat(), newList, messageFor(p, newList));
      const link = { chainId: 'chain-a', fromEpoch: 1, toEpoch: 2, newList, proof: { scheme: BLS_SCHEME, version: 2, signatures: linkSignatures } };
      return { p, text: JSON.stringify({ scheme: BLS_SCHEME, version: 2, epoch: 2, links: [link], signatures }) };
    };
    const linkSigned = (newList: VerificationNodeList) =>
      v2(bls.nodes.flat(), list1, epochLinkMessage({ chainId: 'chain-a', fromEpoch: 1, toEpoch: 2, fromListHash: listHash(list1), newListHash: listHash(newList) }));
    const run = (x: { p: ReturnType<typeof packet>; text: string }, r: RemoteView = blsRemote) =>
      verifyProof({ ...r, list: structuredClone(r.list) }, parseProof(x.text), Date.now(), (ref) => packetMessage(x.p, ref));

    it('checks an aggregate link signature once, then only its signers, paths and threshold', () => {
      clearVerificationCaches();
      const linkSig = linkSigned(list2);
      expect(run(linkedText(linkSig, 21)).list.epoch).toBe(2);
      const checks = jest.spyOn(blsAggregateSchemeV2, 'verifySignatures');
      expect(run(linkedText(linkSig, 22)).list.epoch).toBe(2);
      // The packet's aggregate is checked; the link's, the same bytes as before, is not.
      expect(checks).toHaveBeenCalledTimes(1);
      checks.mockRestore();
    });

    it('refuses a remembered aggregate link with another signature, another new list, or a revoked signer', () => {
      const linkSig = linkSigned(list2);
      run(linkedText(linkSig, 23));
      // Another valid aggregate (over another list's link) in place of the remembered one.
      const other = parseNodeList(blsList(moved, 2, { rule: { kind: 'k-of-m', k: 1 } }));
      const otherSig = linkSigned(other);
      expectCode(() => run(linkedText({ ...linkSig, signature: otherSig.signature }, 24)), 'EPOCH_LINK_INVALID');
      // The remembered signature carried with another new list: another link message.
      expectCode(() => run(linkedText(linkSig, 25, other)), 'EPOCH_LINK_INVALID');
      // A signer of the remembered link revoked since: its path is checked at every proof.
      const serial = parsedCert(bls.nodes[0]![0]!.identity.certPem).serialNumber.replace(/^0+/, '').toUpperCase();
      const trust: ChainTrust = { ...blsRemote.trust, orgs: blsRemote.trust.orgs.map((o, i) => (i === 0 ? { ...o, revokedSerials: [serial] } : o)) };
      expectCode(() => run(linkedText(linkSig, 26), { ...blsRemote, trust }), 'EPOCH_LINK_INVALID');
      expect(run(linkedText(linkSig, 27)).list.epoch).toBe(2);
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

describe('threshold counts remembered per list', () => {
  let chain: TestChain;

  beforeAll(async () => {
    chain = await createChain('chain-a', ['HospitalAMSP', 'HospitalCMSP']);
  });

  it("answers each signer set with its own count, keeps no refusal, and never hands out one set's count for another", () => {
    const list = parseNodeList(nodeList(chain, 1));
    const facts = listFacts(list);
    const [a, c] = firstOfEach(chain).map((n) => n.nodeId) as [string, string];
    const met = evaluateThreshold(list, [a, c], facts);
    expect(met.met).toBe(true);
    expect(evaluateThreshold(list, [a, c], facts)).toBe(met);
    // Remembered results are frozen: no caller can change what the next proof is told.
    expect(Object.isFrozen(met) && Object.isFrozen(met.subgroups) && met.subgroups.every((s) => Object.isFrozen(s))).toBe(true);
    // A subset is counted for itself, warm or cold, and refused every time.
    expect(evaluateThreshold(list, [a], facts).met).toBe(false);
    expectCode(() => requireThreshold(list, [a], facts), 'THRESHOLD_NOT_MET', a);
    expectCode(() => requireThreshold(list, [a], facts), 'THRESHOLD_NOT_MET', a);
    // Ids that a joined key would confuse with the met set; duplicates and strangers are refused as without the memo.
    expectCode(() => evaluateThreshold(list, [`${a}\n${c}`], facts), 'SIGNER_NOT_IN_LIST', a);
    expectCode(() => evaluateThreshold(list, [`${a},${c}`], facts), 'SIGNER_NOT_IN_LIST', a);
    expectCode(() => evaluateThreshold(list, [a, c, a], facts), 'DUPLICATE_SIGNER', a);
    expectCode(() => evaluateThreshold(list, [a, c, a], facts), 'DUPLICATE_SIGNER', a);
    // The same signers under a list of other thresholds: that list's facts, that list's count.
    const stricter = parseNodeList({ ...nodeList(chain, 1), subgroups: nodeList(chain, 1).subgroups.map((s) => ({ ...s, threshold: 2 })) });
    expect(evaluateThreshold(stricter, [a, c], listFacts(stricter)).met).toBe(false);
    expect(evaluateThreshold(list, [a, c])).toEqual(met);
  });
});

describe('Memo', () => {
  // Long keys are found by their length and ends, then compared whole.
  const long = (middle: string): string => `${'a'.repeat(200)}${middle}${'z'.repeat(200)}`;

  it('keeps long keys that differ only in the middle apart', () => {
    const memo = new Memo<string>(100);
    expect(memo.get(long('1'), () => 'one')).toBe('one');
    expect(memo.get(long('2'), () => 'two')).toBe('two');
    expect(memo.find(long('1'))).toBe('one');
    expect(memo.find(long('2'))).toBe('two');
    expect(memo.has(long('3'))).toBe(false);
    // A fresh string with the same content is the same key.
    expect(memo.find(long(String(1)).slice(0))).toBe('one');
  });

  it('computes a key of a full slot every time, and answers as when it was kept', () => {
    const memo = new Memo<number>(100);
    for (let i = 0; i < 8; i++) memo.get(long(String(i)), () => i);
    let computed = 0;
    expect(memo.get(long('8'), () => (computed += 1, 8))).toBe(8);
    expect(memo.get(long('8'), () => (computed += 1, 8))).toBe(8);
    expect(computed).toBe(2);
    expect(memo.find(long('8'))).toBeUndefined();
    for (let i = 0; i < 8; i++) expect(memo.find(long(String(i)))).toBe(i);
  });

  it('is emptied at its limit, short and long keys alike, and keeps nothing of a failed computation', () => {
    const memo = new Memo<number>(3);
    memo.get('short', () => 1);
    memo.get(long('x'), () => 2);
    memo.get(long('y'), () => 3);
    expect(memo.find('short')).toBe(1);
    memo.get('next', () => 4);
    expect(memo.find('short')).toBeUndefined();
    expect(memo.find(long('x'))).toBeUndefined();
    expect(memo.find('next')).toBe(4);
    expect(() => memo.get(long('fails'), () => {
      throw new Error('refused');
    })).toThrow('refused');
    expect(memo.has(long('fails'))).toBe(false);
  });
});
