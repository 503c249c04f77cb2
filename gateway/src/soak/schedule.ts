/**
 * The soak's fault schedule: which fault, on which node, at which moment of the load window,
 * and for how long the node stays down, all drawn from the seed. Faults run one after
 * another (never two at once), so the network always keeps an endorsing peer per org and a
 * Raft quorum: the soak tests recovery from each fault under load, not a total outage.
 */
import { between, pick, seededRandom, shuffled } from './random';

export const FaultKinds = [
  'relay-kill',
  'peer-restart',
  'orderer-leader-restart',
  'orderer-down',
  'chaincode-restart',
  'record-server-kill',
  'container-pause',
  'api-kill',
  'net-delay-loss',
] as const;
export type FaultKind = (typeof FaultKinds)[number];

export interface Fault {
  /** Milliseconds after the load starts. */
  atMs: number;
  kind: FaultKind;
  /** peer-restart and chaincode-restart: the org; orderer-down: the orderer's index; container-pause: the peer's org. */
  org?: string;
  /** peer-restart and container-pause: which of the org's peers (index). */
  peer?: number;
  /** orderer-down: index of the orderer in the network description. */
  orderer?: number;
  /** How long the process stays down (or paused, or its link bad) before it is started again (or the link mended). */
  downMs: number;
  /** net-delay-loss: the link's delay, loss and (without netem) rate. Its node: org and peer, or orderer. */
  delayMs?: number;
  lossPct?: number;
  rateKbit?: number;
}

export interface ScheduleInput {
  seed: number;
  /** Length of the load window the faults are spread over. */
  windowMs: number;
  orgs: readonly string[];
  peersPerOrg: number;
  orderers: number;
  /** Rounds of the fault list (each round has every kind, and a peer fault for every org). */
  rounds: number;
  /** container-pause only on the docker runtime. */
  kinds: readonly FaultKind[];
}

/** The faults of one round: each kind once, peer-restart once per org, in a seeded order. */
function round(input: ScheduleInput, random: () => number): Omit<Fault, 'atMs'>[] {
  const out: Omit<Fault, 'atMs'>[] = [];
  for (const kind of input.kinds) {
    switch (kind) {
      case 'peer-restart':
        for (const org of input.orgs) out.push({ kind, org, peer: between(random, 0, input.peersPerOrg - 1), downMs: between(random, 2_000, 8_000) });
        break;
      case 'container-pause':
        out.push({ kind, org: pick(random, input.orgs), peer: between(random, 0, input.peersPerOrg - 1), downMs: between(random, 3_000, 10_000) });
        break;
      case 'chaincode-restart':
        out.push({ kind, org: pick(random, input.orgs), downMs: between(random, 1_000, 4_000) });
        break;
      case 'orderer-down':
        out.push({ kind, orderer: between(random, 0, input.orderers - 1), downMs: between(random, 15_000, 30_000) });
        break;
      case 'orderer-leader-restart':
        out.push({ kind, downMs: between(random, 2_000, 8_000) });
        break;
      case 'relay-kill':
        out.push({ kind, downMs: between(random, 0, 5_000) });
        break;
      case 'record-server-kill':
        out.push({ kind, downMs: between(random, 0, 3_000) });
        break;
      case 'api-kill':
        out.push({ kind, downMs: between(random, 0, 3_000) });
        break;
      case 'net-delay-loss': {
        const peers = input.orgs.length * input.peersPerOrg;
        const n = between(random, 0, peers + input.orderers - 1);
        const node = n < peers ? { org: input.orgs[Math.floor(n / input.peersPerOrg)] as string, peer: n % input.peersPerOrg } : { orderer: n - peers };
        out.push({ kind, ...node, downMs: between(random, 10_000, 30_000), delayMs: between(random, 50, 300), lossPct: between(random, 2, 10), rateKbit: between(random, 256, 2_048) });
        break;
      }
    }
  }
  return shuffled(random, out);
}

/**
 * Every fault of the run at its moment: the window is cut into one slot per fault and each
 * fault starts at a seeded point of the first half of its slot (the second half leaves it time
 * to recover before the next).
 */
export function faultSchedule(input: ScheduleInput): Fault[] {
  const random = seededRandom(input.seed ^ 0x5eed);
  const faults: Omit<Fault, 'atMs'>[] = [];
  for (let r = 0; r < input.rounds; r++) faults.push(...round(input, random));
  const slot = input.windowMs / Math.max(1, faults.length);
  return faults.map((f, i) => ({ atMs: Math.round(i * slot + random() * slot * 0.5), ...f }));
}

/** One line per fault, as printed at the start of a run. */
export function describeFault(f: Fault): string {
  const where = f.orderer !== undefined ? ` orderer #${f.orderer}` : f.org ? ` ${f.org}${f.peer !== undefined ? ` peer #${f.peer}` : ''}` : '';
  const link = f.delayMs !== undefined ? ` (delay ${f.delayMs} ms, loss ${f.lossPct} %, or ${f.rateKbit} kbit/s without netem)` : '';
  return `t+${(f.atMs / 1000).toFixed(1).padStart(6)} s  ${f.kind}${where}, down ${(f.downMs / 1000).toFixed(1)} s${link}`;
}
