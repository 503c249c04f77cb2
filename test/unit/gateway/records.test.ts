import { createHash, X509Certificate } from 'node:crypto';
import { recordHash } from '../../../chaincode/src/protocol/record-hash';
import { ClientError } from '../../../gateway/src/errors';
import type { FetchAnswer, FetchRequest } from '../../../gateway/src/records/custodian';
import { matchesAnchor, newSalt } from '../../../gateway/src/records/hashing';
import { orgOfCertificate, type OrgTlsIdentity, type TrustedOrg } from '../../../gateway/src/records/org-tls';
import { fetchRecord, fetchSealedConsent } from '../../../gateway/src/records/requester';
import { startRecordServer, type RunningRecordServer } from '../../../gateway/src/records/server';
import { RecordStore } from '../../../gateway/src/records/store';
import { createRootCa, issue, type Issued } from '../../fixtures/pki';

describe('salted record hash', () => {
  it('matches only the exact bytes and salt that were anchored', () => {
    const salt = newSalt();
    const content = Buffer.from('{"resourceType":"Observation"}');
    const anchored = recordHash(salt, content);
    expect(matchesAnchor(content, salt, anchored)).toBe(true);
    expect(matchesAnchor(Buffer.from('{"resourceType":"Observation "}'), salt, anchored)).toBe(false);
    expect(matchesAnchor(content, newSalt(), anchored)).toBe(false);
    expect(matchesAnchor(content, salt, 'not-hex')).toBe(false);
    expect(matchesAnchor(content, Buffer.alloc(8), anchored)).toBe(false);
  });
});

describe('record store (SQLite)', () => {
  const base = {
    recordId: 'rec-1',
    channel: 'chain-a',
    patientId: 'pt_x',
    category: 'Observation',
    salt: Buffer.alloc(32, 1),
    hash: 'h',
    contentType: 'application/fhir+json',
    storedAt: 1,
  };

  it('keeps every version and returns the latest by default', () => {
    const s = new RecordStore(':memory:');
    s.put({ ...base, version: 1, content: Buffer.from('v1') });
    s.put({ ...base, version: 2, content: Buffer.from('v2') });
    expect(s.get('rec-1')?.content.toString()).toBe('v2');
    expect(s.get('rec-1', 1)?.content.toString()).toBe('v1');
    expect(s.list().map((r) => [r.recordId, r.version, r.size])).toEqual([
      ['rec-1', 1, 2],
      ['rec-1', 2, 2],
    ]);
    s.close();
  });

  it('writes a (record, version) once and drops only unanchored versions', () => {
    const s = new RecordStore(':memory:');
    s.put({ ...base, version: 1, content: Buffer.from('v1') });
    expect(() => s.put({ ...base, version: 1, content: Buffer.from('other') })).toThrow(/already stored/);
    s.setAnchorTx('rec-1', 1, 'tx1');
    s.dropUnanchored('rec-1', 1);
    expect(s.get('rec-1', 1)?.anchorTxId).toBe('tx1');
    s.put({ ...base, version: 2, content: Buffer.from('v2') });
    s.dropUnanchored('rec-1', 2);
    expect(s.get('rec-1', 2)).toBeUndefined();
    expect(() => s.mustGet('rec-9')).toThrow(/not in this store/);
    s.close();
  });
});

interface TestOrgTls {
  trusted: TrustedOrg;
  identity: OrgTlsIdentity;
  ca: Issued;
}

async function tlsOrg(mspId: string): Promise<TestOrgTls> {
  const ca = await createRootCa({ cn: `tlsca.${mspId.toLowerCase()}`, org: mspId });
  const leaf = await issue(ca, { cn: `gateway.${mspId.toLowerCase()}`, org: mspId, ou: ['client'] });
  return {
    ca,
    trusted: { mspId, org: mspId.replace(/MSP$/, ''), caPem: ca.certPem, ca: new X509Certificate(ca.certPem) },
    identity: { mspId, cert: Buffer.from(leaf.certPem), key: Buffer.from(leaf.keyPem) },
  };
}

describe('record exchange over mutual TLS', () => {
  let a: TestOrgTls;
  let b: TestOrgTls;
  let stranger: TestOrgTls;
  let server: RunningRecordServer;
  const asked: Array<{ requester: string; req: FetchRequest }> = [];
  const content = Buffer.from('{"resourceType":"Observation","id":"o1"}');
  const salt = newSalt();
  let answer: (requester: string, req: FetchRequest) => FetchAnswer;
  const sealedAsks: Array<{ requester: string; sourceChain: string; ref: string }> = [];
  const SEALED = '{"format":"medbridge/sealed-consent/v1","salt":"00"}';
  const SEALED_DIGEST = createHash('sha256').update(SEALED, 'utf8').digest('hex');
  let release: (requester: string, req: { sourceChain: string; ref: string }) => { sealed: string } = () => ({ sealed: SEALED });

  const granted = (req: FetchRequest, overrides: Partial<Extract<FetchAnswer, { allowed: true }>> = {}): FetchAnswer => ({
    allowed: true,
    reason: 'consent',
    requestId: 'rq-1',
    txId: 'tx-log',
    recordId: req.recordId,
    version: 1,
    channel: 'chain-a',
    patientId: 'pt_1',
    category: 'Observation',
    contentType: 'application/fhir+json',
    consentId: 'cs_1',
    content: content.toString('base64'),
    salt: salt.toString('base64'),
    anchorHash: recordHash(salt, content),
    ...overrides,
  });

  beforeAll(async () => {
    [a, b, stranger] = await Promise.all([tlsOrg('HospitalAMSP'), tlsOrg('HospitalBMSP'), tlsOrg('MalloryMSP')]);
    server = await startRecordServer({
      custodian: {
        answer: async (requester, req) => {
          asked.push({ requester, req });
          return answer(requester, req);
        },
        releaseSealedConsent: async (requester, req) => {
          sealedAsks.push({ requester, ...req });
          return release(requester, req);
        },
      },
      identity: a.identity,
      trusted: [a.trusted, b.trusted],
    });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    asked.length = 0;
  });

  it("returns a granted record whose salted hash matches the anchor, and takes the requester's org from its certificate", async () => {
    answer = (_r, req) => granted(req);
    const got = await fetchRecord({ url: server.url, custodian: a.trusted, identity: b.identity, request: { recordId: 'rec-1', purpose: 'TREAT' } });
    expect(got.content.equals(content)).toBe(true);
    expect(got.anchorSource).toBe('custodian');
    expect(asked).toEqual([{ requester: 'HospitalBMSP', req: { recordId: 'rec-1', purpose: 'TREAT' } }]);
  });

  it('uses the requester-side ledger check when it is available and refuses a mismatch there', async () => {
    answer = (_r, req) => granted(req);
    const ok = await fetchRecord({ url: server.url, custodian: a.trusted, identity: b.identity, request: { recordId: 'rec-1', purpose: 'TREAT' }, verifyOnLedger: async () => true });
    expect(ok.anchorSource).toBe('ledger');
    await expect(
      fetchRecord({ url: server.url, custodian: a.trusted, identity: b.identity, request: { recordId: 'rec-1', purpose: 'TREAT' }, verifyOnLedger: async () => false }),
    ).rejects.toMatchObject({ code: 'RECORD_HASH_MISMATCH' });
  });

  it('refuses a record whose bytes do not hash to the anchor', async () => {
    answer = (_r, req) => granted(req, { content: Buffer.from('{"resourceType":"Observation","id":"o2"}').toString('base64') });
    await expect(fetchRecord({ url: server.url, custodian: a.trusted, identity: b.identity, request: { recordId: 'rec-1', purpose: 'TREAT' } })).rejects.toMatchObject({
      code: 'RECORD_HASH_MISMATCH',
    });
  });

  it('reports a refusal as ACCESS_DENIED with the logging transaction', async () => {
    answer = (_r, req) => ({ allowed: false, reason: 'no-consent', requestId: 'rq-2', txId: 'tx-refused', recordId: req.recordId });
    const err = (await fetchRecord({ url: server.url, custodian: a.trusted, identity: b.identity, request: { recordId: 'rec-1', purpose: 'TREAT' } }).catch((e: unknown) => e)) as ClientError;
    expect(err.code).toBe('ACCESS_DENIED');
    expect(err.txId).toBe('tx-refused');
    expect(err.message).toMatch(/no-consent/);
  });

  it("reports a custodian that cannot decide now (503: its peer or chaincode down) as UNAVAILABLE, not as a refusal", async () => {
    answer = () => {
      throw new ClientError('UNAVAILABLE', 'unavailable', 'Consent:LogAccess on chain-a: peer 127.0.0.1:7051 unreachable');
    };
    const err = (await fetchRecord({ url: server.url, custodian: a.trusted, identity: b.identity, request: { recordId: 'rec-1', purpose: 'TREAT' } }).catch((e: unknown) => e)) as ClientError;
    expect(err).toBeInstanceOf(ClientError);
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.kind).toBe('unavailable');
    expect(err.message).toMatch(/answered 503: UNAVAILABLE/);
  });

  it('never lets a request body name the requester: unknown fields are refused before any decision', async () => {
    answer = (_r, req) => granted(req);
    const request = { recordId: 'rec-1', purpose: 'TREAT', requester: 'HospitalAMSP' } as unknown as FetchRequest;
    await expect(fetchRecord({ url: server.url, custodian: a.trusted, identity: b.identity, request })).rejects.toMatchObject({ code: 'RECORD_REFUSED' });
    expect(asked).toEqual([]);
  });

  describe('sealed consents (POST /v1/consents/sealed)', () => {
    const ask = { sourceChain: 'chain-a', ref: 'ab'.repeat(32), digest: SEALED_DIGEST };
    const peer = () => ({ url: server.url, custodian: a.trusted, identity: b.identity });

    it('returns the exact bytes the custodian released, asked by the requester org its certificate names', async () => {
      release = () => ({ sealed: SEALED });
      sealedAsks.length = 0;
      expect(await fetchSealedConsent(peer(), ask)).toBe(SEALED);
      expect(sealedAsks).toEqual([{ requester: 'HospitalBMSP', sourceChain: 'chain-a', ref: ask.ref }]);
    });

    it('refuses bytes that do not hash to the digest the packet carried: SEALED_DIGEST_MISMATCH', async () => {
      release = () => ({ sealed: SEALED.replace('00', '01') });
      await expect(fetchSealedConsent(peer(), ask)).rejects.toMatchObject({ code: 'SEALED_DIGEST_MISMATCH' });
    });

    it("passes the custodian's refusal on as ACCESS_DENIED (403), and an unknown reference as NOT_FOUND (404)", async () => {
      release = () => {
        throw new ClientError('ACCESS_DENIED', 'rejected', 'sealed consent is not for HospitalBMSP');
      };
      await expect(fetchSealedConsent(peer(), ask)).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
      release = () => {
        throw new ClientError('NOT_FOUND', 'rejected', 'no sealed consent');
      };
      await expect(fetchSealedConsent(peer(), ask)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('refuses a malformed request with 400 before the custodian is asked', async () => {
      sealedAsks.length = 0;
      await expect(fetchSealedConsent(peer(), { ...ask, ref: 'not-hex' })).rejects.toMatchObject({ code: 'RECORD_REFUSED', message: expect.stringContaining('400') });
      expect(sealedAsks).toEqual([]);
    });
  });

  it('rejects a client whose certificate no known org issued, at the TLS handshake', async () => {
    answer = (_r, req) => granted(req);
    await expect(fetchRecord({ url: server.url, custodian: a.trusted, identity: stranger.identity, request: { recordId: 'rec-1', purpose: 'TREAT' } })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    expect(asked).toEqual([]);
  });

  it('refuses to talk to a server that is not the expected custodian org', async () => {
    answer = (_r, req) => granted(req);
    await expect(fetchRecord({ url: server.url, custodian: b.trusted, identity: b.identity, request: { recordId: 'rec-1', purpose: 'TREAT' } })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    expect(asked).toEqual([]);
  });

  it('identifies the issuing org of a certificate by signature, not by name', () => {
    expect(orgOfCertificate(new X509Certificate(b.identity.cert).raw, [a.trusted, b.trusted])?.mspId).toBe('HospitalBMSP');
    expect(orgOfCertificate(new X509Certificate(stranger.identity.cert).raw, [a.trusted, b.trusted])).toBeUndefined();
  });
});
