/**
 * The soak's network fault: for a while, the traffic of ONE node (a peer or an orderer, by its
 * listening port, both directions: destination and source port) crosses a bad link on loopback.
 * Both runtimes run the nodes on the host's loopback (the docker runtime with --network host), so
 * one mechanism serves both:
 *
 *  - delay: `tc` on `lo`, a root htb (handle 4d42:) whose default class passes everything else
 *    unlimited, and a class for the node's port with u32 filters (IPv4 and IPv6). Its leaf is
 *    netem (fixed delay) where the kernel has it; without sch_netem the class is a slow link
 *    instead (a seeded rate, so queueing delays the node's traffic under load);
 *  - loss: an iptables chain of its own (MEDBRIDGE-SOAK, jumped to from OUTPUT for `-o lo` only) dropping the
 *    node's packets at random (`statistic --mode random`), or netem's own loss.
 *
 * Only our own handle and chain are ever touched: clearNetFaults() removes them (at the fault's
 * end, on SIGINT/SIGTERM, and at the soak's start for a leftover of an earlier run); a root
 * qdisc on `lo` that is not ours makes the fault refuse to start rather than replace it.
 */
import { spawnSync } from 'node:child_process';

const TC = '/usr/sbin/tc';
const IPTABLES = 'iptables';
const IP6TABLES = 'ip6tables';
const ROOT = '4d42:';
const CLASS = '4d42:4';
const CHAIN = 'MEDBRIDGE-SOAK';

export interface LinkFault {
  port: number;
  delayMs: number;
  lossPct: number;
  /** Rate of the slow link when netem is missing (kbit/s). */
  rateKbit: number;
}

function run(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

function must(cmd: string, args: string[]): string {
  const r = run(cmd, args);
  if (!r.ok) throw new Error(`${cmd} ${args.join(' ')}: ${r.out}`);
  return r.out;
}

/** The root qdisc of lo: ours, none (noqueue), or someone else's. */
function rootOfLo(): 'ours' | 'none' | string {
  const line = must(TC, ['qdisc', 'show', 'dev', 'lo']).split('\n').find((l) => / root /.test(l)) ?? '';
  if (line.includes(` ${ROOT} root`)) return 'ours';
  if (line === '' || line.startsWith('qdisc noqueue')) return 'none';
  return line;
}

/** Removes our qdisc on lo and our iptables chains, if there; what was removed. */
export function clearNetFaults(): string[] {
  const removed: string[] = [];
  try {
    if (rootOfLo() === 'ours' && run(TC, ['qdisc', 'del', 'dev', 'lo', 'root']).ok) removed.push('tc qdisc on lo');
  } catch {
    // no tc: nothing of ours can be there
  }
  for (const ipt of [IPTABLES, IP6TABLES]) {
    let jumps = 0;
    // The jump as it is added (loopback only), and as an earlier version added it.
    while (run(ipt, ['-D', 'OUTPUT', '-o', 'lo', '-j', CHAIN]).ok) jumps += 1;
    while (run(ipt, ['-D', 'OUTPUT', '-j', CHAIN]).ok) jumps += 1;
    const flushed = run(ipt, ['-F', CHAIN]).ok;
    if (run(ipt, ['-X', CHAIN]).ok || jumps > 0 || flushed) removed.push(`${ipt} chain ${CHAIN}`);
  }
  return removed;
}

/** Puts the bad link on `port`'s traffic; what was applied (netem, or a slow link and iptables loss). */
export function addLinkFault(f: LinkFault): string {
  const root = rootOfLo();
  if (root !== 'none') {
    if (root === 'ours') clearNetFaults();
    else throw new Error(`lo has a root qdisc that is not the soak's (${root}); not replaced`);
  }
  try {
    must(TC, ['qdisc', 'add', 'dev', 'lo', 'root', 'handle', ROOT, 'htb', 'default', '1']);
    must(TC, ['class', 'add', 'dev', 'lo', 'parent', ROOT, 'classid', '4d42:1', 'htb', 'rate', '100gbit']);
    const netem = run(TC, ['class', 'add', 'dev', 'lo', 'parent', ROOT, 'classid', CLASS, 'htb', 'rate', '100gbit']).ok
      && run(TC, ['qdisc', 'add', 'dev', 'lo', 'parent', CLASS, 'handle', '4d43:', 'netem', 'delay', `${f.delayMs}ms`, 'loss', `${f.lossPct}%`]).ok;
    if (!netem) {
      run(TC, ['class', 'del', 'dev', 'lo', 'classid', CLASS]);
      must(TC, ['class', 'add', 'dev', 'lo', 'parent', ROOT, 'classid', CLASS, 'htb', 'rate', `${f.rateKbit}kbit`, 'ceil', `${f.rateKbit}kbit`]);
    }
    const p = String(f.port);
    for (const [proto, match, prio] of [['ip', 'ip', '1'], ['ipv6', 'ip6', '2']] as const) {
      for (const dir of ['dport', 'sport']) must(TC, ['filter', 'add', 'dev', 'lo', 'parent', ROOT, 'protocol', proto, 'prio', prio, 'u32', 'match', match, dir, p, '0xffff', 'flowid', CLASS]);
    }
    if (netem) return `netem delay ${f.delayMs} ms, loss ${f.lossPct} % on port ${f.port}`;
    for (const ipt of [IPTABLES, IP6TABLES]) {
      must(ipt, ['-N', CHAIN]);
      for (const dir of ['--dport', '--sport']) must(ipt, ['-A', CHAIN, '-p', 'tcp', dir, p, '-m', 'statistic', '--mode', 'random', '--probability', (f.lossPct / 100).toFixed(3), '-j', 'DROP']);
      // Only what leaves through loopback: no rule of the soak ever touches another interface.
      must(ipt, ['-I', 'OUTPUT', '-o', 'lo', '-j', CHAIN]);
    }
    return `no netem in this kernel: port ${f.port} on a ${f.rateKbit} kbit/s link (htb), ${f.lossPct} % of its packets dropped (iptables statistic)`;
  } catch (e) {
    clearNetFaults();
    throw e;
  }
}

/** Packets and drops of the faulted class (tc) and the loss rules (iptables), for the fault's record. */
export function linkFaultStats(): string {
  const tc = run(TC, ['-s', 'class', 'show', 'dev', 'lo', 'classid', CLASS]).out;
  const sent = /Sent (\d+) bytes (\d+) pkt \(dropped (\d+)/.exec(tc);
  let dropped = 0;
  for (const ipt of [IPTABLES, IP6TABLES]) {
    for (const l of run(ipt, ['-L', CHAIN, '-v', '-n', '-x']).out.split('\n')) {
      const m = /^\s*(\d+)\s+\d+\s+DROP/.exec(l);
      if (m) dropped += Number(m[1]);
    }
  }
  return sent ? `${sent[2]} packets through the link, ${Number(sent[3]) + dropped} dropped` : `${dropped} packets dropped`;
}
