import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * `npm run test:races -- --runs N --seed S [--path P] [--ignore kind,kind] [--explore]`:
 * jest refuses flags it does not know, so these become RACES_RUNS, RACES_SEED,
 * RACES_PATH, RACES_IGNORE and RACES_EXPLORE; every other argument (`--json
 * --outputFile=…`, a test name pattern) goes to jest.
 */
const OPTIONS: Record<string, string> = {
  '--runs': 'RACES_RUNS',
  '--seed': 'RACES_SEED',
  '--path': 'RACES_PATH',
  // Violation kinds to look past (comma list), e.g. --ignore stale-stamp
  '--ignore': 'RACES_IGNORE',
};
const NUMERIC = new Set(['--runs', '--seed']);

const env: NodeJS.ProcessEnv = { ...process.env };
const jestArgs: string[] = [];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const [flag, inline] = args[i].split(/=(.*)/s, 2);
  if (flag === '--explore') {
    // Every program runs, none stops the rest: every kind of violation, each with its smallest program.
    env.RACES_EXPLORE = '1';
    continue;
  }
  const variable = OPTIONS[flag];
  if (!variable) {
    jestArgs.push(args[i]);
    continue;
  }
  const value = inline ?? args[++i];
  if (value === undefined || value === '') {
    process.stderr.write(`${flag} needs a value\n`);
    process.exit(2);
  }
  if (NUMERIC.has(flag) && !/^-?\d+$/.test(value)) {
    process.stderr.write(`${flag} must be a whole number, got ${value}\n`);
    process.exit(2);
  }
  env[variable] = value;
}

const root = join(__dirname, '..', '..');
const result = spawnSync(
  process.execPath,
  [require.resolve('jest/bin/jest', { paths: [root] }), '--config', join(root, 'test', 'jest.races.config.js'), ...jestArgs],
  { cwd: root, env, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
