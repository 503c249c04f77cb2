/**
 * Folds the results of one bench run into test/bench/results/summary.json (and summary.md, the
 * tables the README and BLS.md quote): verification (verify.json, from verify.ts), access
 * decisions at scale (consent.json, from consent.ts), when the run measured it share latency
 * (share-latency.json, from gateway/src/bench/share-latency.ts) and relay throughput
 * (relay-throughput.json, from gateway/src/bench/relay-throughput.ts), and the API load run
 * (api-load.json, from gateway/src/bench/api-load.ts) under `api` whenever it exists. One
 * function per section of the summary.
 *
 *   make bench-verify   (verification only, no network)     make bench   (all three)
 *   make bench-api      (API load only: BENCH_ONLY_API=1 replaces `api` in the existing summary)
 *   make bench-consent  (access decisions only: BENCH_ONLY_CONSENT=1 replaces `consent` in the existing summary)
 *
 * BENCH_COMMAND names the command in the summary; the commit is the checkout's HEAD.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sourceCommit } from '../../gateway/src/source-commit';

const OUT = process.env.BENCH_OUT ?? join(process.cwd(), 'test', 'bench', 'results');
const COMMAND = process.env.BENCH_COMMAND ?? 'make bench-verify';
const WITH_SHARE = process.env.BENCH_WITH_SHARE === '1';

interface Series {
  realMs: number;
  realColdMs: number | null;
  rawMs: number;
  ratio: number;
  proofBytes: number;
  relayAggregateMs?: number;
}
type Row = { signers: number; refused?: string } & Record<string, Series | number | string | undefined>;
interface VerifyResult {
  date: string;
  /** The checkout measured, recorded when the measurement started. */
  commit?: string;
  /** Timed proofs per series by signer count (a single number in results written before it varied). */
  runs: Record<string, number> | number;
  machine: Record<string, unknown>;
  rows: Row[];
  blsBackend?: unknown;
}
interface Stats {
  p50: number;
  p95: number;
  p99: number;
}
interface ShareResult {
  date: string;
  command?: string;
  commit?: string;
  plainCommit: Record<string, Stats>;
  schemes: { scheme: string; shares: { total: Stats } }[];
}

const SCHEMES = ['fabric-endorsement', 'bls12381-aggregate', 'bls12381-aggregate-v2', 'epoch-link', 'epoch-link-aggregate'] as const;

interface ConsentRow {
  consents: number;
  checkAccessMs: number;
  logAccessMs: number;
  unindexedMs: number;
}
interface ConsentResult {
  /** The command that ran it (absent in results written before it was recorded: the summary's). */
  command?: string;
  date: string;
  commit?: string;
  runs: number;
  state: string;
  rows: ConsentRow[];
}
interface ApiClass {
  endpoint: string;
  durationS: number;
  connections: number;
  requests: number;
  requestsPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  status: Record<string, number>;
}
interface ApiLoadResult {
  command: string;
  date: string;
  commit: string;
  classes: Record<string, ApiClass>;
}
interface RelayMode {
  sustainedPerSec: Record<string, number>;
  budgetEnded?: string[];
  resolutionPerSec?: Record<string, number | null>;
  ratio: number;
  ratioByRoutes?: Record<string, number>;
}
interface ThroughputResult {
  date: string;
  command?: string;
  commit?: string;
  valueTransfer: boolean;
  plainPut: { perSec: number };
  sustainedPerSec: Record<string, number>;
  /** Route counts whose climb the budget ended with every rate sustained (the figure is a lower bound). */
  budgetEnded?: string[];
  /** Per route count: the gap to the lowest rate that was not sustained (null: none failed). */
  resolutionPerSec?: Record<string, number | null>;
  ratio: number;
  ratioByRoutes?: Record<string, number>;
  /** The same route counts with value transfer on, when the headline run had it off. */
  valueTransferOn?: RelayMode;
  settings: { stepS: number; drainS: number };
  /** Every step of each mode (value transfer off, then on). */
  runs?: { valueTransfer: boolean; steps: RelayStep[] }[];
}
interface RelayStep {
  routes: number;
  offeredPerSec: number;
  sent: number;
  sendErrors: number;
  sendTransactions: number;
  sendLagS: number;
  deliveredOnce: number;
  acknowledged: number;
  lateS: number;
  sustained: boolean;
  batches?: { receive?: { transactions: number }; acknowledge?: { transactions: number } };
}
const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;


function bySigners(rows: Row[], scheme: string, field: keyof Series): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const r of rows) {
    const s = r[scheme];
    if (typeof s === 'object' && s !== null && field in s) out[String(r.signers)] = (s as unknown as Record<string, number | null>)[field] ?? null;
  }
  return out;
}

function shareSummary(share: ShareResult) {
  const a = share.plainCommit['chain-a']?.p50 ?? NaN;
  const b = share.plainCommit['chain-b']?.p50 ?? NaN;
  const sum = a + b;
  const total = (scheme: string) => share.schemes.find((s) => s.scheme === scheme)?.shares.total;
  const s1 = total('fabric-endorsement');
  const agg = total('bls12381-aggregate');
  return {
    date: share.date,
    command: share.command ?? COMMAND,
    commit: share.commit,
    plainCommitSumMs: round(sum),
    scheme1: s1 ? { p50Ms: round(s1.p50), p95Ms: round(s1.p95), p99Ms: round(s1.p99), ratio: round(s1.p50 / sum) } : null,
    aggregate: agg ? { p50Ms: round(agg.p50), p95Ms: round(agg.p95), p99Ms: round(agg.p99), ratio: round(agg.p50 / sum) } : null,
  };
}

interface ApiRow {
  endpoint: string;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  durationS: number;
  connections: number;
  count5xx: number;
}
const API_CLASSES = ['read', 'access', 'submit'] as const;
type ApiSummary = { command: string; date: string; commit: string } & Partial<Record<(typeof API_CLASSES)[number], ApiRow>>;

/** `api.*` of the summary: per endpoint class, requests/s, p50/p99 and the 5xx count (asserted 0 by the driver). */
function apiSummary(r: ApiLoadResult): ApiSummary {
  const out: ApiSummary = { command: r.command, date: r.date, commit: r.commit };
  for (const k of API_CLASSES) {
    const c = r.classes[k];
    if (!c) continue;
    out[k] = {
      endpoint: c.endpoint,
      requestsPerSec: c.requestsPerSec,
      p50Ms: c.latencyMs.p50,
      p99Ms: c.latencyMs.p99,
      requests: c.requests,
      durationS: c.durationS,
      connections: c.connections,
      count5xx: Object.entries(c.status).filter(([code]) => code.startsWith('5')).reduce((n, [, v]) => n + v, 0),
    };
  }
  return out;
}

function apiMarkdown(api: ApiSummary): string[] {
  return [
    '',
    `Hospital gateway API under load (\`${api.command}\`, ${api.date.slice(0, 10)}, commit ${api.commit}; loopback, mutual TLS, autocannon):`,
    '',
    '| class | endpoint | requests/s | p50 (ms) | p99 (ms) | requests | connections | 5xx |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...API_CLASSES.flatMap((k) => {
      const c = api[k];
      return c ? [`| ${k} | ${c.endpoint} | ${c.requestsPerSec} | ${c.p50Ms} | ${c.p99Ms} | ${c.requests} | ${c.connections} | ${c.count5xx} |`] : [];
    }),
  ];
}

function relaySummary(t: ThroughputResult) {
  return {
    date: t.date,
    command: t.command ?? COMMAND,
    commit: t.commit,
    valueTransfer: t.valueTransfer,
    sustainedPerSec: t.sustainedPerSec,
    budgetEnded: t.budgetEnded ?? [],
    resolutionPerSec: t.resolutionPerSec ?? {},
    ratioByRoutes: t.ratioByRoutes ?? {},
    plainPutPerSec: round(t.plainPut.perSec, 1),
    ratio: t.ratio,
    ...(t.valueTransferOn ? { valueTransferOn: t.valueTransferOn } : {}),
  };
}

/** "1001 / 251 / 101 proofs at 4 / 16 / 64 signers", or "101 proofs" where every size had the same count. */
function runsWords(runs: Record<string, number> | number): string {
  if (typeof runs === 'number') return `${runs} proofs`;
  const sizes = Object.keys(runs);
  return `${sizes.map((n) => runs[n]).join(' / ')} proofs at ${sizes.join(' / ')} signers`;
}

function markdown(summary: ReturnType<typeof build>): string {
  const v = summary.verify;
  const sizes = Object.keys(v.realMs['fabric-endorsement'] ?? {});
  const cell = (x: number | null | undefined): string => (x === null || x === undefined ? '–' : String(x));
  const row = (n: string, scheme: string) => `${cell(v.realMs[scheme]?.[n])} | ${cell(v.rawMs[scheme]?.[n])} | ${cell(v.ratio[scheme]?.[n])}`;
  const b = summary.bls;
  const lines = [
    `Verification in chaincode (\`${summary.command}\`, ${summary.date.slice(0, 10)}, commit ${summary.commit}, ${String(summary.machine.cpus)} cores ${String(summary.machine.model)}, median of ${runsWords(summary.runs)}; real = parseProof + verifyProof, raw = the signature checks alone, ms; aggregate v2 on the ${b.backend} backend):`,
    '',
    '| signers | scheme 1 | N × ECDSA | ratio | aggregate v2 | one v2 aggregate verify | ratio | epoch link + packet, scheme 1 | 2N × ECDSA | ratio | epoch link + packet, aggregate v2 | 2 × v2 verify | ratio |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...sizes.map((n) => `| ${n} | ${row(n, 'fabric-endorsement')} | ${row(n, 'bls12381-aggregate-v2')} | ${row(n, 'epoch-link')} | ${row(n, 'epoch-link-aggregate')} |`),
    ...summary.verify.refused.map((r) => `| ${r.signers} | refused: ${r.code} | | | refused | | | refused | | | refused | | |`),
    '',
    'Aggregate scheme, ms: version 1 (pure JS, the project\'s own tags) and version 2 (raw verify on each backend), relay aggregation of N partials:',
    '',
    '| signers | v1: real | v1: one aggregate verify | v1 ratio | v2 verify, native | v2 verify, pure-JS fallback | relay aggregation v1 | relay aggregation v2 |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...sizes.map(
      (n) =>
        `| ${n} | ${row(n, 'bls12381-aggregate')} | ${b.backend === 'native' ? cell(b.aggregateVerifyMs[n]) : '–'} | ${cell(b.v2JsFallbackVerifyMs[n])} | ${cell(b.v1RelayAggregateMs[n])} | ${cell(b.relayAggregateMs[n])} |`,
    ),
    '',
    'First proof after a chaincode start (caches empty), ms:',
    '',
    '| signers | scheme 1 | aggregate v2 | epoch link, scheme 1 (every BLS key new: proofs of possession checked) | epoch link, aggregate v2 | proof bytes: scheme 1 / aggregate / with link |',
    '|---:|---:|---:|---:|---:|---:|',
    ...sizes.map(
      (n) =>
        `| ${n} | ${cell(v.realColdMs['fabric-endorsement']?.[n])} | ${cell(v.realColdMs['bls12381-aggregate-v2']?.[n])} | ${cell(v.realColdMs['epoch-link']?.[n])} | ${cell(v.realColdMs['epoch-link-aggregate']?.[n])} | ${cell(v.proofBytes['fabric-endorsement']?.[n])} / ${cell(v.proofBytes['bls12381-aggregate-v2']?.[n])} / ${cell(v.proofBytes['epoch-link']?.[n])} |`,
    ),
  ];
  const c = summary.consent;
  if (c) {
    const counts = Object.keys(c.decisionMs);
    lines.push(
      '',
      `Access decisions (\`${c.command ?? summary.command}\`, ${c.date.slice(0, 10)}${c.commit ? `, commit ${c.commit}` : ''}, the Consent contract on an ${c.state}; p50 of ${c.runs}, ms; every consent is the one patient's to the one grantee asked about):`,
      '',
      '| consents in state | CheckAccess | LogAccess | CheckAccess reading the patient\'s consents whole (before the scope index) |',
      '|---:|---:|---:|---:|',
      ...counts.map((n) => `| ${n} | ${cell(c.decisionMs[n])} | ${cell(c.logAccessMs[n])} | ${cell(c.unindexedDecisionMs[n])} |`),
    );
  }
  if (summary.share) {
    const s = summary.share;
    lines.push(
      '',
      `Share latency (\`${s.command}\`, ${s.date.slice(0, 10)}): plain commits chain-a + chain-b ${s.plainCommitSumMs} ms at the median.`,
      '',
      '| scheme | p50 (ms) | p95 (ms) | p99 (ms) | p50 / plain commits |',
      '|---|---:|---:|---:|---:|',
      ...(s.scheme1 ? [`| fabric-endorsement | ${s.scheme1.p50Ms} | ${s.scheme1.p95Ms} | ${s.scheme1.p99Ms} | ${s.scheme1.ratio} |`] : []),
      ...(s.aggregate ? [`| bls12381-aggregate | ${s.aggregate.p50Ms} | ${s.aggregate.p95Ms} | ${s.aggregate.p99Ms} | ${s.aggregate.ratio} |`] : []),
    );
  }
  if (summary.relay) {
    const r = summary.relay;
    const counts = Object.keys(r.sustainedPerSec);
    // A climb the budget ended, every rate sustained: the highest rate tried, a lower bound.
    // Otherwise the lowest rate that was not sustained follows in brackets (the resolution).
    const rate = (m: RelayMode | undefined, c: string): string => {
      const x = m?.sustainedPerSec[c];
      if (m === undefined || x === undefined) return '–';
      const bound = m.budgetEnded?.includes(c) === true;
      const gap = m.resolutionPerSec?.[c];
      const ratio = m.ratioByRoutes?.[c];
      return `${bound ? '≥ ' : ''}${x}${typeof gap === 'number' ? ` (not ${x + gap})` : ''}${ratio === undefined ? '' : `, ${bound ? '≥ ' : ''}${ratio}`}`;
    };
    lines.push(
      '',
      `Relay throughput (\`${r.command}\`, ${r.date.slice(0, 10)}): highest offered rate (packets/s over all routes) sustained: no send refused, and within max(5 s, step/2) after the schedule's end every packet committed on chain-a, received once on chain-b and acknowledged, read from both ledgers. In brackets the lowest rate tried that was not sustained; after the comma the rate over plain puts on chain-b in the same run. ≥: the route count's time budget ended the climb with every rate sustained, so the limit is higher.`,
      '',
      `| value transfer | ${counts.map((c) => `${c} route${c === '1' ? '' : 's'}: packets/s, / plain puts`).join(' | ')} | plain puts chain-b (tx/s) |`,
      `|---|${counts.map(() => '---:').join('|')}|---:|`,
      `| ${r.valueTransfer ? 'on' : 'off'} | ${counts.map((c) => rate(r, c)).join(' | ')} | ${r.plainPutPerSec} |`,
      ...(r.valueTransferOn ? [`| on | ${counts.map((c) => rate(r.valueTransferOn, c)).join(' | ')} | ${r.plainPutPerSec} |`] : []),
    );
  }
  if (summary.api) lines.push(...apiMarkdown(summary.api));
  return `${lines.join('\n')}\n`;
}

function verifySection(verify: VerifyResult) {
  const rows = verify.rows.filter((r) => r.refused === undefined);
  const per = (field: keyof Series) => Object.fromEntries(SCHEMES.map((s) => [s, bySigners(rows, s, field)]));
  return {
    realMs: per('realMs'),
    rawMs: per('rawMs'),
    ratio: per('ratio'),
    realColdMs: per('realColdMs'),
    proofBytes: per('proofBytes'),
    refused: verify.rows.filter((r) => r.refused !== undefined).map((r) => ({ signers: r.signers, code: r.refused as string })),
  };
}

/** `aggregateVerifyMs`: scheme version 2 on the backend the run used (`backend`); version 1 and the v2 fallback beside it. */
function blsSection(verify: VerifyResult) {
  const rows = verify.rows.filter((r) => r.refused === undefined);
  const backend = (verify.blsBackend as { backend?: string } | undefined)?.backend ?? 'js';
  return {
    backend,
    aggregateVerifyMs: bySigners(rows, 'bls12381-aggregate-v2', 'rawMs'),
    v2JsFallbackVerifyMs: bySigners(rows, 'bls12381-aggregate-v2', 'jsRawMs' as keyof Series),
    v1AggregateVerifyMs: bySigners(rows, 'bls12381-aggregate', 'rawMs'),
    relayAggregateMs: bySigners(rows, 'bls12381-aggregate-v2', 'relayAggregateMs'),
    v1RelayAggregateMs: bySigners(rows, 'bls12381-aggregate', 'relayAggregateMs'),
  };
}

/** p50 of CheckAccess (`decisionMs`) and LogAccess by the number of consents in state, and the scan they replaced. */
function consentSection(consent: ConsentResult | undefined) {
  if (consent === undefined) return undefined;
  const by = (f: keyof ConsentRow) => Object.fromEntries(consent.rows.map((r) => [String(r.consents), r[f]]));
  return {
    command: consent.command,
    commit: consent.commit,
    date: consent.date,
    state: consent.state,
    runs: consent.runs,
    decisionMs: by('checkAccessMs'),
    logAccessMs: by('logAccessMs'),
    unindexedDecisionMs: by('unindexedMs'),
  };
}

function build(verify: VerifyResult, share: ShareResult | undefined, consent: ConsentResult | undefined, api: ApiLoadResult | undefined, throughput?: ThroughputResult) {
  return {
    command: COMMAND,
    date: verify.date,
    commit: verify.commit ?? sourceCommit(),
    machine: verify.machine,
    runs: verify.runs,
    verify: verifySection(verify),
    bls: blsSection(verify),
    consent: consentSection(consent),
    share: share ? shareSummary(share) : undefined,
    api: api ? apiSummary(api) : undefined,
    relay: throughput ? relaySummary(throughput) : undefined,
  };
}

/** Milliseconds as the README prints them: three significant figures, at most three decimals. */
function ms(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  return x >= 100 ? String(Math.round(x)) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3);
}

/** The README's verification table: scheme 1, aggregate v2 and the scheme-1 epoch link, real beside raw. */
function readmeVerifyTable(summary: ReturnType<typeof build>): string {
  const v = summary.verify;
  const sizes = Object.keys(v.realMs['fabric-endorsement'] ?? {});
  const three = (n: string, scheme: string): string => `${ms(v.realMs[scheme]?.[n])} | ${ms(v.rawMs[scheme]?.[n])} | ${v.ratio[scheme]?.[n]?.toFixed(2) ?? '–'}`;
  const bytes = (x: number | null | undefined): string => (x === null || x === undefined ? '–' : x.toLocaleString('en-US'));
  const load = summary.machine as { loadAverage1m?: number; loadAverage1mAtStart?: number };
  return [
    `Verification in chaincode, ms (\`${summary.command}\`, ${summary.date.slice(0, 10)}, median of ${runsWords(summary.runs)}; 1-minute load ${String(load.loadAverage1mAtStart ?? '–')} when it began, ${String(load.loadAverage1m ?? '–')} when it ended; aggregate = version 2 on the ${summary.bls.backend} backend):`,
    '',
    '| signers | scheme 1 verify | N × ECDSA | ratio | aggregate verify | one aggregate verify | ratio | epoch link + packet | 2N × ECDSA | ratio | scheme 1 / BLS proof (bytes) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...sizes.map(
      (n) =>
        `| ${n} | ${three(n, 'fabric-endorsement')} | ${three(n, 'bls12381-aggregate-v2')} | ${three(n, 'epoch-link')} | ${bytes(v.proofBytes['fabric-endorsement']?.[n])} / ${bytes(v.proofBytes['bls12381-aggregate-v2']?.[n])} |`,
    ),
    ...v.refused.map((r) => `| ${r.signers} | refused (\`${r.code}\`) | | | | | | | | | |`),
  ].join('\n');
}

/** Every step of the relay benchmark, both modes, as network/MEASUREMENTS.md shows them. */
function relayStepsTable(t: ThroughputResult): string {
  const rows = (t.runs ?? []).flatMap((run) =>
    run.steps.map(
      (st) =>
        `| ${run.valueTransfer ? 'on' : 'off'} | ${st.routes} | ${st.offeredPerSec} | ${st.sent} | ${st.sendErrors} | ${st.sendTransactions} | ${st.sendLagS} | ${st.deliveredOnce} = ${st.acknowledged} | ${st.batches?.receive?.transactions ?? '–'} | ${st.batches?.acknowledge?.transactions ?? '–'} | ${st.lateS} | ${st.sustained ? 'yes' : 'no'} |`,
    ),
  );
  return [
    '| value transfer | routes | offered (packets/s) | sent | sends refused | send transactions | last send committed after the schedule (s) | received = acknowledged | receive transactions | acknowledge transactions | settled after the schedule (s) | sustained |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows,
  ].join('\n');
}

/** chaincode/BLS.md's table: every series of the verification part, real / raw and ratio, the fallback and version 1 beside. */
function blsVerifyTable(summary: ReturnType<typeof build>): string {
  const v = summary.verify;
  const b = summary.bls;
  const sizes = Object.keys(v.realMs['fabric-endorsement'] ?? {});
  const pair = (n: string, scheme: string): string => `${ms(v.realMs[scheme]?.[n])} / ${ms(v.rawMs[scheme]?.[n])} | ${v.ratio[scheme]?.[n]?.toFixed(2) ?? '–'}`;
  const load = summary.machine as { loadAverage1m?: number; loadAverage1mAtStart?: number; node?: string };
  return [
    `\`${summary.command}\` (its verification part), ${summary.date.slice(0, 10)}, commit ${summary.commit}, ${String(summary.machine.cpus)} cores, Node ${String(load.node ?? '–')}, 1-minute load ${String(load.loadAverage1mAtStart ?? '–')} when it began and ${String(load.loadAverage1m ?? '–')} when it ended, medians of ${runsWords(summary.runs)} (version 1: fewer, see verify.json):`,
    '',
    '| signers | scheme 1 real / raw (ms) | ratio | aggregate v2 real / raw, ' + b.backend + ' (ms) | ratio | v2 raw, pure-JS fallback (ms) | v1 real / raw, pure JS (ms) | ratio | epoch link, scheme 1: real / raw | ratio | epoch link, aggregate v2: real / raw | ratio |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...sizes.map(
      (n) =>
        `| ${n} | ${pair(n, 'fabric-endorsement')} | ${pair(n, 'bls12381-aggregate-v2')} | ${ms(b.v2JsFallbackVerifyMs[n])} | ${pair(n, 'bls12381-aggregate')} | ${pair(n, 'epoch-link')} | ${pair(n, 'epoch-link-aggregate')} |`,
    ),
    ...v.refused.map((r) => `| ${r.signers} | refused: \`${r.code}\` | | | | | | | | | | |`),
  ].join('\n');
}

/** Replaces the text between `<!-- bench:<name> -->` and `<!-- /bench:<name> -->` of each named block in `file` (relative to the repository root), when the file exists. */
function putBlocks(file: string, blocks: Record<string, string | undefined>): void {
  const path = join(process.cwd(), file);
  if (!existsSync(path)) return;
  let text = readFileSync(path, 'utf8');
  for (const [name, table] of Object.entries(blocks)) {
    if (table === undefined) continue;
    const re = new RegExp(`(<!-- bench:${name} -->\\n)[\\s\\S]*?(<!-- /bench:${name} -->)`);
    text = text.replace(re, (_m, open: string, close: string) => `${open}${table.trim()}\n${close}`);
  }
  writeFileSync(path, text);
}

/**
 * The tables the docs quote are generated: the README's share, relay and verification tables,
 * network/MEASUREMENTS.md's share table and relay steps, chaincode/BLS.md's verification table,
 * each with the command and commit of the run that measured it.
 */
function updateReadme(summary: ReturnType<typeof build>): void {
  const shareMd = join(OUT, `${process.env.BENCH_NAME ?? 'share-latency'}.md`);
  // Each table names the run that measured it: a part run alone (bench.sh relay) leaves the others' figures as they were.
  const origin = (command: string | undefined, file: string, commit: string | undefined, date: string | undefined): string =>
    `Generated by \`${command ?? summary.command}\` from test/bench/results/${file} (${commit === undefined ? '' : `commit ${commit}, `}${date?.slice(0, 10) ?? summary.date.slice(0, 10)}).`;
  const share = existsSync(shareMd) && summary.share ? `${readFileSync(shareMd, 'utf8').trim()}\n\n${origin(summary.share.command, `${process.env.BENCH_NAME ?? 'share-latency'}.json`, summary.share.commit, summary.share.date)}` : undefined;
  const md = markdown(summary);
  const relayAt = md.indexOf('Relay throughput (');
  // The relay table alone: the API table that follows it in summary.md has no README block.
  const apiAt = md.indexOf('Hospital gateway API under load (', relayAt);
  const relayOrigin = summary.relay ? origin(summary.relay.command, 'relay-throughput.json', summary.relay.commit, summary.relay.date) : '';
  const verifyOrigin = origin(summary.command, 'summary.json', summary.commit, summary.date);
  putBlocks('README.md', {
    share,
    verify: `${readmeVerifyTable(summary)}\n\n${verifyOrigin}`,
    relay: summary.relay && relayAt >= 0 ? `${md.slice(relayAt, apiAt > relayAt ? apiAt : undefined).trim()}\n\n${relayOrigin}` : undefined,
  });
  // The share table and every step of the relay benchmark; the whole verification table.
  putBlocks(join('network', 'MEASUREMENTS.md'), {
    share,
    'relay-steps': throughput?.runs && summary.relay ? `${relayStepsTable(throughput)}\n\n${relayOrigin}` : undefined,
  });
  putBlocks(join('chaincode', 'BLS.md'), { 'bls-verify': `${blsVerifyTable(summary)}\n\n${verifyOrigin}` });
}

const verify = JSON.parse(readFileSync(join(OUT, 'verify.json'), 'utf8')) as VerifyResult;
const sharePath = join(OUT, `${process.env.BENCH_NAME ?? 'share-latency'}.json`);
const share = WITH_SHARE && existsSync(sharePath) ? (JSON.parse(readFileSync(sharePath, 'utf8')) as ShareResult) : undefined;
const consentPath = join(OUT, 'consent.json');
const consent = existsSync(consentPath) ? (JSON.parse(readFileSync(consentPath, 'utf8')) as ConsentResult) : undefined;
const apiPath = join(OUT, 'api-load.json');
const api = existsSync(apiPath) ? (JSON.parse(readFileSync(apiPath, 'utf8')) as ApiLoadResult) : undefined;
const throughputPath = join(OUT, 'relay-throughput.json');
const throughput = process.env.BENCH_WITH_RELAY === '1' && existsSync(throughputPath) ? (JSON.parse(readFileSync(throughputPath, 'utf8')) as ThroughputResult) : undefined;
// bench-api or bench-consent alone: the rest of the summary stays as the last full run wrote it.
const onlyOne = process.env.BENCH_ONLY_API === '1' ? 'api' : process.env.BENCH_ONLY_CONSENT === '1' ? 'consent' : undefined;
const previous = onlyOne !== undefined && existsSync(join(OUT, 'summary.json')) ? (JSON.parse(readFileSync(join(OUT, 'summary.json'), 'utf8')) as ReturnType<typeof build>) : undefined;
const summary =
  previous && onlyOne === 'api' && api
    ? { ...previous, api: apiSummary(api) }
    : previous && onlyOne === 'consent' && consent
      ? { ...previous, consent: consentSection(consent) }
      : build(verify, share, consent, api, throughput);
writeFileSync(join(OUT, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
writeFileSync(join(OUT, 'summary.md'), markdown(summary));
if (WITH_SHARE) updateReadme(summary);
console.log(markdown(summary));
