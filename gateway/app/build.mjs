// Bundles the patient app (gateway/APP.md) into gateway/app/dist with esbuild: one script,
// one stylesheet, one page. The protocol module comes from the chaincode's package entry
// (@medbridge/chaincode, its source), as in the gateway; node:crypto is replaced by a
// SHA-256-only shim because the browser signs with WebCrypto.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const out = join(here, 'dist');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const shim = join(here, 'src', 'shims', 'node-crypto.ts');
const result = await build({
  entryPoints: [join(here, 'src', 'main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  alias: { '@medbridge/chaincode': join(repo, 'chaincode', 'src', 'api.ts') },
  inject: [join(here, 'src', 'shims', 'buffer.ts')],
  plugins: [
    {
      name: 'node-crypto-shim',
      setup(b) {
        b.onResolve({ filter: /^(node:)?crypto$/ }, () => ({ path: shim }));
        // The endorsement scheme's proof decoder (Fabric's protobufs, gRPC stubs) is never
        // reached from a patient's page.
        b.onResolve({ filter: /^@hyperledger\/fabric-protos$/ }, () => ({ path: join(here, 'src', 'shims', 'fabric-protos.ts') }));
        // The aggregate scheme's native BLS backend is a Node-API module; the page keeps pure JS.
        b.onResolve({ filter: /^@chainsafe\/blst$/ }, () => ({ path: join(here, 'src', 'shims', 'blst.ts') }));
      },
    },
  ],
  // The aggregate scheme's backend chooser reads MEDBRIDGE_BLS_BACKEND; a page has no process:
  // it keeps the pure-JS backend (and never loads the Node-API module).
  define: { 'process.env.NODE_ENV': '"production"', 'process.env.MEDBRIDGE_BLS_BACKEND': '"js"' },
});
for (const f of ['index.html', 'style.css']) copyFileSync(join(here, f), join(out, f));
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`app: gateway/app/dist (${Math.round(bytes / 1024)} KiB)`);
