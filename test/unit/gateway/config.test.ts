import { ConfigError, gatewayDataDir, parseConfig } from '../../../gateway/src/config';

describe('gateway configuration', () => {
  it('defaults keys to the home directory and state to the folder of the network a profile names', () => {
    const c = parseConfig({ MEDBRIDGE_RUNTIME: '/rt' }, '/home/p');
    expect(c).toEqual({ runtimeDir: '/rt', network: 'net1', logLevel: undefined, keysDir: '/home/p/.medbridge/keys', dataDir: undefined, defaultOrg: undefined });
    expect(gatewayDataDir(c, 'net1')).toBe('/rt/net1/gateway');
    expect(gatewayDataDir(c, 'fabric-samples-test-network')).toBe('/rt/fabric-samples-test-network/gateway');
  });

  it('keys state by the profile network, not by MEDBRIDGE_NETWORK, unless MEDBRIDGE_DATA_DIR names one folder', () => {
    const c = parseConfig({ MEDBRIDGE_RUNTIME: '/rt', MEDBRIDGE_NETWORK: 'net2' }, '/h');
    expect(gatewayDataDir(c, 'fabric-samples-test-network')).toBe('/rt/fabric-samples-test-network/gateway');
    const fixed = parseConfig({ MEDBRIDGE_RUNTIME: '/rt', MEDBRIDGE_DATA_DIR: '/d' }, '/h');
    expect(gatewayDataDir(fixed, 'net1')).toBe('/d');
    expect(gatewayDataDir(fixed, 'fabric-samples-test-network')).toBe('/d');
  });

  it('refuses a profile network name that is not a folder name', () => {
    const c = parseConfig({ MEDBRIDGE_RUNTIME: '/rt' }, '/h');
    for (const bad of ['..', '.', '../x', 'a/b', '']) {
      expect(() => gatewayDataDir(c, bad)).toThrow(ConfigError);
    }
  });

  it('takes explicit values from the environment', () => {
    const c = parseConfig({ MEDBRIDGE_RUNTIME: '/rt', MEDBRIDGE_NETWORK: 'net2', MEDBRIDGE_LOG_LEVEL: 'debug', MEDBRIDGE_KEYS_DIR: '/k', MEDBRIDGE_DATA_DIR: '/d', MEDBRIDGE_DEFAULT_ORG: 'HospitalB' });
    expect(c).toMatchObject({ network: 'net2', logLevel: 'debug', keysDir: '/k', dataDir: '/d', defaultOrg: 'HospitalB' });
  });

  it('treats an empty variable as unset', () => {
    expect(parseConfig({ MEDBRIDGE_RUNTIME: '/rt', MEDBRIDGE_DEFAULT_ORG: '', MEDBRIDGE_NETWORK: '' }, '/h')).toMatchObject({ network: 'net1', defaultOrg: undefined });
  });

  it('rejects an unknown log level and a network name that is not a folder name', () => {
    expect(() => parseConfig({ MEDBRIDGE_LOG_LEVEL: 'loud' })).toThrow(ConfigError);
    expect(() => parseConfig({ MEDBRIDGE_NETWORK: '../x' })).toThrow(/MEDBRIDGE_NETWORK/);
  });
});
