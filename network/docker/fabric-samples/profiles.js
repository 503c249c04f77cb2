#!/usr/bin/env node
'use strict';
/**
 * medbridge connection profiles (the format of gateway/src/fabric/profile.ts) for the two orgs of
 * fabric-samples' test-network, from its organizations/ directory (cryptogen or Fabric CA
 * layout: the first file in signcerts/ and keystore/ is taken).
 *
 *   profiles.js <fabric-samples/test-network> <outDir> [channel=mychannel] [chaincode=medbridge]
 *
 * Writes <outDir>/org1.json and <outDir>/org2.json; then MEDBRIDGE_PROFILES=<outDir> points the
 * medbridge gateway and CLI at them.
 */
const fs = require('fs');
const path = require('path');

const [tnArg, outArg, channel = 'mychannel', chaincode = 'medbridge'] = process.argv.slice(2);
if (!tnArg || !outArg) {
  console.error('usage: profiles.js <test-network dir> <outDir> [channel] [chaincode]');
  process.exit(2);
}
const tn = path.resolve(tnArg);
const out = path.resolve(outArg);

function firstFile(dir) {
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort() : [];
  if (files.length === 0) throw new Error(`no file in ${dir}: is the test-network up (./network.sh up createChannel)?`);
  return path.join(dir, files[0]);
}

const ORGS = [
  { n: 1, port: 7051 },
  { n: 2, port: 9051 },
];
fs.mkdirSync(out, { recursive: true });
for (const { n, port } of ORGS) {
  const domain = `org${n}.example.com`;
  const orgDir = path.join(tn, 'organizations', 'peerOrganizations', domain);
  const user = (u) => {
    const msp = path.join(orgDir, 'users', `${u}@${domain}`, 'msp');
    return { certificate: firstFile(path.join(msp, 'signcerts')), privateKey: firstFile(path.join(msp, 'keystore')) };
  };
  const userTls = path.join(orgDir, 'users', `User1@${domain}`, 'tls');
  const peerTls = path.join(orgDir, 'peers', `peer0.${domain}`, 'tls', 'ca.crt');
  const profile = {
    network: 'fabric-samples-test-network',
    org: `Org${n}`,
    mspId: `Org${n}MSP`,
    channels: [channel],
    chaincode,
    peers: [{ name: `peer0.${domain}`, endpoint: `localhost:${port}`, tlsRootCert: peerTls, serverNameOverride: `peer0.${domain}` }],
    identities: { admin: user('Admin'), user: user('User1') },
    tls: {
      caCert: path.join(orgDir, 'tlsca', `tlsca.${domain}-cert.pem`),
      clientCert: path.join(userTls, 'client.crt'),
      clientKey: path.join(userTls, 'client.key'),
    },
  };
  const file = path.join(out, `org${n}.json`);
  fs.writeFileSync(file, JSON.stringify(profile, null, 2) + '\n');
  console.log(file);
}
