/**
 * The `medbridge` CLI as a user drives it, on the real network: spawned processes, --json
 * output parsed, exit codes checked (0 ok, 2 usage, 3 chaincode rejection with its code,
 * 4 network unreachable).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { loadProfile } from '../../gateway/src/fabric/profile';
import { buildGateway, cli, ok, REPO, testEnv } from './cli-harness';
import { issuedClientProfile } from './support/identities';

const run = Date.now().toString(36);

describe('medbridge CLI', () => {
  const env = testEnv();
  const files = mkdtempSync(join(tmpdir(), 'medbridge-cli-it-'));
  let patientId: string;
  let keyFile: string;

  beforeAll(() => buildGateway());

  it('ping answers with the caller and the chaincode version', async () => {
    const r = await ok(env, 'ping', '--org', 'HospitalB');
    expect(r).toMatchObject({ channel: 'chain-b', mspId: 'HospitalBMSP', role: 'member', chaincode: 'medbridge' });
    const admin = await ok(env, 'ping', '--org', 'HospitalC', '--channel', 'chain-a', '--identity', 'admin');
    expect(admin).toMatchObject({ channel: 'chain-a', mspId: 'HospitalCMSP', role: 'admin' });
  });

  it('exits 2 on usage errors', async () => {
    const noOrg = await cli({ ...env, MEDBRIDGE_DEFAULT_ORG: '' }, 'record', 'show', 'x');
    expect(noOrg.code).toBe(2);
    expect(noOrg.json.error.code).toBe('USAGE');
    const notMember = await cli(env, 'ping', '--org', 'HospitalB', '--channel', 'chain-a');
    expect(notMember.code).toBe(2);
    expect((await cli(env, 'no-such-command')).code).toBe(2);
  });

  it('exits 3 with the chaincode\'s own code when the chaincode rejects', async () => {
    const r = await cli(env, 'consent', 'show', `cs_${'0'.repeat(64)}`, '--org', 'HospitalA');
    expect(r.code).toBe(3);
    expect(r.json.error).toMatchObject({ code: 'NOT_FOUND', kind: 'rejected' });
    // Raw on purpose: the generic `invoke` command, with malformed arguments no typed command sends.
    const bad = await cli(env, 'invoke', 'Consent', 'AnchorRecord', 'r1', 'not-a-patient', 'Observation', 'ab', '--org', 'HospitalA');
    expect(bad.code).toBe(3);
    expect(bad.json.error.code).toBe('INVALID_ARGUMENT');
  });

  it('exits 4 and says what to check when the peer is unreachable', async () => {
    const p = loadProfile('HospitalA');
    const file = join(files, 'unreachable.json');
    writeFileSync(file, JSON.stringify({ ...p, peers: p.peers.map((x) => ({ ...x, endpoint: '127.0.0.1:1' })) }));
    const r = await cli(env, 'ping', '--org', file);
    expect(r.code).toBe(4);
    expect(r.json.error.code).toBe('UNAVAILABLE');
    expect(r.json.error.hint).toMatch(/make network-status/);
  });

  it('generates a patient key outside the repository, readable by its owner only', async () => {
    const k = await ok<{ patientId: string; keyFile: string }>(env, 'patient', 'keygen');
    patientId = k.patientId;
    keyFile = k.keyFile;
    expect(patientId).toMatch(/^pt_[0-9a-f]{64}$/);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(relative(REPO, keyFile).startsWith('..')).toBe(true);
  });

  it('registers the patient, anchors, amends, verifies and lists a record', async () => {
    const reg = await ok(env, 'patient', 'register', '--org', 'HospitalA', '--key', keyFile, '--public');
    expect(reg).toMatchObject({ patientId, private: false });
    expect(await ok(env, 'patient', 'show', patientId, '--org', 'HospitalA')).toMatchObject({ patientId });

    const recordId = `rec-cli-${run}`;
    writeFileSync(join(files, 'v1.json'), '{"resourceType":"Observation","id":"1"}');
    writeFileSync(join(files, 'v2.json'), '{"resourceType":"Observation","id":"1","note":"corrected"}');
    const a = await ok(env, 'record', 'anchor', '--org', 'HospitalA', '--patient', patientId, '--category', 'Observation', '--file', join(files, 'v1.json'), '--record-id', recordId);
    expect(a).toMatchObject({ recordId, version: 1, channel: 'chain-a' });
    const amended = await ok(env, 'record', 'amend', recordId, '--org', 'HospitalA', '--file', join(files, 'v2.json'));
    expect(amended).toMatchObject({ recordId, version: 2 });
    expect(await ok(env, 'record', 'show', recordId, '--org', 'HospitalA')).toMatchObject({ recordId, version: 2, hash: amended.hash, custodian: 'HospitalAMSP' });
    const history = await ok<{ items: Array<{ version: number; hash: string }> }>(env, 'record', 'history', recordId, '--org', 'HospitalA');
    expect(history.items.map((v) => [v.version, v.hash])).toEqual([
      [1, a.hash],
      [2, amended.hash],
    ]);
    expect(await ok(env, 'record', 'verify', recordId, '--org', 'HospitalA')).toMatchObject({ match: true, version: 2 });
    expect(await ok(env, 'record', 'verify', recordId, '--org', 'HospitalA', '--at-version', '1')).toMatchObject({ match: true, version: 1 });
    // A tampered copy does not match its anchor: exit 3.
    const wrong = await cli(env, 'record', 'verify', recordId, '--org', 'HospitalA', '--file', join(files, 'v1.json'), '--salt', '00'.repeat(32));
    expect(wrong.code).toBe(3);
    expect(wrong.json.match).toBe(false);
    const listed = await ok<Array<{ recordId: string; version: number }>>(env, 'records', 'list', '--org', 'HospitalA', '--patient', patientId);
    expect(listed.map((r) => r.version)).toEqual([1, 2]);
    // A foreign org cannot amend: the chaincode says who may.
    writeFileSync(join(files, 'hospc.json'), '{}');
    // Raw on purpose: the generic `invoke` command (HospitalC holds no copy that `record amend` could send).
    const foreign = await cli(env, 'invoke', 'Consent', 'AmendRecord', recordId, 'f'.repeat(64), '2', '--org', 'HospitalC', '--channel', 'chain-a');
    expect(foreign.code).toBe(3);
    expect(foreign.json.error.code).toBe('NOT_CUSTODIAN');
  });

  it('grants, lists, shows, checks and revokes a public consent signed with the patient key', async () => {
    const recordId = `rec-cli-${run}`;
    const g = await ok<{ consentId: string; effectiveStatus: string }>(env, 'consent', 'grant', '--org', 'HospitalA', '--key', patientId, '--grantee', 'HospitalCMSP', '--records', recordId, '--purpose', 'TREAT', '--days', '7', '--public');
    expect(g.consentId).toMatch(/^cs_[0-9a-f]{64}$/);
    expect(g.effectiveStatus).toBe('active');
    const list = await ok<{ items: Array<{ consentId: string }> }>(env, 'consent', 'list', patientId, '--org', 'HospitalA');
    expect(list.items.map((c) => c.consentId)).toContain(g.consentId);
    expect(await ok(env, 'consent', 'show', g.consentId, '--org', 'HospitalA')).toMatchObject({ consentId: g.consentId, grantee: 'HospitalCMSP' });
    expect(await ok(env, 'access', 'check', '--org', 'HospitalA', '--grantee', 'HospitalCMSP', '--record', recordId, '--purpose', 'TREAT')).toMatchObject({ allowed: true, reason: 'consent' });
    expect(await ok(env, 'access', 'check', '--org', 'HospitalA', '--grantee', 'HospitalCMSP', '--record', recordId, '--purpose', 'HRESCH')).toMatchObject({ allowed: false });
    expect(await ok(env, 'consent', 'revoke', g.consentId, '--org', 'HospitalA', '--key', patientId)).toMatchObject({ status: 'revoked' });
    expect(await ok(env, 'access', 'check', '--org', 'HospitalA', '--grantee', 'HospitalCMSP', '--record', recordId, '--purpose', 'TREAT')).toMatchObject({ allowed: false, reason: 'consent-revoked' });
    // The same revocation again is refused by the chaincode.
    const again = await cli(env, 'consent', 'revoke', g.consentId, '--org', 'HospitalA', '--key', patientId);
    expect(again.code).toBe(3);
  });

  it('keeps a consent private at the hospital by default when the grantee is on its chain, and records it publicly when it must cross', async () => {
    const recordId = `rec-cli-${run}`; // anchored by HospitalA above; its public consent for HospitalC is revoked
    // HospitalC is a member of chain-a: no flag, so HospitalA keeps the consent (chaincode/CONSENT.md "Private consents").
    const kept = await ok<{ consentId: string; keeper: string | null }>(env, 'consent', 'grant', '--org', 'HospitalA', '--key', patientId, '--grantee', 'HospitalCMSP', '--records', recordId, '--purpose', 'TREAT', '--days', '7');
    expect(kept.keeper).toBe('HospitalAMSP');
    const consentId = kept.consentId;
    const privately = await ok<{ items: Array<{ consentId: string }> }>(env, 'consent', 'list', patientId, '--org', 'HospitalA', '--private');
    expect(privately.items.map((c) => c.consentId)).toContain(consentId);
    const publicly = await ok<{ items: Array<{ consentId: string }> }>(env, 'consent', 'list', patientId, '--org', 'HospitalA');
    expect(publicly.items.map((c) => c.consentId)).not.toContain(consentId);
    expect(await ok(env, 'consent', 'show', consentId, '--org', 'HospitalA')).toMatchObject({ consentId, grantee: 'HospitalCMSP', grant: { message: { keeper: 'HospitalAMSP' } } });
    // HospitalC's own peer holds no copy: the grantee asks the keeper.
    expect((await cli(env, 'consent', 'show', consentId, '--org', 'HospitalC', '--channel', 'chain-a')).json.error.code).toBe('NOT_FOUND');
    expect(await ok(env, 'access', 'check', '--org', 'HospitalA', '--grantee', 'HospitalCMSP', '--record', recordId, '--purpose', 'TREAT')).toMatchObject({ allowed: true, consentId });
    // The revocation finds its keeper without --keeper.
    expect(await ok(env, 'consent', 'revoke', consentId, '--org', 'HospitalA', '--key', patientId)).toMatchObject({ status: 'revoked' });
    expect(await ok(env, 'access', 'check', '--org', 'HospitalA', '--grantee', 'HospitalCMSP', '--record', recordId, '--purpose', 'TREAT')).toMatchObject({ allowed: false, reason: 'consent-revoked' });
    // HospitalB is on chain-b: a consent for it has to cross, so it is public (without --json the CLI says why).
    const crossing = await ok<{ consentId: string; keeper: string | null }>(env, 'consent', 'grant', '--org', 'HospitalA', '--key', patientId, '--grantee', 'HospitalBMSP', '--records', recordId, '--purpose', 'TREAT', '--days', '1');
    expect(crossing.keeper).toBeNull();
    const after = await ok<{ items: Array<{ consentId: string }> }>(env, 'consent', 'list', patientId, '--org', 'HospitalA');
    expect(after.items.map((c) => c.consentId)).toContain(crossing.consentId);
    // --keeper and --public contradict each other: a usage error, nothing signed.
    const both = await cli(env, 'consent', 'grant', '--org', 'HospitalA', '--key', patientId, '--grantee', 'HospitalCMSP', '--records', recordId, '--keeper', 'HospitalAMSP', '--public');
    expect(both.code).toBe(2);
  });

  it('lets a guardian act until the patient revokes the delegation', async () => {
    const guardian = await ok<{ patientId: string; keyId: string; keyFile: string }>(env, 'patient', 'keygen');
    const d = await ok<{ guardianId: string }>(env, 'patient', 'delegate', '--org', 'HospitalA', '--key', patientId, '--guardian', guardian.keyFile, '--days', '30');
    expect(d.guardianId).toBe(guardian.keyId);
    const byGuardian = await ok<{ consentId: string }>(env, 'consent', 'grant', '--org', 'HospitalA', '--key', guardian.keyFile, '--patient', patientId, '--grantee', 'HospitalCMSP', '--categories', 'Observation', '--purpose', 'TREAT', '--days', '1');
    expect(byGuardian.consentId).toMatch(/^cs_/);
    await ok(env, 'patient', 'revoke-guardian', guardian.keyId, '--org', 'HospitalA', '--key', patientId);
    const refused = await cli(env, 'consent', 'grant', '--org', 'HospitalA', '--key', guardian.keyFile, '--patient', patientId, '--grantee', 'HospitalCMSP', '--categories', 'Observation', '--purpose', 'TREAT', '--days', '1');
    expect(refused.code).toBe(3);
    expect(refused.json.error.code).toBe('GUARDIAN_NOT_AUTHORIZED');
  });

  it('opens break-glass access, reviews it as admin, and shows it in the patient\'s log', async () => {
    const recordId = `rec-cli-${run}`;
    // Break-glass is a clinician's: HospitalC's CA issues one now (medbridge.role attribute).
    const clinician = await issuedClientProfile(loadProfile('HospitalC'), `dr-cli-${run}`, { 'medbridge.role': 'clinician' });
    const e = await ok<{ emergencyId: string; review: { status: string } }>(env, 'emergency', 'open', '--org', clinician.file, '--channel', 'chain-a', '--patient', patientId, '--record', recordId, '--custodian', 'HospitalAMSP', '--reason', 'ED-TRIAGE-CODE-7', '--minutes', '30');
    expect(e.review.status).toBe('pending');
    const queue = await ok<{ items: Array<{ emergencyId: string }> }>(env, 'emergency', 'list', '--org', 'HospitalA', '--identity', 'admin');
    expect(queue.items.map((x) => x.emergencyId)).toContain(e.emergencyId);
    // The opener's org reads it at the custodian (HospitalA's peer answers: only it holds the emergency).
    const openerQueue = await ok<{ items: Array<{ emergencyId: string; org: string; custodian?: string }> }>(env, 'emergency', 'list', '--org', 'HospitalC', '--identity', 'admin', '--custodian', 'HospitalAMSP');
    expect(openerQueue.items.map((x) => x.emergencyId)).toContain(e.emergencyId);
    expect(openerQueue.items.filter((x) => x.custodian !== undefined).every((x) => x.org === 'HospitalCMSP')).toBe(true);
    const reviewed = await ok<{ review: { status: string } }>(env, 'emergency', 'review', e.emergencyId, '--outcome', 'justified', '--org', 'HospitalA', '--identity', 'admin');
    expect(reviewed.review.status).toBe('justified');
    // --public reviews one opened before emergencies were private (public state): this one is not there.
    const legacy = await cli(env, 'emergency', 'review', e.emergencyId, '--outcome', 'justified', '--public', '--org', 'HospitalA', '--identity', 'admin');
    expect([legacy.code, legacy.json.error.code, legacy.json.error.message]).toEqual([3, 'NOT_FOUND', expect.stringContaining(`emergency ${e.emergencyId} does not exist`)]);
    const log = await ok<Array<{ kind: string; emergencyId: string | null }>>(env, 'access', 'log', patientId, '--org', 'HospitalA', '--key', patientId);
    expect(log.filter((x) => x.emergencyId === e.emergencyId).map((x) => x.kind)).toEqual(['emergency-opened', 'emergency-reviewed']);
    const custodianView = await ok<unknown[]>(env, 'access', 'log', patientId, '--org', 'HospitalA');
    expect(custodianView).toHaveLength(log.length);
  });

  it('shows the cross-chain configuration: node list, routes, remote chains, packets', async () => {
    const setup = await ok<{ steps: string[] }>(env, 'setup-route', `cli-route-${run}`, '--between', 'chain-a,chain-b', '--types', 'ping');
    expect(setup.steps).toEqual(expect.arrayContaining([`chain-a: route cli-route-${run} opened to chain-b`, `chain-b: route cli-route-${run} opened to chain-a`]));
    const nodes = await ok<{ epoch: number; list: { subgroups: Array<{ mspId: string }> } }>(env, 'nodes', 'list', '--org', 'HospitalA');
    expect(nodes.epoch).toBeGreaterThanOrEqual(1);
    expect(nodes.list.subgroups.map((s) => s.mspId).sort()).toEqual(['HospitalAMSP', 'HospitalCMSP']);
    expect(await ok(env, 'route', 'show', `cli-route-${run}`, '--org', 'HospitalB')).toMatchObject({ routeId: `cli-route-${run}`, counterparty: 'chain-a', status: 'open' });
    const remotes = await ok<Array<{ chainId: string }>>(env, 'remote', 'list', '--org', 'HospitalA');
    expect(remotes.map((r) => r.chainId)).toContain('chain-b');
    const sent = await ok<{ routeId: string; sequence: number; packet: { type: string } }>(env, 'packet', 'send', '--org', 'HospitalA', '--to', 'chain-b', '--route', `cli-route-${run}`, '--payload', '{"hello":1}');
    expect(sent).toMatchObject({ routeId: `cli-route-${run}`, sequence: 1, packet: { type: 'ping' } });
    expect(await ok(env, 'packet', 'status', `cli-route-${run}`, '1', '--org', 'HospitalA')).toMatchObject({ status: 'sent' });
    const packets = await ok<{ items: unknown[] }>(env, 'packet', 'list', `cli-route-${run}`, '--org', 'HospitalA');
    expect(packets.items).toHaveLength(1);
    // Pausing needs every member org: propose as HospitalA, approve as HospitalC.
    const proposal = await ok<{ proposalId: string; status: string }>(env, 'route', 'pause', `cli-route-${run}`, '--org', 'HospitalA');
    expect(proposal.status).toBe('pending');
    expect(await ok(env, 'governance', 'show', proposal.proposalId, '--org', 'HospitalA')).toMatchObject({ status: 'pending' });
    expect(await ok(env, 'governance', 'approve', proposal.proposalId, '--org', 'HospitalC', '--channel', 'chain-a')).toMatchObject({ status: 'executed' });
    expect(await ok(env, 'route', 'show', `cli-route-${run}`, '--org', 'HospitalA')).toMatchObject({ status: 'paused' });
    const refused = await cli(env, 'packet', 'send', '--org', 'HospitalA', '--to', 'chain-b', '--route', `cli-route-${run}`, '--payload', '{}');
    expect(refused.code).toBe(3);
    expect(refused.json.error.code).toBe('ROUTE_PAUSED');
  });

  it('prints aligned tables for people', async () => {
    const r = await new Promise<string>((resolveRun) => {
      const child = spawn(process.execPath, [join(REPO, 'gateway', 'bin', 'medbridge.js'), 'consent', 'list', patientId, '--org', 'HospitalA'], { env });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.on('close', () => resolveRun(out));
    });
    const lines = r.trim().split('\n');
    expect(lines[0]).toMatch(/^CONSENTID\s+GRANTEE\s+STATUS\s+PURPOSES\s+RECORDS\s+CATEGORIES\s+UNTIL$/);
    const col = (lines[0] ?? '').indexOf('GRANTEE');
    // The patient's public consents are for HospitalC and HospitalB (its private ones are not listed).
    for (const l of lines.slice(1)) expect(l.slice(col, col + 12)).toMatch(/^Hospital[BC]MSP$/);
    expect(lines.length).toBeGreaterThan(2);
    expect(readFileSync(keyFile, 'utf8')).toMatch(/BEGIN PRIVATE KEY/);
  });
});
