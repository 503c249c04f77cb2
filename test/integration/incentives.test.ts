/**
 * Value transfer on the real network (net1), driven through the `medbridge` CLI where a
 * person would use it (spawned, --json): chain-a's governance (every member org's admin)
 * mints to the orgs and sets safe parameters, chain-a's verification nodes are staked by
 * their own orgs, a ping from chain-a to chain-b escrows the sender's fee, is relayed with
 * real endorsements both ways, and the acknowledgement pays exactly the split to the staked
 * packet signers it names and to the relayer's org, with value conserved.
 *
 * Then equivocation: a verification node of chain-a (a certificate issued by HospitalA's
 * own CA for this run, listed by chain-a's governance and staked by HospitalA) signs two
 * different packets for one route and sequence, as scheme 1 (fabric-endorsement) signs:
 * a proposal response carrying the domain-separated commitment bytes. Invalid evidence is
 * refused with EVIDENCE_INVALID and changes nothing; valid evidence slashes the stake,
 * pays the reporter's org its share and the treasury the rest, and marks the node for
 * removal, after which chain-a's governance cannot list it again.
 *
 * Idempotent on a network that outlives test runs: the route and the slashed node are new
 * per run; parameters, funds and the peers' stakes are set only when missing.
 */
import { type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalBytes, ENDORSEMENT_VERSION, Limits, listHash, packetMessage, type Packet, type VerificationNodeList } from '@medbridge/chaincode';
import { FabricClient } from '../../gateway/src/fabric/client';
import { Chaincode } from '../../gateway/src/fabric/contracts';
import { loadProfile } from '../../gateway/src/fabric/profile';
import { buildAckProof, buildPacketProof, sourceChain, type SourceChain } from '../../gateway/src/proofs';
import { CrossChainAdmin } from '../../gateway/src/services/crosschain-admin';
import type { Escrow, IncentiveParams, SlashRecord, StakeRecord, ValueProposal, ValueSnapshot } from '../../gateway/src/services/incentive-service';
import { IncentiveService } from '../../gateway/src/services/incentive-service';
import { endorsement } from '../fixtures/endorsement';
import { issue } from '../fixtures/pki';
import { buildGateway, cli, ok, testEnv } from './cli-harness';
import { orgCa } from './support/identities';

const run = Date.now().toString(36);
const ROUTE = `value-it-${run}`;
const A = 'chain-a';
const B = 'chain-b';
const FUND = 20_000_000;

const clients: FabricClient[] = [];
function open(org: string, identity: 'user' | 'admin' = 'user'): FabricClient {
  const c = FabricClient.open(org, { identity });
  clients.push(c);
  return c;
}

function sourceOf(channel: string, orgs: string[], via: FabricClient): SourceChain {
  return sourceChain(via, channel, orgs.flatMap((o) => loadProfile(o).peers));
}

/** One scheme-1 signature: the node's endorsement of the query whose response is `message` (test/fixtures/endorsement.ts). */
function endorse(mspId: string, certPem: string, key: KeyObject, message: Buffer) {
  return endorsement({ mspId, certPem, privateKey: key }, message);
}

function signedCommitment(packet: Packet, list: VerificationNodeList, mspId: string, certPem: string, key: KeyObject) {
  const message = packetMessage(packet, { epoch: list.epoch, listHash: listHash(list) });
  return { packet, epoch: list.epoch, proof: { scheme: 'fabric-endorsement', version: ENDORSEMENT_VERSION, signatures: [endorse(mspId, certPem, key, message)] } };
}

describe('value transfer on the real network', () => {
  const env = testEnv();
  const files = mkdtempSync(join(tmpdir(), 'medbridge-value-it-'));
  const admin = new CrossChainAdmin();
  let value: IncentiveService;
  let params: IncentiveParams;
  let sentPacket: Packet;
  /** This run's slashable node while chain-a lists it (afterAll lists chain-a without it if a step failed). */
  let listedNode: string | undefined;

  const snapshot = (): Promise<ValueSnapshot> => value.snapshot();
  const balanceOf = async (account: string): Promise<number> => (await ok<{ balance: number }>(env, 'balance', account, '--org', 'HospitalA')).balance;

  beforeAll(() => {
    buildGateway();
    value = new IncentiveService(new Chaincode(open('HospitalA'), A));
  });
  afterAll(async () => {
    const head = listedNode === undefined ? undefined : await admin.nodeList(A);
    if (head && head.list.subgroups.some((s) => s.nodes.some((n) => n.nodeId === listedNode))) {
      const list = head.list as unknown as VerificationNodeList;
      const without = { ...list, epoch: list.epoch + 1, subgroups: list.subgroups.map((s) => ({ ...s, nodes: s.nodes.filter((n) => n.nodeId !== listedNode) })) };
      await admin.govern(A, { kind: 'set-node-list', list: without });
    }
    admin.close();
    for (const c of clients) c.close();
  });

  it('governance mints only with every member admin, the peers are staked by their orgs, and unsafe parameters are refused', async () => {
    // A mint approved by one org is pending and moves nothing; the second approval executes it.
    for (const org of ['HospitalA', 'HospitalC']) {
      const mspId = loadProfile(org).mspId;
      const before = await snapshot();
      const pending = await ok<ValueProposal>(env, 'value', 'mint', 'propose', mspId, String(FUND), '--memo', `fund ${mspId} run ${run}`, '--org', 'HospitalA', '--channel', A);
      expect(pending).toMatchObject({ status: 'pending', approvals: ['HospitalAMSP'], action: { kind: 'mint', to: `org:${mspId}`, amount: FUND } });
      expect((await snapshot()).supply).toBe(before.supply);
      const again = await cli(env, 'value', 'approve', pending.proposalId, '--org', 'HospitalA', '--channel', A);
      expect([again.code, again.json.error.code]).toEqual([3, 'ALREADY_APPROVED']);
      const executed = await ok<ValueProposal>(env, 'value', 'mint', 'approve', pending.proposalId, '--org', 'HospitalC', '--channel', A);
      expect(executed.status).toBe('executed');
      const after = await snapshot();
      expect(after.supply).toBe(before.supply + FUND);
      expect(after.balances).toBe(before.balances + FUND);
      expect(after.stakes).toBe(before.stakes);
    }

    const shown = await ok<{ active: boolean; params: IncentiveParams }>(env, 'value', 'params', 'show', '--org', 'HospitalA');
    params = shown.params;
    // Every peer of chain-a's member orgs holds a counting stake, deposited by its own org.
    for (const org of ['HospitalA', 'HospitalC']) {
      for (const p of loadProfile(org).peers) {
        const current = await value.stake(p.name);
        const missing = params.minStake - (current?.bonded ?? 0);
        if (current?.status !== 'slashed' && missing > 0) {
          const dep = await ok<{ stake: StakeRecord }>(env, 'stake', 'deposit', p.name, String(missing), '--org', org, '--channel', A);
          expect(dep.stake).toMatchObject({ nodeId: p.name, ownerMspId: loadProfile(org).mspId, bonded: params.minStake, status: 'active' });
        }
      }
    }
    // HospitalC cannot stake a node that HospitalA's list entry names.
    const foreign = await cli(env, 'stake', 'deposit', loadProfile('HospitalA').peers[0]!.name, '1', '--org', 'HospitalC', '--channel', A);
    expect([foreign.code, foreign.json.error.code]).toEqual([3, 'UNAUTHORIZED']);

    // Safe parameters (the defaults) with every member's approval, if value transfer is still off.
    if (!shown.active) {
      const memo = `value transfer on, run ${run}`;
      const p = await ok<ValueProposal>(env, 'value', 'params', 'propose', '--set', `minFee=${params.minFee}`, '--memo', memo, '--org', 'HospitalA', '--channel', A);
      expect(p.status).toBe('pending');
      expect((await value.params()).active).toBe(false);
      expect((await ok<ValueProposal>(env, 'value', 'approve', p.proposalId, '--org', 'HospitalC', '--channel', A)).status).toBe('executed');
    }
    expect(await ok(env, 'value', 'params', 'show', '--org', 'HospitalC', '--channel', A)).toEqual({ active: true, params });

    // A parameter set under which forging pays (stake below V / (k p sigma (1 - r))) is refused and changes nothing.
    const unsafe = await cli(env, 'value', 'params', 'propose', '--set', 'minStake=1000', '--memo', `unsafe ${run}`, '--org', 'HospitalA', '--channel', A);
    expect([unsafe.code, unsafe.json.error.code]).toEqual([3, 'PARAMETERS_UNSAFE']);
    expect((await value.params()).params).toEqual(params);

    const stakes = await ok<StakeRecord[]>(env, 'stake', 'list', '--org', 'HospitalA');
    for (const org of ['HospitalA', 'HospitalC']) {
      for (const p of loadProfile(org).peers) {
        const s = stakes.find((x) => x.nodeId === p.name);
        expect(s?.bonded).toBeGreaterThanOrEqual(params.minStake);
      }
    }
  });

  it('escrows the fee on send and pays exactly the split to the staked packet signers and the relayer org on acknowledgement; value is conserved', async () => {
    await admin.ensureRoute(A, B, ROUTE, ['ping']);
    const before = await snapshot();
    const senderBefore = await balanceOf('HospitalAMSP');

    const sent = await ok<{ packet: Packet; sequence: number }>(env, 'packet', 'send', '--to', B, '--route', ROUTE, '--payload', JSON.stringify({ run }), '--org', 'HospitalA');
    sentPacket = sent.packet;
    expect(sent.sequence).toBe(1);
    const held = await ok<Escrow>(env, 'packet', 'fee', ROUTE, '1', '--org', 'HospitalA');
    expect(held).toMatchObject({ routeId: ROUTE, sequence: 1, payerMspId: 'HospitalAMSP', amount: params.minFee, status: 'held' });
    expect(await balanceOf('HospitalAMSP')).toBe(senderBefore - params.minFee);
    const whileHeld = await snapshot();
    expect(whileHeld.supply).toBe(before.supply);
    expect(whileHeld.balances + whileHeld.stakes).toBe(before.balances + before.stakes - params.minFee);
    expect(whileHeld.escrowed).toBe(before.escrowed + params.minFee);

    // Relayed by HospitalC (member of both channels) with real endorsements both ways.
    const relayerA = new Chaincode(open('HospitalC'), A);
    const relayerB = new Chaincode(open('HospitalC'), B);
    const known = (await relayerB.crossChain.getRemoteChain(A)).epoch;
    const built = await buildPacketProof(sourceOf(A, ['HospitalA', 'HospitalC'], relayerA.client), ROUTE, 1, known);
    await relayerB.crossChain.receivePacket(sent.packet, built.proof);
    const receipt = await relayerB.crossChain.getReceipt(ROUTE, 1);
    const signers = receipt.ack.packetSigners ?? [];
    expect(signers.length).toBeGreaterThanOrEqual(2);
    const signerBefore = new Map<string, number>();
    for (const s of signers) signerBefore.set(s, (await value.balance(`node:${s}`)).balance);
    const relayerBefore = await balanceOf('HospitalCMSP');

    const knownB = (await value.chaincode.crossChain.getRemoteChain(B)).epoch;
    const ackProof = await buildAckProof(sourceOf(B, ['HospitalB', 'HospitalC'], relayerB.client), ROUTE, 1, knownB);
    await relayerA.crossChain.acknowledgePacket(receipt.ack, ackProof.proof);

    // Every packet signer named in the acknowledgement holds a counting stake here.
    const pool = Math.floor((params.minFee * params.signerShareBps) / 10_000);
    const each = Math.floor(pool / signers.length);
    const relayerShare = params.minFee - each * signers.length;
    const paid = await ok<Escrow>(env, 'packet', 'fee', ROUTE, '1', '--org', 'HospitalC', '--channel', A);
    expect(paid.status).toBe('paid');
    expect(paid.payouts?.reduce((s, p) => s + p.amount, 0)).toBe(params.minFee);
    for (const s of signers) {
      expect(paid.payouts).toContainEqual(expect.objectContaining({ account: `node:${s}`, amount: each }));
      expect((await ok<{ balance: number }>(env, 'balance', `node:${s}`, '--org', 'HospitalC', '--channel', A)).balance).toBe((signerBefore.get(s) ?? 0) + each);
    }
    expect(paid.payouts).toContainEqual(expect.objectContaining({ account: 'org:HospitalCMSP', amount: relayerShare }));
    expect(await balanceOf('HospitalCMSP')).toBe(relayerBefore + relayerShare);

    const after = await snapshot();
    expect(after.supply).toBe(before.supply);
    expect(after.balances + after.stakes).toBe(before.balances + before.stakes);
    expect(after.escrowed).toBe(before.escrowed);
    for (const a of after.accounts) expect(a.balance).toBeGreaterThanOrEqual(0);
    const listed = await ok<{ supply: number; escrowed: number }>(env, 'accounts', '--org', 'HospitalA');
    expect(listed.supply).toBe(after.supply);
  });

  it('settles a ping of exactly the packet limit: received, answered with an error acknowledgement that fits, acknowledged, its fee paid', async () => {
    // The payload that makes sequence 2 of this route exactly Limits.maxPacketBytes long
    // (transaction times have 13 digits, so the size is known before sending).
    const t = 1_000_000_000_000;
    const model = { sourceChain: A, destChain: B, routeId: ROUTE, sequence: 2, type: 'ping', payload: { s: '' }, timeoutMs: t + 3_600_000, sentAtMs: t, sender: 'HospitalAMSP' };
    const payload = { s: 'x'.repeat(Limits.maxPacketBytes - canonicalBytes(model).length) };
    const before = await snapshot();
    const sent = (await value.chaincode.crossChain.sendPacket(B, 'ping', { routeId: ROUTE, payload })).result;
    expect(sent.sequence).toBe(2);
    expect(canonicalBytes(sent.packet).length).toBe(Limits.maxPacketBytes);
    expect(await ok<Escrow>(env, 'packet', 'fee', ROUTE, '2', '--org', 'HospitalA')).toMatchObject({ status: 'held', amount: params.minFee });

    const relayerA = new Chaincode(open('HospitalC'), A);
    const relayerB = new Chaincode(open('HospitalC'), B);
    const known = (await relayerB.crossChain.getRemoteChain(A)).epoch;
    const built = await buildPacketProof(sourceOf(A, ['HospitalA', 'HospitalC'], relayerA.client), ROUTE, 2, known);
    await relayerB.crossChain.receivePacket(sent.packet, built.proof);
    const receipt = await relayerB.crossChain.getReceipt(ROUTE, 2);
    expect(receipt.ack.outcome).toBe('error');
    expect(receipt.ack.error).toMatch(/^PROOF_TOO_LARGE: /);
    expect(canonicalBytes(receipt.ack).length).toBeLessThanOrEqual(Limits.maxPacketBytes);

    const knownB = (await value.chaincode.crossChain.getRemoteChain(B)).epoch;
    const ackProof = await buildAckProof(sourceOf(B, ['HospitalB', 'HospitalC'], relayerB.client), ROUTE, 2, knownB);
    const settled = (await relayerA.crossChain.acknowledgePacket(receipt.ack, ackProof.proof)).result;
    expect(settled).toMatchObject({ status: 'failed' });
    expect(await ok(env, 'packet', 'status', ROUTE, '2', '--org', 'HospitalA')).toMatchObject({ status: 'failed' });
    const paid = await ok<Escrow>(env, 'packet', 'fee', ROUTE, '2', '--org', 'HospitalA');
    expect(paid.status).toBe('paid');
    expect(paid.payouts?.reduce((sum, p) => sum + p.amount, 0)).toBe(params.minFee);
    const after = await snapshot();
    expect(after.supply).toBe(before.supply);
    expect(after.escrowed).toBe(before.escrowed);
  });

  it('slashes a node of chain-a that signed two different packets for one route and sequence, pays the reporter, and keeps it out of the next list; invalid evidence changes nothing', async () => {
    const hospitalA = loadProfile('HospitalA');
    const nodeId = `slashable-${run}.hospitala.net1.medbridge`;
    const node = await issue(await orgCa(hospitalA), { cn: nodeId, ou: ['peer'], org: hospitalA.mspId });

    // HospitalA stakes its new node, and chain-a's governance lists it (next epoch).
    await ok(env, 'stake', 'deposit', nodeId, String(params.minStake), '--org', 'HospitalA');
    const head = await admin.nodeList(A);
    expect(head).toBeDefined();
    const base = head!.list as unknown as VerificationNodeList;
    const proposed: VerificationNodeList = {
      ...base,
      epoch: base.epoch + 1,
      subgroups: base.subgroups.map((s) => (s.mspId === hospitalA.mspId ? { ...s, nodes: [...s.nodes, { nodeId, mspId: hospitalA.mspId, certPem: node.certPem }] } : s)),
    };
    await admin.govern(A, { kind: 'set-node-list', list: proposed });
    listedNode = nodeId;
    // Signers sign for the list as chain-a stored it (its hash is part of the signed bytes).
    const withNode = (await admin.nodeList(A))!.list as unknown as VerificationNodeList;
    expect(withNode.epoch).toBe(base.epoch + 1);

    // Two different packets, one route and sequence, both signed by the node at that epoch.
    const forged: Packet = { ...sentPacket, payload: { run, forged: true } };
    const a = signedCommitment(sentPacket, withNode, hospitalA.mspId, node.certPem, node.privateKey);
    const b = signedCommitment(forged, withNode, hospitalA.mspId, node.certPem, node.privateKey);
    const write = (name: string, evidence: unknown): string => {
      const f = join(files, name);
      writeFileSync(f, JSON.stringify(evidence));
      return f;
    };
    const state = async () => ({ snap: await snapshot(), stake: await value.stake(nodeId) });

    // Invalid: the same commitment twice; a signature by another key; exact code, no state change.
    const before = await state();
    const stranger = await issue(await orgCa(hospitalA), { cn: `stranger-${run}`, ou: ['peer'], org: hospitalA.mspId });
    const invalid = [
      write('same.json', { kind: 'conflict', nodeId, a, b: a }),
      write('wrong-key.json', { kind: 'conflict', nodeId, a, b: signedCommitment(forged, withNode, hospitalA.mspId, node.certPem, stranger.privateKey) }),
    ];
    for (const f of invalid) {
      const r = await cli(env, 'evidence', 'submit', '--file', f, '--org', 'HospitalC', '--channel', A);
      expect([r.code, r.json.error.code]).toEqual([3, 'EVIDENCE_INVALID']);
    }
    expect(await state()).toEqual(before);

    // Valid: slashed, reporter (HospitalC) paid its share, the rest to the treasury.
    const reporterBefore = await balanceOf('HospitalCMSP');
    const treasuryBefore = await balanceOf('treasury');
    const record = await ok<SlashRecord & { txId: string }>(env, 'evidence', 'submit', '--file', write('conflict.json', { kind: 'conflict', nodeId, a, b }), '--org', 'HospitalC', '--channel', A);
    const slashed = Math.floor((params.minStake * params.slashBps) / 10_000);
    const reward = Math.floor((slashed * params.reporterShareBps) / 10_000);
    expect(record).toMatchObject({ kind: 'conflict', nodeId, ownerMspId: 'HospitalAMSP', amount: slashed, reporterMspId: 'HospitalCMSP', reporterReward: reward, treasuryAmount: slashed - reward });
    expect(await balanceOf('HospitalCMSP')).toBe(reporterBefore + reward);
    expect(await balanceOf('treasury')).toBe(treasuryBefore + slashed - reward);
    const shown = await ok<StakeRecord>(env, 'stake', 'show', nodeId, '--org', 'HospitalA');
    expect(shown).toMatchObject({ status: 'slashed', removeAtNextEpoch: true, countsAsSigner: false, bonded: 0 });
    const after = await snapshot();
    expect(after.supply).toBe(before.snap.supply);
    expect(after.balances + after.stakes).toBe(before.snap.balances + before.snap.stakes);

    // A node is slashed once.
    const twice = await cli(env, 'evidence', 'submit', '--file', join(files, 'conflict.json'), '--org', 'HospitalA');
    expect([twice.code, twice.json.error.code]).toEqual([3, 'ALREADY_SLASHED']);
    expect((await snapshot()).balances).toBe(after.balances);

    // The next list may not name it; without it, chain-a moves on.
    const keep: VerificationNodeList = { ...withNode, epoch: withNode.epoch + 1 };
    await expect(admin.govern(A, { kind: 'set-node-list', list: keep })).rejects.toMatchObject({ code: 'INVALID_NODE_LIST' });
    expect((await admin.nodeList(A))?.epoch).toBe(withNode.epoch);
    await admin.govern(A, { kind: 'set-node-list', list: { ...base, epoch: withNode.epoch + 1 } });
    listedNode = undefined;
    expect((await admin.nodeList(A))?.epoch).toBe(withNode.epoch + 1);
  });
});
