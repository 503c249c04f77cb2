/** Two projects: `unit` (pure rules, protocol, contracts on a fake stub; no network)
 *  and `integration` (a real Fabric network; global setup starts it or reuses it). */
const common = {
  preset: 'ts-jest',
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  testEnvironment: 'node',
  moduleNameMapper: { '^@medbridge/chaincode/dist/(.*)$': '<rootDir>/chaincode/src/$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', isolatedModules: true }] },
};
module.exports = {
  // Integration tests wait on real commits; unit tests never come near this.
  testTimeout: 180000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/global-teardown.ts',
    },
  ],
};
