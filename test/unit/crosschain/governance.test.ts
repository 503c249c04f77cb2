import { GovernanceContract } from '../../../chaincode/src/contracts/governance-contract';
import { X509Certificate } from 'node:crypto';
import { verifyCertPath } from '../../../chaincode/src/protocol/path-proof';
import { createOrg, issue } from '../../fixtures/pki';
import { ROUTE, TwoChains, expectRejected } from './harness';
import { chainTrust, nodeList, orgTrust } from './support';

describe('Governance: changes need every member org, and lists fail closed', () => {
  let net: TwoChains;
  beforeEach(async () => {
    net = await TwoChains.create({ peersPerOrg: 1 });
    await net.bootstrap(net.a);
  });

  it('executes a proposal only when admins of all member orgs approved', async () => {
    const gov = new GovernanceContract();
    const [adminA, adminC] = net.a.admins;
    const action = { kind: 'set-node-list', list: nodeList(net.a.chain, 1) };
    const proposed = JSON.parse(await net.a.ledger.invoke({ identity: adminA!, timeMs: net.tick() }, (ctx) => gov.Propose(ctx, JSON.stringify(action))));
    expect(proposed).toMatchObject({ status: 'pending', approvals: ['HospitalAMSP'] });
    await expectRejected(net.a.ledger, 'ALREADY_APPROVED', () => net.a.ledger.invoke({ identity: adminA!, timeMs: net.tick() }, (ctx) => gov.Approve(ctx, proposed.proposalId)));
    await expectRejected(net.a.ledger, 'NOT_FOUND', () => net.a.ledger.invoke({ identity: net.a.user, timeMs: net.tick() }, (ctx) => net.cc.GetNodeList(ctx, '')));
    const done = JSON.parse(await net.a.ledger.invoke({ identity: adminC!, timeMs: net.tick() }, (ctx) => gov.Approve(ctx, proposed.proposalId)));
    expect(done).toMatchObject({ status: 'executed', approvals: ['HospitalAMSP', 'HospitalCMSP'] });
    const list = JSON.parse(await net.a.ledger.invoke({ identity: net.a.user, timeMs: net.tick() }, (ctx) => net.cc.GetNodeList(ctx, '')));
    expect(list.epoch).toBe(1);
  });

  it('admits an org added to the channel as a member once every member approved; it then approves like the others', async () => {
    const [adminA, adminC] = net.a.admins;
    const as = (identity: typeof adminA) => ({ identity: identity!, timeMs: net.tick() });
    const admit = { kind: 'admit-member', mspId: 'HospitalEMSP' };
    const proposed = JSON.parse(await net.a.ledger.invoke(as(adminA), (ctx) => net.gov.Propose(ctx, JSON.stringify(admit))));
    expect(proposed).toMatchObject({ status: 'pending', approvals: ['HospitalAMSP'] });
    expect(JSON.parse(await net.a.ledger.invoke(as(adminA), (ctx) => net.gov.GetMembers(ctx))).members).toEqual(['HospitalAMSP', 'HospitalCMSP']);
    const done = JSON.parse(await net.a.ledger.invoke(as(adminC), (ctx) => net.gov.Approve(ctx, proposed.proposalId)));
    expect(done).toMatchObject({ status: 'executed' });
    expect(JSON.parse(await net.a.ledger.invoke(as(adminA), (ctx) => net.gov.GetMembers(ctx))).members).toEqual(['HospitalAMSP', 'HospitalCMSP', 'HospitalEMSP']);
    // A member already, and an id that is not one, are refused before anything is written.
    await expectRejected(net.a.ledger, 'ALREADY_EXISTS', () => net.a.ledger.invoke(as(adminA), (ctx) => net.gov.Propose(ctx, JSON.stringify(admit))));
    await expectRejected(net.a.ledger, 'INVALID_ARGUMENT', () => net.a.ledger.invoke(as(adminA), (ctx) => net.gov.Propose(ctx, JSON.stringify({ kind: 'admit-member', mspId: 'has space' }))));
    await expectRejected(net.a.ledger, 'INVALID_ARGUMENT', () => net.a.ledger.invoke(as(adminA), (ctx) => net.gov.Propose(ctx, JSON.stringify({ ...admit, extra: 1 }))));
    // The new member is now a required approver: the two bootstrapped orgs alone no longer execute.
    const next = JSON.parse(await net.a.ledger.invoke(as(adminA), (ctx) => net.gov.Propose(ctx, JSON.stringify({ kind: 'set-node-list', list: nodeList(net.a.chain, 1) }))));
    const approved = JSON.parse(await net.a.ledger.invoke(as(adminC), (ctx) => net.gov.Approve(ctx, next.proposalId)));
    expect(approved).toMatchObject({ status: 'pending', approvals: ['HospitalAMSP', 'HospitalCMSP'] });
  });

  it('refuses proposals from a non-admin identity', async () => {
    await expectRejected(net.a.ledger, 'FORBIDDEN_ROLE', () =>
      net.a.ledger.invoke({ identity: net.a.user, timeMs: net.tick() }, (ctx) => net.gov.Propose(ctx, JSON.stringify({ kind: 'pause-route', routeId: ROUTE }))),
    );
  });

  const propose = (action: unknown) => net.a.ledger.invoke({ identity: net.a.admins[0]!, timeMs: net.tick() }, (ctx) => net.gov.Propose(ctx, JSON.stringify(action)));

  it('rejects an empty list', async () => {
    const list = { ...nodeList(net.a.chain, 1), subgroups: [] };
    await expectRejected(net.a.ledger, 'INVALID_NODE_LIST', () => propose({ kind: 'set-node-list', list }));
  });

  it('rejects a subgroup threshold of 0 and a rule of 0 subgroups', async () => {
    await expectRejected(net.a.ledger, 'INVALID_NODE_LIST', () => propose({ kind: 'set-node-list', list: nodeList(net.a.chain, 1, { threshold: 0 }) }));
    await expectRejected(net.a.ledger, 'INVALID_NODE_LIST', () => propose({ kind: 'set-node-list', list: nodeList(net.a.chain, 1, { rule: { kind: 'k-of-m', k: 0 } }) }));
  });

  it('rejects a list with a non-peer certificate, or a node in another org subgroup', async () => {
    const client = await net.a.chain.orgs[0]!.client('not-a-peer');
    const list = nodeList(net.a.chain, 1);
    list.subgroups[0]!.nodes[0]!.certPem = client.certPem;
    await expectRejected(net.a.ledger, 'INVALID_NODE_LIST', () => propose({ kind: 'set-node-list', list }));
    const crossed = nodeList(net.a.chain, 1);
    crossed.subgroups[0]!.nodes.push({ ...crossed.subgroups[1]!.nodes[0]! });
    await expectRejected(net.a.ledger, 'INVALID_NODE_LIST', () => propose({ kind: 'set-node-list', list: crossed }));
  });

  it('rejects a list that skips an epoch', async () => {
    await expectRejected(net.a.ledger, 'EPOCH_SKIPPED', () => propose({ kind: 'set-node-list', list: nodeList(net.a.chain, 2) }));
  });

  it('rejects a remote registration with an empty root', async () => {
    await net.bootstrap(net.b);
    const trust = chainTrust(net.b.chain);
    const action = { kind: 'register-remote', chainId: 'chain-b', orgs: trust.orgs.map((o) => ({ ...o, rootCerts: [''] })), nodeList: nodeList(net.b.chain, 1), schemes: ['fabric-endorsement'] };
    await expectRejected(net.a.ledger, 'UNKNOWN_ROOT', () => propose(action));
    await expectRejected(net.a.ledger, 'UNKNOWN_ROOT', () => propose({ ...action, orgs: trust.orgs.map((o) => ({ ...o, rootCerts: [] })) }));
  });

  it('rejects a remote registration with an unknown proof scheme', async () => {
    const action = { kind: 'register-remote', chainId: 'chain-b', orgs: chainTrust(net.b.chain).orgs, nodeList: nodeList(net.b.chain, 1), schemes: ['rsa-multisig'] };
    await expectRejected(net.a.ledger, 'UNSUPPORTED_SCHEME', () => propose(action));
  });

  it('rejects a remote whose two orgs share one root (one org could sign for the other)', async () => {
    const orgs = chainTrust(net.b.chain).orgs;
    const shared = orgs.map((o) => ({ ...o, rootCerts: [orgs[0]!.rootCerts[0]!] }));
    await expectRejected(net.a.ledger, 'INVALID_ARGUMENT', () =>
      propose({ kind: 'register-remote', chainId: 'chain-b', orgs: shared, nodeList: nodeList(net.b.chain, 1), schemes: ['fabric-endorsement'] }),
    );
  });
});

describe('Path-proof: certificate paths to registered roots', () => {
  it('follows an intermediate CA carried in the proof or registered, and fails without it', async () => {
    const org = await createOrg('HospitalXMSP');
    const inter = await issue(org.ca, { cn: 'ica.hospitalx', org: 'HospitalXMSP', isCa: true });
    const leaf = await issue(inter, { cn: 'peer0.hospitalx', ou: ['peer'], org: 'HospitalXMSP' });
    const cert = new X509Certificate(leaf.certPem);
    const trust = { chainId: 'chain-x', orgs: [orgTrust(org)] };
    const base = { cert, mspId: 'HospitalXMSP', atMs: Date.now(), what: 'leaf' };
    expect(() => verifyCertPath({ ...base, trust, extraIntermediates: [] })).toThrow(/^UNKNOWN_ROOT/);
    expect(verifyCertPath({ ...base, trust, extraIntermediates: [new X509Certificate(inter.certPem)] })).toHaveLength(3);
    const registered = { chainId: 'chain-x', orgs: [orgTrust(org, { intermediateCerts: [inter.certPem] })] };
    expect(verifyCertPath({ ...base, trust: registered, extraIntermediates: [] })).toHaveLength(3);
  });

  it('refuses an issuer that is not a CA', async () => {
    const org = await createOrg('HospitalXMSP');
    const notCa = await org.peer('peer-as-issuer');
    const leaf = await issue(notCa, { cn: 'peer1', ou: ['peer'], org: 'HospitalXMSP' });
    const trust = { chainId: 'chain-x', orgs: [orgTrust(org)] };
    expect(() =>
      verifyCertPath({ cert: new X509Certificate(leaf.certPem), mspId: 'HospitalXMSP', trust, extraIntermediates: [new X509Certificate(notCa.certPem)], atMs: Date.now(), what: 'leaf' }),
    ).toThrow(/^(CERT_CHAIN_INVALID|UNKNOWN_ROOT)/);
  });

  it('refuses a client certificate as a node (CERT_NOT_PEER) and another org root (UNKNOWN_ROOT)', async () => {
    const org = await createOrg('HospitalXMSP');
    const other = await createOrg('HospitalYMSP');
    const client = await org.client('user');
    const peer = await org.peer('peer0');
    const trust = { chainId: 'chain-x', orgs: [orgTrust(org), orgTrust(other)] };
    const at = Date.now();
    expect(() => verifyCertPath({ cert: new X509Certificate(client.certPem), mspId: 'HospitalXMSP', trust, extraIntermediates: [], atMs: at, what: 'c' })).toThrow(/^CERT_NOT_PEER/);
    expect(() => verifyCertPath({ cert: new X509Certificate(peer.certPem), mspId: 'HospitalYMSP', trust, extraIntermediates: [], atMs: at, what: 'p' })).toThrow(/^UNKNOWN_ROOT/);
  });
});
