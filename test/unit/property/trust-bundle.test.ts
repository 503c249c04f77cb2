/**
 * Properties of the trust-bundle reader (the file an admin of a remote chain hands over out of
 * band): for any file content, no crash (only the gateway's typed ClientError), and one code
 * per kind of fault: BUNDLE_INVALID for anything that is not a consistent bundle,
 * BUNDLE_HASH_MISMATCH only for a bundle whose stated hash is not its content's.
 */
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listHash, parseNodeList } from '../../../chaincode/src/protocol/node-list';
import { ClientError } from '../../../gateway/src/errors';
import { BUNDLE_FORMAT, bundleHash, readBundleFile, type TrustBundle } from '../../../gateway/src/services/trust-bundle';
import { createChain, nodeList, orgTrust } from '../crosschain/support';
import { anyJson, mutations, outcomeOf } from './arbitraries';

const isClientError = (e: unknown): e is ClientError => e instanceof ClientError;
const RUNS = { numRuns: 150 } as const;

describe('trust bundle files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'medbridge-bundle-prop-'));
  let n = 0;
  let bundle: TrustBundle;

  const read = (content: string) => {
    n += 1;
    const file = join(dir, `b${n}.json`);
    writeFileSync(file, content);
    return outcomeOf(() => readBundleFile(file), isClientError);
  };

  beforeAll(async () => {
    const chain = await createChain('chain-c', ['HospitalDMSP', 'ResearchInstituteMSP'], 1);
    const list = parseNodeList(nodeList(chain, 2));
    bundle = {
      format: BUNDLE_FORMAT,
      chainId: 'chain-c',
      members: ['HospitalDMSP', 'ResearchInstituteMSP'],
      orgs: chain.orgs.map((o) => orgTrust(o)),
      nodeList: list,
      epoch: 2,
      listHash: listHash(list),
      schemes: ['fabric-endorsement'],
    };
  });

  it('accepts the exported bundle', () => {
    expect(read(JSON.stringify({ bundle, hash: bundleHash(bundle) })).ok).toBe(true);
  });

  it('refuses any other file content with BUNDLE_INVALID, never crashing', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), anyJson.map((v) => JSON.stringify(v)), anyJson.map((v) => JSON.stringify({ bundle: v, hash: 'ab' }))), (content) => {
        expect(read(content)).toEqual({ ok: false, code: 'BUNDLE_INVALID' });
      }),
      RUNS,
    );
  });

  it('refuses a bundle whose content was changed with BUNDLE_HASH_MISMATCH, and an inconsistent one re-hashed with BUNDLE_INVALID', () => {
    fc.assert(
      fc.property(
        fc.constant(null).chain(() => mutations(bundle as unknown as Record<string, unknown>)).filter((m) => m.field !== 'format'),
        fc.boolean(),
        (m, rehash) => {
          const out = rehash
            ? read(JSON.stringify({ bundle: m.value, hash: outcomeOf(() => bundleHash(m.value as unknown as TrustBundle)).ok ? bundleHash(m.value as unknown as TrustBundle) : bundleHash(bundle) }))
            : read(JSON.stringify({ bundle: m.value, hash: bundleHash(bundle) }));
          // Content canonical JSON cannot encode has no hash to compare: invalid either way.
          const hashable = outcomeOf(() => bundleHash(m.value as unknown as TrustBundle)).ok;
          expect(out).toEqual({ ok: false, code: rehash || !hashable ? 'BUNDLE_INVALID' : 'BUNDLE_HASH_MISMATCH' });
        },
      ),
      RUNS,
    );
  });
});
