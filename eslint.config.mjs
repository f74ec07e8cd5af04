import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Request input: @IsOptional() lets null through unvalidated; @MayBeAbsent() does not. */
const NO_IS_OPTIONAL = {
  name: 'class-validator',
  importNames: ['IsOptional'],
  message: 'Use @MayBeAbsent() (src/common/validation): null is not absent.',
};

/**
 * The layers every feature stands on (configuration, shared plumbing, the
 * database connection, metrics, telling devices apart) import nothing of a
 * feature: a value both need lives in the lower layer. Relative paths only,
 * as the code writes them.
 */
const NO_FEATURE_IMPORTS = {
  regex: '^(\\.\\./)+(users|sessions|session-events|session-http|auth|admin|account|health)(/|$)',
  message: 'config, common, database, metrics and devices sit below the features: move what both need down (e.g. src/common/).',
};

/** A module's repositories stay inside it: other modules ask its services (which the module exports, alone). */
const NO_FOREIGN_REPOSITORIES = {
  regex: '^\\.\\./(.+/)?[^/]+\\.repository$',
  message: "A repository is its module's own: call a service the module exports.",
};

/** The web edge (session-http) sits on a session's life and the event log; neither imports it back. */
const NO_WEB_EDGE_IMPORTS = {
  regex: '^(\\.\\./)+session-http(/|$)',
  message: 'sessions and session-events know nothing of HTTP: the web edge (src/session-http) calls them, not the reverse.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.embedded-db/**', '.tmp/**', 'coverage/**', 'public/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', __dirname: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-control-regex': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/config/**', '**/*.spec.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [NO_IS_OPTIONAL], patterns: [NO_FOREIGN_REPOSITORIES] }] },
  },
  {
    files: ['src/sessions/**/*.ts', 'src/session-events/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [NO_IS_OPTIONAL], patterns: [NO_FOREIGN_REPOSITORIES, NO_WEB_EDGE_IMPORTS] }] },
  },
  {
    // A later block replaces the rule's options, so this one repeats NO_IS_OPTIONAL where it applied.
    files: ['src/common/**/*.ts', 'src/database/**/*.ts', 'src/metrics/**/*.ts', 'src/devices/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [NO_IS_OPTIONAL], patterns: [NO_FEATURE_IMPORTS, NO_FOREIGN_REPOSITORIES] }] },
  },
  {
    files: [
      'src/config/**/*.ts',
      'src/common/**/*.spec.ts',
      'src/database/**/*.spec.ts',
      'src/metrics/**/*.spec.ts',
      'src/devices/**/*.spec.ts',
    ],
    rules: { 'no-restricted-imports': ['error', { patterns: [NO_FEATURE_IMPORTS] }] },
  },
  {
    // Jest's configuration files are CommonJS: require is how they share settings.
    files: ['test/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
