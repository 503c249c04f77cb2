/**
 * The chaincode-as-a-service builder's `build` step, both implementations: the bash scripts the
 * native peers use (network/builders/ccaas) and the static Go binary of the peer images
 * (network/builders/ccaas-static). Both fill connection.json's templates from
 * CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG as Fabric's ccaas builder does, refuse a placeholder the
 * configuration cannot fill (no connection.json written), and write the same bytes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(__dirname, '..', '..', '..');
const CONFIG_ENV = 'CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG';
const work = mkdtempSync(join(tmpdir(), 'medbridge-ccaas-builder-'));
const staticBuild = join(work, 'bin', 'build');

interface Outcome {
  status: number | null;
  stderr: string;
  /** The build output's connection.json, or undefined when none was written. */
  connection?: string;
  metaInf: boolean;
}

type Builder = (connection: string, config: string | undefined, metaInf?: boolean) => Outcome;

let seq = 0;
function runner(command: string): Builder {
  return (connection, config, metaInf = false) => {
    const dir = join(work, `case-${++seq}`);
    const src = join(dir, 'src');
    const meta = join(dir, 'meta');
    const out = join(dir, 'out');
    for (const d of [src, meta, out]) mkdirSync(d, { recursive: true });
    writeFileSync(join(src, 'connection.json'), connection);
    writeFileSync(join(meta, 'metadata.json'), '{"type":"ccaas","label":"probe_1"}');
    if (metaInf) {
      mkdirSync(join(src, 'META-INF', 'statedb', 'couchdb', 'indexes'), { recursive: true });
      writeFileSync(join(src, 'META-INF', 'statedb', 'couchdb', 'indexes', 'i.json'), '{}');
    }
    // The peer runs a builder with PATH and the propagated variables only.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
    if (config !== undefined) env[CONFIG_ENV] = config;
    const res = spawnSync(command, [src, meta, out], { env, encoding: 'utf8' });
    const file = join(out, 'connection.json');
    return {
      status: res.status,
      stderr: res.stderr,
      connection: existsSync(file) ? readFileSync(file, 'utf8') : undefined,
      metaInf: existsSync(join(out, 'META-INF', 'statedb', 'couchdb', 'indexes', 'i.json')),
    };
  };
}

const builders: [string, Builder][] = [
  ['script builder (native peers)', runner(join(REPO, 'network', 'builders', 'ccaas', 'bin', 'build'))],
  ['static builder (peer images)', runner(staticBuild)],
];

beforeAll(() => {
  mkdirSync(join(work, 'bin'), { recursive: true });
  const res = spawnSync('go', ['build', '-trimpath', '-o', staticBuild, '.'], {
    cwd: join(REPO, 'network', 'builders', 'ccaas-static'),
    env: { ...process.env, CGO_ENABLED: '0' },
    encoding: 'utf8',
  });
  if (res.error || res.status !== 0) throw new Error(`go build of the static ccaas builder failed: ${res.error?.message ?? res.stderr}`);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

const DEPLOY_CCAAS = '{\n  "address": "{{.peername}}_medbridge_ccaas:9999",\n  "dial_timeout": "10s",\n  "tls_required": false\n}\n';

describe.each(builders)('%s', (_name, build) => {
  it("fills deployCCAAS's {{.peername}} address from the peer's builder config", () => {
    const r = build(DEPLOY_CCAAS, '{"peername":"peer0org1"}');
    expect(r.status).toBe(0);
    expect(r.connection).toBe('{"address":"peer0org1_medbridge_ccaas:9999","dial_timeout":"10s","tls_required":false}\n');
  });

  it('accepts spaces inside a placeholder and fills several keys, dial_timeout included', () => {
    const r = build('{"address":"{{ .host }}:{{.port}}","dial_timeout":"{{.timeout}}","tls_required":false}', '{"host":"127.0.0.1","port":7060,"timeout":"3s"}');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.connection ?? '')).toEqual({ address: '127.0.0.1:7060', dial_timeout: '3s', tls_required: false });
  });

  it('keeps a connection.json without placeholders as it is, with or without a builder config', () => {
    const plain = '{"address":"127.0.0.1:7060","dial_timeout":"10s","tls_required":false}';
    expect(build(plain, undefined).connection).toBe(`${plain}\n`);
    expect(build(plain, '{"peername":"peer0org1"}').connection).toBe(`${plain}\n`);
  });

  it('fills the TLS fields only when tls_required is true, and keeps fields it does not know', () => {
    const tlsOn = build('{"address":"a:1","tls_required":true,"client_auth_required":true,"root_cert":"{{.ca}}","client_key":"K","client_cert":"C","extra":"{{.ca}}"}', '{"ca":"PEM"}');
    expect(JSON.parse(tlsOn.connection ?? '')).toEqual({
      address: 'a:1', tls_required: true, client_auth_required: true, root_cert: 'PEM', client_key: 'K', client_cert: 'C', extra: '{{.ca}}',
    });
    const tlsOff = build('{"address":"a:1","tls_required":false,"root_cert":"{{.ca}}"}', '{}');
    expect(tlsOff.status).toBe(0);
    expect(JSON.parse(tlsOff.connection ?? '')).toEqual({ address: 'a:1', tls_required: false, root_cert: '{{.ca}}' });
  });

  it('copies META-INF (CouchDB indexes) into the build output', () => {
    const r = build('{"address":"a:1","tls_required":false}', undefined, true);
    expect(r.status).toBe(0);
    expect(r.metaInf).toBe(true);
  });

  it('refuses a placeholder whose key the builder config lacks, and writes no connection.json', () => {
    const r = build(DEPLOY_CCAAS.replace('peername', 'nosuchkey'), '{"peername":"peer0org1"}');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('connection.json address');
    expect(r.stderr).toContain('no entry for key "nosuchkey"');
    expect(r.connection).toBeUndefined();
  });

  it('refuses a template when the peer passes no builder config, and writes no connection.json', () => {
    const r = build(DEPLOY_CCAAS, undefined);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`connection.json address is a template but ${CONFIG_ENV} is not set`);
    expect(r.connection).toBeUndefined();
  });

  it('refuses a builder config that is not a JSON object, and writes no connection.json', () => {
    const r = build(DEPLOY_CCAAS, 'peername=peer0org1');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${CONFIG_ENV} is not a JSON object`);
    expect(r.connection).toBeUndefined();
  });
});

describe('both builders', () => {
  it.each([
    [DEPLOY_CCAAS, '{"peername":"peer0org2"}'],
    ['{"address":"{{.host}}:7060","dial_timeout":"10s","tls_required":true,"client_auth_required":true,"root_cert":"-----BEGIN CERTIFICATE-----\\n<a&b>\\n","client_key":"k","client_cert":"c"}', '{"host":"127.0.0.1"}'],
  ])('write byte-identical connection.json for %s', (connection, config) => {
    const outputs = builders.map(([, build]) => build(connection, config).connection);
    expect(outputs[0]).toBeDefined();
    expect(outputs[1]).toBe(outputs[0]);
  });
});
