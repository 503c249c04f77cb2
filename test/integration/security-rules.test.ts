/**
 * Security rules on the real network (chain-a: HospitalA + HospitalC), each as the attack it
 * stops, with the exact refusal code and the state read back unchanged:
 *  - break-glass only by a clinician: a clinician certificate issued now by HospitalC's own
 *    CA (medbridge.role=clinician) opens emergency access to HospitalA's record, privately at
 *    HospitalA (its peers alone endorse; the block holds no reason, no emergency, no result);
 *    HospitalC's plain member and admin identities are refused FORBIDDEN_ROLE;
 *  - time is the submitter's: a proposal whose timestamp was moved an hour (signed, otherwise
 *    valid) is refused CLOCK_SKEW at endorsement and writes nothing.
 * A packet at the size limit settling with its fee is in incentives.test.ts, which has value
 * transfer, stakes and relaying set up.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { exportPublicKey, patientIdOf, recordHash } from '@medbridge/chaincode';
import { FabricClient } from '../../gateway/src/fabric/client';
import { Chaincode } from '../../gateway/src/fabric/contracts';
import { loadProfile, type Profile } from '../../gateway/src/fabric/profile';
import { envelopeOf, readsOf } from './support/blocks';
import { codeOf, text } from './support/chain-ops';
import { proposalTimeMs, proposalWithShiftedTime } from './support/forged-proposal';
import { issuedClientProfile } from './support/identities';

const CHANNEL = 'chain-a';
const run = Date.now().toString(36);
const HOUR = 3_600_000;

describe('security rules on chain-a', () => {
  const clients: FabricClient[] = [];
  const open = (p: Profile, identity: 'user' | 'admin' = 'user'): Chaincode => {
    const client = FabricClient.open(p, { identity });
    clients.push(client);
    return new Chaincode(client, CHANNEL);
  };
  let a: Chaincode;
  let c: Chaincode;
  let cAdmin: Chaincode;

  beforeAll(() => {
    a = open(loadProfile('HospitalA'));
    c = open(loadProfile('HospitalC'));
    cAdmin = open(loadProfile('HospitalC'), 'admin');
  });
  afterAll(() => {
    for (const x of clients) x.close();
  });

  describe('break-glass only by a clinician', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const publicKey = exportPublicKey(privateKey);
    const patientId = patientIdOf(publicKey);
    const recordId = `sec-obs-${run}`;
    const reason = 'ED-TRIAGE-CODE-9';

    const state = async () => ({
      log: await a.consent.listAccessLog(patientId),
      access: await a.consent.checkAccess('HospitalCMSP', recordId, 'ETREAT'),
    });

    beforeAll(async () => {
      await a.consent.registerPatient(publicKey);
      await a.consent.anchorRecord({ recordId, patientId, category: 'Observation', hash: recordHash(randomBytes(32), Buffer.from('{"resourceType":"Observation"}')) });
    });

    it("refuses HospitalC's plain member and admin (FORBIDDEN_ROLE), changing nothing", async () => {
      const before = await state();
      expect(before.access).toMatchObject({ allowed: false });
      for (const who of [c, cAdmin]) {
        expect(await codeOf(who.consent.breakGlass({ patientId, recordId, custodian: 'HospitalAMSP', reason, durationMinutes: 30 }))).toBe('FORBIDDEN_ROLE');
      }
      expect(await state()).toEqual(before);
    });

    it('lets a clinician issued by HospitalC\'s own CA open it; the peer reads the role from the certificate', async () => {
      const clinician = await issuedClientProfile(loadProfile('HospitalC'), `dr-${run}`, { 'medbridge.role': 'clinician' });
      const dr = open(clinician.profile);
      expect(await dr.system.ping()).toMatchObject({ mspId: 'HospitalCMSP', role: 'clinician' });
      const opened = await dr.consent.breakGlass({ patientId, recordId, custodian: 'HospitalAMSP', reason, durationMinutes: 30 });
      const e = opened.result;
      expect(e).toMatchObject({ org: 'HospitalCMSP', custodian: 'HospitalAMSP', openedByRole: 'clinician', recordId, review: { status: 'pending' } });
      expect((await state()).access).toMatchObject({ allowed: true, reason: 'emergency', emergencyId: e.emergencyId });
      // HospitalA holds it: its log shows the opening, its queue lists it, HospitalC's officer reads it there.
      expect((await state()).log.items.filter((x) => x.emergencyId === e.emergencyId).map((x) => x.kind)).toEqual(['emergency-opened']);
      expect((await a.consent.getEmergency(e.emergencyId)).emergencyId).toBe(e.emergencyId);
      // HospitalC's own peer holds none of it, and refuses to decide ETREAT for a record it does not hold.
      expect(await codeOf(c.consent.checkAccess('HospitalCMSP', recordId, 'ETREAT'))).toBe('NOT_CUSTODIAN');
      // The block (every member's copy) carries the transaction, not the reason, the emergency or the result.
      const [block] = await c.client.blocks(CHANNEL, Number(opened.blockNumber));
      const bytes = Buffer.from(block!);
      expect(bytes.includes(Buffer.from(opened.txId))).toBe(true);
      expect([reason, 'emergency-opened', '"expiresAt"', '"openedBy"'].filter((x) => bytes.includes(Buffer.from(x)))).toEqual([]);
      // HospitalA logs ETREAT decisions for HospitalC (its emergency allows) and for HospitalB (none):
      // the two transactions read the same keys, private ones' hashes included (CONSENT.md "Private
      // access decisions"), so HospitalC's copy of the blocks does not tell which org asked.
      const forC = await a.consent.logAccess('HospitalCMSP', recordId, 'ETREAT', `rq-${run}-c`);
      const forB = await a.consent.logAccess('HospitalBMSP', recordId, 'ETREAT', `rq-${run}-b`);
      expect([forC.result.allowed, forC.result.reason, forB.result.allowed]).toEqual([true, 'emergency', false]);
      const readsIn = async (logged: { txId: string; blockNumber: bigint }) => readsOf(envelopeOf((await c.client.blocks(CHANNEL, Number(logged.blockNumber)))[0]!, logged.txId));
      const readsC = await readsIn(forC);
      expect(readsC.some((r) => r.includes(' private _implicit_org_HospitalAMSP '))).toBe(true);
      expect(await readsIn(forB)).toEqual(readsC);
    });
  });

  describe('a proposal timestamp far from the peer clock', () => {
    const heartbeat = async () => c.system.lastHeartbeat('HospitalCMSP');

    it.each([HOUR, -HOUR])('is refused at endorsement (CLOCK_SKEW) when moved by %d ms, and writes nothing', async (shift) => {
      const before = await heartbeat();
      // Raw on purpose: a proposal re-signed with a forged timestamp, which no client method builds.
      const forged = proposalWithShiftedTime(c.client.connection, CHANNEL, 'System', 'Heartbeat', [`forged ${run}`], shift);
      expect(await codeOf(forged.endorse())).toBe('CLOCK_SKEW');
      // Raw on purpose: the same forgery, evaluated.
      expect(await codeOf(proposalWithShiftedTime(c.client.connection, CHANNEL, 'System', 'Ping', [], shift).evaluate())).toBe('CLOCK_SKEW');
      expect(await heartbeat()).toEqual(before);
    });

    it('is accepted within the bound, and the chaincode sees the submitter\'s time', async () => {
      // Raw on purpose: an unsent honest proposal, to compare its timestamp with the forged one's.
      const honest = c.client.connection.contract(CHANNEL, 'System').newProposal('Ping');
      // Raw on purpose: a forged timestamp within the bound.
      const shifted = proposalWithShiftedTime(c.client.connection, CHANNEL, 'System', 'Ping', [], 20_000);
      expect(proposalTimeMs(shifted) - proposalTimeMs(honest)).toBeGreaterThanOrEqual(20_000);
      const pinged = JSON.parse(text(await shifted.evaluate())) as { txTimeMs: number };
      expect(pinged.txTimeMs).toBe(proposalTimeMs(shifted));
    });
  });
});
