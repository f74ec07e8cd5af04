/**
 * Throughput and latency of the hot path, side by side in one run on one
 * database: plain Express, our anonymous pipeline, our signed-in request, and a
 * textbook express-session + connect-mongo app. Usage:
 *   npm run bench -- [--duration 10] [--connections 50] [--sessions 100] [--soak 0]
 * (MONGODB_URI when set, else an embedded database). Prints one table and
 * writes the figures as JSON to .tmp/. `--sessions` is how many other sessions
 * are stored; `--soak N` then sends N more signed-in requests twice and reports
 * the RSS after each round.
 */
import autocannon from 'autocannon';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { startEmbeddedDatabase } from '../src/database/embedded-database';
import { freePort, waitForPort } from '../src/database/ports';
import { EXPIRED_SESSION_RETENTION_MS } from '../src/sessions/session-expiry-policy';

const ROOT = join(__dirname, '..');
const ADMIN = { email: 'load-test@example.test', password: 'a long benchmark passphrase' };
const DATA_COMMANDS = ['find', 'insert', 'update', 'delete', 'findAndModify', 'aggregate', 'count'];
const SEED_BATCH = 5_000;
const START_TIMEOUT_MS = 60_000;

const { values: options } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    sessions: { type: 'string', default: '100' },
    soak: { type: 'string', default: '0' },
  },
});

interface Row {
  scenario: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  dbOpsPerRequest: number;
  rssMb: number;
  errors: number;
}

function start(script: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, script, { cwd: ROOT, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
}

function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Math.round(Number(kb) / 1024);
}

async function ourCommands(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return DATA_COMMANDS.reduce((sum, command) => {
    const match = new RegExp(`^mongodb_commands_total\\{command="${command}"\\} (\\d+)`, 'm').exec(text);
    return sum + Number(match?.[1] ?? 0);
  }, 0);
}

async function plainCommands(url: string): Promise<number> {
  return ((await (await fetch(`${url}/ops`)).json()) as { commands: number }).commands;
}

async function measure(
  scenario: string,
  url: string,
  pid: number,
  commands: () => Promise<number>,
  headers: Record<string, string> = {},
  amount?: number,
): Promise<Row> {
  process.stdout.write(`  ${scenario}…\n`);
  const before = await commands();
  const result = await autocannon({
    url,
    headers,
    connections: Number(options.connections),
    ...(amount ? { amount } : { duration: Number(options.duration) }),
  });
  const requests = result.requests.total;
  return {
    scenario,
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    dbOpsPerRequest: Number(((await commands()) - before) / Math.max(1, requests)),
    rssMb: rssMb(pid),
    errors: result.errors + result.non2xx,
  };
}

/** Signs in through the JSON API like a client would; returns the Cookie header to send. */
async function signIn(url: string): Promise<string> {
  const csrf = await fetch(`${url}/api/auth/csrf`);
  const csrfCookie = csrf.headers.getSetCookie().map((cookie) => cookie.split(';')[0]);
  const { token } = (await csrf.json()) as { token: string };
  const login = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': token, cookie: csrfCookie.join('; ') },
    body: JSON.stringify(ADMIN),
  });
  if (login.status !== 200) throw new Error(`sign-in failed: ${login.status} ${await login.text()}`);
  return login.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0])
    .join('; ');
}

/** Other people's sessions, so lookups run against a realistically full collection. */
async function seedSessions(uri: string, count: number): Promise<void> {
  const client = await MongoClient.connect(uri);
  const sessions = client.db().collection('sessions');
  const now = new Date();
  for (let from = 0; from < count; from += SEED_BATCH) {
    const batch = Array.from({ length: Math.min(SEED_BATCH, count - from) }, () => ({
      _id: randomBytes(32).toString('hex') as unknown as never,
      expires: new Date(now.getTime() + EXPIRED_SESSION_RETENTION_MS + 15 * 60_000),
      session: {
        userId: randomBytes(12).toString('hex'),
        email: 'x@bench.test',
        name: '',
        role: 'user',
        createdAt: now,
        lastActivityAt: now,
      },
    }));
    await sessions.insertMany(batch);
  }
  await client.close();
}

function printTable(rows: Row[]): void {
  const header = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'DB ops/req', 'RSS MB', 'errors'];
  const lines = rows.map((row) => [
    row.scenario,
    row.requestsPerSecond.toLocaleString('en'),
    String(row.p50Ms),
    String(row.p99Ms),
    row.dbOpsPerRequest.toFixed(2),
    String(row.rssMb),
    String(row.errors),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i].length)));
  const format = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  process.stdout.write(`\n${format(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${lines.map(format).join('\n')}\n`);
}

async function main(): Promise<void> {
  const embedded = process.env.MONGODB_URI
    ? undefined
    : await startEmbeddedDatabase(mkdtempSync(join(tmpdir(), 'bench-db-')), (message) => process.stdout.write(`${message}\n`));
  const server = process.env.MONGODB_URI ?? embedded!.uri;
  const database = `bench_${randomBytes(4).toString('hex')}`;
  const uri = `${server.replace(/\/?(\?.*)?$/, '')}/${database}`;
  const [appPort, plainPort] = [await freePort(), await freePort()];
  const children: ChildProcess[] = [];
  try {
    const app = start(['dist/main.js'], {
      NODE_ENV: 'production',
      PORT: String(appPort),
      MONGODB_URI: uri,
      SESSION_SECRET: randomBytes(48).toString('base64url'),
      COOKIE_SECURE: 'false',
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      LOG_LEVEL: 'info',
    });
    const plain = start(['-r', 'ts-node/register/transpile-only', 'bench/plain-express-app.ts'], {
      PORT: String(plainPort),
      MONGODB_URI: uri,
    });
    children.push(app, plain);
    const gaveUp = () => app.exitCode !== null || plain.exitCode !== null;
    await Promise.all([waitForPort(appPort, START_TIMEOUT_MS, gaveUp), waitForPort(plainPort, START_TIMEOUT_MS, gaveUp)]);
    const appUrl = `http://127.0.0.1:${appPort}`;
    const plainUrl = `http://127.0.0.1:${plainPort}`;
    for (let ready = false; !ready;) ready = (await fetch(`${appUrl}/health/ready`).catch(() => undefined))?.ok ?? false;

    const stored = Number(options.sessions);
    process.stdout.write(`Seeding ${stored.toLocaleString('en')} other sessions…\n`);
    await seedSessions(uri, stored);
    const cookie = await signIn(appUrl);
    const plainLogin = await fetch(`${plainUrl}/login`, { method: 'POST' });
    const plainCookie = plainLogin.headers.getSetCookie()[0].split(';')[0];

    process.stdout.write(`Measuring (${options.connections} connections, ${options.duration} s each)…\n`);
    const ours = () => ourCommands(appUrl);
    const theirs = () => plainCommands(plainUrl);
    const rows = [
      await measure('plain Express route (no session)', `${plainUrl}/plain`, plain.pid!, theirs),
      await measure('GET /health/live (anonymous, whole pipeline)', `${appUrl}/health/live`, app.pid!, ours),
      await measure(
        `GET /api/auth/me (signed in, ${stored.toLocaleString('en')} other sessions)`,
        `${appUrl}/api/auth/me`,
        app.pid!,
        ours,
        {
          cookie,
        },
      ),
      await measure('plain express-session + connect-mongo /me', `${plainUrl}/me`, plain.pid!, theirs, { cookie: plainCookie }),
    ];
    const soak = Number(options.soak);
    for (let round = 1; soak > 0 && round <= 2; round++) {
      rows.push(
        await measure(
          `soak round ${round}: ${soak.toLocaleString('en')} × /api/auth/me`,
          `${appUrl}/api/auth/me`,
          app.pid!,
          ours,
          { cookie },
          soak,
        ),
      );
    }
    printTable(rows);
    const [plainRoute, anonymous, signedIn] = rows;
    const ratios = {
      signedInVsAnonymous: Number((signedIn.requestsPerSecond / anonymous.requestsPerSecond).toFixed(2)),
      anonymousVsPlainExpress: Number((anonymous.requestsPerSecond / plainRoute.requestsPerSecond).toFixed(2)),
    };
    process.stdout.write(
      `\nsigned-in / anonymous: ${ratios.signedInVsAnonymous}×   anonymous / plain Express: ${ratios.anonymousVsPlainExpress}×\n`,
    );
    mkdirSync(join(ROOT, '.tmp'), { recursive: true });
    const file = join(ROOT, '.tmp', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify({ options, rows, ratios, at: new Date().toISOString() }, null, 2));
    process.stdout.write(`Figures written to ${file}\n`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await embedded?.stop();
  }
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
