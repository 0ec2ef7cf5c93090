// ESLint flat config. Prettier owns layout (.prettierrc.json); ESLint owns correctness: unhandled
// promises (type-aware, through the TypeScript project service) and the 140-column limit, which
// Prettier cannot enforce on strings and comments. knip (knip.json) finds unused exports and files.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'interop/reference/target/**'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: globals.node,
      parserOptions: {
        projectService: {
          // Plain JS files outside every tsconfig (this file, the .mjs scripts) get a default project.
          allowDefaultProject: ['*.js', 'scripts/*.mjs', 'workers/*.mjs', 'interop/reference/*.mjs'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test runs what test() and describe() return itself; awaiting them is not the idiom.
          allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      // A leading underscore marks a deliberately unused name, as tsc's noUnusedParameters allows.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      'max-len': ['error', { code: 140, ignoreUrls: true }],
      // `let timer; const stop = () => clearTimeout(timer); timer = setTimeout(…)`: a closure reads it first.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['kdljs/*'], message: 'kdljs internals are reached only through src/config/kdljs-adapter.ts' }] },
      ],
    },
  },
  {
    files: ['src/config/kdljs-adapter.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
