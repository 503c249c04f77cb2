/**
 * rules/root-rollover.ts: a remote org's CA roll-over (NETWORKS.md "Remote chain lifecycle"):
 * the new root is added beside the old one; the old one is retired only once no node of the
 * latest list known here chains to it.
 */
import { Limits } from '../../../chaincode/src/protocol/limits';
import { rollRoot } from '../../../chaincode/src/rules/root-rollover';
import { createOrg, type TestOrg } from '../../fixtures/pki';
import { expectCodeSync } from '../support/codes';
import { createChain, nodeList, orgTrust, type TestChain, type TestNode } from './support';

describe('rollRoot', () => {
  let chain: TestChain;
  let newCa: TestOrg;
  let newNode: TestNode;
  const NOW = Date.now();

  beforeAll(async () => {
    chain = await createChain('chain-a', ['HospitalAMSP', 'HospitalCMSP'], 1);
    newCa = await createOrg('HospitalAMSP');
    newNode = { nodeId: 'peer9.hospitalamsp.chain-a', mspId: 'HospitalAMSP', identity: await newCa.peer('peer9.hospitalamsp.chain-a') };
  });

  const orgA = () => chain.orgs[0]!;
  const remote = (rootsOfA: string[] = [orgA().ca.certPem]) => ({
    chainId: 'chain-a',
    epoch: 1,
    orgs: [orgTrust(orgA(), { rootCerts: rootsOfA }), orgTrust(chain.orgs[1]!)],
  });
  const add = (rootCert: string, mspId = 'HospitalAMSP') => ({ kind: 'add-remote-root' as const, mspId, rootCert });
  const retire = (rootCert: string, mspId = 'HospitalAMSP') => ({ kind: 'retire-remote-root' as const, mspId, rootCert });

  it('adds the new root beside the old one and leaves the other orgs alone', () => {
    const orgs = rollRoot(remote(), add(newCa.ca.certPem), undefined, NOW);
    expect(orgs[0]!.rootCerts).toEqual([orgA().ca.certPem, newCa.ca.certPem]);
    expect(orgs[1]).toEqual(remote().orgs[1]);
  });

  it('refuses to retire a root a node of the latest list still chains to (ROOT_IN_USE)', () => {
    const both = remote([orgA().ca.certPem, newCa.ca.certPem]);
    expectCodeSync(() => rollRoot(both, retire(orgA().ca.certPem), nodeList(chain, 1), NOW), 'ROOT_IN_USE');
  });

  it('retires the old root once the latest list holds only nodes of the new CA', () => {
    const both = remote([orgA().ca.certPem, newCa.ca.certPem]);
    const list = nodeList(chain, 1, { nodes: [[newNode], [chain.nodes[1]![0]!]] });
    expect(rollRoot(both, retire(orgA().ca.certPem), list, NOW)[0]!.rootCerts).toEqual([newCa.ca.certPem]);
  });

  it("refuses retiring an org's last root, or a root it does not have", () => {
    expectCodeSync(() => rollRoot(remote(), retire(orgA().ca.certPem), undefined, NOW), 'INVALID_ARGUMENT');
    expectCodeSync(() => rollRoot(remote(), retire(newCa.ca.certPem), undefined, NOW), 'NOT_FOUND');
  });

  it('refuses a root already registered (ALREADY_EXISTS), an org not registered (NOT_FOUND), a root another org registers (INVALID_ARGUMENT)', () => {
    expectCodeSync(() => rollRoot(remote(), add(orgA().ca.certPem), undefined, NOW), 'ALREADY_EXISTS');
    expectCodeSync(() => rollRoot(remote(), add(newCa.ca.certPem, 'NobodyMSP'), undefined, NOW), 'NOT_FOUND');
    expectCodeSync(() => rollRoot(remote(), add(chain.orgs[1]!.ca.certPem), undefined, NOW), 'INVALID_ARGUMENT');
  });

  it(`refuses a root beyond ${Limits.maxCertsPerOrg} per org (INVALID_ARGUMENT)`, () => {
    const full = remote(Array.from({ length: Limits.maxCertsPerOrg }, () => orgA().ca.certPem));
    expectCodeSync(() => rollRoot(full, add(newCa.ca.certPem), undefined, NOW), 'INVALID_ARGUMENT');
  });
});
