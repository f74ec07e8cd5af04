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
 * database connection, metrics) import nothing of a feature: a value both
 * need lives in the lower layer. Relative paths only, as the code writes them.
 */
const NO_FEATURE_IMPORTS = {
  regex: '^(\\.\\./)+(users|sessions|auth|admin|account|health)(/|$)',
  message: 'config, common, database and metrics sit below the features: move what both need down (e.g. src/common/).',
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
    rules: { 'no-restricted-imports': ['error', { paths: [NO_IS_OPTIONAL] }] },
  },
  {
    // A later block replaces the rule's options, so this one repeats NO_IS_OPTIONAL where it applied.
    files: ['src/common/**/*.ts', 'src/database/**/*.ts', 'src/metrics/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [NO_IS_OPTIONAL], patterns: [NO_FEATURE_IMPORTS] }] },
  },
  {
    files: ['src/config/**/*.ts', 'src/common/**/*.spec.ts', 'src/database/**/*.spec.ts', 'src/metrics/**/*.spec.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [NO_FEATURE_IMPORTS] }] },
  },
  {
    // Jest's configuration files are CommonJS: require is how they share settings.
    files: ['test/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
