/**
 * A sign-in storm against the password hash's own ceiling, in one run on this
 * machine. Usage:
 *   npm run bench:storm -- [--duration 20] [--clients 48] [--users 200] [--connections 10] [--me-rate 200] [--in-flight 8]
 *                          [--hash-concurrency N]  (the app's PASSWORD_HASH_CONCURRENCY; default: its own)
 * (MONGODB_URI when set, else an embedded database). It measures, in turn:
 * 1. the ceiling: argon2id verifications per second at the app's cost with
 *    `--in-flight` at once, in this process, the app idle (half the duration
 *    here, half after the storm; the ratio uses their mean);
 * 2. `GET /api/auth/me` alone: `--me-rate` requests per second over
 *    `--connections` (autocannon; a fixed rate, as signed-in people click, not
 *    as fast as the server answers, so the p99 shows waiting, not a backlog);
 * 3. the storm: `--clients` browsers that each signed in once before (so they
 *    hold a device cookie, as people do at 9:00) sign in again in a loop, a
 *    CSRF token then the POST, honouring Retry-After on 503 (plus up to a second, as people retry), while `/me` runs
 *    beside as in 2. The browsers run in their own process at nice 19
 *    (storm-clients.ts), `/me`'s client in its own at normal priority.
 * It prints each figure against its target (issue 18) and writes them to .tmp/.
 */
import * as argon2 from 'argon2';
import { ChildProcess, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { startEmbeddedDatabase } from '../src/database/embedded-database';
import { DEFAULT_PASSWORD_HASH_OPTIONS } from '../src/users/password-hasher';
import type { FromClients, ToClients } from './storm-clients';
import { PASSWORD } from './storm-clients';
import { signIn, startProductionApp } from './support';

const ROOT = join(__dirname, '..');
const ADMIN = { email: 'storm-admin@example.test', password: 'a long benchmark passphrase' };
const DATA_COMMANDS = ['find', 'insert', 'update', 'delete', 'findAndModify', 'aggregate', 'count'];
const TARGET = { throughput: 0.6, maxSignInMs: 5_000, meP99Ratio: 3, commandsPerSignIn: 4 };
const COMMAND_SAMPLE = 20;
const AUTOCANNON = join(ROOT, 'node_modules', 'autocannon', 'autocannon.js');
/** The storm's clients yield the CPU to the server they measure (see storm-clients.ts). */
const CLIENTS_NICE = 19;

const { values: options } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    clients: { type: 'string', default: '48' },
    users: { type: 'string', default: '200' },
    connections: { type: 'string', default: '10' },
    'me-rate': { type: 'string', default: '200' },
    'in-flight': { type: 'string', default: '8' },
    'hash-concurrency': { type: 'string' },
  },
});

/** The storm's browsers in their own process, at a lower priority; `ask` sends a message and waits for the answer. */
function startClients(): { ask: (message: ToClients) => Promise<FromClients>; stop: () => void } {
  const child = fork(join(__dirname, 'storm-clients.ts'), { execArgv: ['-r', 'ts-node/register/transpile-only'], cwd: ROOT });
  setPriority(child.pid!, CLIENTS_NICE);
  return {
    ask: (message) =>
      new Promise((resolve, reject) => {
        child.once('message', (answer: FromClients) => (answer.type === 'failed' ? reject(new Error(answer.message)) : resolve(answer)));
        child.send(message);
      }),
    stop: () => child.kill(),
  };
}

/** argon2id verifications per second at the app's cost with `inFlight` at once. */
async function hashCeiling(inFlight: number, seconds: number): Promise<number> {
  const hash = await argon2.hash(PASSWORD, { ...DEFAULT_PASSWORD_HASH_OPTIONS, type: argon2.argon2id });
  const until = performance.now() + seconds * 1000;
  let verified = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < until) {
        await argon2.verify(hash, PASSWORD);
        verified++;
      }
    }),
  );
  return verified / ((performance.now() - started) / 1000);
}

/**
 * `/me` at a fixed rate for `seconds`, from its own process: in this one, the
 * storm's clients would delay the answers' handling and inflate the p99.
 */
async function meP99(url: string, cookie: string, seconds: number): Promise<{ p99: number; rps: number; errors: number }> {
  const args = [AUTOCANNON, '-j', '-c', options.connections!, '-R', options['me-rate']!, '-d', String(seconds), '-H', `cookie=${cookie}`];
  const child = spawn(process.execPath, [...args, `${url}/api/auth/me`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await once(child, 'exit');
  const result = JSON.parse(output) as { latency: { p99: number }; requests: { average: number }; errors: number; non2xx: number };
  return { p99: result.latency.p99, rps: Math.round(result.requests.average), errors: result.errors + result.non2xx };
}

/** The app's own view of its event loop and garbage collection (prom-client's default metrics). */
async function runtimeFigures(url: string): Promise<{ loopP99Ms: number; gcSeconds: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
  return {
    loopP99Ms: Math.round(value(/^nodejs_eventloop_lag_p99_seconds (\S+)/m) * 1000),
    gcSeconds: [...text.matchAll(/^nodejs_gc_duration_seconds_sum\{[^}]*\} (\S+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0),
  };
}

async function commandsSoFar(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return DATA_COMMANDS.reduce((sum, command) => {
    const match = new RegExp(`^mongodb_commands_total\\{command="${command}"\\} (\\d+)`, 'm').exec(text);
    return sum + Number(match?.[1] ?? 0);
  }, 0);
}

/** `count` accounts cloned from the admin the app created (same shape), all with PASSWORD. */
async function storeUsers(uri: string, count: number): Promise<string[]> {
  const passwordHash = await argon2.hash(PASSWORD, { ...DEFAULT_PASSWORD_HASH_OPTIONS, type: argon2.argon2id });
  const client = await MongoClient.connect(uri);
  try {
    const users = client.db().collection('users');
    const original = await users.findOne({ email: ADMIN.email });
    if (!original) throw new Error('the app did not create its admin');
    const { _id: _ignored, ...shape } = original;
    const emails = Array.from({ length: count }, (_, i) => `storm-${i}@example.test`);
    await users.insertMany(
      emails.map((email) => ({ ...shape, email, role: 'user', passwordHash, credentialStamp: randomBytes(12).toString('base64url') })),
    );
    return emails;
  } finally {
    await client.close();
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function verdict(ok: boolean): string {
  return ok ? 'meets' : 'MISSES';
}

async function main(): Promise<void> {
  const seconds = Number(options.duration);
  process.stdout.write(
    `1. Hash ceiling: argon2id verifications with ${options['in-flight']} in flight for ${seconds / 2} s, app not started…\n`,
  );
  const ceilingBefore = await hashCeiling(Number(options['in-flight']), seconds / 2);
  process.stdout.write(`   ${ceilingBefore.toFixed(1)} verifications/s (measured again after the storm)\n`);

  const embedded = process.env.MONGODB_URI
    ? undefined
    : await startEmbeddedDatabase(mkdtempSync(join(tmpdir(), 'storm-db-')), (message) => process.stdout.write(`${message}\n`));
  const server = process.env.MONGODB_URI ?? embedded!.uri;
  const uri = `${server.replace(/\/?(\?.*)?$/, '')}/storm_${randomBytes(4).toString('hex')}`;
  let app: ChildProcess | undefined;
  let clients: ReturnType<typeof startClients> | undefined;
  try {
    const started = await startProductionApp(uri, {
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      LOG_LEVEL: 'warn',
      ...(options['hash-concurrency'] ? { PASSWORD_HASH_CONCURRENCY: options['hash-concurrency'] } : {}),
    });
    app = started.process;
    const url = started.url;

    const emails = await storeUsers(uri, Number(options.users));
    const stormEmails = emails.slice(0, Number(options.clients));
    clients = startClients();
    process.stdout.write(`   ${emails.length} accounts stored; each of ${stormEmails.length} browsers signs in once (device cookie)…\n`);
    await clients.ask({ type: 'prepare', url, emails: stormEmails });
    const before = await commandsSoFar(url);
    await clients.ask({ type: 'sample', count: COMMAND_SAMPLE });
    const commandsPerSignIn = ((await commandsSoFar(url)) - before) / COMMAND_SAMPLE;
    // The CSRF request costs none; an anonymous request reads no session.
    process.stdout.write(`   ${commandsPerSignIn.toFixed(2)} database commands per known-browser sign-in\n`);

    const cookie = await signIn(url, ADMIN);
    process.stdout.write(`2. GET /api/auth/me alone, ${options['me-rate']} req/s over ${options.connections} connections, ${seconds} s…\n`);
    await meP99(url, cookie, 3);
    const alone = await meP99(url, cookie, seconds);
    process.stdout.write(`   p99 ${alone.p99} ms, ${alone.rps} req/s\n`);

    process.stdout.write(`3. Storm: ${stormEmails.length} browsers signing in in a loop for ${seconds} s, /me beside…\n`);
    const gcBefore = (await runtimeFigures(url)).gcSeconds;
    // Together, so a failure of either stops the run through `finally` (the app is stopped, not orphaned).
    const [stormed, beside] = await Promise.all([clients.ask({ type: 'storm', seconds }), meP99(url, cookie, seconds)]);
    const signIns = stormed.type === 'stormed' ? stormed.results : [];
    const runtime = await runtimeFigures(url);
    process.stdout.write(
      `   the app's event loop: p99 lag ${runtime.loopP99Ms} ms; garbage collection: ${(runtime.gcSeconds - gcBefore).toFixed(2)} s of the ${seconds} s\n`,
    );
    // A shared machine's speed drifts from minute to minute: the ceiling is the mean of one measure on each side of the storm.
    process.stdout.write(`4. Hash ceiling again, ${seconds / 2} s, the app idle…\n`);
    const ceilingAfter = await hashCeiling(Number(options['in-flight']), seconds / 2);
    process.stdout.write(`   ${ceilingAfter.toFixed(1)} verifications/s\n`);
    const ceiling = (ceilingBefore + ceilingAfter) / 2;

    const succeeded = signIns.filter((result) => result.status === 200);
    const shed = signIns.filter((result) => result.code === 'SYS_9003').length;
    const other = signIns.filter((result) => result.status !== 200 && result.code !== 'SYS_9003');
    const rate = succeeded.length / seconds;
    const latencies = succeeded.map((result) => result.ms);
    const slowest = Math.max(0, ...signIns.map((result) => result.ms));
    const figures = {
      ceilingPerSecond: Number(ceiling.toFixed(1)),
      ceilingBeforeAfter: [Number(ceilingBefore.toFixed(1)), Number(ceilingAfter.toFixed(1))],
      signInsPerSecond: Number(rate.toFixed(1)),
      throughputRatio: Number((rate / ceiling).toFixed(2)),
      signInP50Ms: Math.round(percentile(latencies, 50)),
      signInP99Ms: Math.round(percentile(latencies, 99)),
      slowestSignInMs: Math.round(slowest),
      shed,
      otherFailures: other.length,
      meP99AloneMs: alone.p99,
      meP99BesideMs: beside.p99,
      meP99Ratio: Number((beside.p99 / Math.max(1, alone.p99)).toFixed(2)),
      meErrorsBeside: beside.errors,
      commandsPerSignIn,
    };
    process.stdout.write(
      [
        '',
        `hash ceiling                 ${figures.ceilingPerSecond}/s (${figures.ceilingBeforeAfter.join(' before, ')} after the storm)`,
        `sign-ins in the storm        ${figures.signInsPerSecond}/s = ${figures.throughputRatio} of the ceiling (target ≥ ${TARGET.throughput}: ${verdict(figures.throughputRatio >= TARGET.throughput)})`,
        `sign-in latency              p50 ${figures.signInP50Ms} ms, p99 ${figures.signInP99Ms} ms, slowest ${figures.slowestSignInMs} ms (target ≤ ${TARGET.maxSignInMs} ms: ${verdict(slowest <= TARGET.maxSignInMs)})`,
        `shed (503 SYS_9003)          ${shed} of ${signIns.length}; other failures ${other.length}${other.length ? ` (${[...new Set(other.map((result) => `${result.status} ${result.code ?? ''}`))].join(', ')})` : ''}`,
        `/me p99 alone → in storm     ${figures.meP99AloneMs} ms → ${figures.meP99BesideMs} ms = ${figures.meP99Ratio}× (target ≤ ${TARGET.meP99Ratio}×: ${verdict(figures.meP99Ratio <= TARGET.meP99Ratio)}); ${beside.errors} errors`,
        `commands per sign-in         ${commandsPerSignIn.toFixed(2)} (target ≤ ${TARGET.commandsPerSignIn}: ${verdict(commandsPerSignIn <= TARGET.commandsPerSignIn)})`,
        '',
      ].join('\n'),
    );
    mkdirSync(join(ROOT, '.tmp'), { recursive: true });
    const file = join(ROOT, '.tmp', `storm-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify({ options, figures, at: new Date().toISOString() }, null, 2));
    process.stdout.write(`Figures written to ${file}\n`);
  } finally {
    clients?.stop();
    app?.kill('SIGTERM');
    await embedded?.stop();
  }
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
