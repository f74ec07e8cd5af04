/**
 * Throughput and latency of the hot path, side by side in one run on one
 * database: plain Express, our anonymous pipeline, our signed-in request, and a
 * textbook express-session + connect-mongo app. Usage:
 *   npm run bench -- [--duration 10] [--connections 50] [--sessions 100] [--settle 60] [--rounds 3] [--soak 0]
 *                    [--node-flags="--flag …"]
 * (MONGODB_URI when set, else an embedded database). Every scenario is warmed
 * up, then measured `--rounds` times in turn; the table shows each scenario's
 * median round (by req/s) and the highest RSS seen. It writes the figures as
 * JSON to .tmp/. `--sessions` is how many other sessions are stored: clones of
 * the benchmark's own session document as the app wrote it at sign-in, each
 * under another id and user. `--settle` is how long the app then runs idle
 * before anything is measured (default 60 s), so that its periodic work (the
 * activity write of the signed-in session, the expiry pass, the sweep where
 * there are no TTL indexes) comes due during the measurement, as it would in
 * production, instead of all of it waiting behind the first minute. `--soak N`
 * then sends N more signed-in requests twice and reports the RSS after each
 * round; `--node-flags` are passed to the app's node (default: the Dockerfile's,
 * so the app runs as deployed).
 */
import autocannon from 'autocannon';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEmbeddedDatabase } from '../src/database/embedded-database';
import { freePort, waitForPort } from '../src/database/ports';
import { BENCH_PUBLIC_URL, productionNodeFlags, readSession, SESSION_COOKIE, signIn, storeClones } from './support';

const ROOT = join(__dirname, '..');
const ADMIN = { email: 'load-test@example.test', password: 'a long benchmark passphrase' };
const DATA_COMMANDS = ['find', 'insert', 'update', 'delete', 'findAndModify', 'aggregate', 'count'];
const WARM_UP_SECONDS = 3;
const START_TIMEOUT_MS = 60_000;

const { values: options } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    sessions: { type: 'string', default: '100' },
    settle: { type: 'string', default: '60' },
    rounds: { type: 'string', default: '3' },
    soak: { type: 'string', default: '0' },
    'node-flags': { type: 'string' },
  },
});

interface Scenario {
  name: string;
  url: string;
  pid: number;
  commands: () => Promise<number>;
  headers?: Record<string, string>;
}

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

async function measure(scenario: Scenario, amount?: number): Promise<Row> {
  process.stdout.write(`  ${scenario.name}…\n`);
  const before = await scenario.commands();
  const result = await autocannon({
    url: scenario.url,
    headers: scenario.headers ?? {},
    connections: Number(options.connections),
    ...(amount ? { amount } : { duration: Number(options.duration) }),
  });
  const requests = result.requests.total;
  return {
    scenario: scenario.name,
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    dbOpsPerRequest: Number(((await scenario.commands()) - before) / Math.max(1, requests)),
    rssMb: rssMb(scenario.pid),
    errors: result.errors + result.non2xx,
  };
}

/** JIT and connection pools settle before anything is measured. */
async function warmUp(scenario: Scenario): Promise<void> {
  await autocannon({
    url: scenario.url,
    headers: scenario.headers ?? {},
    connections: Number(options.connections),
    duration: WARM_UP_SECONDS,
  });
}

/** The round with the median throughput (its own latencies), with the highest RSS of all rounds. */
function median(rounds: Row[]): Row {
  const sorted = [...rounds].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  return { ...sorted[Math.floor(sorted.length / 2)], rssMb: Math.max(...rounds.map((round) => round.rssMb)) };
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
    const nodeFlags = options['node-flags']?.split(' ').filter(Boolean) ?? productionNodeFlags();
    process.stdout.write(`App started as: node ${[...nodeFlags, 'dist/main.js'].join(' ')}\n`);
    const app = start([...nodeFlags, 'dist/main.js'], {
      NODE_ENV: 'production',
      PORT: String(appPort),
      MONGODB_URI: uri,
      SESSION_SECRET: randomBytes(48).toString('base64url'),
      COOKIE_SECURE: 'false',
      PUBLIC_URL: BENCH_PUBLIC_URL,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      SESSION_COOKIE_NAME: SESSION_COOKIE,
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
    const cookie = await signIn(appUrl, ADMIN);
    process.stdout.write(`Seeding ${stored.toLocaleString('en')} other sessions…\n`);
    await storeClones(uri, await readSession(uri, cookie), stored, undefined, (message) => process.stdout.write(`${message}\n`));
    const settle = Number(options.settle);
    process.stdout.write(`Letting the app run idle for ${settle} s, so its periodic work comes due while we measure…\n`);
    await sleep(settle * 1000);
    const plainLogin = await fetch(`${plainUrl}/login`, { method: 'POST' });
    const plainCookie = plainLogin.headers.getSetCookie()[0].split(';')[0];

    const rounds = Number(options.rounds);
    process.stdout.write(`Measuring (${options.connections} connections, ${rounds} rounds of ${options.duration} s each)…\n`);
    const ours = () => ourCommands(appUrl);
    const theirs = () => plainCommands(plainUrl);
    const signedIn: Scenario = {
      name: `GET /api/auth/me (signed in, ${stored.toLocaleString('en')} other sessions)`,
      url: `${appUrl}/api/auth/me`,
      pid: app.pid!,
      commands: ours,
      headers: { cookie },
    };
    const scenarios: Scenario[] = [
      { name: 'plain Express route (no session)', url: `${plainUrl}/plain`, pid: plain.pid!, commands: theirs },
      { name: 'GET /health/live (anonymous, whole pipeline)', url: `${appUrl}/health/live`, pid: app.pid!, commands: ours },
      signedIn,
      {
        name: 'plain express-session + connect-mongo /me',
        url: `${plainUrl}/me`,
        pid: plain.pid!,
        commands: theirs,
        headers: { cookie: plainCookie },
      },
    ];
    for (const scenario of scenarios) await warmUp(scenario);
    const measured = scenarios.map((): Row[] => []);
    for (let round = 1; round <= rounds; round++) {
      process.stdout.write(`Round ${round} of ${rounds}\n`);
      for (const [i, scenario] of scenarios.entries()) measured[i].push(await measure(scenario));
    }
    const rows = measured.map(median);
    const soak = Number(options.soak);
    for (let round = 1; soak > 0 && round <= 2; round++) {
      rows.push(await measure({ ...signedIn, name: `soak round ${round}: ${soak.toLocaleString('en')} × /api/auth/me` }, soak));
    }
    printTable(rows);
    const [plainRoute, anonymous, signedInRow] = rows;
    const ratios = {
      signedInVsAnonymous: Number((signedInRow.requestsPerSecond / anonymous.requestsPerSecond).toFixed(2)),
      anonymousVsPlainExpress: Number((anonymous.requestsPerSecond / plainRoute.requestsPerSecond).toFixed(2)),
    };
    process.stdout.write(
      `\nsigned-in / anonymous: ${ratios.signedInVsAnonymous}×   anonymous / plain Express: ${ratios.anonymousVsPlainExpress}×\n`,
    );
    mkdirSync(join(ROOT, '.tmp'), { recursive: true });
    const file = join(ROOT, '.tmp', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify({ options, rows, rounds: measured, ratios, at: new Date().toISOString() }, null, 2));
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
