// The race finder (test/races): random concurrent programs against two instances on one real database.
// Run through `npm run test:races` (test/races/run.ts turns --runs/--seed/--path into environment variables).
module.exports = {
  rootDir: '..',
  moduleFileExtensions: ['js', 'json', 'ts'],
  testMatch: ['<rootDir>/test/races/**/*.race-spec.ts'],
  ...require('./jest.esm-packages'),
  testEnvironment: 'node',
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  // Each file runs two app instances and times its own races: one file at a time.
  maxWorkers: 1,
};
