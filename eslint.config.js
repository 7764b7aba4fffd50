// Lint rules, including the architecture's import boundaries (DESIGN.md): renderer -> shared <- main
// <- app, and only app/electron imports 'electron'.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Entries with a slash are path patterns (folders of this repo); others are exact module names.
const restrict = (entries, message) => ({
  'no-restricted-imports': [
    'error',
    {
      paths: entries.filter((e) => !e.includes('/')).map((name) => ({ name, message })),
      patterns: entries.filter((e) => e.includes('/')).map((group) => ({ group: [group], message })),
    },
  ],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.scratch/**', 'test-results/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: restrict(
      ['**/main/**', '**/app/**', 'electron', 'dockerode', 'node:fs', 'node:child_process'],
      'The renderer talks to main only through shared/ (the typed API).',
    ),
  },
  {
    files: ['shared/**'],
    rules: restrict(
      ['**/main/**', '**/app/**', '**/renderer/**', 'electron', 'dockerode'],
      'shared/ is the contract: it depends on nothing of the app.',
    ),
  },
  { files: ['main/**'], rules: restrict(['**/app/**', '**/renderer/**', 'electron'], 'main/ is plain Node: no Electron, no UI.') },
  {
    files: ['app/**', 'test/**', 'e2e/**', 'bench/**', 'scripts/**'],
    ignores: ['app/electron/**', 'test/electron-app.test.ts'],
    rules: restrict(['electron'], "Only app/electron imports 'electron'."),
  },
);
