/**
 * The Caliper benchmark's pure parts (gateway/src/bench/caliper-config.ts) and its workload modules
 * (test/bench/caliper/workloads) against a recording stand-in for Caliper's connector: the network
 * configuration names the profiles' files and never their contents, the rounds are what the options
 * say, Caliper's result table is read back, and every transaction a workload sends is one the
 * chaincode accepts (a well-formed key; a grant whose patient signature verifies on chain-a).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importPatientPublicKey, parseJson, patientIdOf } from '@medbridge/chaincode';
import { verifyPatientMessage } from '../../../chaincode/src/protocol/patient-messages';
import { validateGrantTerms } from '../../../chaincode/src/rules/consent-rules';
import { caliperBenchmark, caliperNetworkConfig, parseCaliperResults } from '../../../gateway/src/bench/caliper-config';
import { readProfile, type Profile } from '../../../gateway/src/fabric/profile';
import type { Connector, FabricRequest, TxStatus } from '../../bench/caliper/workloads/caliper-module';
import { createWorkloadModule as consentGrant } from '../../bench/caliper/workloads/consent-grant';
import { createWorkloadModule as plainPut } from '../../bench/caliper/workloads/plain-put';

const dir = mkdtempSync(join(tmpdir(), 'medbridge-caliper-test-'));

function profile(org: string, channels: string[], extra: Record<string, unknown> = {}): Profile {
  const file = join(dir, `${org.toLowerCase()}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      network: 'net1',
      org,
      mspId: `${org}MSP`,
      channels,
      peers: [
        { name: `peer0.${org}`, endpoint: '127.0.0.1:7051', tlsRootCert: 'peer0/ca.crt', serverNameOverride: 'localhost' },
        { name: `peer1.${org}`, endpoint: '127.0.0.1:7151', tlsRootCert: 'peer1/ca.crt' },
      ],
      identities: { user: { certificate: 'user/cert.pem', privateKey: 'user/key.pem' } },
      ...extra,
    }),
  );
  return readProfile(file);
}

/** Caliper's connector as a recorder: every request succeeds, or fails when `fail` says so. */
function recorder(fail: (r: FabricRequest) => boolean = () => false): Connector & { requests: FabricRequest[] } {
  const requests: FabricRequest[] = [];
  return {
    requests,
    sendRequests(r: FabricRequest): Promise<TxStatus> {
      requests.push(r);
      const ok = !fail(r);
      return Promise.resolve({ GetStatus: () => (ok ? 'success' : 'failed'), IsCommitted: () => ok, GetResult: () => '' });
    },
  };
}

const TABLE = [
  '2026.12.02-00:40:01.000 \u001b[32m info \u001b[39m [caliper] [report-builder] \t### All test results ###',
  '2026.12.02-00:40:01.001 \u001b[32m info \u001b[39m [caliper] [report-builder] \t',
  '+-------------------+------+------+-----------------+-----------------+-----------------+-----------------+------------------+',
  '| Name              | Succ | Fail | Send Rate (TPS) | Max Latency (s) | Min Latency (s) | Avg Latency (s) | Throughput (TPS) |',
  '|-------------------|------|------|-----------------|-----------------|-----------------|-----------------|------------------|',
  '| plain-put-rate-20 | 400  | 2    | 20.1            | 0.61            | 0.21            | 0.30            | 19.9             |',
  '|-------------------|------|------|-----------------|-----------------|-----------------|-----------------|------------------|',
  '| plain-put-load-32 | 0    | 0    | NaN             | -               | -               | -               | NaN              |',
  '+-------------------+------+------+-----------------+-----------------+-----------------+-----------------+------------------+',
  '',
  '2026.12.02-00:40:01.002 \u001b[32m info \u001b[39m [caliper] [report-builder] \tGenerated report with path /tmp/x/report.html',
].join('\n');

describe('Caliper network configuration', () => {
  it('names each org\u2019s user certificate and key by path and its peers with their TLS roots', () => {
    const a = profile('HospitalA', ['chain-a']);
    const b = profile('HospitalB', ['chain-b']);
    const cfg = caliperNetworkConfig([a, b], ['chain-a', 'chain-b']);
    expect(cfg.version).toBe('2.0.0');
    expect(cfg.caliper).toEqual({ blockchain: 'fabric', sutOptions: { mutualTls: false } });
    expect(cfg.channels).toEqual([
      { channelName: 'chain-a', contracts: [{ id: 'medbridge', contractID: 'medbridge@chain-a' }] },
      { channelName: 'chain-b', contracts: [{ id: 'medbridge', contractID: 'medbridge@chain-b' }] },
    ]);
    expect(cfg.organizations.map((o) => o.mspid)).toEqual(['HospitalAMSP', 'HospitalBMSP']);
    expect(cfg.organizations[0]!.identities.certificates).toEqual([
      { name: 'user', clientPrivateKey: { path: join(dir, 'user/key.pem') }, clientSignedCert: { path: join(dir, 'user/cert.pem') } },
    ]);
    expect(cfg.organizations[0]!.peers).toEqual([
      { endpoint: '127.0.0.1:7051', tlsCACerts: { path: join(dir, 'peer0/ca.crt') }, grpcOptions: { 'ssl-target-name-override': 'localhost' } },
      { endpoint: '127.0.0.1:7151', tlsCACerts: { path: join(dir, 'peer1/ca.crt') } },
    ]);
    expect(JSON.stringify(cfg)).not.toMatch(/BEGIN/);
  });

  it('refuses a channel no profile is a member of, and profiles of different chaincodes', () => {
    const a = profile('HospitalA', ['chain-a']);
    expect(() => caliperNetworkConfig([a], ['chain-b'])).toThrow('caliper: no profile is a member of chain-b');
    const c = profile('HospitalC', ['chain-a'], { chaincode: 'other' });
    expect(() => caliperNetworkConfig([a, c], ['chain-a'])).toThrow('caliper: the profiles name different chaincodes (medbridge, other)');
    expect(() => caliperNetworkConfig([], ['chain-a'])).toThrow('caliper: no connection profile to describe');
  });
});

describe('Caliper benchmark configuration', () => {
  it('runs a fixed-rate then a fixed-load round of the given length per workload', () => {
    const b = caliperBenchmark({
      workers: 2,
      seconds: 20,
      workloads: [
        { name: 'plain-put', description: 'puts', module: '/w/plain-put.js', arguments: { channel: 'chain-b' }, tps: 20, load: 32 },
        { name: 'consent-grant', description: 'grants', module: '/w/consent-grant.js', arguments: { channel: 'chain-a' }, tps: 10, load: 16 },
      ],
    });
    expect(b.test.workers).toEqual({ number: 2 });
    expect(b.test.rounds.map((r) => [r.label, r.txDuration, r.rateControl])).toEqual([
      ['plain-put-rate-20', 20, { type: 'fixed-rate', opts: { tps: 20 } }],
      ['plain-put-load-32', 20, { type: 'fixed-load', opts: { transactionLoad: 32 } }],
      ['consent-grant-rate-10', 20, { type: 'fixed-rate', opts: { tps: 10 } }],
      ['consent-grant-load-16', 20, { type: 'fixed-load', opts: { transactionLoad: 16 } }],
    ]);
    expect(b.test.rounds[2]!.workload).toEqual({ module: '/w/consent-grant.js', arguments: { channel: 'chain-a' } });
  });

  it('refuses a round without a positive rate, load, length or worker count', () => {
    const w = { name: 'p', description: 'd', module: '/m.js', arguments: {}, tps: 0, load: 1 };
    expect(() => caliperBenchmark({ workers: 1, seconds: 20, workloads: [w] })).toThrow('caliper: p needs a positive rate and load');
    expect(() => caliperBenchmark({ workers: 0, seconds: 20, workloads: [] })).toThrow('caliper: workers and seconds must be at least 1');
  });
});

describe('Caliper result table', () => {
  it('reads every round of the last "All test results" table, with colours and rules ignored', () => {
    expect(parseCaliperResults(`### All test results ###\n| old |\n${TABLE}`)).toEqual([
      { label: 'plain-put-rate-20', succeeded: 400, failed: 2, sendRateTps: 20.1, throughputTps: 19.9, latencyS: { avg: 0.3, min: 0.21, max: 0.61 } },
      { label: 'plain-put-load-32', succeeded: 0, failed: 0, sendRateTps: null, throughputTps: null, latencyS: { avg: null, min: null, max: null } },
    ]);
  });

  it('fails when the log has no summary table or another header', () => {
    expect(() => parseCaliperResults('worker exited')).toThrow('caliper: the log has no "All test results" table (did every round run?)');
    expect(() => parseCaliperResults('### All test results ###\n| Name | Succ |\n| a | 1 |\n')).toThrow(/unexpected result table header/);
  });
});

describe('Caliper workloads', () => {
  const target = { channel: 'chain-b', contractId: 'medbridge', mspId: 'HospitalBMSP', identity: 'user' };

  it('plain-put registers a distinct, well-formed P-256 public key per transaction', async () => {
    const sut = recorder();
    const w = plainPut();
    await w.initializeWorkloadModule(0, 1, 0, target, sut, undefined);
    for (let i = 0; i < 3; i++) await w.submitTransaction();
    await w.cleanupWorkloadModule();
    expect(sut.requests.map((r) => [r.channel, r.contractId, r.contractFunction, r.invokerMspId, r.invokerIdentity, r.readOnly])).toEqual(
      Array.from({ length: 3 }, () => ['chain-b', 'medbridge', 'Consent:RegisterPatient', 'HospitalBMSP', 'user', false]),
    );
    const keys = sut.requests.map((r) => r.contractArguments[0]!);
    expect(new Set(keys).size).toBe(3);
    for (const k of keys) expect(importPatientPublicKey(k).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('consent-grant registers its patients and grants each a first consent, then sends grants they signed, bound to the chain id', async () => {
    const sut = recorder();
    const w = consentGrant();
    const args = { ...target, channel: 'chain-a', mspId: 'HospitalAMSP', chainId: 'chain-a-id', grantee: 'HospitalCMSP', patients: 2 };
    await w.initializeWorkloadModule(0, 1, 0, args, sut, undefined);
    expect(sut.requests.map((r) => r.contractFunction)).toEqual(['Consent:RegisterPatient', 'Consent:RegisterPatient', 'Consent:GrantConsent', 'Consent:GrantConsent']);
    const registered = sut.requests.slice(0, 2).map((r) => patientIdOf(r.contractArguments[0]!));
    for (let i = 0; i < 4; i++) await w.submitTransaction();
    const grants = sut.requests.slice(2);
    expect(grants.map((r) => [r.channel, r.contractFunction, r.invokerMspId])).toEqual(Array.from({ length: 6 }, () => ['chain-a', 'Consent:GrantConsent', 'HospitalAMSP']));
    const verified = grants.map((r) => verifyPatientMessage(parseJson(r.contractArguments[0]!, 'grant'), { channel: 'chain-a-id', kinds: ['consent.grant'] }));
    expect(verified.map((v) => v.message.patientId)).toEqual([registered[0], registered[1], registered[0], registered[1], registered[0], registered[1]]);
    for (const v of verified) {
      expect(v.signedByPatient).toBe(true);
      expect(v.message.terms.grantee).toBe('HospitalCMSP');
      expect(() => validateGrantTerms(v.message.terms, Date.now())).not.toThrow();
    }
    expect(new Set(verified.map((v) => v.message.nonce)).size).toBe(6);
  });

  it('consent-grant stops the round before it starts when a patient cannot be registered or given a first consent', async () => {
    const args = { ...target, chainId: 'c', grantee: 'HospitalCMSP', patients: 3 };
    let n = 0;
    const w = consentGrant();
    await expect(w.initializeWorkloadModule(0, 1, 0, args, recorder(() => ++n === 2), undefined)).rejects.toThrow('caliper workload consent-grant: 1 of 3 patients could not be registered on chain-b');
    await expect(w.submitTransaction()).rejects.toThrow('caliper workload consent-grant: not initialised');
    const v = consentGrant();
    const refuseGrants = recorder((r) => r.contractFunction === 'Consent:GrantConsent');
    await expect(v.initializeWorkloadModule(0, 1, 0, args, refuseGrants, undefined)).rejects.toThrow('caliper workload consent-grant: 3 of 3 first grants were not committed on chain-b');
    await expect(v.submitTransaction()).rejects.toThrow('caliper workload consent-grant: not initialised');
  });

  it('refuses a round without its target arguments', async () => {
    await expect(plainPut().initializeWorkloadModule(0, 1, 0, { channel: 'chain-b' }, recorder(), undefined)).rejects.toThrow('caliper workload: round argument contractId must be a non-empty string');
  });
});
