/**
 * Access decisions at scale: `CheckAccess` and `LogAccess` of the Consent contract (the real
 * contract class, rules and state layout) with 1, 100 and 10,000 consents in state, run
 * against an in-memory world state (a ChaincodeStub-like ledger with Fabric's transaction
 * semantics and key-ordered range queries by binary search). Ledger I/O (gRPC to the peer,
 * LevelDB/CouchDB reads) is excluded: what is measured is the contract's own work and how many
 * state entries it reads, which is what grows with the number of consents.
 *
 * Shape (the worst case for a decision): every consent in state is one patient's consent to the
 * one grantee asked about, each for its own record; one of them covers the record asked about.
 * Consents are written through `GrantConsent` (the production write path, one patient-signed
 * grant per transaction). Beside the decision, in the same run, the same decision over the same
 * state read the way consents were read before the scope index (the patient's consents scanned
 * whole; CONSENT.md "State"): `unindexedMs`.
 *
 *   make bench-verify        (BENCH_CONSENTS=1,100,10000 BENCH_CONSENT_RUNS=200 to vary)
 *   make bench-consent       (this benchmark alone, folded into the existing summary)
 *
 * Writes test/bench/results/consent.json; test/bench/summary.ts folds it into summary.json.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'fabric-contract-api';
import { ConsentContract } from '../../chaincode/src/contracts/consent-contract';
import {
  buildConsentGrant,
  exportPublicKey,
  keyIdOf,
  patientIdOf,
  signPatientMessage,
  type ConsentTerms,
} from '../../chaincode/src/protocol/patient-messages';
import { canonicalize } from '../../chaincode/src/protocol/canonical-json';
import { PRIVATE_SALT_BYTES } from '../../chaincode/src/protocol/sealed-result';
import { key, KeyTypes } from '../../chaincode/src/state/keys';
import { putJson } from '../../chaincode/src/state/store';
import { createOrg } from '../fixtures/pki';
import { sourceCommit } from '../../gateway/src/source-commit';
import { FakeLedger, type FakeIdentity, type Iter } from '../unit/support/fake-ledger';

const SIZES = (process.env.BENCH_CONSENTS ?? '1,100,10000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_CONSENT_RUNS ?? 200);
const OUT = process.env.BENCH_OUT ?? join(process.cwd(), 'test', 'bench', 'results');
const CHAIN = 'chain-a';
const T0 = Date.UTC(2026, 0, 15, 9, 0, 0);
const DAY = 86_400_000;

/** A Map that keeps its keys sorted as they come and go (binary search, no re-sort). */
class SortedKeyMap extends Map<string, Buffer> {
  readonly sorted: string[] = [];

  /** Index of the first key >= k. */
  lowerBound(k: string): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid]! < k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  override set(k: string, v: Buffer): this {
    // Map's constructor calls set before the field initialiser has run.
    if (this.sorted !== undefined && !this.has(k)) this.sorted.splice(this.lowerBound(k), 0, k);
    return super.set(k, v);
  }

  override delete(k: string): boolean {
    if (this.has(k)) this.sorted.splice(this.lowerBound(k), 1);
    return super.delete(k);
  }
}

/** The fake ledger with key-ordered range queries by binary search (10,000s of keys). */
class SortedLedger extends FakeLedger {
  constructor(channel: string) {
    super(channel);
    (this as unknown as { state: SortedKeyMap }).state = new SortedKeyMap();
  }

  protected override sortedRange(start: string, end: string): Array<[string, Buffer]> {
    const state = this.state as SortedKeyMap;
    const out: Array<[string, Buffer]> = [];
    for (let i = state.lowerBound(start); i < state.sorted.length && state.sorted[i]! < end; i++) out.push([state.sorted[i]!, state.get(state.sorted[i]!)!]);
    return out;
  }

  /** Reads entries as they are asked for, as a peer's iterator does (it fetches them in batches). */
  protected override rangeIterator(start: string, end: string): Iter {
    const state = this.state as SortedKeyMap;
    let i = state.lowerBound(start);
    return {
      next: async () => {
        const k = state.sorted[i];
        if (k === undefined || k >= end) return { done: true, value: { key: '', value: new Uint8Array() } };
        i += 1;
        return { done: false, value: { key: k, value: new Uint8Array(state.get(k)!) } };
      },
      close: async () => undefined,
    };
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;


interface Row {
  consents: number;
  checkAccessMs: number;
  logAccessMs: number;
  unindexedMs: number;
  decision: string;
  loadS: number;
}

async function measure(n: number, ids: { gateway: FakeIdentity; grantee: FakeIdentity }): Promise<Row> {
  const ledger = new SortedLedger(CHAIN);
  const contract = new ConsentContract();
  const call = (identity: FakeIdentity, timeMs: number, fn: (ctx: Context) => Promise<string>): Promise<string> =>
    ledger.invoke({ identity, timeMs }, fn);
  await call(ids.gateway, T0 - DAY, async (ctx) => {
    await putJson(ctx.stub, key(ctx.stub, KeyTypes.Members), { chainId: CHAIN, members: ['HospitalAMSP', 'HospitalBMSP'] });
    return '';
  });
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const publicKey = exportPublicKey(privateKey);
  const patientId = patientIdOf(publicKey);
  await call(ids.gateway, T0, (ctx) => contract.RegisterPatient(ctx, publicKey));
  const target = 'rec-target';
  await call(ids.gateway, T0, (ctx) => contract.AnchorRecord(ctx, target, patientId, 'Observation', 'a'.repeat(64)));

  const loadStart = Date.now();
  for (let i = 0; i < n; i++) {
    const terms: ConsentTerms = {
      grantee: 'HospitalBMSP',
      scope: { recordIds: [i === n >> 1 ? target : `rec-${i}`], categories: [] },
      actions: ['read'],
      purposes: ['TREAT'],
      period: { start: T0, end: T0 + 365 * DAY },
    };
    const nonce = `bench-nonce-${String(i).padStart(8, '0')}`;
    const grant = signPatientMessage(buildConsentGrant({ channel: CHAIN, patientId, signer: keyIdOf(publicKey), nonce, issuedAt: T0 }, terms), privateKey);
    await call(ids.gateway, T0 + 1000, (ctx) => contract.GrantConsent(ctx, JSON.stringify(grant)));
  }
  const loadS = (Date.now() - loadStart) / 1000;

  const at = T0 + DAY;
  const check = () => call(ids.grantee, at, (ctx) => contract.CheckAccess(ctx, 'HospitalBMSP', target, 'TREAT'));
  let requestNo = 0;
  // LogAccess as the custodian's gateway sends it: the request in the transient map with a fresh salt (a private transaction).
  const log = () => {
    const request = canonicalize({ requesterOrg: 'HospitalBMSP', recordId: target, purpose: 'TREAT', requestId: `req-${++requestNo}`, salt: randomBytes(PRIVATE_SALT_BYTES).toString('hex') });
    return ledger.invoke({ identity: ids.gateway, timeMs: at, transient: { request } }, (ctx) => contract.LogAccess(ctx));
  };
  const decision = JSON.parse(await check()) as { allowed: boolean; reason: string };
  if (!decision.allowed || decision.reason !== 'consent') throw new Error(`unexpected decision ${JSON.stringify(decision)}`);
  const time = async (fn: () => Promise<unknown>): Promise<number> => {
    const t = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  for (let w = 0; w < 20; w++) await check();
  const checks: number[] = [];
  const logs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    checks.push(await time(check));
    logs.push(await time(log));
  }
  // The same state read as before the scope index: without the patient's marker the contract scans the patient's consents.
  ledger.state.delete(markerKey(ledger, patientId));
  const unindexedDecision = JSON.parse(await check()) as { allowed: boolean; reason: string };
  if (JSON.stringify(unindexedDecision) !== JSON.stringify(decision)) throw new Error('the scan decided otherwise');
  const scans: number[] = [];
  for (let i = 0; i < Math.min(RUNS, n >= 10_000 ? 20 : RUNS); i++) scans.push(await time(check));
  return {
    consents: n,
    checkAccessMs: round(median(checks)),
    logAccessMs: round(median(logs)),
    unindexedMs: round(median(scans)),
    decision: `${decision.allowed ? 'allowed' : 'refused'} (${decision.reason})`,
    loadS: round(loadS, 1),
  };
}

function markerKey(ledger: FakeLedger, patientId: string): string {
  const NS = '\u0000';
  const k = `${NS}${KeyTypes.PatientConsentsIndexed}${NS}${patientId}${NS}`;
  if (!ledger.state.has(k)) throw new Error('the patient is not marked as indexed by scope');
  return k;
}

async function main(): Promise<void> {
  const started = Date.now();
  const measured = sourceCommit();
  const [A, B] = await Promise.all([createOrg('HospitalAMSP'), createOrg('HospitalBMSP')]);
  const ids = {
    gateway: { mspId: A.mspId, certPem: (await A.client('gateway-a')).certPem },
    grantee: { mspId: B.mspId, certPem: (await B.client('gateway-b')).certPem },
  };
  const rows: Row[] = [];
  for (const n of SIZES) {
    const row = await measure(n, ids);
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  const result = {
    benchmark: 'consent',
    command: process.env.BENCH_COMMAND ?? 'make bench-verify',
    date: new Date(started).toISOString(),
    commit: measured,
    runs: RUNS,
    state: 'in-memory ChaincodeStub-like world state; ledger I/O excluded',
    rows,
  };
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'consent.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`consent: wrote ${join(OUT, 'consent.json')}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
