import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientError } from '../../../gateway/src/errors';
import type { SignerEndpoint } from '../../../gateway/src/proofs';
import { loadSignerConfig, parseSignerConfig, proofOptionsFor, signerCount } from '../../../gateway/src/relay/relay-scheme';

const BLS = 'bls12381-aggregate';
const PEM = (label: string) => `-----BEGIN CERTIFICATE-----\n${Buffer.from(label).toString('base64')}\n-----END CERTIFICATE-----\n`;
const endpoint = (nodeId: string): SignerEndpoint => ({ nodeId, url: 'https://127.0.0.1:7441', tls: { ca: PEM('ca'), cert: PEM('cert'), key: PEM('key') } });
const signers = { 'chain-a': [endpoint('peer0.a'), endpoint('peer1.a')], 'chain-b': [] };

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return e instanceof ClientError ? e.code : `not a ClientError: ${String(e)}`;
  }
}

describe('relay proof scheme choice', () => {
  it('builds scheme 1 on a route that names no schemes, even with signers configured', () => {
    expect(proofOptionsFor(undefined, 'chain-a', signers, 'r')).toBeUndefined();
  });

  it('builds scheme 1 whenever the route accepts fabric-endorsement, also next to the aggregate scheme', () => {
    expect(proofOptionsFor(['fabric-endorsement'], 'chain-a', signers, 'r')).toBeUndefined();
    expect(proofOptionsFor([BLS, 'fabric-endorsement'], 'chain-a', signers, 'r')).toBeUndefined();
  });

  it('builds the aggregate proof with the signing chain\u2019s signers on a route that accepts only the aggregate scheme', () => {
    expect(proofOptionsFor([BLS], 'chain-a', signers, 'r')).toEqual({ scheme: BLS, signers: signers['chain-a'] });
  });

  it('fails NO_BLS_SIGNERS when the route wants the aggregate scheme and the signing chain has no (or an empty list of) signers', () => {
    expect(codeOf(() => proofOptionsFor([BLS], 'chain-b', signers, 'r'))).toBe('NO_BLS_SIGNERS');
    expect(codeOf(() => proofOptionsFor([BLS], 'chain-c', signers, 'r'))).toBe('NO_BLS_SIGNERS');
    expect(codeOf(() => proofOptionsFor([BLS], 'chain-a', undefined, 'r'))).toBe('NO_BLS_SIGNERS');
    expect(() => proofOptionsFor([BLS], 'chain-b', signers, 'r-x')).toThrow(/route r-x .*chain-b/);
  });

  it('keeps scheme 1 for a route naming only schemes the relay cannot build (the destination then says UNSUPPORTED_SCHEME)', () => {
    expect(proofOptionsFor(['some-future-scheme'], 'chain-a', signers, 'r')).toBeUndefined();
  });
});

describe('relay signer count of a built proof', () => {
  it('counts endorsements of a scheme-1 proof', () => {
    expect(signerCount({ scheme: 'fabric-endorsement', signatures: [{}, {}] })).toBe(2);
    expect(signerCount({ scheme: 'fabric-endorsement', signatures: [] })).toBe(0);
  });

  it('counts the bits set in the bitmap of an aggregate proof', () => {
    const bitmap = Buffer.from([0b1011_0000, 0b0000_0001]).toString('base64');
    expect(signerCount({ scheme: BLS, signatures: { signature: 'c2ln', signers: bitmap } })).toBe(4);
  });

  it('counts no signer for an aggregate proof with an empty bitmap or no aggregate signature', () => {
    expect(signerCount({ scheme: BLS, signatures: { signature: 'c2ln', signers: Buffer.from([0, 0]).toString('base64') } })).toBe(0);
    expect(signerCount({ scheme: BLS, signatures: { signature: '', signers: Buffer.from([1]).toString('base64') } })).toBe(0);
    expect(signerCount({ scheme: BLS, signatures: [] })).toBe(0);
  });
});

describe('relay --bls-signers file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'relay-signers-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes PEMs inline or from paths relative to the file\u2019s folder', () => {
    writeFileSync(join(dir, 'ca.pem'), PEM('file-ca'));
    const file = join(dir, 'signers.json');
    writeFileSync(file, JSON.stringify({ 'chain-a': [{ nodeId: 'peer0.a', url: 'https://127.0.0.1:7441', tls: { ca: 'ca.pem', cert: PEM('cert'), key: PEM('key'), serverName: 'localhost' } }] }));
    expect(loadSignerConfig(file)).toEqual({
      'chain-a': [{ nodeId: 'peer0.a', url: 'https://127.0.0.1:7441', tls: { ca: PEM('file-ca'), cert: PEM('cert'), key: PEM('key'), serverName: 'localhost' } }],
    });
  });

  it('refuses a malformed file with USAGE naming the entry', () => {
    const ok = { nodeId: 'n', url: 'https://h:1', tls: { ca: PEM('a'), cert: PEM('b'), key: PEM('c') } };
    expect(codeOf(() => parseSignerConfig([ok], dir))).toBe('USAGE');
    expect(codeOf(() => parseSignerConfig({ 'chain-a': ok }, dir))).toBe('USAGE');
    expect(codeOf(() => parseSignerConfig({ 'chain-a': [{ ...ok, url: 'http://h:1' }] }, dir))).toBe('USAGE');
    expect(codeOf(() => parseSignerConfig({ 'chain-a': [{ ...ok, nodeId: '' }] }, dir))).toBe('USAGE');
    expect(() => parseSignerConfig({ 'chain-a': [ok, { ...ok, tls: { ...ok.tls, key: 'missing.key' } }] }, dir)).toThrow(/chain-a\[1\]\.tls\.key/);
    writeFileSync(join(dir, 'not-pem.txt'), 'hello');
    expect(() => parseSignerConfig({ 'chain-a': [{ ...ok, tls: { ...ok.tls, ca: 'not-pem.txt' } }] }, dir)).toThrow(/not a PEM/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{');
    expect(codeOf(() => loadSignerConfig(bad))).toBe('USAGE');
  });
});
