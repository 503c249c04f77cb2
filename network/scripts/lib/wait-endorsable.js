#!/usr/bin/env node
'use strict';
/**
 * Waits until the peer Gateway service can plan an endorsement for the chaincode on a channel:
 * after a chaincode definition changes, discovery knows the peers that run it only once gossip
 * has spread their new state, and until then submits fail with "no combination of peers".
 *
 *   wait-endorsable.js <repo> <profile.json> <channel> <timeoutSeconds>
 *
 * Endorses System:Ping (read-only) and never submits it: nothing is written.
 */
const path = require('path');
const fs = require('fs');

const [repo, profileFile, channel, timeoutArg] = process.argv.slice(2);
const from = { paths: [path.join(repo, 'gateway'), repo] };
const grpc = require(require.resolve('@grpc/grpc-js', from));
const { connect, signers, hash } = require(require.resolve('@hyperledger/fabric-gateway', from));
const crypto = require('crypto');

async function main() {
  const profile = JSON.parse(fs.readFileSync(profileFile, 'utf8'));
  const peer = profile.peers[0];
  const client = new grpc.Client(peer.endpoint, grpc.credentials.createSsl(fs.readFileSync(peer.tlsRootCert)), {
    'grpc.ssl_target_name_override': peer.serverNameOverride || 'localhost',
  });
  const gateway = connect({
    client,
    identity: { mspId: profile.mspId, credentials: fs.readFileSync(profile.identities.user.certificate) },
    signer: signers.newPrivateKeySigner(crypto.createPrivateKey(fs.readFileSync(profile.identities.user.privateKey))),
    hash: hash.sha256,
  });
  const contract = gateway.getNetwork(channel).getContract(profile.chaincode, 'System');
  const deadline = Date.now() + Number(timeoutArg || 30) * 1000;
  let last = '';
  try {
    for (;;) {
      try {
        await contract.newProposal('Ping').endorse({ deadline: Date.now() + 10000 });
        return 0;
      } catch (e) {
        last = `${e.message} ${JSON.stringify(e.details || [])}`;
      }
      if (Date.now() > deadline) {
        process.stderr.write(`error: ${profile.org} cannot get ${channel} endorsements for ${profile.chaincode}: ${last}\n`);
        return 1;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    gateway.close();
    client.close();
  }
}

main().then((code) => process.exit(code), (e) => { process.stderr.write(`error: ${e.stack || e}\n`); process.exit(1); });
