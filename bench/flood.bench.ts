/**
 * A flood of deeply nested JSON bodies against the liveness probe (issue 17):
 * `/health/live` latency alone, then while `--bodies` bodies nested `--depth`
 * levels are posted `--concurrency` at a time, `--rounds` times over. Usage:
 *   npm run bench:flood -- [--bodies 400] [--concurrency 20] [--depth 3000] [--rounds 10] [--flat]
 *                          [--baseline-seconds 5] [--probe-interval-ms 10] [--node-flags="--flag …"]
 * (MONGODB_URI when set, else an embedded database). The app runs as deployed
 * (dist/main.js, NODE_ENV=production, the Dockerfile's node flags, request
 * logging on). Each flooding client holds a CSRF token from /api/auth/csrf,
 * as the attack needs no sign-in. The probe is one client sending one request
 * every `--probe-interval-ms` after the previous answer. `--flat` sends, for
 * comparison, an ordinary invalid body of the same size instead (a sign-in
 * with one unknown field). The figures (p50,
 * p99, max of the probe before and during the flood, and the flood's status
 * codes) are written as JSON to .tmp/.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { startEmbeddedDatabase } from '../src/database/embedded-database';
import { productionNodeFlags, startProductionApp } from './support';

const ROOT = join(__dirname, '..');

const { values: options } = parseArgs({
  options: {
    bodies: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '20' },
    depth: { type: 'string', default: '3000' },
    rounds: { type: 'string', default: '10' },
    flat: { type: 'boolean', default: false },
    'baseline-seconds': { type: 'string', default: '5' },
    'probe-interval-ms': { type: 'string', default: '10' },
    'node-flags': { type: 'string' },
  },
});

const log = (message: string) => process.stdout.write(`${message}\n`);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function summary(latencies: number[]) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 10) / 10;
  return {
    samples: sorted.length,
    p50Ms: round(percentile(sorted, 0.5)),
    p99Ms: round(percentile(sorted, 0.99)),
    maxMs: round(sorted[sorted.length - 1]),
  };
}

/** Probes /health/live until `stop` resolves; returns each answer's latency (any non-200 is an error). */
async function probe(url: string, stop: Promise<void>): Promise<number[]> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  const latencies: number[] = [];
  while (!stopped) {
    const started = performance.now();
    const response = await fetch(`${url}/health/live`);
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`/health/live answered ${response.status}`);
    latencies.push(performance.now() - started);
    await sleep(Number(options['probe-interval-ms']));
  }
  return latencies;
}

/** A client of the attack: a CSRF cookie and its token, no session. */
async function floodClient(url: string): Promise<Record<string, string>> {
  const response = await fetch(`${url}/api/auth/csrf`);
  const { token } = (await response.json()) as { token: string };
  const cookie = response.headers
    .getSetCookie()
    .map((value) => value.split(';')[0])
    .join('; ');
  return { 'content-type': 'application/json', 'x-csrf-token': token, cookie };
}

/** Posts `bodies` copies of `body` from `clients.length` clients at once; returns the count of each status. */
async function flood(url: string, clients: Record<string, string>[], body: string, bodies: number): Promise<Record<string, number>> {
  const statuses: Record<string, number> = {};
  let sent = 0;
  await Promise.all(
    clients.map(async (headers) => {
      while (sent < bodies) {
        sent++;
        const response = await fetch(`${url}/api/auth/login`, { method: 'POST', headers, body });
        await response.arrayBuffer();
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      }
    }),
  );
  return statuses;
}

async function main(): Promise<void> {
  const depth = Number(options.depth);
  const bodies = Number(options.bodies);
  const rounds = Number(options.rounds);
  const nested = `${'['.repeat(depth)}${']'.repeat(depth)}`;
  const body = options.flat ? JSON.stringify({ email: 'a@b.c', password: 'pw', pad: 'x'.repeat(nested.length - 42) }) : nested;
  const embedded = process.env.MONGODB_URI ? undefined : await startEmbeddedDatabase(mkdtempSync(join(tmpdir(), 'bench-db-')), log);
  const server = process.env.MONGODB_URI ?? embedded!.uri;
  const uri = `${server.replace(/\/?(\?.*)?$/, '')}/bench_flood_${randomBytes(4).toString('hex')}`;
  let app: ChildProcess | undefined;
  try {
    const nodeFlags = options['node-flags']?.split(' ').filter(Boolean) ?? productionNodeFlags();
    log(`App: node ${[...nodeFlags, 'dist/main.js'].join(' ')}, NODE_ENV=production`);
    const started = await startProductionApp(uri, { LOG_LEVEL: 'info' }, nodeFlags);
    app = started.process;
    const url = started.url;

    log(`Probing /health/live alone for ${options['baseline-seconds']} s…`);
    const baseline = summary(await probe(url, sleep(Number(options['baseline-seconds']) * 1000)));

    const clients = await Promise.all(Array.from({ length: Number(options.concurrency) }, () => floodClient(url)));
    const shape = options.flat ? 'flat' : `${depth} deep`;
    log(`Flooding: ${rounds} × ${bodies} bodies of ${body.length.toLocaleString('en')} bytes, ${shape}, ${clients.length} at a time…`);
    const statuses: Record<string, number> = {};
    const roundMs: number[] = [];
    let floodDone!: () => void;
    const probing = probe(url, new Promise<void>((resolve) => (floodDone = resolve)));
    for (let round = 0; round < rounds; round++) {
      const roundStarted = performance.now();
      for (const [status, count] of Object.entries(await flood(url, clients, body, bodies)))
        statuses[status] = (statuses[status] ?? 0) + count;
      roundMs.push(Math.round(performance.now() - roundStarted));
    }
    floodDone();
    const during = summary(await probing);

    const result = { options, bodyBytes: body.length, baseline, during, floodStatuses: statuses, roundMs, at: new Date().toISOString() };
    log('');
    const row = (name: string, s: ReturnType<typeof summary>) =>
      log(`${name}: ${s.samples} probes, p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, max ${s.maxMs} ms`);
    row('/health/live alone       ', baseline);
    row('/health/live during flood', during);
    log(`Flood answers: ${JSON.stringify(statuses)}; each round of ${bodies} took ${roundMs.join(', ')} ms`);
    mkdirSync(join(ROOT, '.tmp'), { recursive: true });
    const file = join(ROOT, '.tmp', `bench-flood-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2));
    log(`Figures written to ${file}`);
  } finally {
    app?.kill('SIGTERM');
    const client = await MongoClient.connect(uri);
    await client
      .db()
      .dropDatabase()
      .catch(() => undefined);
    await client.close();
    await embedded?.stop();
  }
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
