/**
 * A new organisation joins the RUNNING chain-a as a member (network/DEPLOY.md, path A), timed from
 * its first step (its identities) to a first consent granted to it. HospitalE (net1-hosts.json,
 * "joining") has a host of its own and nothing else; every step is network/scripts/join-org.sh,
 * the commands DEPLOY.md lists, run by the org that owns it on its own host:
 *  1. HospitalE generates its identities (cryptogen) and 2. its definition (configtxgen -printOrg),
 *     whose sha256 the chain's admins compare;
 *  3. a MAJORITY of chain-a's admins (chain-a's Admins policy) sign the configuration update that
 *     adds HospitalE and its anchor peer, each on its own host, and the last one submits it;
 *  6. HospitalE's peer starts on its host and joins from block 0; its chaincode server starts, then
 *     the ccaas package naming it is installed and the committed definition approved unchanged;
 *  7. HospitalE's gateway endorses on chain-a, but its identities are not yet in the chaincode's
 *     member set (NOT_A_MEMBER): chain-a's governance admits it (`admit-member`, proposed by
 *     HospitalA and approved by HospitalC, each on its host; every member must approve); a chain-a
 *     patient grants HospitalE access to a HospitalA record, and HospitalE's own identity, on its
 *     own host and peer, finds the consent in force.
 * This suite runs after the others (test/multihost/sequencer.mjs): from here on chain-a has three
 * member orgs.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FabricClient } from '../../gateway/src/fabric/client';
import { Chaincode } from '../../gateway/src/fabric/contracts';
import { ConsentService } from '../../gateway/src/services/consent-service';
import { generatePatientKey } from '../../gateway/src/services/patient-keys';
import { waitFor } from '../integration/support/polling';
import { cliOn, description, okOn, REPO, RT, runOn } from './hosts';

const run = Date.now().toString(36);
const A = 'chain-a';
const JOIN = join(REPO, 'network', 'scripts', 'join-org.sh');
const NEW = 'HospitalE';
const NEW_HOST = 'hospitale';

describe('a new organisation joining the running chain-a by a channel configuration update', () => {
  const work = mkdtempSync(join(tmpdir(), 'medbridge-join-chain-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NETWORK: 'net1-hosts',
    MEDBRIDGE_KEYS_DIR: join(work, 'keys'),
    MEDBRIDGE_DATA_DIR: join(work, 'data'),
    MEDBRIDGE_LOG_LEVEL: 'warn',
  };
  const clients: FabricClient[] = [];

  afterAll(() => {
    for (const c of clients) c.close();
  });

  it('goes from its identities to a first consent granted to it on chain-a, every step on its owner\'s host, signed by a majority of the chain\'s admins', async () => {
    const marks: Array<[string, number]> = [];
    const t0 = Date.now();
    const mark = (what: string) => marks.push([what, Date.now() - t0]);

    // 1, 2: on HospitalE's host.
    await runOn(NEW_HOST, env, JOIN, 'identities', NEW);
    mark('1 identities');
    const defined = await runOn(NEW_HOST, env, JOIN, 'definition', NEW);
    const { definition, sha256 } = JSON.parse(defined.stdout.trim().split('\n').pop()!) as { definition: string; sha256: string };
    // What the chain's admins compute from the file they received, against the hash read to them.
    expect(createHash('sha256').update(readFileSync(definition)).digest('hex')).toBe(sha256);
    mark('2 definition sent');

    // 3: chain-a's Admins policy is MAJORITY Admins: the first member computes the update, a
    // majority signs, each on its own host, and the last signer submits (its signature included).
    const members = (JSON.parse(readFileSync(join(RT, 'network.json'), 'utf8')) as { channels: Array<{ name: string; members: string[] }> })
      .channels.find((c) => c.name === A)!.members;
    const orgOf = (msp: string) => description().orgs.find((o) => o.mspId === msp)!.name;
    const signers = members.slice(0, Math.floor(members.length / 2) + 1).map(orgOf);
    expect(signers).toEqual(['HospitalA', 'HospitalC']);
    await runOn(signers[0]!.toLowerCase(), env, JOIN, 'update', NEW, signers[0]!);
    for (const s of signers.slice(0, -1)) await runOn(s.toLowerCase(), env, JOIN, 'sign', NEW, s);
    const last = signers[signers.length - 1]!;
    await runOn(last.toLowerCase(), env, JOIN, 'submit', NEW, last);
    mark(`3 update signed by ${signers.join(', ')} and submitted`);

    // 6: HospitalE's peer joins, then serves and approves the chaincode.
    await runOn(NEW_HOST, env, JOIN, 'join', NEW);
    mark('6 peer joined chain-a');
    await runOn(NEW_HOST, env, JOIN, 'chaincode', NEW);
    mark('6 chaincode served, installed, approved');

    // 7: the first consent. A HospitalA patient grants HospitalE one HospitalA record; the grant is
    // a chain-a transaction endorsed under the MAJORITY policy of three members now.
    const hospitalA = FabricClient.open('HospitalA');
    clients.push(hospitalA);
    const consentA = new ConsentService(new Chaincode(hospitalA, A));
    const patient = generatePatientKey();
    await consentA.registerPatient(patient);
    const file = join(work, 'note.json');
    writeFileSync(file, JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'Heart rate' } }));
    const recordId = `rec-join-chain-${run}`;
    await okOn('hospitala', env, 'records', 'put', '--org', 'HospitalA', '--patient', patient.patientId, '--category', 'Observation', '--file', file, '--record-id', recordId);
    await consentA.grant(patient, patient.patientId, { grantee: 'HospitalEMSP', recordIds: [recordId], purposes: ['TREAT'], days: 1 });
    const inForce = await okOn<{ allowed: boolean }>('hospitala', env, 'access', 'check', '--org', 'HospitalA', '--channel', A, '--grantee', 'HospitalEMSP', '--record', recordId, '--purpose', 'TREAT');
    expect(inForce).toMatchObject({ allowed: true });
    mark('7 consent to HospitalE in force on chain-a');

    // Before its admission the chaincode does not serve HospitalE's identities.
    const before = await cliOn<{ error: { code: string } }>(NEW_HOST, env, 'access', 'check', '--org', NEW, '--channel', A, '--grantee', 'HospitalEMSP', '--record', recordId, '--purpose', 'TREAT');
    expect(before.code).not.toBe(0);
    expect(before.json.error.code).toBe('NOT_A_MEMBER');
    // chain-a's governance admits it: every member org's admin approves, each on its own host.
    const proposed = await okOn<{ proposalId: string; status: string }>('hospitala', env, 'governance', 'propose', JSON.stringify({ kind: 'admit-member', mspId: 'HospitalEMSP' }), '--org', 'HospitalA', '--channel', A);
    expect(proposed.status).toBe('pending');
    const admitted = await okOn<{ status: string }>('hospitalc', env, 'governance', 'approve', proposed.proposalId, '--org', 'HospitalC', '--channel', A);
    expect(admitted.status).toBe('executed');
    mark('7 admitted to the member set by chain-a\'s governance');

    // HospitalE's own identity, on its own host through its own peer, finds the consent in force
    // (its peer may still be committing the grant's block: asked again for up to 30 s).
    await waitFor(
      "HospitalE's own identity to find the consent in force",
      async () => {
        const own = await cliOn<{ allowed?: boolean }>(NEW_HOST, env, 'access', 'check', '--org', NEW, '--channel', A, '--grantee', 'HospitalEMSP', '--record', recordId, '--purpose', 'TREAT');
        expect(own.code).toBe(0);
        expect(own.json).toMatchObject({ allowed: true });
        return true;
      },
      30_000,
    );
    mark('7 HospitalE\'s own identity finds the consent in force');

    process.stderr.write(`\npath A join timing (ms since the first step): ${marks.map(([w, ms]) => `${w} ${ms}`).join('; ')}\n`);
  });
});
