/**
 * The foundation network, end to end: every hospital reaches the deployed chaincode on each of
 * its channels through the peer Gateway service with its own user identity, transactions are
 * endorsed by every member org (discovery finds the other org's peers) and committed, and
 * Fabric's own `peer` CLI drives the same chaincode.
 */
import { EndorseError, type Contract } from '@hyperledger/fabric-gateway';
import { randomBytes } from 'node:crypto';
import { connectOrg, type OrgConnection } from '../../gateway/src/fabric/connection';
import { loadProfile } from '../../gateway/src/fabric/profile';
import { readNetwork } from './support/network';
import { peerCli } from './support/peer-cli';
import { waitFor } from './support/polling';

const net = readNetwork();
const HOSPITALS = ['HospitalA', 'HospitalB', 'HospitalC'] as const;
const CHANNELS: Record<string, readonly string[]> = { 'chain-a': ['HospitalA', 'HospitalC'], 'chain-b': ['HospitalB', 'HospitalC'] };

const json = (bytes: Uint8Array): Record<string, unknown> => JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
const note = (what: string) => `${what}-${randomBytes(6).toString('hex')}`;

describe('the embedded network (net1)', () => {
  const connections = new Map<string, OrgConnection>();
  // Raw fabric-gateway Contracts on purpose: this suite checks the peer Gateway service itself (submitAsync, commit status, EndorseError).
  const system = (org: string, channel: string): Contract => {
    const c = connections.get(org);
    if (!c) throw new Error(`no connection for ${org}`);
    return c.contract(channel, 'System');
  };

  beforeAll(async () => {
    for (const org of HOSPITALS) connections.set(org, connectOrg(loadProfile(org), { identity: 'user' }));
  });

  afterAll(() => {
    for (const c of connections.values()) c.close();
  });

  it('describes two channels with the agreed members and different endorsement policies', () => {
    const byName = new Map(net.channels.map((c) => [c.name, c]));
    expect(byName.get('chain-a')?.members).toEqual(['HospitalAMSP', 'HospitalCMSP']);
    expect(byName.get('chain-b')?.members).toEqual(['HospitalBMSP', 'HospitalCMSP']);
    expect(byName.get('chain-a')?.endorsement).toMatch(/MAJORITY/);
    expect(byName.get('chain-b')?.endorsement).toBe("AND('HospitalBMSP.peer','HospitalCMSP.peer')");
    expect(net.ordererOrg.orderers).toHaveLength(3);
  });

  it.each(Object.entries(CHANNELS).flatMap(([ch, orgs]) => orgs.map((org) => [ch, org] as const)))(
    'on %s, %s pings and reads the version with its own user identity (evaluate)',
    async (channel, org) => {
      const ping = json(await system(org, channel).evaluateTransaction('Ping'));
      expect(ping).toMatchObject({ channel, mspId: `${org}MSP`, role: 'member' });
      expect(typeof ping.txTimeMs).toBe('number');
      expect(json(await system(org, channel).evaluateTransaction('Version'))).toMatchObject({ chaincode: 'medbridge' });
    },
  );

  it("refuses an org that is not a member of the channel: HospitalB's user at chain-a's peers is denied, nothing is written", async () => {
    const intruder = connectOrg({ ...loadProfile('HospitalB'), peers: loadProfile('HospitalA').peers }, { identity: 'user' });
    try {
      const before = json(await system('HospitalA', 'chain-a').evaluateTransaction('Version'));
      // Raw on purpose: a connection whose identity does not match the peers it talks to.
      const err: unknown = await intruder.contract('chain-a', 'System').submitTransaction('Heartbeat', note('intruder')).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EndorseError);
      const details = (err as EndorseError).details;
      expect(details.length).toBeGreaterThan(0);
      for (const d of details) expect(d.message).toMatch(/access denied: channel \[chain-a\] creator org unknown/);
      expect(await system('HospitalA', 'chain-a').evaluateTransaction('LastHeartbeat', 'HospitalBMSP')).toHaveLength(0);
      expect(json(await system('HospitalA', 'chain-a').evaluateTransaction('Version'))).toEqual(before);
    } finally {
      intruder.close();
    }
  });

  it.each(Object.entries(CHANNELS).flatMap(([ch, orgs]) => orgs.map((org) => [ch, org] as const)))(
    'on %s, a Heartbeat submitted by %s is endorsed by both member orgs, committed, and readable by the other org',
    async (channel, org) => {
      const text = note(`hb-${org}`);
      const submitted = await system(org, channel).submitAsync('Heartbeat', { arguments: [text] });
      const result = json(submitted.getResult());
      expect(result).toMatchObject({ mspId: `${org}MSP`, note: text, txId: submitted.getTransactionId() });
      const status = await submitted.getStatus();
      expect(status.successful).toBe(true);
      expect(status.blockNumber).toBeGreaterThan(0n);

      const other = (CHANNELS[channel] ?? []).find((o) => o !== org);
      if (!other) throw new Error(`no other member on ${channel}`);
      // The other org's peer may commit the block a moment after the submitter's peer reported it.
      const seen = await waitFor(
        `${other} reads the heartbeat of ${org}`,
        async () => {
          const last = await system(other, channel).evaluateTransaction('LastHeartbeat', `${org}MSP`);
          return last.length > 0 && json(last).txId === submitted.getTransactionId() ? json(last) : undefined;
        },
        15_000,
      );
      expect(seen).toMatchObject({ note: text, txId: submitted.getTransactionId() });
    },
  );

  describe("with Fabric's own peer CLI", () => {
    it('queries Version and Ping on chain-b as a HospitalB user', async () => {
      const cli = peerCli('HospitalB', 'user', 0, net);
      const version = await cli.query('chain-b', 'System:Version', []);
      expect(version.code).toBe(0);
      expect(JSON.parse(version.stdout)).toMatchObject({ chaincode: 'medbridge' });
      const ping = await cli.query('chain-b', 'System:Ping', []);
      expect(JSON.parse(ping.stdout)).toMatchObject({ channel: 'chain-b', mspId: 'HospitalBMSP', role: 'member' });
    });

    it('invokes Heartbeat on chain-a from HospitalC peer1, endorsed by both orgs, and HospitalA reads it', async () => {
      const text = note('cli');
      const cli = peerCli('HospitalC', 'user', 1, net);
      const invoke = await cli.invoke('chain-a', 'System:Heartbeat', [text], ['HospitalA', 'HospitalC']);
      expect(invoke.code).toBe(0);
      expect(invoke.stderr).toMatch(/Chaincode invoke successful\. result: status:200/);
      expect(invoke.stderr).toMatch(/committed with status \(VALID\)/);
      const read = await peerCli('HospitalA', 'user', 0, net).query('chain-a', 'System:LastHeartbeat', ['HospitalCMSP']);
      expect(JSON.parse(read.stdout)).toMatchObject({ note: text, mspId: 'HospitalCMSP' });
    });

    it.each([
      ['chain-a', 'HospitalA', 'HospitalC'],
      ['chain-b', 'HospitalB', 'HospitalC'],
    ])('on %s, a transaction endorsed by %s alone is invalidated by the endorsement policy and changes nothing', async (channel, org, other) => {
      const cli = peerCli(org, 'user', 0, net);
      const before = await cli.query(channel, 'System:LastHeartbeat', [`${org}MSP`]);
      const invoke = await cli.invoke(channel, 'System:Heartbeat', [note('one-org')], [org]);
      expect(invoke.code).not.toBe(0);
      expect(invoke.stderr).toMatch(/ENDORSEMENT_POLICY_FAILURE/);
      const after = await peerCli(other, 'user', 0, net).query(channel, 'System:LastHeartbeat', [`${org}MSP`]);
      expect(after.stdout).toBe(before.stdout);
    });
  });
});
