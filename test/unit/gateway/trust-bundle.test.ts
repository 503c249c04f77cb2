/**
 * Trust bundle files: the hash admins compare out of band is the hash of the content, a file
 * changed after export or a different expected hash is refused, and an inconsistent bundle
 * (a node not certified by its org's root) is refused before any governance call.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNodeList, listHash } from '@medbridge/chaincode';
import {
  BUNDLE_FORMAT,
  bundleHash,
  normaliseHash,
  readBundleFile,
  registerAction,
  verifiedBundle,
  writeBundleFile,
  type TrustBundle,
} from '../../../gateway/src/services/trust-bundle';
import { createChain, nodeList, orgTrust } from '../crosschain/support';

async function bundle(): Promise<TrustBundle> {
  const chain = await createChain('chain-c', ['HospitalDMSP', 'ResearchInstituteMSP'], 2);
  const list = parseNodeList(nodeList(chain, 3, { rule: { kind: 'k-of-m', k: 2 } }));
  return {
    format: BUNDLE_FORMAT,
    chainId: 'chain-c',
    members: ['HospitalDMSP', 'ResearchInstituteMSP'],
    orgs: chain.orgs.map((o) => orgTrust(o)),
    nodeList: list,
    epoch: 3,
    listHash: listHash(list),
    schemes: ['fabric-endorsement'],
  };
}

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
};

describe('trust bundle files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'medbridge-bundle-'));

  it('accepts a bundle whose hash matches the one compared out of band, in any common spelling', async () => {
    const b = await bundle();
    const file = join(dir, 'ok.json');
    const hash = bundleHash(b);
    writeBundleFile(file, { bundle: b, hash });
    expect(readBundleFile(file).hash).toBe(hash);
    expect(verifiedBundle(file, `sha256:${hash.toUpperCase()}`).chainId).toBe('chain-c');
    expect(normaliseHash(hash.match(/../g)!.join(':'))).toBe(hash);
    expect(registerAction(b)).toMatchObject({ kind: 'register-remote', chainId: 'chain-c', schemes: ['fabric-endorsement'] });
  });

  it('refuses an expected hash that differs with BUNDLE_HASH_MISMATCH', async () => {
    const b = await bundle();
    const file = join(dir, 'other.json');
    const hash = bundleHash(b);
    writeBundleFile(file, { bundle: b, hash });
    const wrong = (hash[0] === '0' ? '1' : '0') + hash.slice(1);
    expect(codeOf(() => verifiedBundle(file, wrong))).toBe('BUNDLE_HASH_MISMATCH');
    expect(codeOf(() => verifiedBundle(file, 'not-a-hash'))).toBe('USAGE');
  });

  it('refuses a file changed after export even with the agreed hash', async () => {
    const b = await bundle();
    const file = join(dir, 'tampered.json');
    const hash = bundleHash(b);
    writeBundleFile(file, { bundle: b, hash });
    const f = JSON.parse(readFileSync(file, 'utf8'));
    f.bundle.nodeList.rule = { kind: 'k-of-m', k: 1 };
    writeFileSync(file, JSON.stringify(f));
    expect(codeOf(() => verifiedBundle(file, hash))).toBe('BUNDLE_HASH_MISMATCH');
  });

  it('refuses a consistent-looking bundle whose node is not certified by its org root with BUNDLE_INVALID', async () => {
    const b = await bundle();
    const stranger = await createChain('chain-x', ['HospitalDMSP'], 1);
    const forged: TrustBundle = { ...b, orgs: [orgTrust(stranger.orgs[0]!), b.orgs[1]!] };
    const file = join(dir, 'forged.json');
    writeBundleFile(file, { bundle: forged, hash: bundleHash(forged) });
    expect(codeOf(() => readBundleFile(file))).toBe('BUNDLE_INVALID');
  });
});
