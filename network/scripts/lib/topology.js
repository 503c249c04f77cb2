#!/usr/bin/env node
'use strict';
/**
 * Turns a network description (network/networks/<name>.json) into everything the scripts and
 * clients need, so that a second network is a second JSON file, not a second set of scripts.
 *
 *   topology.js <network.json> <runtimeDir> <what>
 *
 * what:
 *   check          validate the description (ports unique, members known) and exit
 *   shell          bash declarations (arrays and associative arrays) for network.sh
 *   crypto-config  cryptogen input
 *   configtx       configtxgen input: one profile per channel, named after the channel
 *   connection ORG [PORT]  chaincode connection.json of ORG (chaincode-as-a-service address
 *                  and TLS); PORT is one of the org's two chaincode port slots
 *   profiles       write <runtime>/profiles/<org>.json and <runtime>/network.json
 *   hosts          one line per placed host: `<key> <address> <name>...` (every DNS name that
 *                  must resolve to that address); nothing for a network on loopback
 *
 * Placement (hosts as data): a description may say `"extends": "<other>.json"` (everything not
 * given is taken from that file) and `"placement": {"<org or orderer org name>": {"address":
 * "10.77.0.11", "name": "hospitala.net1.medbridge"}}`. A placed org's nodes listen on its
 * address and are reached by their DNS names (peer0.<org domain>, chaincode.<org domain>), which
 * its certificates carry beside the host's name and address; an org without a placement stays
 * on the network's `host` (127.0.0.1), reached by address as before.
 *
 * MEDBRIDGE_HOSTS_SUBNET=<a.b.c.d/n> moves every placed host into that subnet, keeping the host
 * part of its address (10.77.0.11 with 10.78.0.0/24 becomes 10.78.0.11): a runtime whose hosts
 * must live elsewhere (the docker variant of make test-multihost) keeps names and ports as
 * described, and everything rendered (listen addresses, certificates, hosts) follows.
 *
 * YAML outputs are written as JSON, which every YAML 1.2 parser (cryptogen, configtxgen) reads.
 */
const fs = require('fs');
const path = require('path');

function fail(msg) {
  process.stderr.write(`error: ${msg}\n`);
  process.exit(1);
}

// ipv4 <-> 32-bit unsigned integer
const ipToInt = (ip) => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
const intToIp = (n) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');

// hostsSubnet(): the subnet of MEDBRIDGE_HOSTS_SUBNET as a function that moves an address into
// it (identity when unset).
function hostsSubnet() {
  const spec = process.env.MEDBRIDGE_HOSTS_SUBNET;
  if (!spec) return (address) => address;
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(spec);
  const bits = m ? Number(m[2]) : NaN;
  if (!m || bits < 8 || bits > 30 || m[1].split('.').some((o) => Number(o) > 255)) {
    fail(`MEDBRIDGE_HOSTS_SUBNET=${spec}: expected an IPv4 subnet a.b.c.d/n with 8 <= n <= 30`);
  }
  const size = 2 ** (32 - bits);
  const network = ipToInt(m[1]) - (ipToInt(m[1]) % size);
  return (address) => intToIp(network + (ipToInt(address) % size));
}

function load(file, runtimeDir) {
  const raw = readDescription(file);
  const host = raw.host || '127.0.0.1';
  const placement = raw.placement || {};
  const inSubnet = hostsSubnet();
  // where(orgName): the host of an org: {listen, advertise(fqdn), sans, placed}
  const where = (orgName) => {
    const p = placement[orgName];
    if (!p) return { listen: host, advertise: () => host, sans: [], placed: undefined };
    if (typeof p.address !== 'string' || !/^\d+\.\d+\.\d+\.\d+$/.test(p.address)) fail(`placement of ${orgName}: address must be an IPv4 address`);
    if (typeof p.name !== 'string' || !/^[a-z0-9.-]+$/.test(p.name)) fail(`placement of ${orgName}: name must be a DNS name`);
    const address = inSubnet(p.address);
    return { listen: address, advertise: (fqdn) => fqdn, sans: [address, p.name], placed: { address, name: p.name } };
  };
  for (const name of Object.keys(placement)) {
    if (name !== raw.ordererOrg.name && !raw.orgs.some((o) => o.name === name) && !(raw.joining || []).some((j) => j.org && j.org.name === name)) fail(`placement names ${name}, which is neither an org nor the orderer org`);
  }
  const crypto = path.join(runtimeDir, 'crypto');
  const ordDomain = `${raw.ordererOrg.name.toLowerCase()}.${raw.domain}`;
  const ordOrgDir = path.join(crypto, 'ordererOrganizations', ordDomain);
  const ordWhere = where(raw.ordererOrg.name);
  const ordererOrg = {
    name: raw.ordererOrg.name,
    mspId: raw.ordererOrg.mspId,
    domain: ordDomain,
    mspDir: path.join(ordOrgDir, 'msp'),
    tlsCa: path.join(ordOrgDir, 'tlsca', `tlsca.${ordDomain}-cert.pem`),
    adminMsp: path.join(ordOrgDir, 'users', `Admin@${ordDomain}`, 'msp'),
    adminTls: path.join(ordOrgDir, 'users', `Admin@${ordDomain}`, 'tls'),
    sans: ordWhere.sans,
    placed: ordWhere.placed,
    orderers: raw.ordererOrg.orderers.map((o) => {
      const fqdn = `${o.name}.${ordDomain}`;
      const dir = path.join(ordOrgDir, 'orderers', fqdn);
      return {
        name: o.name,
        fqdn,
        host: ordWhere.listen,
        address: ordWhere.advertise(fqdn),
        port: o.port,
        adminPort: o.adminPort,
        operationsPort: o.operationsPort,
        endpoint: `${ordWhere.advertise(fqdn)}:${o.port}`,
        mspDir: path.join(dir, 'msp'),
        tlsDir: path.join(dir, 'tls'),
      };
    }),
  };
  const orgOf = (org) => {
    const domain = `${org.name.toLowerCase()}.${raw.domain}`;
    const w = where(org.name);
    const orgDir = path.join(crypto, 'peerOrganizations', domain);
    const user = (u) => ({
      certificate: path.join(orgDir, 'users', `${u}@${domain}`, 'msp', 'signcerts', `${u}@${domain}-cert.pem`),
      privateKey: path.join(orgDir, 'users', `${u}@${domain}`, 'msp', 'keystore', 'priv_sk'),
      mspDir: path.join(orgDir, 'users', `${u}@${domain}`, 'msp'),
      tlsDir: path.join(orgDir, 'users', `${u}@${domain}`, 'tls'),
    });
    return {
      name: org.name,
      key: org.name.toLowerCase(),
      mspId: org.mspId,
      domain,
      orgDir,
      host: w.listen,
      sans: w.sans,
      placed: w.placed,
      mspDir: path.join(orgDir, 'msp'),
      tlsCa: path.join(orgDir, 'tlsca', `tlsca.${domain}-cert.pem`),
      admin: user('Admin'),
      user: user('User1'),
      chaincode: {
        port: org.chaincodePort,
        host: w.listen,
        // what the org's peers dial (the connection.json of its packages)
        dialHost: w.advertise(`chaincode.${domain}`),
        serverTls: path.join(orgDir, 'peers', `chaincode.${domain}`, 'tls'),
        clientTls: path.join(orgDir, 'peers', `chaincode-client.${domain}`, 'tls'),
      },
      peers: org.peers.map((p) => {
        const fqdn = `${p.name}.${domain}`;
        const dir = path.join(orgDir, 'peers', fqdn);
        return {
          name: p.name,
          fqdn,
          org: org.name,
          host: w.listen,
          address: w.advertise(fqdn),
          port: p.port,
          chaincodePort: p.chaincodePort,
          operationsPort: p.operationsPort,
          endpoint: `${w.advertise(fqdn)}:${p.port}`,
          mspDir: path.join(dir, 'msp'),
          tlsDir: path.join(dir, 'tls'),
        };
      }),
    };
  };
  const orgs = raw.orgs.map(orgOf);
  // Joining orgs (network/DEPLOY.md, path A): described here, with their own host, but in no
  // channel's genesis block; network.sh never starts them, join-org.sh joins one at run time.
  // MEDBRIDGE_JOIN=<org> treats that org as joined: a member of its channel, beside the others.
  const joining = (raw.joining || []).map((j) => {
    if (!j.org || !j.channel) fail('joining: each entry needs "org" and "channel"');
    if (raw.orgs.some((o) => o.name === j.org.name)) fail(`joining: ${j.org.name} is already an org of the network`);
    if (!raw.channels.some((c) => c.name === j.channel)) fail(`joining: ${j.org.name} joins unknown channel ${j.channel}`);
    return { ...orgOf(j.org), joins: j.channel };
  });
  const joined = process.env.MEDBRIDGE_JOIN;
  if (joined) {
    const j = joining.find((o) => o.name === joined || o.key === joined.toLowerCase());
    if (!j) fail(`MEDBRIDGE_JOIN=${joined}: no such joining org in ${file}`);
    orgs.push(j);
    raw.channels = raw.channels.map((c) => (c.name === j.joins ? { ...c, members: [...c.members, j.name] } : c));
  }
  const orgByName = new Map(orgs.map((o) => [o.name, o]));
  const channels = raw.channels.map((ch) => {
    for (const m of ch.members) if (!orgByName.has(m)) fail(`channel ${ch.name}: unknown member org ${m}`);
    for (const o of ch.orderers) {
      if (!ordererOrg.orderers.some((x) => x.name === o)) fail(`channel ${ch.name}: unknown orderer ${o}`);
    }
    return { ...ch, mspIds: ch.members.map((m) => orgByName.get(m).mspId).sort() };
  });
  const net = { name: raw.name, domain: raw.domain, host, runtimeDir, ordererOrg, orgs, joining: joining.filter((o) => !orgs.includes(o)), channels, chaincode: raw.chaincode };
  checkPorts(net);
  return net;
}

// readDescription(file): the JSON of a description, with `extends` resolved (one level per file,
// relative to the file's folder) and `placement` kept from the extending file.
function readDescription(file, seen = new Set()) {
  let raw;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    fail(`cannot read network description ${file}: ${e.message}`);
  }
  if (!raw.extends) return raw;
  const base = path.resolve(path.dirname(file), raw.extends);
  if (seen.has(base)) fail(`${file}: "extends" loops back to ${base}`);
  seen.add(path.resolve(file));
  const { extends: _ignored, ...own } = raw;
  return { ...readDescription(base, seen), ...own };
}

function checkPorts(net) {
  const seen = new Map();
  const add = (port, what) => {
    if (!Number.isInteger(port) || port <= 0 || port > 65535) fail(`${what}: invalid port ${port}`);
    if (seen.has(port)) fail(`port ${port} used twice: ${seen.get(port)} and ${what}`);
    seen.set(port, what);
  };
  for (const o of net.ordererOrg.orderers) {
    add(o.port, `${o.fqdn} listen`);
    add(o.adminPort, `${o.fqdn} admin`);
    add(o.operationsPort, `${o.fqdn} operations`);
  }
  for (const org of [...net.orgs, ...net.joining]) {
    // Two slots: a redeploy starts the new server beside the old one.
    add(org.chaincode.port, `${org.name} chaincode server`);
    add(org.chaincode.port + 1, `${org.name} chaincode server (second slot)`);
    for (const p of org.peers) {
      add(p.port, `${p.fqdn} listen`);
      add(p.chaincodePort, `${p.fqdn} chaincode listener`);
      add(p.operationsPort, `${p.fqdn} operations`);
    }
  }
}

// ---------------------------------------------------------------- cryptogen

// Certificates carry `localhost` and the network's host (loopback), plus, for a placed org, its
// host's address and name; cryptogen adds each node's own name (peer0.<org domain>) itself.
function cryptoConfig(net) {
  const sans = (placedSans) => ['localhost', net.host, ...placedSans];
  return {
    OrdererOrgs: [
      {
        Name: net.ordererOrg.name,
        Domain: net.ordererOrg.domain,
        EnableNodeOUs: true,
        Specs: net.ordererOrg.orderers.map((o) => ({ Hostname: o.name, SANS: sans(net.ordererOrg.sans) })),
      },
    ],
    PeerOrgs: net.orgs.map((org) => peerOrgCrypto(net, org)),
  };
}

function peerOrgCrypto(net, org) {
  return {
    Name: org.name,
    Domain: org.domain,
    EnableNodeOUs: true,
    // `chaincode` is the TLS identity of the org's chaincode server, `chaincode-client` the one
    // its peers present to it; only their tls/ directories are used.
    Specs: [...org.peers.map((p) => p.name), 'chaincode', 'chaincode-client'].map((h) => ({ Hostname: h, SANS: ['localhost', net.host, ...org.sans] })),
    Users: { Count: 1 },
  };
}

// joiningOrg(net, name): a joining org of the description (or the joined one, MEDBRIDGE_JOIN).
function joiningOrg(net, name) {
  const wanted = String(name || '').toLowerCase();
  const org = [...net.joining, ...net.orgs.filter((o) => o.joins)].find((o) => o.key === wanted || o.mspId.toLowerCase() === wanted);
  if (!org) fail(`${name} is not a joining org of ${net.name} ("joining" in its description)`);
  return org;
}

// The joining org's own cryptogen input (DEPLOY.md step 1) and configtx.yaml with only its
// definition, for `configtxgen -printOrg` (step 2).
function joinCryptoConfig(net, org) {
  return { PeerOrgs: [peerOrgCrypto(net, org)] };
}

function joinConfigtx(org) {
  return { Organizations: [peerOrgSection(org)] };
}

// ---------------------------------------------------------------- configtxgen

const sig = (rule) => ({ Type: 'Signature', Rule: rule });
const meta = (rule) => ({ Type: 'ImplicitMeta', Rule: rule });

function ordererOrgSection(net) {
  const id = net.ordererOrg.mspId;
  return {
    Name: id,
    ID: id,
    MSPDir: net.ordererOrg.mspDir,
    Policies: {
      Readers: sig(`OR('${id}.member')`),
      Writers: sig(`OR('${id}.member')`),
      Admins: sig(`OR('${id}.admin')`),
    },
    OrdererEndpoints: net.ordererOrg.orderers.map((o) => o.endpoint),
  };
}

function peerOrgSection(org) {
  const id = org.mspId;
  const anchor = org.peers[0];
  return {
    Name: id,
    ID: id,
    MSPDir: org.mspDir,
    Policies: {
      Readers: sig(`OR('${id}.admin','${id}.peer','${id}.client')`),
      Writers: sig(`OR('${id}.admin','${id}.client')`),
      Admins: sig(`OR('${id}.admin')`),
      Endorsement: sig(`OR('${id}.peer')`),
    },
    // Anchor peers let gossip (and so discovery, which the Gateway service uses) see the other
    // member orgs' peers.
    AnchorPeers: [{ Host: anchor.address, Port: anchor.port }],
  };
}

function configtx(net) {
  const orgByName = new Map(net.orgs.map((o) => [o.name, o]));
  const profiles = {};
  for (const ch of net.channels) {
    const consenters = net.ordererOrg.orderers.filter((o) => ch.orderers.includes(o.name));
    profiles[ch.name] = {
      Capabilities: { V2_0: true },
      Policies: {
        Readers: meta('ANY Readers'),
        Writers: meta('ANY Writers'),
        Admins: meta('MAJORITY Admins'),
      },
      Orderer: {
        OrdererType: 'etcdraft',
        BatchTimeout: ch.batch.timeout,
        BatchSize: {
          MaxMessageCount: ch.batch.maxMessageCount,
          AbsoluteMaxBytes: ch.batch.absoluteMaxBytes,
          PreferredMaxBytes: ch.batch.preferredMaxBytes,
        },
        EtcdRaft: {
          Consenters: consenters.map((o) => ({
            Host: o.address,
            Port: o.port,
            ClientTLSCert: path.join(o.tlsDir, 'server.crt'),
            ServerTLSCert: path.join(o.tlsDir, 'server.crt'),
          })),
          Options: {
            TickInterval: '500ms',
            ElectionTick: 10,
            HeartbeatTick: 1,
            MaxInflightBlocks: 5,
            SnapshotIntervalSize: '16 MB',
          },
        },
        Organizations: [ordererOrgSection(net)],
        Policies: {
          Readers: meta('ANY Readers'),
          Writers: meta('ANY Writers'),
          Admins: meta('MAJORITY Admins'),
          BlockValidation: meta('ANY Writers'),
        },
        Capabilities: { V2_0: true },
      },
      Application: {
        Organizations: ch.members.map((m) => peerOrgSection(orgByName.get(m))),
        Policies: {
          Readers: meta('ANY Readers'),
          Writers: meta('ANY Writers'),
          Admins: meta('MAJORITY Admins'),
          LifecycleEndorsement: meta(ch.lifecycleEndorsement),
          Endorsement: meta(ch.endorsement),
        },
        Capabilities: { V2_5: true },
      },
    };
  }
  return { Profiles: profiles };
}

// ---------------------------------------------------------------- chaincode connection

function connection(net, orgName, portArg) {
  const org = net.orgs.find((o) => o.name === orgName || o.key === String(orgName).toLowerCase());
  if (!org) fail(`unknown org ${orgName}`);
  const port = portArg ? Number(portArg) : org.chaincode.port;
  if (port !== org.chaincode.port && port !== org.chaincode.port + 1) fail(`${port} is not a chaincode port slot of ${org.name}`);
  const read = (f) => fs.readFileSync(f, 'utf8');
  return {
    address: `${org.chaincode.dialHost}:${port}`,
    dial_timeout: '10s',
    tls_required: true,
    client_auth_required: true,
    client_key: read(path.join(org.chaincode.clientTls, 'server.key')),
    client_cert: read(path.join(org.chaincode.clientTls, 'server.crt')),
    root_cert: read(path.join(org.chaincode.serverTls, 'ca.crt')),
  };
}

// ---------------------------------------------------------------- profiles

// writeProfile(net, org): <runtime>/profiles/<org>.json, the org's connection profile.
function writeProfile(net, org) {
  const dir = path.join(net.runtimeDir, 'profiles');
  fs.mkdirSync(dir, { recursive: true });
  const profile = {
    network: net.name,
    org: org.name,
    mspId: org.mspId,
    channels: net.channels.filter((c) => c.members.includes(org.name)).map((c) => c.name),
    chaincode: net.chaincode.name,
    // A placed org's peers are dialled by the names their certificates carry; on loopback the
    // address is dialled and the certificates' `localhost` is the TLS name.
    ...(org.placed ? { host: org.placed } : {}),
    peers: org.peers.map((p) => ({
      name: p.fqdn,
      endpoint: p.endpoint,
      tlsRootCert: path.join(p.tlsDir, 'ca.crt'),
      ...(org.placed ? {} : { serverNameOverride: 'localhost' }),
    })),
    identities: {
      admin: { certificate: org.admin.certificate, privateKey: org.admin.privateKey },
      user: { certificate: org.user.certificate, privateKey: org.user.privateKey },
    },
    tls: {
      caCert: org.tlsCa,
      clientCert: path.join(org.user.tlsDir, 'client.crt'),
      clientKey: path.join(org.user.tlsDir, 'client.key'),
    },
  };
  const file = path.join(dir, `${org.key}.json`);
  fs.writeFileSync(file, JSON.stringify(profile, null, 2) + '\n');
  return file;
}

function profiles(net) {
  const dir = path.join(net.runtimeDir, 'profiles');
  fs.mkdirSync(dir, { recursive: true });
  const written = [];
  for (const org of net.orgs) written.push(writeProfile(net, org));
  const description = {
    network: net.name,
    domain: net.domain,
    runtimeDir: net.runtimeDir,
    chaincode: net.chaincode.name,
    ...(process.env.MB_FABRIC_BIN
      ? { tools: { fabricBin: process.env.MB_FABRIC_BIN, peerCliConfig: process.env.MB_PEER_CLI_CONFIG || '' } }
      : {}),
    ordererOrg: {
      name: net.ordererOrg.name,
      mspId: net.ordererOrg.mspId,
      ...(net.ordererOrg.placed ? { host: net.ordererOrg.placed } : {}),
      tlsCaCert: net.ordererOrg.tlsCa,
      orderers: net.ordererOrg.orderers.map((o) => ({
        name: o.fqdn,
        endpoint: o.endpoint,
        adminEndpoint: `${o.address}:${o.adminPort}`,
        operationsEndpoint: `${o.address}:${o.operationsPort}`,
        tlsRootCert: path.join(o.tlsDir, 'ca.crt'),
        ...(net.ordererOrg.placed ? {} : { serverNameOverride: 'localhost' }),
      })),
    },
    orgs: net.orgs.map((org) => ({
      name: org.name,
      mspId: org.mspId,
      ...(org.placed ? { host: org.placed } : {}),
      profile: path.join(dir, `${org.key}.json`),
      chaincodeServerPorts: [org.chaincode.port, org.chaincode.port + 1],
      peers: org.peers.map((p) => ({
        name: p.fqdn,
        endpoint: p.endpoint,
        chaincodeListener: `${p.address}:${p.chaincodePort}`,
        operationsEndpoint: `${p.address}:${p.operationsPort}`,
      })),
    })),
    channels: net.channels.map((c) => ({
      name: c.name,
      members: c.mspIds,
      orderers: net.ordererOrg.orderers.filter((o) => c.orderers.includes(o.name)).map((o) => o.endpoint),
      batchTimeout: c.batch.timeout,
      maxMessageCount: c.batch.maxMessageCount,
      lifecycleEndorsement: c.lifecycleEndorsement,
      endorsement: c.chaincodeEndorsementPolicy || `/Channel/Application/Endorsement (${c.endorsement})`,
      policyNote: c.policyNote || '',
    })),
  };
  const netFile = path.join(net.runtimeDir, 'network.json');
  fs.writeFileSync(netFile, JSON.stringify(description, null, 2) + '\n');
  written.push(netFile);
  return written;
}

// ---------------------------------------------------------------- hosts

// hosts(net): per placed host, its key (the org's lower-case name), address and every name that
// must resolve to it: the host's own name and the DNS names of its nodes.
function hosts(net) {
  const lines = [];
  if (net.ordererOrg.placed) {
    const p = net.ordererOrg.placed;
    lines.push([net.ordererOrg.name.toLowerCase(), p.address, p.name, ...net.ordererOrg.orderers.map((o) => o.fqdn)]);
  }
  for (const org of [...net.orgs, ...net.joining]) {
    if (!org.placed) continue;
    lines.push([org.key, org.placed.address, org.placed.name, ...org.peers.map((p) => p.fqdn), `chaincode.${org.domain}`]);
  }
  return lines.map((l) => l.join(' ')).join('\n') + (lines.length ? '\n' : '');
}

// ---------------------------------------------------------------- shell

function q(v) {
  return `'${String(v).replace(/'/g, `'\\''`)}'`;
}

function shell(net) {
  const out = [];
  const arr = (name, values) => out.push(`${name}=(${values.map(q).join(' ')})`);
  const assoc = (name, entries) => {
    out.push(`declare -gA ${name}=(${entries.map(([k, v]) => `[${q(k)}]=${q(v)}`).join(' ')})`);
  };
  out.push(`NET_NAME=${q(net.name)}`, `NET_HOST=${q(net.host)}`, `CC_NAME=${q(net.chaincode.name)}`);
  out.push(`CC_SOURCE=${q(net.chaincode.source)}`);
  out.push(`ORDERER_MSPID=${q(net.ordererOrg.mspId)}`, `ORDERER_TLSCA=${q(net.ordererOrg.tlsCa)}`);
  out.push(`ORDERER_ADMIN_MSP=${q(net.ordererOrg.adminMsp)}`, `ORDERER_ADMIN_TLS=${q(net.ordererOrg.adminTls)}`);
  const ords = net.ordererOrg.orderers;
  arr('ORDERERS', ords.map((o) => o.fqdn));
  assoc('O_PORT', ords.map((o) => [o.fqdn, o.port]));
  assoc('O_ADMIN', ords.map((o) => [o.fqdn, o.adminPort]));
  assoc('O_OPS', ords.map((o) => [o.fqdn, o.operationsPort]));
  assoc('O_MSP', ords.map((o) => [o.fqdn, o.mspDir]));
  assoc('O_TLS', ords.map((o) => [o.fqdn, o.tlsDir]));
  assoc('O_SHORT', ords.map((o) => [o.name, o.fqdn]));
  // *_HOST: the address a node listens on; *_ADDR: the host others dial it by (the same on loopback).
  assoc('O_HOST', ords.map((o) => [o.fqdn, o.host]));
  assoc('O_ADDR', ords.map((o) => [o.fqdn, o.address]));
  arr('ORGS', net.orgs.map((o) => o.name));
  assoc('ORG_MSPID', net.orgs.map((o) => [o.name, o.mspId]));
  assoc('ORG_KEY', net.orgs.map((o) => [o.name, o.key]));
  assoc('ORG_TLSCA', net.orgs.map((o) => [o.name, o.tlsCa]));
  assoc('ORG_ADMIN_MSP', net.orgs.map((o) => [o.name, o.admin.mspDir]));
  assoc('ORG_USER_MSP', net.orgs.map((o) => [o.name, o.user.mspDir]));
  assoc('ORG_PEERS', net.orgs.map((o) => [o.name, o.peers.map((p) => p.fqdn).join(' ')]));
  assoc('ORG_CC_PORT', net.orgs.map((o) => [o.name, o.chaincode.port]));
  assoc('ORG_HOST', net.orgs.map((o) => [o.name, o.host]));
  assoc('ORG_CC_SERVER_TLS', net.orgs.map((o) => [o.name, o.chaincode.serverTls]));
  assoc('ORG_CC_CLIENT_TLS', net.orgs.map((o) => [o.name, o.chaincode.clientTls]));
  // ORG_JOINS: the chain a joined org (MEDBRIDGE_JOIN) joins at run time (join-org.sh).
  assoc('ORG_JOINS', net.orgs.filter((o) => o.joins).map((o) => [o.name, o.joins]));
  const peers = net.orgs.flatMap((o) => o.peers);
  arr('PEERS', peers.map((p) => p.fqdn));
  assoc('P_ORG', peers.map((p) => [p.fqdn, p.org]));
  assoc('P_PORT', peers.map((p) => [p.fqdn, p.port]));
  assoc('P_HOST', peers.map((p) => [p.fqdn, p.host]));
  assoc('P_ADDR', peers.map((p) => [p.fqdn, p.address]));
  assoc('P_CC', peers.map((p) => [p.fqdn, p.chaincodePort]));
  assoc('P_OPS', peers.map((p) => [p.fqdn, p.operationsPort]));
  assoc('P_MSP', peers.map((p) => [p.fqdn, p.mspDir]));
  assoc('P_TLS', peers.map((p) => [p.fqdn, p.tlsDir]));
  // Gossip bootstrap: the next peer of the same org (none for a single-peer org).
  // NODE_HOST: the listen address of every orderer and peer (chaincode.sh adds its servers), which
  // a runtime may map to where the node runs (runtime-native.sh: a network namespace).
  assoc('NODE_HOST', [...ords.map((o) => [o.fqdn, o.host]), ...peers.map((p) => [p.fqdn, p.host])]);
  assoc('P_BOOTSTRAP', net.orgs.flatMap((o) => o.peers.map((p, i) => {
    const next = o.peers[(i + 1) % o.peers.length];
    return [p.fqdn, next === p ? '' : next.endpoint];
  })));
  arr('CHANNELS', net.channels.map((c) => c.name));
  assoc('CH_MEMBERS', net.channels.map((c) => [c.name, c.members.join(' ')]));
  assoc('CH_MSPIDS', net.channels.map((c) => [c.name, c.mspIds.join(' ')]));
  assoc('CH_ORDERERS', net.channels.map((c) => [c.name, ords.filter((o) => c.orderers.includes(o.name)).map((o) => o.fqdn).join(' ')]));
  assoc('CH_CC_POLICY', net.channels.map((c) => [c.name, c.chaincodeEndorsementPolicy || '']));
  assoc('CH_POLICY_NOTE', net.channels.map((c) => [c.name, c.policyNote || '']));
  return out.join('\n') + '\n';
}

function main() {
  const [file, runtimeDir, what, arg, arg2] = process.argv.slice(2);
  if (!file || !runtimeDir || !what) fail('usage: topology.js <network.json> <runtimeDir> <what> [org]');
  const net = load(file, path.resolve(runtimeDir));
  switch (what) {
    case 'check':
      return;
    case 'shell':
      process.stdout.write(shell(net));
      return;
    case 'crypto-config':
      process.stdout.write(JSON.stringify(cryptoConfig(net), null, 2) + '\n');
      return;
    case 'configtx':
      process.stdout.write(JSON.stringify(configtx(net), null, 2) + '\n');
      return;
    case 'connection':
      process.stdout.write(JSON.stringify(connection(net, arg, arg2), null, 2) + '\n');
      return;
    case 'join-crypto-config':
      process.stdout.write(JSON.stringify(joinCryptoConfig(net, joiningOrg(net, arg)), null, 2) + '\n');
      return;
    case 'join-configtx':
      process.stdout.write(JSON.stringify(joinConfigtx(joiningOrg(net, arg)), null, 2) + '\n');
      return;
    case 'profile':
      process.stdout.write(writeProfile(net, joiningOrg(net, arg)) + '\n');
      return;
    case 'hosts':
      process.stdout.write(hosts(net));
      return;
    case 'profiles':
      process.stdout.write(profiles(net).join('\n') + '\n');
      return;
    default:
      fail(`unknown output ${what}`);
  }
}

main();
