/**
 * `make demo`, last part: HospitalA's gateway API (`medbridge serve`) with the patient app at
 * /app/, its URL printed. On a terminal it runs until Ctrl-C so a person can use the app (an
 * enrolment code comes from `POST /v1/enrolments` with HospitalA's client certificate, see
 * gateway/APP.md); otherwise (CI, MEDBRIDGE_DEMO_WAIT=0) it checks that /app/ answers and stops.
 * The server's certificate is HospitalA's peer TLS certificate (localhost), signed by the org's
 * TLS CA, which a browser does not know: it asks the person to accept it.
 */
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseServeConfig } from '../api/config';
import { startApi } from '../api/serve';
import { loadProfile } from '../fabric/profile';
import { silentLogger } from '../logger';

async function main(): Promise<number> {
  const profile = loadProfile('HospitalA');
  const peer = profile.peers[0];
  if (!peer) throw new Error('the HospitalA profile names no peer');
  const tlsDir = dirname(peer.tlsRootCert);
  const port = Number(process.env.MEDBRIDGE_DEMO_APP_PORT ?? '8443');
  const cfg = parseServeConfig({ org: 'HospitalA', listen: { host: '127.0.0.1', port }, tls: { cert: join(tlsDir, 'server.crt'), key: join(tlsDir, 'server.key') }, logLevel: 'warn' }, '/');
  const api = await startApi(cfg, silentLogger);
  const url = `${api.url.replace('127.0.0.1', 'localhost')}/app/`;
  const status = await new Promise<number>((resolve, reject) => {
    request(url, { ca: readFileSync(peer.tlsRootCert, 'utf8'), agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
  process.stdout.write(`patient app: ${url} (HTTP ${status}); API reference ${api.url.replace('127.0.0.1', 'localhost')}/docs\n`);
  if (status !== 200) {
    await api.close();
    return 1;
  }
  if (!process.stdout.isTTY || process.env.MEDBRIDGE_DEMO_WAIT === '0') {
    await api.close();
    return 0;
  }
  process.stdout.write('open it in a browser (accept the certificate of HospitalA\'s TLS CA); Ctrl-C stops the server\n');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await api.close();
  return 0;
}

void main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`patient app: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
