#!/usr/bin/env node
'use strict';
/**
 * The template step of the chaincode-as-a-service `build` for native peers, the same rules as the
 * static builder of the peer images (network/builders/ccaas-static/connection.go) and as Fabric's
 * own ccaas builder: the string fields address and dial_timeout, and root_cert, client_key and
 * client_cert when tls_required is true, are templates filled from the JSON object in
 * CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG (the peer passes it through propagateEnvironment). A
 * placeholder whose key is missing is an error. Supported placeholders: {{.key}} and {{ .key }}
 * (what connection.json files use); any other template action is refused, never passed through.
 *
 *   fill-connection.js <connection.json>   prints the filled file (compact JSON, sorted keys)
 */
const fs = require('fs');

const CONFIG_ENV = 'CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG';
const FIELDS = ['address', 'dial_timeout', 'root_cert', 'client_key', 'client_cert'];
const TLS_ONLY = new Set(['root_cert', 'client_key', 'client_cert']);

function fail(msg) {
  process.stderr.write(`ccaas build: ${msg}\n`);
  process.exit(1);
}

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function fill(field, text, cfg) {
  return text.replace(/\{\{(.*?)\}\}/gs, (_, action) => {
    const m = /^\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(action);
    if (!m) fail(`connection.json ${field}: unsupported template action {{${action}}} (only {{.key}} placeholders)`);
    const key = m[1];
    if (cfg === undefined) fail(`connection.json ${field} is a template but ${CONFIG_ENV} is not set: no entry for key "${key}"`);
    if (!Object.prototype.hasOwnProperty.call(cfg, key)) fail(`connection.json ${field}: map has no entry for key "${key}"`);
    const value = cfg[key];
    if (isObject(value) || Array.isArray(value)) fail(`connection.json ${field}: ${CONFIG_ENV} key "${key}" is not a scalar`);
    return String(value);
  });
}

const file = process.argv[2];
if (!file) fail('usage: fill-connection.js <connection.json>');
let conn;
try {
  conn = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch (e) {
  fail(`connection.json is not a JSON object: ${e.message}`);
}
if (!isObject(conn)) fail('connection.json is not a JSON object');
let cfg;
const rawCfg = process.env[CONFIG_ENV];
if (rawCfg) {
  try {
    cfg = JSON.parse(rawCfg);
  } catch (e) {
    fail(`${CONFIG_ENV} is not a JSON object: ${e.message}`);
  }
  if (!isObject(cfg)) fail(`${CONFIG_ENV} is not a JSON object`);
}
if ('tls_required' in conn && typeof conn.tls_required !== 'boolean') fail('connection.json: tls_required must be true or false');
for (const field of FIELDS) {
  if (!(field in conn) || (TLS_ONLY.has(field) && conn.tls_required !== true)) continue;
  if (typeof conn[field] !== 'string') fail(`connection.json: ${field} must be a string`);
  conn[field] = fill(field, conn[field], cfg);
}
const sorted = Object.fromEntries(Object.keys(conn).sort().map((k) => [k, conn[k]]));
process.stdout.write(`${JSON.stringify(sorted)}\n`);
