/** The soak's settings: defaults, validation, the fault kinds each runtime can inject, and the replay command. */
import { faultsOf, replayCommand, soakOptions } from '../../../gateway/src/soak/options';

describe('soak settings', () => {
  it('defaults to 200 packets at 1 packet/s with every native fault, and keeps a given seed', () => {
    const o = soakOptions({ SOAK_SEED: '17' });
    expect(o).toMatchObject({ seed: 17, packets: 200, rate: 1, workers: 6, drainMinutes: 3, runtime: 'native' });
    expect(o.faults).toEqual(faultsOf('native'));
    expect(o.faults).not.toContain('container-pause');
  });

  it('refuses a fault kind the runtime cannot inject, and a malformed number', () => {
    expect(() => soakOptions({ SOAK_FAULTS: 'container-pause' })).toThrow(/not injectable on the native runtime/);
    expect(() => soakOptions({ SOAK_PACKETS: 'many' })).toThrow(/SOAK_PACKETS/);
    expect(soakOptions({ SOAK_FAULTS: 'none' }).faults).toEqual([]);
    expect(soakOptions({ SOAK_FAULTS: 'relay-kill, peer-restart' }).faults).toEqual(['relay-kill', 'peer-restart']);
  });

  it('loads the second route (net2) unless SOAK_NET2=0, and replays a given SOAK_NET2', () => {
    expect(soakOptions({}).net2).toBe(true);
    const o = soakOptions({ SOAK_SEED: '5', SOAK_NET2: '0' });
    expect(o.net2).toBe(false);
    expect(replayCommand(o, 'test-soak')).toContain(' SOAK_NET2=0 ');
    expect(() => soakOptions({ SOAK_NET2: 'yes' })).toThrow(/SOAK_NET2/);
  });

  it('prints a replay command that carries the seed and the settings', () => {
    const o = soakOptions({ SOAK_SEED: '99', SOAK_PACKETS: '300', SOAK_FAULTS: 'relay-kill' });
    expect(replayCommand(o, 'test-soak')).toBe('SOAK_SEED=99 SOAK_PACKETS=300 SOAK_RATE=1 SOAK_WORKERS=6 SOAK_FAULTS=relay-kill FABRIC_RUNTIME=native flock /tmp/medbridge-fabric.lock make test-soak');
    // make test-soak runs the native runtime: a docker run replays through the script.
    expect(replayCommand(soakOptions({ SOAK_SEED: '99', FABRIC_RUNTIME: 'docker' }), 'test-soak')).toBe('SOAK_SEED=99 SOAK_PACKETS=200 SOAK_RATE=1 SOAK_WORKERS=6 FABRIC_RUNTIME=docker flock /tmp/medbridge-fabric.lock network/scripts/soak.sh');
  });
});
