/**
 * A soak with faults: two app instances on one database, a mixed workload of
 * people and an admin, and faults on a schedule, then checks from the answers
 * and the database. Usage:
 *   npm run soak -- [--minutes 10] [--seed 1] [--users 16] [--database-kills 2]
 * Its own FerretDB (from .embedded-db/bin, its own data folder, so it can be
 * killed and started again on the same port and data), or MONGODB_URI when
 * set (then the database is not killed, and the soak says so). The instances
 * run as deployed (`node <Dockerfile flags> dist/main.js`, NODE_ENV=production)
 * with short lifetimes, so sessions end all through the run. What is checked
 * is listed in bench/soak/judge.ts (VIOLATION_KINDS); it prints a table,
 * writes the figures and every violation to .tmp/soak-<time>.json (instance
 * logs and every exchange beside it), and exits non-zero on any violation
 * (keeping its own database's data). MONGODB_LOG_* variables reach the
 * instances, for the driver's own logs.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { BENCH_PUBLIC_URL, SESSION_COOKIE } from './support';
import { Browser, Recorder } from './soak/browser';
import { AppInstance, externalDatabase, FaultWindow, ownDatabase, SoakDatabase } from './soak/cluster';
import { injectFaults, planFaults } from './soak/faults';
import { DatabaseSnapshot, ENDING_EVENTS, Judge } from './soak/judge';
import { Random } from './soak/random';
import { figuresOf, table } from './soak/report';
import {
  ABSOLUTE_MINUTES,
  END_REACHES_EVERY_INSTANCE_MS,
  FINAL_PASS_WAIT_MS,
  INACTIVITY_MINUTES,
  INSTANCE_NAMES,
  LOCK_MINUTES,
  LOGIN_MAX_FAILURES,
  LOGIN_MAX_FAILURES_PER_IP,
  MAX_PER_USER,
  REAUTH_MINUTES,
  RSS_SAMPLE_INTERVAL_MS,
  SHUTDOWN_DRAIN_SECONDS,
  SWEEP_SECONDS,
  USER_AGENTS,
} from './soak/settings';
import { Account, newPassword, Workload } from './soak/workload';

const ROOT = join(__dirname, '..');
const ADMIN = { email: 'soak-admin@example.test', password: 'a long soak passphrase' };

const { values: options } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    users: { type: 'string', default: '16' },
    'database-kills': { type: 'string', default: '2' },
  },
});

const log = (message: string) => process.stdout.write(`${message}\n`);

function numberOption(name: keyof typeof options, { integer = false, min = 0, max = Infinity } = {}): number {
  const value = Number(options[name]);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new Error(`--${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${options[name]}`);
  }
  return value;
}

/** The admin the instances create at boot signs in once and creates the people. */
async function createPeople(recorder: Recorder, count: number): Promise<Account[]> {
  const setup = new Browser('setup', ADMIN.email, '10.18.254.1', USER_AGENTS[0]);
  const signIn = await recorder.send(setup, 'POST', '/api/auth/login', {
    csrf: (await recorder.csrf(setup)).token,
    body: ADMIN,
  });
  if (signIn.status !== 200) throw new Error(`the admin could not sign in: ${signIn.status ?? signIn.error} ${signIn.code ?? ''}`);
  const accounts: Account[] = [];
  for (let i = 0; i < count; i++) {
    const account = { email: `soak-${i}@example.test`, id: '', password: newPassword() };
    const { token } = await recorder.csrf(setup);
    const created = await recorder.sendForBody(setup, 'POST', '/api/admin/users', {
      csrf: token,
      body: { email: account.email, password: account.password, name: `Soak ${i}` },
    });
    const id = (created.body as { user?: { id?: string } } | undefined)?.user?.id;
    if (!id) throw new Error(`creating ${account.email} answered ${created.exchange.status} ${created.exchange.code ?? ''}`);
    accounts.push({ ...account, id });
  }
  return accounts;
}

async function withDatabase<T>(uri: string, use: (client: MongoClient) => Promise<T>): Promise<T> {
  const client = await MongoClient.connect(uri);
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

function snapshotOf(uri: string): Promise<DatabaseSnapshot> {
  return withDatabase(uri, async (client) => {
    const db = client.db();
    const [sessions, events, loginFailures, users] = await Promise.all([
      db.collection('sessions').find({}).toArray(),
      db.collection('session_events').find({}).toArray(),
      db.collection('login_failures').find({}).toArray(),
      db.collection('users').find({}).toArray(),
    ]);
    return {
      takenAt: Date.now(),
      sessions: sessions as unknown as DatabaseSnapshot['sessions'],
      events: events as unknown as DatabaseSnapshot['events'],
      loginFailures: loginFailures as unknown as DatabaseSnapshot['loginFailures'],
      users: users as unknown as DatabaseSnapshot['users'],
    };
  });
}

async function main(): Promise<number> {
  const minutes = numberOption('minutes', { min: 0.5 });
  const seed = numberOption('seed', { integer: true });
  const people = numberOption('users', { integer: true, min: 1, max: 200 });
  const databaseKills = numberOption('database-kills', { integer: true, max: 2 });
  const runMs = minutes * 60_000;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outputDir = join(ROOT, '.tmp', `soak-${stamp}`);
  mkdirSync(outputDir, { recursive: true });

  const database: SoakDatabase = process.env.MONGODB_URI ? externalDatabase(process.env.MONGODB_URI) : await ownDatabase(log);
  const uri = `${database.server}/soak_${randomBytes(4).toString('hex')}`;
  const env = {
    NODE_ENV: 'production',
    MONGODB_URI: uri,
    SESSION_SECRET: randomBytes(48).toString('base64url'),
    COOKIE_SECURE: 'false',
    PUBLIC_URL: BENCH_PUBLIC_URL,
    SESSION_COOKIE_NAME: SESSION_COOKIE,
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    // The browsers' addresses come as X-Forwarded-For from loopback, so offices and the lockout's IP counter are real.
    TRUST_PROXY: 'loopback',
    LOG_LEVEL: 'warn',
    SESSION_INACTIVITY_MINUTES: String(INACTIVITY_MINUTES),
    SESSION_EXPIRE_MINUTES: String(ABSOLUTE_MINUTES),
    SESSION_SWEEP_SECONDS: String(SWEEP_SECONDS),
    SESSION_MAX_PER_USER: String(MAX_PER_USER),
    LOGIN_MAX_FAILURES: String(LOGIN_MAX_FAILURES),
    LOGIN_MAX_FAILURES_PER_IP: String(LOGIN_MAX_FAILURES_PER_IP),
    LOGIN_LOCK_MINUTES: String(LOCK_MINUTES),
    REAUTH_MINUTES: String(REAUTH_MINUTES),
    SHUTDOWN_DRAIN_SECONDS: String(SHUTDOWN_DRAIN_SECONDS),
  };
  const instances = await Promise.all(
    INSTANCE_NAMES.map((name, index) =>
      AppInstance.create(name, index, env, createWriteStream(join(outputDir, `instance-${name}.log`), { flags: 'a' })),
    ),
  );
  // Unknown until judged: a run that fails before keeps its data too.
  let violations = -1;
  try {
    await Promise.all(instances.map((instance) => instance.start()));
    log(
      `Soak: ${minutes} min, seed ${seed}, ${people} people and an admin, instances A and B (${env.SESSION_INACTIVITY_MINUTES} min idle, ` +
        `${env.SESSION_EXPIRE_MINUTES} min absolute, at most ${MAX_PER_USER} sessions each), database: ${database.describe}`,
    );
    const random = new Random(seed);
    const recorder = new Recorder(instances, random.fork(-1));
    const accounts = await createPeople(recorder, people);

    const faults: FaultWindow[] = [];
    const startedAt = Date.now();
    const until = startedAt + runMs;
    const plan = planFaults(runMs, databaseKills, database);
    log(
      `Faults planned: ${plan.map((fault) => `${fault.kind}${fault.instance === undefined ? '' : ` ${INSTANCE_NAMES[fault.instance]}`} at +${(fault.atMs / 1000).toFixed(0)} s`).join(', ')}`,
    );
    const sampler = setInterval(() => instances.forEach((instance) => instance.sampleRss()), RSS_SAMPLE_INTERVAL_MS);
    const workload = new Workload(recorder, accounts, { ...ADMIN, id: '' }, random);
    await Promise.all([workload.run(until), injectFaults(plan, startedAt, database, instances, faults, log)]);
    clearInterval(sampler);

    log('Load stopped; every session a browser held is sent again to both instances, then the expiry pass gets its turn…');
    await sleep(END_REACHES_EVERY_INSTANCE_MS);
    await workload.replayAll();
    await sleep(FINAL_PASS_WAIT_MS);
    const snapshot = await snapshotOf(uri);

    const judge = new Judge(recorder.exchanges, faults, startedAt);
    judge.checkAnswers();
    judge.checkSessions(snapshot, until);
    judge.checkLockout(snapshot);
    const rss = judge.checkRss(instances, until);
    const endings = snapshot.events.filter((event) => ENDING_EVENTS.has(event.type));
    const figures = figuresOf(recorder.exchanges, faults, judge.violations, rss, endings, judge.asserted, startedAt);
    log(`\n${table(figures, judge.violations)}\n`);
    const file = join(ROOT, '.tmp', `soak-${stamp}.json`);
    writeFileSync(
      file,
      JSON.stringify(
        {
          options: { minutes, seed, users: people, databaseKills, database: database.describe },
          env: { ...env, SESSION_SECRET: '…', ADMIN_PASSWORD: '…' },
          figures,
          violations: judge.violations,
          // Per instance, per process: [seconds from the start, MB].
          rssSamples: Object.fromEntries(
            instances.map((instance) => [
              instance.name,
              instance.incarnations.map(({ pid, rss }) => ({
                pid,
                samples: rss.map(({ at, mb }) => [Math.round((at - startedAt) / 1000), Math.round(mb)]),
              })),
            ]),
          ),
        },
        null,
        2,
      ),
    );
    writeFileSync(join(outputDir, 'exchanges.jsonl'), recorder.exchanges.map((exchange) => JSON.stringify(exchange)).join('\n'));
    log(`Figures written to ${file}; instance logs and every exchange in ${outputDir}`);
    violations = judge.violations.length;
    if (!database.killable && violations === 0) await withDatabase(uri, (client) => client.db().dropDatabase());
    return violations === 0 ? 0 : 1;
  } finally {
    await Promise.all(instances.map((instance) => instance.stop()));
    const kept = await database.stop(violations !== 0);
    if (kept) log(`The database's data is kept in ${kept} (database ${uri.split('/').pop()}) to look into`);
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
