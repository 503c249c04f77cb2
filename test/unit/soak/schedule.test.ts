/** The soak's fault schedule: the same seed gives the same schedule, and every kind and every org is covered. */
import { faultSchedule, FaultKinds, type ScheduleInput } from '../../../gateway/src/soak/schedule';
import { seedFrom, seededRandom } from '../../../gateway/src/soak/random';

const input = (seed: number, rounds = 1): ScheduleInput => ({
  seed,
  windowMs: 120_000,
  orgs: ['HospitalA', 'HospitalB', 'HospitalC'],
  peersPerOrg: 2,
  orderers: 3,
  rounds,
  kinds: FaultKinds.filter((k) => k !== 'container-pause'),
});

describe('soak fault schedule', () => {
  it('is the same for the same seed and differs for another', () => {
    expect(faultSchedule(input(7))).toEqual(faultSchedule(input(7)));
    expect(faultSchedule(input(7))).not.toEqual(faultSchedule(input(8)));
  });

  it('has every kind once per round and a peer restart for every org, in time order within the window', () => {
    const s = faultSchedule(input(123, 2));
    // Per round: each kind once, peer-restart once per org (3 orgs: 2 more than one).
    expect(s).toHaveLength(2 * (input(123).kinds.length + 2));
    for (const kind of FaultKinds.filter((k) => k !== 'container-pause')) expect(s.some((f) => f.kind === kind)).toBe(true);
    expect(new Set(s.filter((f) => f.kind === 'peer-restart').map((f) => f.org))).toEqual(new Set(['HospitalA', 'HospitalB', 'HospitalC']));
    const times = s.map((f) => f.atMs);
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(times.every((t) => t >= 0 && t < 120_000)).toBe(true);
  });

  it('puts a network fault on one node (a peer or an orderer) for 10-30 s with 50-300 ms delay and 2-10 % loss', () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const nets = faultSchedule(input(seed)).filter((f) => f.kind === 'net-delay-loss');
      expect(nets).toHaveLength(1);
      const f = nets[0]!;
      expect((f.orderer !== undefined) !== (f.org !== undefined && f.peer !== undefined)).toBe(true);
      expect(f.downMs).toBeGreaterThanOrEqual(10_000);
      expect(f.downMs).toBeLessThanOrEqual(30_000);
      expect(f.delayMs).toBeGreaterThanOrEqual(50);
      expect(f.delayMs).toBeLessThanOrEqual(300);
      expect(f.lossPct).toBeGreaterThanOrEqual(2);
      expect(f.lossPct).toBeLessThanOrEqual(10);
    }
  });

  it('reads SOAK_SEED, or draws a fresh seed when it is unset', () => {
    expect(seedFrom('42', () => 7)).toBe(42);
    expect(seedFrom(undefined, () => 7)).toBe(7);
    expect(() => seedFrom('-1', () => 7)).toThrow(/SOAK_SEED/);
    const r = seededRandom(1);
    expect([r(), r()]).toEqual((() => { const q = seededRandom(1); return [q(), q()]; })());
  });
});
