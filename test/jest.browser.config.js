// Browser tests: headless Chromium (Debian's package) driven by playwright-core, against the real app.
module.exports = {
  rootDir: '..',
  moduleFileExtensions: ['js', 'json', 'ts'],
  testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'],
  ...require('./jest.esm-packages'),
  testEnvironment: 'node',
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  maxWorkers: 1,
  testTimeout: 60000,
};
