/**
 * `make demo`'s story on the real network: the runner exits 0 only if every step behaved
 * as told (grant crosses, fetch verified, revocation crosses, refusal, access log). Then the
 * blocks the story added to chain-a and chain-b are read as HospitalC, a member of both chains
 * and neither the custodian (HospitalA) nor the grantee (HospitalB): what it finds is what
 * chaincode/CONSENT.md "Who can see what, today" says: no patient id or key, record id, label,
 * consent, purpose, decision or requester of an access, on either chain.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { FabricClient } from '../../gateway/src/fabric/client';
import { Chaincode } from '../../gateway/src/fabric/contracts';
import { buildGateway, REPO, testEnv } from './cli-harness';
import { envelopeOf } from './support/blocks';

interface StoryRun {
  code: number;
  out: string;
  /** Heights of chain-a and chain-b before the story: its blocks are those from here on. */
  from: { a: number; b: number };
}

/** The first capture of `re` in the story's output (the test fails if the story did not print it). */
function printed(out: string, re: RegExp): string {
  const m = re.exec(out);
  expect({ printed: m?.[1] ?? null, re: re.source }).toMatchObject({ printed: expect.any(String) });
  return m![1]!;
}

describe('make demo story', () => {
  let run: StoryRun;

  beforeAll(async () => {
    buildGateway();
    const scanner = FabricClient.open('HospitalC');
    try {
      const from = { a: await scanner.height('chain-a'), b: await scanner.height('chain-b') };
      const env = testEnv();
      const { code, out } = await new Promise<{ code: number; out: string }>((resolveRun) => {
        const child = spawn(process.execPath, [join(REPO, 'gateway', 'dist', 'demo', 'story.js')], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let text = '';
        child.stdout.on('data', (c: Buffer) => (text += c.toString()));
        child.stderr.on('data', (c: Buffer) => (text += c.toString()));
        child.on('close', (c) => resolveRun({ code: c ?? -1, out: text }));
      });
      run = { code, out, from };
    } finally {
      scanner.close();
    }
  });

  it('tells the whole story and exits 0, stopping the relays and the record exchange it started', () => {
    const { code, out } = run;
    expect({ code, tail: out.slice(-3000) }).toMatchObject({ code: 0 });
    expect(out).toMatch(/the grant crosses from chain-a to chain-b sealed[\s\S]*HospitalB delivered it privately in tx [0-9a-f]{64}; chain-b: consent active, usable for TREAT/);
    expect(out).toMatch(/ACCESS_DENIED: HospitalAMSP refused rec-[0-9a-f]+: consent-revoked/);
    expect(out).toMatch(/HospitalBMSP {2}ALLOWED[\s\S]*HospitalBMSP {2}REFUSED/);
    expect(out).toMatch(/demo complete/);
  });

  it("leaves HospitalC nothing of the story in the blocks of either chain: no patient, key, record, label, consent, purpose, decision or requester", async () => {
    expect(run.code).toBe(0);
    const patientId = printed(run.out, /patientId (pt_[0-9a-f]+)/);
    const recordId = printed(run.out, /record (rec-[0-9a-f]+) v1/);
    const consentId = printed(run.out, /consent (cs_[0-9a-f]{64})/);
    const loggedTx = printed(run.out, /access logged in tx ([0-9a-f]{64})/);
    const custodian = FabricClient.open('HospitalA');
    const scanner = FabricClient.open('HospitalC');
    try {
      const { publicKey } = await new Chaincode(custodian, 'chain-a').consent.getPatient(patientId);
      const blocks = { a: await scanner.blocks('chain-a', run.from.a), b: await scanner.blocks('chain-b', run.from.b) };
      const holds = (chain: 'a' | 'b', s: string): boolean => blocks[chain].some((b) => Buffer.from(b).includes(Buffer.from(s, 'utf8')));
      // The scan sees the story: the transaction that logged HospitalB's fetch is in chain-a's blocks.
      expect(holds('a', loggedTx)).toBe(true);
      // Private (CONSENT.md "Private access decisions"): not who asked. The logging transaction names
      // HospitalB nowhere: not in its arguments (transient), its result (sealed) nor its read set
      // (a decision reads the consents covering the record, of every grantee).
      const logged = blocks.a.flatMap((b) => (Buffer.from(b).includes(Buffer.from(loggedTx)) ? [envelopeOf(b, loggedTx)] : []));
      expect(logged).toHaveLength(1);
      expect(logged[0]!.includes(Buffer.from('HospitalBMSP'))).toBe(false);
      // Private (CONSENT.md "Private access decisions"): no decision's outcome, reason, deciding
      // provision or request id in any block of either chain, HospitalB's refusal included.
      const decisionTraces = ['consent-revoked', '"allowed"', '"provisionPath"', '"requestId"'];
      expect({ a: decisionTraces.filter((s) => holds('a', s)), b: decisionTraces.filter((s) => holds('b', s)) }).toEqual({ a: [], b: [] });
      // Private (CONSENT.md "Private record metadata"): the record's labels, data date, author and
      // document class are in HospitalA's collection only; the anchor names their hash.
      const consentA = new Chaincode(custodian, 'chain-a').consent;
      const labels = await consentA.getRecordLabels(recordId);
      expect(labels).toMatchObject({ private: true, labelledVersion: 1, metadata: { securityLabels: ['N'], documentClasses: [{ code: '85354-9' }] } });
      expect((await consentA.getRecord(recordId)).labels).toMatchObject({ version: 1 });
      const labelTraces = ['"securityLabels"', '"dataDate"', '"documentClasses"', '85354-9', String(labels.metadata.dataDate)];
      expect({ a: labelTraces.filter((s) => holds('a', s)), b: labelTraces.filter((s) => holds('b', s)) }).toEqual({ a: [], b: [] });
      // Private (CONSENT.md "Private consents"): the consent P keeps at HospitalA, its id and its
      // purpose (research), in no block of either chain.
      const keptId = printed(run.out, /private consent (cs_[0-9a-f]{64}) kept by/);
      expect({ a: [keptId, 'HRESCH'].filter((s) => holds('a', s)), b: [keptId, 'HRESCH'].filter((s) => holds('b', s)) }).toEqual({ a: [], b: [] });
      // Private (CONSENT.md "Private patients and anchors", "Sealed consent shares"): P registered
      // privately at HospitalA, the record anchored privately there, the consent shared with
      // HospitalB kept by HospitalA and carried sealed: in no block of either chain is the
      // patient's id or key, the record id, the consent id or its purpose (TREAT).
      const traces = { patientId, publicKey, recordId, consentId, purpose: '"TREAT"' };
      const found = (chain: 'a' | 'b') => Object.entries(traces).flatMap(([what, s]) => (holds(chain, s) ? [what] : []));
      expect({ a: found('a'), b: found('b') }).toEqual({ a: [], b: [] });
    } finally {
      custodian.close();
      scanner.close();
    }
  });
});
