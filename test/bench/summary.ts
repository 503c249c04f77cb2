/**
 * Folds the results of one bench run into test/bench/results/summary.json (and summary.md, the
 * tables the README and BLS.md quote): verification (verify.json, from verify.ts) and, when the
 * run measured it, share latency (share-latency.json, from gateway/src/bench/share-latency.ts)
 * and relay throughput (relay-throughput.json, from gateway/src/bench/relay-throughput.ts).
 *
 *   make bench-verify   (verification only, no network)     make bench   (both)
 *
 * BENCH_COMMAND names the command in the summary; the commit is the checkout's HEAD.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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
  runs: number;
  machine: Record<string, unknown>;
  rows: Row[];
}
interface Stats {
  p50: number;
  p95: number;
  p99: number;
}
interface ShareResult {
  date: string;
  command?: string;
  plainCommit: Record<string, Stats>;
  schemes: { scheme: string; shares: { total: Stats } }[];
}

interface ThroughputResult {
  date: string;
  valueTransfer: boolean;
  plainPut: { perSec: number };
  sustainedPerSec: Record<string, number>;
  ratio: number;
  settings: { stepS: number; drainS: number };
}

const SCHEMES = ['fabric-endorsement', 'bls12381-aggregate', 'epoch-link'] as const;
const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

/** HEAD, with `+changes` when tracked files differ from it. */
function commit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${sha}+changes` : sha;
  } catch {
    return 'unknown';
  }
}

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
    plainCommitSumMs: round(sum),
    scheme1: s1 ? { p50Ms: round(s1.p50), p95Ms: round(s1.p95), p99Ms: round(s1.p99), ratio: round(s1.p50 / sum) } : null,
    aggregate: agg ? { p50Ms: round(agg.p50), p95Ms: round(agg.p95), p99Ms: round(agg.p99), ratio: round(agg.p50 / sum) } : null,
  };
}

function relaySummary(t: ThroughputResult) {
  return { date: t.date, valueTransfer: t.valueTransfer, sustainedPerSec: t.sustainedPerSec, plainPutPerSec: round(t.plainPut.perSec, 1), ratio: t.ratio };
}

function markdown(summary: ReturnType<typeof build>): string {
  const v = summary.verify;
  const sizes = Object.keys(v.realMs['fabric-endorsement'] ?? {});
  const cell = (x: number | null | undefined): string => (x === null || x === undefined ? '–' : String(x));
  const lines = [
    `Verification in chaincode (\`${summary.command}\`, ${summary.date.slice(0, 10)}, commit ${summary.commit}, ${String(summary.machine.cpus)} cores ${String(summary.machine.model)}, median of ${summary.runs} proofs):`,
    '',
    '| signers | scheme 1: parseProof + verifyProof (ms) | N × ECDSA verify (ms) | ratio | aggregate: parseProof + verifyProof (ms) | one aggregate verify (ms) | ratio | epoch link + packet, BLS lists (ms) | 2N × ECDSA (ms) | ratio |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...sizes.map((n) =>
      `| ${n} | ${cell(v.realMs['fabric-endorsement']?.[n])} | ${cell(v.rawMs['fabric-endorsement']?.[n])} | ${cell(v.ratio['fabric-endorsement']?.[n])} | ${cell(v.realMs['bls12381-aggregate']?.[n])} | ${cell(v.rawMs['bls12381-aggregate']?.[n])} | ${cell(v.ratio['bls12381-aggregate']?.[n])} | ${cell(v.realMs['epoch-link']?.[n])} | ${cell(v.rawMs['epoch-link']?.[n])} | ${cell(v.ratio['epoch-link']?.[n])} |`,
    ),
    ...summary.verify.refused.map((r) => `| ${r.signers} | refused: ${r.code} | | | refused | | | refused | | |`),
    '',
    'First proof after a chaincode start (caches empty), ms:',
    '',
    '| signers | scheme 1 | aggregate | epoch link (every BLS key new: proofs of possession checked) | proof bytes: scheme 1 / aggregate / with link | relay aggregation (ms) |',
    '|---:|---:|---:|---:|---:|---:|',
    ...sizes.map((n) =>
      `| ${n} | ${cell(v.realColdMs['fabric-endorsement']?.[n])} | ${cell(v.realColdMs['bls12381-aggregate']?.[n])} | ${cell(v.realColdMs['epoch-link']?.[n])} | ${cell(v.proofBytes['fabric-endorsement']?.[n])} / ${cell(v.proofBytes['bls12381-aggregate']?.[n])} / ${cell(v.proofBytes['epoch-link']?.[n])} | ${cell(summary.bls.relayAggregateMs[n])} |`,
    ),
  ];
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
    lines.push(
      '',
      `Relay throughput (\`${summary.command}\`, ${r.date.slice(0, 10)}, value transfer ${r.valueTransfer ? 'on' : 'off'}): highest offered rate sustained (every packet received once and acknowledged, read from both ledgers, backlog drained), against plain puts on chain-b.`,
      '',
      `| ${counts.map((c) => `${c} route${c === '1' ? '' : 's'} (packets/s)`).join(' | ')} | plain puts chain-b (tx/s) | best / plain puts |`,
      `|${counts.map(() => '---:').join('|')}|---:|---:|`,
      `| ${counts.map((c) => String(r.sustainedPerSec[c])).join(' | ')} | ${r.plainPutPerSec} | ${r.ratio} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function build(verify: VerifyResult, share: ShareResult | undefined, throughput?: ThroughputResult) {
  const rows = verify.rows.filter((r) => r.refused === undefined);
  const per = (field: keyof Series) => Object.fromEntries(SCHEMES.map((s) => [s, bySigners(rows, s, field)]));
  return {
    command: COMMAND,
    date: verify.date,
    commit: verify.commit ?? commit(),
    machine: verify.machine,
    runs: verify.runs,
    verify: {
      realMs: per('realMs'),
      rawMs: per('rawMs'),
      ratio: per('ratio'),
      realColdMs: per('realColdMs'),
      proofBytes: per('proofBytes'),
      refused: verify.rows.filter((r) => r.refused !== undefined).map((r) => ({ signers: r.signers, code: r.refused as string })),
    },
    bls: {
      aggregateVerifyMs: bySigners(rows, 'bls12381-aggregate', 'rawMs'),
      relayAggregateMs: bySigners(rows, 'bls12381-aggregate', 'relayAggregateMs'),
    },
    share: share ? shareSummary(share) : undefined,
    relay: throughput ? relaySummary(throughput) : undefined,
  };
}

/**
 * The README's share and relay tables are generated: the text between `<!-- bench:<name> -->` and
 * `<!-- /bench:<name> -->` is replaced by this run's table (share: the share-latency table;
 * relay: the relay throughput table of summary.md) with the command and commit.
 */
function updateReadme(summary: ReturnType<typeof build>): void {
  const readme = join(process.cwd(), 'README.md');
  if (!existsSync(readme)) return;
  let text = readFileSync(readme, 'utf8');
  const put = (name: string, table: string) => {
    const re = new RegExp(`(<!-- bench:${name} -->\\n)[\\s\\S]*?(<!-- /bench:${name} -->)`);
    text = text.replace(re, (_m, open: string, close: string) => `${open}${table.trim()}\n${close}`);
  };
  const shareMd = join(OUT, `${process.env.BENCH_NAME ?? 'share-latency'}.md`);
  const origin = `Generated by \`${summary.command}\` from test/bench/results/summary.json (commit ${summary.commit}).`;
  if (existsSync(shareMd)) put('share', `${readFileSync(shareMd, 'utf8').trim()}\n\n${origin}`);
  const md = markdown(summary);
  const relayAt = md.indexOf('Relay throughput (');
  if (summary.relay && relayAt >= 0) put('relay', `${md.slice(relayAt).trim()}\n\n${origin}`);
  writeFileSync(readme, text);
}

const verify = JSON.parse(readFileSync(join(OUT, 'verify.json'), 'utf8')) as VerifyResult;
const sharePath = join(OUT, `${process.env.BENCH_NAME ?? 'share-latency'}.json`);
const share = WITH_SHARE && existsSync(sharePath) ? (JSON.parse(readFileSync(sharePath, 'utf8')) as ShareResult) : undefined;
const throughputPath = join(OUT, 'relay-throughput.json');
const throughput = process.env.BENCH_WITH_RELAY === '1' && existsSync(throughputPath) ? (JSON.parse(readFileSync(throughputPath, 'utf8')) as ThroughputResult) : undefined;
const summary = build(verify, share, throughput);
writeFileSync(join(OUT, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
writeFileSync(join(OUT, 'summary.md'), markdown(summary));
if (WITH_SHARE) updateReadme(summary);
console.log(markdown(summary));
