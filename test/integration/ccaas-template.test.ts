/**
 * The peers' chaincode-as-a-service builder fills connection.json templates from the peer's
 * CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG, as Fabric's own ccaas builder does (what fabric-samples'
 * deployCCAAS relies on: its packages carry `{{.peername}}_<name>_ccaas:9999`). Real peers and the
 * real builder of the runtime under test (bash scripts natively, the static binary in the peer
 * images under docker): packages are installed with Fabric's `peer` CLI, a templated package is
 * approved and committed on chain-a as a second chaincode, and the chaincode answers through the
 * peer Gateway service of both member orgs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { connectOrg, type OrgConnection } from '../../gateway/src/fabric/connection';
import { loadProfile } from '../../gateway/src/fabric/profile';
import { waitFor } from './support/polling';
import { readNetwork, REPO_ROOT, type NetworkDescription } from './support/network';

// network.json also carries the domain the crypto material is generated under.
const net = readNetwork() as NetworkDescription & { domain: string };
const CHANNEL = 'chain-a';
const ORGS = ['HospitalA', 'HospitalC'] as const;
const PROBE = 'ccaasprobe';
const run = randomBytes(4).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'medbridge-ccaas-template-'));

interface Result {
  code: number;
  out: string;
}

function tools(): { fabricBin: string; peerCliConfig: string } {
  if (!net.tools) throw new Error(`network.json of ${net.network} names no Fabric binaries (tools)`);
  return net.tools;
}

/** Fabric's peer CLI as ORG's admin against the org's peer PEERINDEX. */
function peer(org: string, peerIndex: number, args: string[]): Result {
  const profile = loadProfile(org);
  const p = profile.peers[peerIndex];
  const admin = profile.identities.admin;
  if (!p || !admin) throw new Error(`profile of ${org} lacks peer #${peerIndex} or the admin identity`);
  const res = spawnSync(join(tools().fabricBin, 'peer'), args, {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      FABRIC_CFG_PATH: tools().peerCliConfig,
      FABRIC_LOGGING_SPEC: 'warn',
      CORE_PEER_LOCALMSPID: profile.mspId,
      CORE_PEER_MSPCONFIGPATH: dirname(dirname(admin.certificate)),
      CORE_PEER_ADDRESS: p.endpoint,
      CORE_PEER_TLS_ENABLED: 'true',
      CORE_PEER_TLS_ROOTCERT_FILE: p.tlsRootCert,
    },
  });
  return { code: res.status ?? 1, out: `${res.stdout}${res.stderr}` };
}

function ok(r: Result, what: string): string {
  if (r.code !== 0) throw new Error(`${what} failed: ${r.out}`);
  return r.out;
}

const orgInfo = (org: string) => {
  const o = net.orgs.find((x) => x.name === org);
  if (!o) throw new Error(`no org ${org} in ${net.network}`);
  return o;
};

/** The org's chaincode TLS material, where the network's crypto material keeps it. */
function chaincodeTls(org: string) {
  const domain = `${org.toLowerCase()}.${net.domain}`;
  const peers = join(net.runtimeDir, 'crypto', 'peerOrganizations', domain, 'peers');
  return { server: join(peers, `chaincode.${domain}`, 'tls'), client: join(peers, `chaincode-client.${domain}`, 'tls') };
}

/** A ccaas package (metadata.json + code.tar.gz with CONNECTION) and its package id. */
function packageOf(label: string, connection: Record<string, unknown>): { file: string; id: string } {
  const dir = join(work, label);
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'src', 'connection.json'), JSON.stringify(connection, null, 2));
  writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ type: 'ccaas', label }));
  const tar = (args: string[]) => {
    const r = spawnSync('tar', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tar ${args.join(' ')}: ${r.stderr}`);
  };
  tar(['-czf', join(dir, 'code.tar.gz'), '-C', join(dir, 'src'), 'connection.json']);
  tar(['-czf', join(dir, 'package.tar.gz'), '-C', dir, 'metadata.json', 'code.tar.gz']);
  const file = join(dir, 'package.tar.gz');
  const id = ok(peer(ORGS[0], 0, ['lifecycle', 'chaincode', 'calculatepackageid', file]), 'calculatepackageid').trim();
  return { file, id };
}

function tlsConnection(org: string, address: string): Record<string, unknown> {
  const tls = chaincodeTls(org);
  return {
    address,
    dial_timeout: '10s',
    tls_required: true,
    client_auth_required: true,
    client_key: readFileSync(join(tls.client, 'server.key'), 'utf8'),
    client_cert: readFileSync(join(tls.client, 'server.crt'), 'utf8'),
    root_cert: readFileSync(join(tls.server, 'ca.crt'), 'utf8'),
  };
}

/** `queryinstalled` of a peer, one package per line, sorted (the peer lists them in no fixed order). */
const installed = (org: string, peerIndex: number): string =>
  ok(peer(org, peerIndex, ['lifecycle', 'chaincode', 'queryinstalled']), 'queryinstalled')
    .split('\n')
    .filter((l) => l.startsWith('Package ID:'))
    .sort()
    .join('\n');

/** The connection.json a peer's builder wrote for PACKAGEID (the peer keeps its builds). */
function builtConnection(peerName: string, packageId: string): Record<string, unknown> {
  const builds = join(net.runtimeDir, 'nodes', peerName, 'data', 'externalbuilder', 'builds');
  const label = packageId.split(':')[0] ?? packageId;
  const hash = packageId.split(':')[1] ?? '';
  const dirs = existsSync(builds) ? readdirSync(builds).filter((d) => d.startsWith(label) && d.includes(hash)) : [];
  if (dirs.length !== 1) throw new Error(`${builds} holds ${dirs.length} builds of ${packageId}: ${readdirSync(builds).join(', ')}`);
  return JSON.parse(readFileSync(join(builds, dirs[0] as string, 'release', 'chaincode', 'server', 'connection.json'), 'utf8')) as Record<string, unknown>;
}

/** A peer's log: the container's output under the docker runtime, the log file natively. */
function peerLog(peerName: string): string {
  const marker = join(net.runtimeDir, '.medbridge-runtime');
  const runtime = existsSync(marker) ? readFileSync(marker, 'utf8').trim() : 'native';
  if (runtime === 'docker') {
    const r = spawnSync('docker', ['logs', `medbridge-${net.network}-${peerName}`], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    return `${r.stdout}${r.stderr}`;
  }
  return readFileSync(join(net.runtimeDir, 'logs', `${peerName}.log`), 'utf8');
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, net.orgs[0]?.peers[0]?.endpoint.split(':')[0] ?? '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (addr && typeof addr === 'object' ? resolvePort(addr.port) : reject(new Error('no port'))));
    });
  });
}

function listening(host: string, port: number): Promise<void> {
  return new Promise((resolveConn, reject) => {
    const c = createConnection({ host, port }, () => {
      c.end();
      resolveConn();
    });
    c.once('error', reject);
  });
}

describe('connection.json templates filled by the peers\' ccaas builder (builder config of each peer)', () => {
  const servers: ChildProcess[] = [];
  const connections = new Map<string, OrgConnection>();

  afterAll(async () => {
    for (const c of connections.values()) c.close();
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((done) => {
            if (s.exitCode !== null || s.signalCode !== null) return done();
            s.once('exit', () => done());
            s.kill('SIGTERM');
          }),
      ),
    );
    rmSync(work, { recursive: true, force: true });
  });

  it("installs a deployCCAAS-shaped package ({{.peername}}_probe_ccaas:9999) on every chain-a peer, each peer's build holding its own name", () => {
    const pkg = packageOf(`${PROBE}_named_${run}`, { address: '{{.peername}}_probe_ccaas:9999', dial_timeout: '10s', tls_required: false });
    for (const org of ORGS) {
      orgInfo(org).peers.forEach((p, i) => {
        ok(peer(org, i, ['lifecycle', 'chaincode', 'install', pkg.file]), `install on ${p.name}`);
        expect(installed(org, i)).toContain(pkg.id);
        expect(builtConnection(p.name, pkg.id)).toEqual({ address: `${p.name}_probe_ccaas:9999`, dial_timeout: '10s', tls_required: false });
      });
    }
  });

  it('refuses to install a package whose template names a key the builder config lacks; nothing is installed', () => {
    const pkg = packageOf(`${PROBE}_nokey_${run}`, { address: '{{.nosuchkey}}:9999', dial_timeout: '10s', tls_required: false });
    const org = ORGS[0];
    const before = installed(org, 0);
    const res = peer(org, 0, ['lifecycle', 'chaincode', 'install', pkg.file]);
    expect(res.code).not.toBe(0);
    expect(res.out).toMatch(/external builder '[^']+' failed: exit status 1/);
    // The builder's own message reaches the peer's log, not the client.
    const peerName = orgInfo(org).peers[0]?.name ?? '';
    expect(peerLog(peerName)).toMatch(/ccaas build: connection\.json address: .*no entry for key "nosuchkey"/);
    const after = installed(org, 0);
    expect(after).not.toContain(pkg.id);
    expect(after).toBe(before);
  });

  it('deploys a package whose address is {{.host}}:<port> on chain-a, and the chaincode answers through both member orgs', async () => {
    const ordererTls = net.ordererOrg.tlsCaCert;
    const channel = net.channels.find((c) => c.name === CHANNEL);
    const orderer = channel?.orderers[0];
    if (!orderer) throw new Error(`${CHANNEL} has no orderer`);
    const host = orderer.split(':')[0] ?? '127.0.0.1';
    const label = `${PROBE}_${run}`;

    // One package and one chaincode server per org: each org's package carries its own TLS material.
    const packages = new Map<string, { file: string; id: string }>();
    for (const org of ORGS) {
      const port = await freePort();
      const pkg = packageOf(`${label}_${org.toLowerCase()}`, tlsConnection(org, `{{.host}}:${port}`));
      packages.set(org, pkg);
      const tls = chaincodeTls(org);
      const cli = require.resolve('fabric-shim/cli.js', { paths: [join(REPO_ROOT, 'chaincode')] });
      const server = spawn(
        process.execPath,
        [cli, 'server', '--chaincode-address', `${host}:${port}`, '--chaincode-id', pkg.id, '--module-path', join(REPO_ROOT, 'chaincode'),
          '--chaincode-tls-cert-file', join(tls.server, 'server.crt'), '--chaincode-tls-key-file', join(tls.server, 'server.key'),
          '--chaincode-tls-client-cacert-file', join(tls.server, 'ca.crt')],
        { env: { PATH: process.env.PATH, CORE_CHAINCODE_LOGGING_LEVEL: 'error', NODE_ENV: 'production' }, stdio: 'ignore' },
      );
      servers.push(server);
      await waitFor(`the ${org} probe chaincode server on ${host}:${port}`, async () => { await listening(host, port); return true; }, 20_000);
      orgInfo(org).peers.forEach((p, i) => {
        ok(peer(org, i, ['lifecycle', 'chaincode', 'install', pkg.file]), `install on ${p.name}`);
        expect(builtConnection(p.name, pkg.id).address).toBe(`${host}:${port}`);
      });
    }

    const committed = peer(ORGS[0], 0, ['lifecycle', 'chaincode', 'querycommitted', '-C', CHANNEL, '-n', PROBE, '-O', 'json']);
    const sequence = committed.code === 0 ? (JSON.parse(committed.out) as { sequence: number }).sequence + 1 : 1;
    const definition = ['-C', CHANNEL, '-n', PROBE, '-v', run, '--sequence', String(sequence)];
    const ordererFlags = ['-o', orderer, '--tls', '--cafile', ordererTls];
    for (const org of ORGS) {
      const pkg = packages.get(org);
      if (!pkg) throw new Error(`no package for ${org}`);
      ok(peer(org, 0, ['lifecycle', 'chaincode', 'approveformyorg', ...ordererFlags, ...definition, '--package-id', pkg.id, '--waitForEvent']), `approve by ${org}`);
    }
    const endorsers = ORGS.flatMap((org) => {
      const p = loadProfile(org).peers[0];
      if (!p) throw new Error(`no peer in ${org}'s profile`);
      return ['--peerAddresses', p.endpoint, '--tlsRootCertFiles', p.tlsRootCert];
    });
    ok(peer(ORGS[0], 0, ['lifecycle', 'chaincode', 'commit', ...ordererFlags, ...definition, ...endorsers, '--waitForEvent']), 'commit');

    for (const org of ORGS) connections.set(org, connectOrg(loadProfile(org), { identity: 'user' }));
    // Raw on purpose: the probe chaincode of this suite, not medbridge (the typed client names medbridge's contracts).
    const system = (org: string) => {
      const c = connections.get(org);
      if (!c) throw new Error(`no connection for ${org}`);
      return c.network(CHANNEL).getContract(PROBE, 'System');
    };
    for (const org of ORGS) {
      // Discovery learns the new definition through gossip a moment after the commit.
      const ping = await waitFor(`${org} pings ${PROBE}`, () => system(org).evaluateTransaction('Ping'), 30_000, 250);
      expect(JSON.parse(Buffer.from(ping).toString('utf8'))).toMatchObject({ channel: CHANNEL, mspId: `${org}MSP` });
    }
    const note = `template-${run}`;
    const submitted = await waitFor(
      `${ORGS[0]} submits a Heartbeat to ${PROBE}`,
      () => system(ORGS[0]).submitAsync('Heartbeat', { arguments: [note] }),
      30_000,
      250,
    );
    expect((await submitted.getStatus()).successful).toBe(true);
    const last = await waitFor(
      `${ORGS[1]} reads the Heartbeat`,
      async () => {
        const bytes = await system(ORGS[1]).evaluateTransaction('LastHeartbeat', `${ORGS[0]}MSP`);
        const text = Buffer.from(bytes).toString('utf8');
        if (!text.includes(note)) throw new Error(`not yet: ${text}`);
        return text;
      },
      15_000,
    );
    expect(last).toContain(note);
  });
});
