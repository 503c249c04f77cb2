#!/usr/bin/env node
'use strict';
/**
 * Measures the bridge topology on the running networks (network/NETWORKS.md "Topology"):
 * for a set of chains connected pairwise, how many remote registrations and routes each
 * chain holds, how many relay processes run, and which TCP connections each relay and each
 * peer actually holds (to which network), after one ping per route and direction was relayed
 * and acknowledged.
 *
 *   node network/scripts/measure-topology.js chain-a,chain-c [chain-a,chain-b,chain-c ...]
 *
 * Needs `make build` (gateway/dist) and the networks up (NETWORKS=net1,net2 make network-up).
 * Routes are opened by governance with every member org's admin (embedded network).
 */
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const REPO = path.resolve(__dirname, '..', '..');
const CLI = path.join(REPO, 'gateway', 'bin', 'medbridge.js');
const { CrossChainAdmin } = require(path.join(REPO, 'gateway/dist/services/crosschain-admin'));
const { FabricClient } = require(path.join(REPO, 'gateway/dist/fabric/client'));
const { profilesForChannel } = require(path.join(REPO, 'gateway/dist/fabric/profile'));
const RUNTIME = process.env.MEDBRIDGE_RUNTIME || path.join(REPO, '.runtime');
const run = Date.now().toString(36);

/** port -> "net/node" for every listener of every network that is up. */
function portMap() {
  const map = new Map();
  for (const net of fs.readdirSync(RUNTIME)) {
    const file = path.join(RUNTIME, net, 'network.json');
    if (!fs.existsSync(file)) continue;
    const d = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const o of d.ordererOrg.orderers) map.set(o.endpoint.split(':')[1], `${net}/${o.name.split('.')[0]}`);
    for (const org of d.orgs) for (const p of org.peers) map.set(p.endpoint.split(':')[1], `${net}/${p.name.split('.').slice(0, 2).join('.')}`);
  }
  return map;
}

/** Established TCP connections of a pid, as remote ports. */
function remotePorts(pid) {
  const out = execFileSync('ss', ['-tnpH', 'state', 'established'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes(`pid=${pid},`))
    .map((l) => l.trim().split(/\s+/)[3].split(':').pop());
}

function pidsOf(net) {
  const dir = path.join(RUNTIME, net, 'pids');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.startsWith('peer')).map((f) => ({ name: f.replace(/\.pid$/, ''), pid: fs.readFileSync(path.join(dir, f), 'utf8').trim() }));
}

function startRelay(from, to, dataDir) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, MEDBRIDGE_DATA_DIR: dataDir, MEDBRIDGE_LOG_LEVEL: 'warn' };
    const child = spawn(process.execPath, [CLI, 'relay', 'start', '--from', from, '--to', to, '--both', '--port', '0', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      try {
        JSON.parse(out);
        resolve(child);
      } catch {
        /* more to come */
      }
    });
    child.once('exit', (code) => reject(new Error(`relay ${from}<->${to} exited ${code}`)));
  });
}

async function waitAcknowledged(client, channel, routeId, sequence) {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const p = await client.evaluate(channel, 'CrossChain', 'GetPacket', [routeId, String(sequence)]);
    if (p.status !== 'sent') return p.status;
    if (Date.now() > deadline) throw new Error(`${channel} ${routeId}/${sequence} still ${p.status}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function measure(chains) {
  const admin = new CrossChainAdmin();
  const users = new Map(chains.map((ch) => [ch, FabricClient.open(profilesForChannel(ch)[0], { identity: 'user' })]));
  const pairs = [];
  for (let i = 0; i < chains.length; i++) for (let j = i + 1; j < chains.length; j++) pairs.push([chains[i], chains[j]]);
  const routeOf = ([x, y]) => `topo-${x}-${y}-${run}`;
  for (const pair of pairs) await admin.ensureRoute(pair[0], pair[1], routeOf(pair), ['ping']);

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medbridge-topology-'));
  const relays = [];
  try {
    for (const [x, y] of pairs) relays.push({ pair: [x, y], child: await startRelay(x, y, dataDir) });
    for (const pair of pairs) {
      for (const [from, to] of [pair, [...pair].reverse()]) {
        const c = users.get(from);
        const sent = await c.submit(from, 'CrossChain', 'SendPacket', [to, 'ping', JSON.stringify({ routeId: routeOf(pair), payload: { run } })]);
        const status = await waitAcknowledged(c, from, routeOf(pair), sent.result.sequence);
        if (status !== 'acknowledged') throw new Error(`${from}->${to}: ${status}`);
      }
    }
    const ports = portMap();
    const report = { chains, pairs: pairs.length, perChain: {}, relays: [], peerCrossNetworkConnections: 0 };
    const others = new Set(chains);
    for (const ch of chains) {
      const c = users.get(ch);
      const remotes = [];
      for (const o of others) {
        if (o === ch) continue;
        try {
          await c.evaluate(ch, 'CrossChain', 'GetRemoteChain', [o]);
          remotes.push(o);
        } catch {
          /* not registered */
        }
      }
      const routes = [];
      const all = await c.evaluate(ch, 'CrossChain', 'ListRoutes', []);
      for (const r of all) if (r.routeId.endsWith(run)) routes.push(`${r.routeId} -> ${r.counterparty}`);
      report.perChain[ch] = { registeredRemotes: remotes, routes };
    }
    for (const r of relays) {
      const used = [...new Set(remotePorts(r.child.pid).map((p) => ports.get(p)).filter(Boolean))].sort();
      report.relays.push({ pair: r.pair.join('<->'), pid: r.child.pid, peerConnections: used.length, connectedTo: used });
    }
    // Peers of one network never connect to the other network's nodes.
    for (const net of ['net1', 'net2']) {
      for (const p of pidsOf(net)) {
        const foreign = remotePorts(p.pid).map((port) => ports.get(port)).filter((n) => n && !n.startsWith(`${net}/`));
        report.peerCrossNetworkConnections += foreign.length;
      }
    }
    return report;
  } finally {
    for (const r of relays) r.child.kill('SIGTERM');
    admin.close();
    for (const c of users.values()) c.close();
  }
}

async function main() {
  const sets = process.argv.slice(2).map((s) => s.split(','));
  if (sets.length === 0) throw new Error('usage: measure-topology.js chain-a,chain-c [chain-a,chain-b,chain-c]');
  for (const chains of sets) process.stdout.write(`${JSON.stringify(await measure(chains), null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`error: ${e.stack || e}\n`);
    process.exit(1);
  },
);
