/**
 * Security rules on the real network (chain-a: HospitalA + HospitalC), each as the attack it
 * stops, with the exact refusal code and the state read back unchanged:
 *  - break-glass only by a clinician: a clinician certificate issued now by HospitalC's own
 *    CA (medbridge.role=clinician) opens emergency access; HospitalC's plain member and
 *    admin identities are refused FORBIDDEN_ROLE;
 *  - time is the submitter's: a proposal whose timestamp was moved an hour (signed, otherwise
 *    valid) is refused CLOCK_SKEW at endorsement and writes nothing.
 * A packet at the size limit settling with its fee is in incentives.test.ts, which has value
 * transfer, stakes and relaying set up.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { exportPublicKey, patientIdOf, recordHash } from '@medbridge/chaincode';
import { connectOrg, type OrgConnection } from '../../gateway/src/fabric/connection';
import { loadProfile } from '../../gateway/src/fabric/profile';
import { codeOf, submit, text } from './support/chain-ops';
import { proposalTimeMs, proposalWithShiftedTime } from './support/forged-proposal';
import { issuedClientProfile } from './support/identities';

const CHANNEL = 'chain-a';
const run = Date.now().toString(36);
const HOUR = 3_600_000;

const evaluate = async (conn: OrgConnection, contract: string, fn: string, ...args: string[]): Promise<any> => {
  const out = text(await conn.contract(CHANNEL, contract).evaluateTransaction(fn, ...args));
  return out === '' ? null : JSON.parse(out);
};

describe('security rules on chain-a', () => {
  const conns: OrgConnection[] = [];
  const open = (c: OrgConnection): OrgConnection => {
    conns.push(c);
    return c;
  };
  let a: OrgConnection;
  let c: OrgConnection;
  let cAdmin: OrgConnection;

  beforeAll(() => {
    a = open(connectOrg(loadProfile('HospitalA')));
    c = open(connectOrg(loadProfile('HospitalC')));
    cAdmin = open(connectOrg(loadProfile('HospitalC'), { identity: 'admin' }));
  });
  afterAll(() => {
    for (const x of conns) x.close();
  });

  describe('break-glass only by a clinician', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const publicKey = exportPublicKey(privateKey);
    const patientId = patientIdOf(publicKey);
    const recordId = `sec-obs-${run}`;
    const reason = 'ED-TRIAGE-CODE-9';

    const state = async () => ({
      log: await evaluate(a, 'Consent', 'ListAccessLog', patientId, '', ''),
      access: await evaluate(a, 'Consent', 'CheckAccess', 'HospitalCMSP', recordId, 'ETREAT'),
    });

    beforeAll(async () => {
      await submit(a, CHANNEL, 'Consent', 'RegisterPatient', publicKey);
      await submit(a, CHANNEL, 'Consent', 'AnchorRecord', recordId, patientId, 'Observation', recordHash(randomBytes(32), Buffer.from('{"resourceType":"Observation"}')));
    });

    it("refuses HospitalC's plain member and admin (FORBIDDEN_ROLE), changing nothing", async () => {
      const before = await state();
      expect(before.access).toMatchObject({ allowed: false });
      for (const who of [c, cAdmin]) {
        expect(await codeOf(who.contract(CHANNEL, 'Consent').submitTransaction('BreakGlass', patientId, recordId, reason, '30'))).toBe('FORBIDDEN_ROLE');
      }
      expect(await state()).toEqual(before);
    });

    it('lets a clinician issued by HospitalC\'s own CA open it; the peer reads the role from the certificate', async () => {
      const clinician = await issuedClientProfile(loadProfile('HospitalC'), `dr-${run}`, { 'medbridge.role': 'clinician' });
      const dr = open(connectOrg(clinician.profile));
      expect(await evaluate(dr, 'System', 'Ping')).toMatchObject({ mspId: 'HospitalCMSP', role: 'clinician' });
      const e = await submit(dr, CHANNEL, 'Consent', 'BreakGlass', patientId, recordId, reason, '30');
      expect(e).toMatchObject({ org: 'HospitalCMSP', openedByRole: 'clinician', recordId, review: { status: 'pending' } });
      expect((await state()).access).toMatchObject({ allowed: true, reason: 'emergency', emergencyId: e.emergencyId });
    });
  });

  describe('a proposal timestamp far from the peer clock', () => {
    const heartbeat = async () => evaluate(c, 'System', 'LastHeartbeat', 'HospitalCMSP');

    it.each([HOUR, -HOUR])('is refused at endorsement (CLOCK_SKEW) when moved by %d ms, and writes nothing', async (shift) => {
      const before = await heartbeat();
      const forged = proposalWithShiftedTime(c, CHANNEL, 'System', 'Heartbeat', [`forged ${run}`], shift);
      expect(await codeOf(forged.endorse())).toBe('CLOCK_SKEW');
      expect(await codeOf(proposalWithShiftedTime(c, CHANNEL, 'System', 'Ping', [], shift).evaluate())).toBe('CLOCK_SKEW');
      expect(await heartbeat()).toEqual(before);
    });

    it('is accepted within the bound, and the chaincode sees the submitter\'s time', async () => {
      const honest = c.contract(CHANNEL, 'System').newProposal('Ping');
      const shifted = proposalWithShiftedTime(c, CHANNEL, 'System', 'Ping', [], 20_000);
      expect(proposalTimeMs(shifted) - proposalTimeMs(honest)).toBeGreaterThanOrEqual(20_000);
      const pinged = JSON.parse(text(await shifted.evaluate())) as { txTimeMs: number };
      expect(pinged.txTimeMs).toBe(proposalTimeMs(shifted));
    });
  });
});
