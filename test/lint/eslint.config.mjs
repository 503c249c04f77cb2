// ESLint for medbridge (flat config; run from the repository root by `make lint`).
// typescript-eslint's recommended rules plus the type-aware rules that catch the bugs that
// matter in Fabric code: promises left floating or passed where a callback is expected.
import process from 'node:process';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.runtime/**', 'chaincode/game/**', 'gateway/bin/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: process.cwd() } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The chaincode package has one public entry (chaincode/src/api.ts). Unit tests of
    // chaincode internals import chaincode/src directly; nothing imports its dist/ paths.
    files: ['gateway/src/**/*.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@medbridge/chaincode/*'],
              message: "import from '@medbridge/chaincode' (chaincode/src/api.ts), the package's one entry",
            },
          ],
        },
      ],
    },
  },
  {
    // Tests parse chaincode JSON of many shapes; `any` there reads better than a type per answer.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
