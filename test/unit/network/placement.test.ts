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

function render(file: string, what: string, rt = join(work, 'rt'), env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const base = { ...process.env };
  delete base.MEDBRIDGE_HOSTS_SUBNET;
  return spawnSync(process.execPath, [TOPOLOGY, file, rt, what], { encoding: 'utf8', env: { ...base, ...env } });
}

function renderWith(file: string, args: string[], rt = join(work, 'rt'), env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const base = { ...process.env };
  delete base.MEDBRIDGE_HOSTS_SUBNET;
  return spawnSync(process.execPath, [TOPOLOGY, file, rt, ...args], { encoding: 'utf8', env: { ...base, ...env } });
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
      // HospitalE's host exists before it joins (network/DEPLOY.md path A); its nodes start only then.
      'hospitale 10.77.0.14 hospitale.net1.medbridge peer0.hospitale.net1.medbridge chaincode.hospitale.net1.medbridge',
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

describe('placed hosts moved into another subnet (MEDBRIDGE_HOSTS_SUBNET, the docker multi-host variant)', () => {
  const placed = join(NETWORKS, 'net1-hosts.json');
  const moved = { MEDBRIDGE_HOSTS_SUBNET: '10.78.0.0/24' };

  it('keeps each host\'s names and host part of its address, in the new subnet', () => {
    const r = render(placed, 'hosts', join(work, 'rt'), moved);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => l.split(' ').slice(0, 3).join(' '))).toEqual([
      'orderer 10.78.0.10 orderer.net1.medbridge',
      'hospitala 10.78.0.11 hospitala.net1.medbridge',
      'hospitalb 10.78.0.12 hospitalb.net1.medbridge',
      'hospitalc 10.78.0.13 hospitalc.net1.medbridge',
      'hospitale 10.78.0.14 hospitale.net1.medbridge',
    ]);
  });

  it('puts the moved address into the certificates, the listen addresses and the profiles', () => {
    const c = JSON.parse(render(placed, 'crypto-config', join(work, 'rt'), moved).stdout) as CryptoConfig;
    expect(c.OrdererOrgs[0]!.Specs[0]!.SANS).toEqual(['localhost', '127.0.0.1', '10.78.0.10', 'orderer.net1.medbridge']);
    expect(render(placed, 'shell', join(work, 'rt'), moved).stdout).toMatch(/declare -gA ORG_HOST=\(\['HospitalA'\]='10\.78\.0\.11' \['HospitalB'\]='10\.78\.0\.12' \['HospitalC'\]='10\.78\.0\.13'\)/);
    const rt = join(work, 'profiles-moved');
    expect(render(placed, 'profiles', rt, moved).status).toBe(0);
    const profile = JSON.parse(readFileSync(join(rt, 'profiles', 'hospitalb.json'), 'utf8')) as { host: unknown; peers: Array<Record<string, string>> };
    expect(profile.host).toEqual({ address: '10.78.0.12', name: 'hospitalb.net1.medbridge' });
    expect(profile.peers[0]!.endpoint).toBe('peer0.hospitalb.net1.medbridge:8051');
  });

  it('leaves a description without placement on loopback', () => {
    expect(render(join(NETWORKS, 'net1.json'), 'shell', join(work, 'rt'), moved).stdout).toMatch(/declare -gA ORG_HOST=\(\['HospitalA'\]='127\.0\.0\.1'/);
  });

  it('refuses a subnet that is not a.b.c.d/n with 8 <= n <= 30', () => {
    for (const bad of ['10.78.0.0', '10.78.0.0/31', '10.78.0.300/24', 'docker']) {
      const r = render(placed, 'check', join(work, 'rt'), { MEDBRIDGE_HOSTS_SUBNET: bad });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`MEDBRIDGE_HOSTS_SUBNET=${bad}: expected an IPv4 subnet a.b.c.d/n with 8 <= n <= 30`);
    }
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

describe('an org that joins a running chain (net1-hosts.json "joining", network/DEPLOY.md path A)', () => {
  const placed = join(NETWORKS, 'net1-hosts.json');
  const joined = { MEDBRIDGE_JOIN: 'HospitalE' };

  it('is in no genesis block, no certificate, no profile and no node list of the network as bootstrapped', () => {
    const c = json<Configtx>(placed, 'configtx');
    expect(c.Profiles['chain-a']!.Application.Organizations.map((o) => o.ID)).toEqual(['HospitalAMSP', 'HospitalCMSP']);
    expect(json<CryptoConfig>(placed, 'crypto-config').PeerOrgs.map((o) => o.Name)).toEqual(['HospitalA', 'HospitalB', 'HospitalC']);
    expect(render(placed, 'shell').stdout).toMatch(/^ORGS=\('HospitalA' 'HospitalB' 'HospitalC'\)$/m);
    const rt = join(work, 'profiles-bootstrap');
    expect(render(placed, 'profiles', rt).status).toBe(0);
    const net = JSON.parse(readFileSync(join(rt, 'network.json'), 'utf8')) as { orgs: Array<{ name: string }> };
    expect(net.orgs.map((o) => o.name)).toEqual(['HospitalA', 'HospitalB', 'HospitalC']);
  });

  it('has its own cryptogen input and a configtx.yaml with only its definition and anchor peer, named by its host', () => {
    const crypto = JSON.parse(renderWith(placed, ['join-crypto-config', 'HospitalE']).stdout) as { PeerOrgs: CryptoConfig['PeerOrgs']; OrdererOrgs?: unknown };
    expect(crypto.OrdererOrgs).toBeUndefined();
    expect(crypto.PeerOrgs.map((o) => o.Name)).toEqual(['HospitalE']);
    expect(crypto.PeerOrgs[0]!.Specs.map((s) => s.Hostname)).toEqual(['peer0', 'chaincode', 'chaincode-client']);
    for (const s of crypto.PeerOrgs[0]!.Specs) expect(s.SANS).toEqual(['localhost', '127.0.0.1', '10.77.0.14', 'hospitale.net1.medbridge']);
    const configtx = JSON.parse(renderWith(placed, ['join-configtx', 'HospitalEMSP']).stdout) as { Organizations: Array<{ ID: string; AnchorPeers: Array<{ Host: string; Port: number }> }> };
    expect(configtx.Organizations.map((o) => `${o.ID} ${o.AnchorPeers[0]!.Host}:${o.AnchorPeers[0]!.Port}`)).toEqual(['HospitalEMSP peer0.hospitale.net1.medbridge:10051']);
  });

  it('once joined (MEDBRIDGE_JOIN), is a member of its chain in the shell declarations and gets a profile of its own', () => {
    const shell = render(placed, 'shell', join(work, 'rt'), joined).stdout;
    expect(shell).toMatch(/^ORGS=\('HospitalA' 'HospitalB' 'HospitalC' 'HospitalE'\)$/m);
    expect(shell).toContain("['chain-a']='HospitalA HospitalC HospitalE'");
    expect(shell).toMatch(/declare -gA ORG_JOINS=\(\['HospitalE'\]='chain-a'\)/);
    const rt = join(work, 'profile-joined');
    expect(renderWith(placed, ['profile', 'HospitalE'], rt, joined).status).toBe(0);
    const profile = JSON.parse(readFileSync(join(rt, 'profiles', 'hospitale.json'), 'utf8')) as { channels: string[]; host: unknown; peers: Array<Record<string, string>> };
    expect(profile).toMatchObject({ channels: ['chain-a'], host: { address: '10.77.0.14', name: 'hospitale.net1.medbridge' } });
    expect(profile.peers.map((p) => p.endpoint)).toEqual(['peer0.hospitale.net1.medbridge:10051']);
  });

  it('refuses to join an org the description does not list as joining', () => {
    const r = renderWith(placed, ['join-configtx', 'HospitalB']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('HospitalB is not a joining org of net1');
    expect(render(placed, 'shell', join(work, 'rt'), { MEDBRIDGE_JOIN: 'HospitalZ' }).stderr).toContain('MEDBRIDGE_JOIN=HospitalZ: no such joining org');
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
