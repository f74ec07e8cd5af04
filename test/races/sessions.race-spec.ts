import type { NestExpressApplication } from '@nestjs/platform-express';
import fc from 'fast-check';
import { appendFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SESSION_STORE } from '../../src/sessions/session.constants';
import { SessionsRepository } from '../../src/sessions/sessions.repository';
import { UsersService } from '../../src/users/users.service';
import { createTestApp, destroyTestApp, uniqueDatabaseName } from '../helpers/test-app';
import { checkInvariants, VIOLATION_KINDS } from './invariants';
import { describeProgram, Program, programs } from './program';
import { RACE_ENV, Violation, World } from './world';

/**
 * A property-based race finder: fast-check writes random programs of
 * commands (sign-in, sign-out, refresh, re-authentication, password change,
 * admin changes, revocations, expiry passes, time passing); each program runs
 * as waves of commands started together, against two real instances on one
 * real database, and then the invariants are checked (./invariants.ts).
 *
 * `npm run test:races` runs a fixed seed (CI);
 * `npm run test:races -- --runs N --seed S` runs longer;
 * `npm run test:races -- --seed S --path P` replays a counterexample (and shrinks it further);
 * `--ignore kind,kind` looks past known violations; `--explore` runs every program without
 * stopping at the first failure and lists every kind of violation with the smallest program that showed it.
 * Real concurrency is not deterministic: a replay runs the same program, which usually, not always,
 * loses the same race.
 */

/** The CI run: a fixed seed and as many runs as fit in about a minute on 2 cores. */
const DEFAULT_SEED = 20_240_611;
const DEFAULT_RUNS = 20;
/** Many times what a quiet run takes, sleeps included: past it, something hangs. */
const RUN_TIMEOUT_MS = 60_000;
/** Once a run failed, shrinking goes on for at most this long (then the smallest failure so far is reported). */
const SHRINK_BUDGET_MS = Number(process.env.RACES_SHRINK_SECONDS ?? 60) * 1_000;

const seed = process.env.RACES_SEED ? Number(process.env.RACES_SEED) : DEFAULT_SEED;
const numRuns = process.env.RACES_RUNS ? Number(process.env.RACES_RUNS) : DEFAULT_RUNS;
const path = process.env.RACES_PATH || undefined;
const explore = process.env.RACES_EXPLORE === '1';
/** A file to append every failing program to (one JSON line each), to study more than the smallest. */
const log = process.env.RACES_LOG || undefined;
/** RACES_STATS=1: print how often each command got each answer (what the programs actually exercised). */
const stats = process.env.RACES_STATS === '1' ? new Map<string, number>() : undefined;
const ignored = new Set((process.env.RACES_IGNORE ?? '').split(',').filter(Boolean));
/** The whole property: every run at its timeout, plus the shrinking budget. */
const TEST_TIMEOUT_MS = numRuns * RUN_TIMEOUT_MS + SHRINK_BUDGET_MS + 120_000;

interface Sighting {
  runs: number;
  /** The smallest program (fewest commands) that showed this kind, what it broke, and how to run it again. */
  size: number;
  program: string;
  detail: string;
  replay: string;
}

const sizeOf = (program: Program) => program.waves.reduce((total, wave) => total + wave.length, 0);

describe('race finder: two instances, one database, random concurrent programs', () => {
  const db = uniqueDatabaseName('races');
  const apps: NestExpressApplication[] = [];
  const urls: string[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const app = await createTestApp({ db, env: RACE_ENV });
      await app.listen(0, '127.0.0.1');
      apps.push(app);
      urls.push(`http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`);
      delayDatabaseSteps(app);
    }
  }, 120_000);

  afterAll(async () => {
    await apps[1]?.close();
    await destroyTestApp(apps[0]);
  });

  it(
    'keeps every session invariant',
    async () => {
      let run = 0;
      let firstFailureAt: number | undefined;
      const sightings = new Map<string, Sighting>();
      const started = Date.now();

      const property = fc.asyncProperty(programs, async (program: Program) => {
        // Shrinking past its budget: every further candidate "passes", so the smallest failure so far stands.
        if (firstFailureAt !== undefined && Date.now() - firstFailureAt > SHRINK_BUDGET_MS) return;
        run++;
        schedule = { delays: program.delays, step: 0 };
        const world = new World(apps, urls, run);
        await world.setUp(program, run);
        for (const wave of program.waves) await world.runWave(wave);
        if (stats) tallyAnswers(stats, world);
        const violations = (await checkInvariants(world)).filter((violation) => !ignored.has(violation.kind));
        if (violations.length === 0) return;
        // Without shrinking, run k of a seed is path k-1.
        note(
          sightings,
          violations,
          program,
          explore && !path ? `--seed ${seed} --path ${run - 1}` : path ? 'replayed' : 'found while shrinking',
        );
        if (explore) return;
        firstFailureAt ??= Date.now();
        throw new Error(describeViolations(violations));
      });

      const details = await fc.check(property, { seed, numRuns, path, plugins: [fc.timeout(RUN_TIMEOUT_MS)] });
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      process.stderr.write(
        `\nrace finder: seed ${seed}, ${details.numRuns} runs, ${details.numShrinks} shrinks, ${run} programs in ${seconds} s\n`,
      );
      if (stats) process.stderr.write(`answers (command → status), over all programs:\n${describeTally(stats)}\n`);
      if (!details.failed && sightings.size === 0) return;

      const lines: string[] = [];
      if (details.failed) {
        lines.push(
          `The race finder found a violation (seed ${details.seed}, path "${details.counterexamplePath}"):`,
          '',
          'Smallest program that failed (the commands of a wave start together; @A/@B is the instance):',
          details.counterexample ? describeProgram((details.counterexample as [Program])[0]) : '  (none: the property itself threw)',
          '',
          'What it broke:',
          details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance),
          '',
          `Replay it: npm run test:races -- --seed ${details.seed} --path "${details.counterexamplePath}"`,
          '',
        );
      } else {
        lines.push(`The race finder found violations in ${run} programs (seed ${seed}, --explore: no shrinking).`, '');
      }
      lines.push(`Every kind of violation seen in the ${run} programs run (--ignore <kind>,<kind> looks past some):`);
      for (const [kind, sighting] of sightings) {
        lines.push(
          `  ${kind}: ${VIOLATION_KINDS[kind as keyof typeof VIOLATION_KINDS] ?? kind}; in ${sighting.runs} programs.`,
          `    Smallest (${sighting.replay}):`,
          sighting.program.replace(/^/gm, '    '),
          `    ${sighting.detail}`,
        );
      }
      if (details.failed) lines.push('', fc.defaultReportMessage(details) ?? '');
      throw new Error(lines.join('\n'));
    },
    TEST_TIMEOUT_MS,
  );
});

/** The delays of the program being run, taken in turn by every database step of either instance. */
let schedule = { delays: [0], step: 0 };

/**
 * Each step of the app that reads or writes a session or an account first
 * waits the program's next delay, then runs as it is: the gaps between two
 * writes (where the races of this service lived) open wide enough for another
 * request to run in them, in an order fast-check chooses and shrinks.
 */
const DATABASE_STEPS: [token: unknown, methods: string[]][] = [
  [SESSION_STORE, ['insert']],
  [SessionsRepository, ['findById', 'findActiveOfUser', 'recordActivity', 'markEnded', 'markEnding', 'deleteRecorded', 'restamp']],
  [
    UsersService,
    [
      'findByEmailWithPasswordHash',
      'countDeviceCheck',
      'deviceCounter',
      'restartDeviceCount',
      'currentCredentials',
      'setPassword',
      'update',
      'withUnfinishedChanges',
      'staleSessionsEnded',
    ],
  ],
];

function delayDatabaseSteps(app: NestExpressApplication): void {
  for (const [token, methods] of DATABASE_STEPS) {
    const object = app.get(token as string) as Record<string, (...args: unknown[]) => Promise<unknown>>;
    for (const method of methods) {
      const original = object[method].bind(object);
      object[method] = async (...args: unknown[]) => {
        const delay = schedule.delays[schedule.step++ % schedule.delays.length];
        if (delay > 0) await sleep(delay);
        return original(...args);
      };
    }
  }
}

function note(sightings: Map<string, Sighting>, violations: Violation[], program: Program, replay: string): void {
  if (log) appendFileSync(log, `${JSON.stringify({ replay, program: describeProgram(program), violations })}\n`);
  const counted = new Set<string>();
  for (const violation of violations) {
    const sighting = sightings.get(violation.kind);
    if (sighting && !counted.has(violation.kind)) sighting.runs++;
    counted.add(violation.kind);
    if (!sighting || sizeOf(program) < sighting.size) {
      sightings.set(violation.kind, {
        runs: sighting?.runs ?? 1,
        size: sizeOf(program),
        program: describeProgram(program),
        detail: violation.detail,
        replay,
      });
    }
  }
}

function describeViolations(violations: Violation[]): string {
  return violations.map((violation) => `  [${violation.kind}] ${violation.detail}`).join('\n');
}

function tallyAnswers(tally: Map<string, number>, world: World): void {
  for (const answer of world.answers) {
    const key = `${answer.step
      .replace(/\(.*?\)/, '')
      .replace(/ @[AB]/, '')
      .replace(/\/[0-9a-f]{8}\b/, '/:id')} → ${answer.status}${answer.code ? ` ${answer.code}` : ''}`;
    tally.set(key, (tally.get(key) ?? 0) + 1);
  }
}

function describeTally(tally: Map<string, number>): string {
  return [...tally]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, count]) => `  ${String(count).padStart(5)}  ${key}`)
    .join('\n');
}
