/**
 * The soak's settings, read once from the environment (the make targets pass them):
 *
 * | variable             | default            | meaning                                                        |
 * |----------------------|--------------------|----------------------------------------------------------------|
 * | SOAK_SEED            | random (printed)   | seed of the fault schedule and the load's choices               |
 * | SOAK_PACKETS         | 200                | packets the load puts on the route (at least)                   |
 * | SOAK_MINUTES         | (none)             | run the load at least this long (the fault window)              |
 * | SOAK_RATE            | 1                  | packets per second the load offers at most                      |
 * | SOAK_WORKERS         | 6                  | patients sending at once (half on chain-a, half on chain-b)     |
 * | SOAK_DRAIN_MINUTES   | 3                  | after the load: how long the relay may go without settling one |
 * | SOAK_FAULTS          | all of the runtime | comma-separated fault kinds (schedule.ts FaultKinds), or `none` |
 * | SOAK_NET2            | 1                  | 1: load on a second route chain-a <-> chain-c (net2) as well; 0: net1 only |
 */
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { seedFrom } from './random';
import { FaultKinds, type FaultKind } from './schedule';

const Positive = z.coerce.number().positive();

const EnvSchema = z.object({
  SOAK_PACKETS: z.coerce.number().int().min(1).default(200),
  SOAK_MINUTES: Positive.optional(),
  SOAK_RATE: Positive.default(1),
  SOAK_WORKERS: z.coerce.number().int().min(2).max(64).default(6),
  SOAK_DRAIN_MINUTES: Positive.default(3),
  SOAK_FAULTS: z.string().optional(),
  SOAK_NET2: z.enum(['0', '1']).optional(),
});

export interface SoakOptions {
  seed: number;
  packets: number;
  minutes?: number;
  rate: number;
  workers: number;
  drainMinutes: number;
  faults: FaultKind[];
  /** SOAK_FAULTS as given (absent: every kind of the runtime). */
  faultsAsked?: string;
  /** Load across chain-a <-> chain-c (net2) as well. */
  net2: boolean;
  /** SOAK_NET2 as given (absent: the default). */
  net2Asked?: '0' | '1';
  runtime: 'native' | 'docker';
}

/** Fault kinds a runtime can inject: container-pause only on docker; node kills only on native. */
export function faultsOf(runtime: 'native' | 'docker'): FaultKind[] {
  return runtime === 'docker'
    ? ['relay-kill', 'record-server-kill', 'api-kill', 'container-pause', 'net-delay-loss']
    : FaultKinds.filter((k) => k !== 'container-pause');
}

export function soakOptions(env: NodeJS.ProcessEnv = process.env): SoakOptions {
  const set = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('SOAK_') && k !== 'SOAK_SEED' && v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(set);
  if (!parsed.success) throw new Error(`invalid soak settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const e = parsed.data;
  const runtime = env.FABRIC_RUNTIME === 'docker' ? 'docker' : 'native';
  const possible = faultsOf(runtime);
  let faults = possible;
  if (e.SOAK_FAULTS !== undefined) {
    const asked = e.SOAK_FAULTS === 'none' ? [] : e.SOAK_FAULTS.split(',').map((s) => s.trim());
    const unknown = asked.filter((k) => !possible.includes(k as FaultKind));
    if (unknown.length > 0) throw new Error(`SOAK_FAULTS: ${unknown.join(', ')} not injectable on the ${runtime} runtime (possible: ${possible.join(', ')})`);
    faults = asked as FaultKind[];
  }
  return {
    seed: seedFrom(env.SOAK_SEED, () => randomInt(0, 2 ** 31)),
    packets: e.SOAK_PACKETS,
    ...(e.SOAK_MINUTES === undefined ? {} : { minutes: e.SOAK_MINUTES }),
    rate: e.SOAK_RATE,
    workers: e.SOAK_WORKERS,
    drainMinutes: e.SOAK_DRAIN_MINUTES,
    faults,
    ...(e.SOAK_FAULTS === undefined ? {} : { faultsAsked: faults.length === 0 ? 'none' : faults.join(',') }),
    net2: e.SOAK_NET2 !== '0',
    ...(e.SOAK_NET2 === undefined ? {} : { net2Asked: e.SOAK_NET2 }),
    runtime,
  };
}

/** The command that runs this soak again with the same schedule. */
export function replayCommand(o: SoakOptions, target: string): string {
  const env = [`SOAK_SEED=${o.seed}`, `SOAK_PACKETS=${o.packets}`, ...(o.minutes === undefined ? [] : [`SOAK_MINUTES=${o.minutes}`]), `SOAK_RATE=${o.rate}`, `SOAK_WORKERS=${o.workers}`, ...(o.faultsAsked === undefined ? [] : [`SOAK_FAULTS=${o.faultsAsked}`]), ...(o.net2Asked === undefined ? [] : [`SOAK_NET2=${o.net2Asked}`]), `FABRIC_RUNTIME=${o.runtime}`];
  // make test-soak sets FABRIC_RUNTIME=native: a docker run is replayed through the script itself.
  const command = o.runtime === 'docker' && target === 'test-soak' ? 'network/scripts/soak.sh' : `make ${target}`;
  return `${env.join(' ')} flock /tmp/medbridge-fabric.lock ${command}`;
}
