import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Request input: @IsOptional() lets null through unvalidated; @MayBeAbsent() does not. */
const NO_IS_OPTIONAL = {
  name: 'class-validator',
  importNames: ['IsOptional'],
  message: 'Use @MayBeAbsent() (src/common/validation): null is not absent.',
};

/**
 * The folders of src in the order imports run (docs/architecture.md): a folder
 * imports only from folders before it, so a value two folders need lives in
 * the lower one and nothing runs back up. Relative paths only, as the code
 * writes them.
 */
const LAYERS = [
  'config',
  'common',
  'metrics',
  'database',
  'users',
  'devices',
  'session-events',
  'sessions',
  'session-http',
  'second-factors',
  'auth',
  'account',
  'admin',
  'health',
];

function noImportFromAbove(layer) {
  const above = LAYERS.slice(LAYERS.indexOf(layer) + 1);
  return {
    regex: `^(\\.\\./)+(${above.join('|')})(/|$)`,
    message: `src/${layer} sits below ${above.join(', ')} (docs/architecture.md): move what both need down.`,
  };
}

/** A module's repositories stay inside it: other modules ask its services (which the module exports, alone). */
const NO_FOREIGN_REPOSITORIES = {
  regex: '^\\.\\./(.+/)?[^/]+\\.repository$',
  message: "A repository is its module's own: call a service the module exports.",
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
  ...LAYERS.map((layer) => ({
    files: [`src/${layer}/**/*.ts`],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        // Environment variables are strings or absent, never null: config validates them with @IsOptional().
        { paths: layer === 'config' ? [] : [NO_IS_OPTIONAL], patterns: [noImportFromAbove(layer), NO_FOREIGN_REPOSITORIES] },
      ],
    },
  })),
  ...LAYERS.map((layer) => ({
    // A spec may import another module's repository to arrange a case, and test IsOptional itself; never a folder above.
    files: [`src/${layer}/**/*.spec.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: [noImportFromAbove(layer)] }] },
  })),
  {
    // Jest's configuration files are CommonJS: require is how they share settings.
    files: ['test/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
