#!/usr/bin/env node
'use strict';
/**
 * Stages the compiled chaincode for a chaincode-server container: <out>/<cc>/dist,
 * <out>/<cc>/package.json and exactly the installed packages its production dependencies need
 * (dependencies + optionalDependencies, transitively, resolved the way Node resolves them), each
 * at its path relative to the repository, so Node's module resolution inside the container finds
 * the same files as on the host. The container bind-mounts <out> read-only.
 *
 *   stage-chaincode.js <repoRoot> <chaincodeDir> <outDir>
 */
const fs = require('fs');
const path = require('path');

function fail(msg) {
  process.stderr.write(`stage-chaincode: ${msg}\n`);
  process.exit(1);
}

const [repoArg, ccArg, outArg] = process.argv.slice(2);
if (!repoArg || !ccArg || !outArg) fail('usage: stage-chaincode.js <repoRoot> <chaincodeDir> <outDir>');
const repo = fs.realpathSync(repoArg);
const cc = fs.realpathSync(ccArg);
const out = path.resolve(outArg);

function readPkg(dir) {
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
}

// findPackage NAME FROM: the first <dir>/node_modules/NAME above FROM (Node's lookup order).
function findPackage(name, from) {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return fs.realpathSync(candidate);
    if (dir === path.dirname(dir)) return null;
  }
}

const packages = new Set();
function visit(dir) {
  const pkg = readPkg(dir);
  const optional = pkg.optionalDependencies || {};
  for (const name of Object.keys({ ...(pkg.dependencies || {}), ...optional })) {
    const found = findPackage(name, dir);
    if (!found) {
      if (name in optional) continue;
      fail(`${name} (needed by ${pkg.name || dir}) is not installed: run npm ci`);
    }
    if (packages.has(found)) continue;
    packages.add(found);
    visit(found);
  }
}
visit(cc);

const rel = (p) => {
  const r = path.relative(repo, p);
  if (r.startsWith('..') || path.isAbsolute(r)) fail(`${p} lies outside the repository`);
  return r;
};

fs.rmSync(out, { recursive: true, force: true });
const ccOut = path.join(out, rel(cc));
fs.mkdirSync(ccOut, { recursive: true });
fs.cpSync(path.join(cc, 'dist'), path.join(ccOut, 'dist'), {
  recursive: true,
  filter: (src) => !src.endsWith('.tsbuildinfo') && !src.endsWith('.d.ts') && !src.endsWith('.map'),
});
fs.copyFileSync(path.join(cc, 'package.json'), path.join(ccOut, 'package.json'));
let bytes = 0;
for (const dir of [...packages].sort()) {
  const own = path.join(dir, 'node_modules');
  fs.cpSync(dir, path.join(out, rel(dir)), {
    recursive: true,
    // Nested node_modules are staged on their own when something needs them.
    filter: (src) => src !== own && !src.startsWith(own + path.sep),
  });
}
for (const f of fs.readdirSync(out, { recursive: true, withFileTypes: true })) {
  if (f.isFile()) bytes += fs.statSync(path.join(f.parentPath ?? f.path, f.name)).size;
}
process.stdout.write(`${packages.size} packages, ${(bytes / 1048576).toFixed(1)} MB\n`);
