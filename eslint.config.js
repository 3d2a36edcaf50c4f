// Lint gate: typescript-eslint's type-checked rules over the server, agent, tests, benchmarks and
// UI (`npm run lint`). Formatting is prettier's job, not ESLint's.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { explainedCatch } from './scripts/lint/explained-catch.mjs';

export default tseslint.config(
  { ignores: ['dist/', 'ui/dist/', 'node_modules/', 'native/', 'data/', 'test-artifacts/', '.cache/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { local: { rules: { 'explained-catch': explainedCatch } } },
    rules: {
      // `void promise` is no excuse: a dropped promise is awaited, handed a handler that reports
      // its failure, or its handler says why dropping is right (local/explained-catch).
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false }],
      'local/explained-catch': 'error',
      // A leading underscore marks a parameter that must exist but is not read; rest siblings are
      // how an object is copied without some of its fields.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // `async` without `await` is how a synchronous implementation of a Promise-returning interface
      // (a Kysely driver, a block device, a test fake) turns its throws into rejections.
      '@typescript-eslint/require-await': 'off',
      // A timer read by a callback declared before it is set stays `let`; so does a destructured
      // pair of which only one half is reassigned.
      'prefer-const': ['error', { destructuring: 'all', ignoreReadBeforeAssign: true }],
    },
  },
  {
    // A UI event handler starts an action that reports its own failure (form errors, a toast) and
    // resolves either way; `void` marks that start. An action that can reject gets a handler.
    files: ['ui/src/**/*.{ts,tsx}'],
    rules: { '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }] },
  },
  {
    // vitest types its asymmetric matchers (expect.any, expect.stringContaining) as `any`.
    files: ['**/*.test.ts', '**/*.test.tsx'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    // The UI's tests and vite.config.ts are type-checked with ui/tsconfig.test.json (`npm run
    // typecheck`), a name the project service does not look for.
    files: ['ui/**/*.{ts,tsx}'],
    languageOptions: {
      parserOptions: {
        projectService: false,
        project: './ui/tsconfig.test.json',
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: globals.node },
  },
);
