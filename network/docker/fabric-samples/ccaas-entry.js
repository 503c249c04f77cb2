'use strict';
/**
 * Entry point of the medbridge chaincode container for fabric-samples' deployCCAAS: the
 * environment that script sets (CHAINCODE_SERVER_ADDRESS, CHAINCODE_ID or CORE_CHAINCODE_ID_NAME,
 * optional CHAINCODE_TLS_* file paths) becomes the arguments of `fabric-chaincode-node server`.
 */
const path = require('path');

const address = process.env.CHAINCODE_SERVER_ADDRESS;
const id = process.env.CHAINCODE_ID || process.env.CORE_CHAINCODE_ID_NAME;
if (!address || !id) {
  console.error('medbridge chaincode: set CHAINCODE_SERVER_ADDRESS (e.g. 0.0.0.0:9999) and CHAINCODE_ID (the package id)');
  process.exit(2);
}
const args = ['server', '--chaincode-address', address, '--chaincode-id', id, '--module-path', path.join(__dirname, 'chaincode')];
const tls = { CHAINCODE_TLS_CERT: '--chaincode-tls-cert-file', CHAINCODE_TLS_KEY: '--chaincode-tls-key-file', CHAINCODE_TLS_CLIENT_CACERT: '--chaincode-tls-client-cacert-file' };
for (const [env, flag] of Object.entries(tls)) if (process.env[env]) args.push(flag, process.env[env]);
process.argv = [process.argv[0], 'fabric-chaincode-node', ...args];
require(path.join(__dirname, 'node_modules', 'fabric-shim', 'cli.js'));
