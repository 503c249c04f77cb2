/**
 * Hosts as data (network/scripts/lib/topology.js): a description that places each org and the
 * ordering service on a host of its own (network/networks/net1-hosts.json) changes where nodes
 * listen, how they are dialled and which names their certificates carry; a description without a
 * placement renders exactly as before (loopback, dialled by address, TLS name `localhost`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(__dirname, '..', '..', '..');
const TOPOLOGY = join(REPO, 'network', 'scripts', 'lib', 'topology.js');
const NETWORKS = join(REPO, 'network', 'networks');
const work = mkdtempSync(join(tmpdir(), 'medbridge-placement-'));

function render(file: string, what: string, rt = join(work, 'rt')): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [TOPOLOGY, file, rt, what], { encoding: 'utf8' });
}

function json<T>(file: string, what: string): T {
  const r = render(file, what);
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as T;
}

interface CryptoConfig {
  OrdererOrgs: Array<{ Specs: Array<{ Hostname: string; SANS: string[] }> }>;
  PeerOrgs: Array<{ Name: string; Specs: Array<{ Hostname: string; SANS: string[] }> }>;
}

interface Configtx {
  Profiles: Record<string, { Orderer: { EtcdRaft: { Consenters: Array<{ Host: string; Port: number }> }; Organizations: Array<{ OrdererEndpoints: string[] }> }; Application: { Organizations: Array<{ ID: string; AnchorPeers: Array<{ Host: string; Port: number }> }> } }>;
}

describe('placement of orgs on hosts (net1-hosts.json)', () => {
  const placed = join(NETWORKS, 'net1-hosts.json');

  it('lists each placed host with its address and every name that must resolve to it', () => {
    const r = render(placed, 'hosts');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      'orderer 10.77.0.10 orderer.net1.medbridge orderer0.orderer.net1.medbridge orderer1.orderer.net1.medbridge orderer2.orderer.net1.medbridge',
      'hospitala 10.77.0.11 hospitala.net1.medbridge peer0.hospitala.net1.medbridge peer1.hospitala.net1.medbridge chaincode.hospitala.net1.medbridge',
      'hospitalb 10.77.0.12 hospitalb.net1.medbridge peer0.hospitalb.net1.medbridge peer1.hospitalb.net1.medbridge chaincode.hospitalb.net1.medbridge',
      'hospitalc 10.77.0.13 hospitalc.net1.medbridge peer0.hospitalc.net1.medbridge peer1.hospitalc.net1.medbridge chaincode.hospitalc.net1.medbridge',
    ]);
  });

  it('puts the host\'s address and name into the certificates of its org\'s nodes only', () => {
    const c = json<CryptoConfig>(placed, 'crypto-config');
    expect(c.OrdererOrgs[0]!.Specs[0]!.SANS).toEqual(['localhost', '127.0.0.1', '10.77.0.10', 'orderer.net1.medbridge']);
    const a = c.PeerOrgs.find((o) => o.Name === 'HospitalA')!;
    expect(a.Specs.map((s) => s.Hostname)).toEqual(['peer0', 'peer1', 'chaincode', 'chaincode-client']);
    for (const s of a.Specs) expect(s.SANS).toEqual(['localhost', '127.0.0.1', '10.77.0.11', 'hospitala.net1.medbridge']);
  });

  it('names consenters, orderer endpoints and anchor peers by DNS name', () => {
    const c = json<Configtx>(placed, 'configtx');
    const chainA = c.Profiles['chain-a']!;
    expect(chainA.Orderer.EtcdRaft.Consenters.map((x) => `${x.Host}:${x.Port}`)).toEqual([
      'orderer0.orderer.net1.medbridge:7050', 'orderer1.orderer.net1.medbridge:7150', 'orderer2.orderer.net1.medbridge:7250',
    ]);
    expect(chainA.Orderer.Organizations[0]!.OrdererEndpoints[0]).toBe('orderer0.orderer.net1.medbridge:7050');
    expect(chainA.Application.Organizations.map((o) => `${o.ID} ${o.AnchorPeers[0]!.Host}`)).toEqual([
      'HospitalAMSP peer0.hospitala.net1.medbridge', 'HospitalCMSP peer0.hospitalc.net1.medbridge',
    ]);
  });

  it('writes profiles that dial peers by name, without a TLS name override, and carry the org\'s host', () => {
    const rt = join(work, 'profiles-placed');
    expect(render(placed, 'profiles', rt).status).toBe(0);
    const profile = JSON.parse(readFileSync(join(rt, 'profiles', 'hospitalb.json'), 'utf8')) as { network: string; host: unknown; peers: Array<Record<string, string>> };
    expect(profile.network).toBe('net1');
    expect(profile.host).toEqual({ address: '10.77.0.12', name: 'hospitalb.net1.medbridge' });
    expect(profile.peers.map((p) => p.endpoint)).toEqual(['peer0.hospitalb.net1.medbridge:8051', 'peer1.hospitalb.net1.medbridge:8151']);
    for (const p of profile.peers) expect(p.serverNameOverride).toBeUndefined();
  });

  it('makes nodes listen on their host\'s address and be dialled by name (shell declarations)', () => {
    const r = render(placed, 'shell');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("['peer0.hospitala.net1.medbridge']='10.77.0.11'");
    expect(r.stdout).toMatch(/declare -gA P_ADDR=\(\['peer0\.hospitala\.net1\.medbridge'\]='peer0\.hospitala\.net1\.medbridge'/);
    expect(r.stdout).toMatch(/declare -gA O_HOST=\(\['orderer0\.orderer\.net1\.medbridge'\]='10\.77\.0\.10'/);
    expect(r.stdout).toMatch(/declare -gA ORG_HOST=\(\['HospitalA'\]='10\.77\.0\.11' \['HospitalB'\]='10\.77\.0\.12' \['HospitalC'\]='10\.77\.0\.13'\)/);
  });
});

describe('a description without placement (the embedded loopback network)', () => {
  it('keeps every node on 127.0.0.1, dialled by address with the TLS name localhost, and lists no hosts', () => {
    const net1 = join(NETWORKS, 'net1.json');
    expect(render(net1, 'hosts').stdout).toBe('');
    const c = json<CryptoConfig>(net1, 'crypto-config');
    for (const org of c.PeerOrgs) for (const s of org.Specs) expect(s.SANS).toEqual(['localhost', '127.0.0.1']);
    const rt = join(work, 'profiles-loopback');
    expect(render(net1, 'profiles', rt).status).toBe(0);
    const profile = JSON.parse(readFileSync(join(rt, 'profiles', 'hospitala.json'), 'utf8')) as { host?: unknown; peers: Array<Record<string, string>> };
    expect(profile.host).toBeUndefined();
    expect(profile.peers[0]).toMatchObject({ endpoint: '127.0.0.1:7051', serverNameOverride: 'localhost' });
    const shell = render(net1, 'shell').stdout;
    expect(shell).toMatch(/declare -gA P_ADDR=\(\['peer0\.hospitala\.net1\.medbridge'\]='127\.0\.0\.1'/);
  });
});

describe('invalid placements', () => {
  const write = (name: string, body: unknown) => {
    const file = join(work, name);
    writeFileSync(file, JSON.stringify(body));
    return file;
  };

  it('refuses a placement of an org the network does not have', () => {
    const r = render(write('unknown.json', { extends: join(NETWORKS, 'net1.json'), placement: { HospitalZ: { address: '10.77.0.99', name: 'z.example' } } }), 'check');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/placement names HospitalZ, which is neither an org nor the orderer org/);
  });

  it('refuses an address that is not IPv4 and a name that is not a DNS name', () => {
    const bad = render(write('bad-address.json', { extends: join(NETWORKS, 'net1.json'), placement: { HospitalA: { address: 'somewhere', name: 'a.example' } } }), 'check');
    expect(bad.stderr).toMatch(/placement of HospitalA: address must be an IPv4 address/);
    const badName = render(write('bad-name.json', { extends: join(NETWORKS, 'net1.json'), placement: { HospitalA: { address: '10.0.0.1', name: 'A B' } } }), 'check');
    expect(badName.stderr).toMatch(/placement of HospitalA: name must be a DNS name/);
  });

  it('refuses a description that extends itself', () => {
    const file = join(work, 'loop.json');
    writeFileSync(file, JSON.stringify({ extends: 'loop.json' }));
    const r = render(file, 'check');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/"extends" loops back/);
  });
});
