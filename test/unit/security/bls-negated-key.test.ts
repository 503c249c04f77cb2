/**
 * pk and -pk. An owner who holds a BLS key can register its negation as a second node (the
 * proof of possession holds: it knows -sk). Named together, the two keys sum to the identity,
 * so both would count towards a threshold while neither signs. A list holding a key and its
 * negation is refused, and a stored one never gets the pair counted.
 */
import {
  BLS_SCHEME,
  BLS_SCHEME_VERSION,
  checkBlsRegistration,
  encodeBitmap,
  signMessage,
  toBase64,
  verifyBlsAggregate,
} from '../../../chaincode/src/protocol/bls';
import { parseNodeList, type VerificationNodeList } from '../../../chaincode/src/protocol/node-list';
import { blsEntry, createBlsChain, expectCode, messageFor, packet, type BlsTestChain } from '../bls/support';
import { expectRejected, TwoChains } from '../crosschain/harness';
import { chainTrust } from '../crosschain/support';
import { negatedKeys } from './support';

let chain: BlsTestChain;
beforeAll(async () => {
  chain = await createBlsChain('chain-a', ['HospitalAMSP', 'HospitalCMSP'], 2);
});

/** HospitalA's two nodes hold pk and -pk (threshold 2); HospitalC's first node is honest. */
function negatedList(): VerificationNodeList {
  const [a0, a1] = chain.nodes[0]!;
  const c0 = chain.nodes[1]![0]!;
  return {
    chainId: chain.chainId,
    epoch: 1,
    rule: { kind: 'all' },
    subgroups: [
      {
        id: 'sg-HospitalAMSP',
        mspId: 'HospitalAMSP',
        threshold: 2,
        nodes: [
          { nodeId: a0!.nodeId, mspId: a0!.mspId, certPem: a0!.identity.certPem, bls: blsEntry(chain.chainId, a0!) },
          { nodeId: a1!.nodeId, mspId: a1!.mspId, certPem: a1!.identity.certPem, bls: blsEntry(chain.chainId, a1!, negatedKeys(a0!.keys)) },
        ],
      },
      { id: 'sg-HospitalCMSP', mspId: 'HospitalCMSP', threshold: 1, nodes: [{ nodeId: c0.nodeId, mspId: c0.mspId, certPem: c0.identity.certPem, bls: blsEntry(chain.chainId, c0) }] },
    ],
  };
}

describe('a BLS key and its negation', () => {
  it('each passes registration alone (valid proof of possession and binding)', () => {
    const list = negatedList();
    for (const n of list.subgroups[0]!.nodes) {
      expect(() => checkBlsRegistration({ chainId: chain.chainId, nodeId: n.nodeId, mspId: n.mspId, certPem: n.certPem, bls: n.bls! })).not.toThrow();
    }
  });

  it('refuses a node list holding pk and -pk', () => {
    const list = negatedList();
    const err = expectCode(() => parseNodeList(list), 'INVALID_NODE_LIST', list);
    expect(err.detail).toContain('or its negation');
  });

  it('refuses register-remote of such a list and leaves state unchanged', async () => {
    const t = await TwoChains.create();
    await t.bootstrap(t.b);
    const trust = chainTrust({ chainId: chain.chainId, orgs: chain.orgs, nodes: [] });
    const action = { kind: 'register-remote', chainId: chain.chainId, orgs: trust.orgs, nodeList: negatedList(), schemes: ['bls12381-aggregate'] };
    await expectRejected(t.b.ledger, 'INVALID_NODE_LIST', () =>
      t.b.ledger.invoke({ identity: t.b.admins[0]!, timeMs: t.tick() }, (ctx) => t.gov.Propose(ctx, JSON.stringify(action))),
    );
  });

  it('never counts the pair in a stored list: the honest node alone cannot pass as three signers', () => {
    const list = negatedList();
    const msg = messageFor(packet(), list);
    const c0 = chain.nodes[1]![0]!;
    // Positions in signer order: sg-HospitalAMSP (a0, a1), sg-HospitalCMSP (c0). Only c0 signed.
    const proof = {
      scheme: BLS_SCHEME,
      version: BLS_SCHEME_VERSION,
      epoch: 1,
      signatures: { signers: toBase64(encodeBitmap([0, 1, 2], 3)), signature: toBase64(signMessage(c0.keys.secretKey, msg)) },
    };
    expectCode(() => verifyBlsAggregate(list, msg, proof), 'DUPLICATE_SIGNER', list, proof);
  });
});
