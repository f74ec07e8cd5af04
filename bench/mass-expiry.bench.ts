/**
 * Mass expiry: many sessions whose idle deadline passes at the same moment,
 * while a signed-in client keeps using its own session. Usage:
 *   npm run bench:expiry -- [--sessions 10000] [--connections 10] [--inactivity-minutes 0.5]
 *                           [--pass-seconds 5] [--poll 30] [--timeout 300] [--node-flags="--flag …"]
 * (MONGODB_URI when set, else an embedded database). The app runs as deployed
 * (dist/main.js, the Dockerfile's node flags) with SESSION_INACTIVITY_MINUTES
 * and SESSION_SWEEP_SECONDS from the options. After signing in, the bench
 * stores `--sessions` clones of its own session document (other ids and users,
 * the same timestamps, so the same idle deadline) and drives
 * GET /api/auth/me on its own session from `--connections` connections until
 * every clone is ended (marked `session.endedReason` in `sessions`, or gone)
 * and recorded (a `session.expired` event in `session_events`), or
 * `--timeout` seconds have passed. It follows the app's
 * `sessions_expired_total` metric every second and counts in the database
 * every `--poll` seconds, then every 2 s once the metric says all are done
 * (counting loads the whole collection on FerretDB: the bench must not become
 * the load it measures).
 * Targets: all ended and recorded within 120 s of the deadline, signed-in p99
 * under 250 ms meanwhile. Figures are written as JSON to .tmp/.
 */
import autocannon from 'autocannon';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { startEmbeddedDatabase } from '../src/database/embedded-database';
import { productionNodeFlags, readSession, SESSION_COOKIE, sessionIdOf, signIn, startProductionApp, storeClones } from './support';

const ROOT = join(__dirname, '..');
const ADMIN = { email: 'mass-expiry@example.test', password: 'a long benchmark passphrase' };
const TARGET_ALL_ENDED_MS = 120_000;
const TARGET_P99_MS = 250;
const WINDOW_MS = 10_000;
const CONFIRM_POLL_MS = 2_000;

const { values: options } = parseArgs({
  options: {
    sessions: { type: 'string', default: '10000' },
    connections: { type: 'string', default: '10' },
    'inactivity-minutes': { type: 'string', default: '0.5' },
    'pass-seconds': { type: 'string', default: '5' },
    poll: { type: 'string', default: '30' },
    timeout: { type: 'string', default: '300' },
    'node-flags': { type: 'string' },
  },
});

const log = (message: string) => process.stdout.write(`${message}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface Sample {
  at: number;
  ms: number;
  status: number;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function summary(samples: Sample[]) {
  const ms = samples.map((sample) => sample.ms);
  const spanMs = samples.length > 1 ? samples[samples.length - 1].at - samples[0].at : 0;
  const round = (value: number) => Math.round(value * 10) / 10;
  return {
    requests: samples.length,
    requestsPerSecond: spanMs > 0 ? Math.round((samples.length * 1000) / spanMs) : 0,
    p50Ms: round(percentile(ms, 0.5)),
    p99Ms: round(percentile(ms, 0.99)),
    maxMs: round(ms.reduce((max, value) => Math.max(max, value), 0)),
    errors: samples.filter((sample) => sample.status !== 200).length,
  };
}

async function expiredMetric(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return [...text.matchAll(/^sessions_expired_total(?:\{[^}]*\})? (\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
}

async function main(): Promise<void> {
  const clones = Number(options.sessions);
  const inactivityMs = Number(options['inactivity-minutes']) * 60_000;
  const embedded = process.env.MONGODB_URI ? undefined : await startEmbeddedDatabase(mkdtempSync(join(tmpdir(), 'bench-db-')), log);
  const server = process.env.MONGODB_URI ?? embedded!.uri;
  const uri = `${server.replace(/\/?(\?.*)?$/, '')}/bench_expiry_${randomBytes(4).toString('hex')}`;
  let app: ChildProcess | undefined;
  const client = await MongoClient.connect(uri);
  try {
    const nodeFlags = options['node-flags']?.split(' ').filter(Boolean) ?? productionNodeFlags();
    log(
      `App: node ${[...nodeFlags, 'dist/main.js'].join(' ')} with SESSION_INACTIVITY_MINUTES=${options['inactivity-minutes']}, ` +
        `SESSION_SWEEP_SECONDS=${options['pass-seconds']}`,
    );
    const started = await startProductionApp(
      uri,
      {
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        SESSION_COOKIE_NAME: SESSION_COOKIE,
        SESSION_INACTIVITY_MINUTES: options['inactivity-minutes'],
        SESSION_SWEEP_SECONDS: options['pass-seconds'],
        LOG_LEVEL: 'info',
      },
      nodeFlags,
    );
    app = started.process;
    const url = started.url;

    const cookie = await signIn(url, ADMIN);
    const ownId = sessionIdOf(cookie);
    const original = await readSession(uri, cookie);
    const deadline = new Date(original.session.lastActivityAt).getTime() + inactivityMs;
    await storeClones(uri, original, clones, undefined, log);
    if (Date.now() >= deadline) throw new Error('storing the clones took longer than the inactivity timeout: raise --inactivity-minutes');
    log(`Their idle deadline passes in ${seconds(deadline - Date.now())}; driving /api/auth/me from ${options.connections} connections…`);

    const samples: Sample[] = [];
    let loadDone!: () => void;
    const finished = new Promise<void>((resolve) => (loadDone = resolve));
    const load = autocannon(
      {
        url: `${url}/api/auth/me`,
        headers: { cookie },
        connections: Number(options.connections),
        duration: Number(options.timeout) + (deadline - Date.now()) / 1000,
      },
      () => loadDone(),
    );
    load.on('response', (_client, status, _bytes, ms) => samples.push({ at: Date.now(), ms, status }));

    const sessions = client.db().collection('sessions');
    const events = client.db().collection('session_events');
    const countEnded = async () =>
      clones - (await sessions.countDocuments({ _id: { $ne: ownId }, 'session.endedReason': { $exists: false } } as never));
    const countRecorded = () => events.countDocuments({ type: 'session.expired', sessionId: { $ne: ownId } });
    const stopAt = deadline + Number(options.timeout) * 1000;
    const progress: { afterDeadlineMs: number; metric: number; ended?: number; recorded?: number }[] = [];
    let metricAllAt: number | undefined;
    let endedAllAt: number | undefined;
    let recordedAllAt: number | undefined;
    let nextPoll = deadline;
    while (Date.now() < stopAt && (endedAllAt === undefined || recordedAllAt === undefined)) {
      await sleep(1_000);
      const metric = await expiredMetric(url);
      if (metricAllAt === undefined && metric >= clones) nextPoll = metricAllAt = Date.now();
      if (Date.now() < nextPoll) continue;
      nextPoll = Date.now() + (metricAllAt === undefined ? Number(options.poll) * 1000 : CONFIRM_POLL_MS);
      const [ended, recorded] = [await countEnded(), await countRecorded()];
      const now = Date.now();
      if (endedAllAt === undefined && ended >= clones) endedAllAt = now;
      if (recordedAllAt === undefined && recorded >= clones) recordedAllAt = now;
      progress.push({ afterDeadlineMs: now - deadline, metric, ended, recorded });
      log(`  +${seconds(now - deadline)}: ended ${ended}, recorded ${recorded} (metric ${metric}) of ${clones}`);
    }
    load.stop();
    await finished;

    const expiryPhase = samples.filter((sample) => sample.at >= deadline && sample.at <= (recordedAllAt ?? endedAllAt ?? Date.now()));
    const windows: ReturnType<typeof summary>[] = [];
    for (let from = deadline; from < (recordedAllAt ?? Date.now()); from += WINDOW_MS) {
      windows.push(summary(samples.filter((sample) => sample.at >= from && sample.at < from + WINDOW_MS)));
    }
    const before = summary(samples.filter((sample) => sample.at < deadline));
    const during = summary(expiryPhase);
    const allDoneAt = endedAllAt !== undefined && recordedAllAt !== undefined ? Math.max(endedAllAt, recordedAllAt) : undefined;
    const result = {
      options,
      clones,
      endedAllAfterMs: endedAllAt === undefined ? null : endedAllAt - deadline,
      recordedAllAfterMs: recordedAllAt === undefined ? null : recordedAllAt - deadline,
      metricAllAfterMs: metricAllAt === undefined ? null : metricAllAt - deadline,
      pollResolutionMs: Number(options.poll) * 1000,
      signedInBeforeDeadline: before,
      signedInDuringExpiry: during,
      windows,
      progress,
      at: new Date().toISOString(),
    };

    log('');
    log(`Sessions past their deadline at once: ${clones.toLocaleString('en')}`);
    log(
      `All ended (DB):    ${endedAllAt === undefined ? 'NOT within the timeout' : `+${seconds(endedAllAt - deadline)}`}` +
        `   all recorded (DB): ${recordedAllAt === undefined ? 'NOT within the timeout' : `+${seconds(recordedAllAt - deadline)}`}` +
        `   (counted every ${options.poll} s, every ${CONFIRM_POLL_MS / 1000} s once the app's metric counted all, at ${metricAllAt === undefined ? '—' : `+${seconds(metricAllAt - deadline)}`})`,
    );
    const row = (name: string, s: ReturnType<typeof summary>) =>
      log(`${name}: ${s.requestsPerSecond} req/s, p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, max ${s.maxMs} ms, non-200 ${s.errors}`);
    row('Signed-in /me before the deadline', before);
    row('Signed-in /me while they expire ', during);
    windows.forEach((window, i) => row(`  +${i * (WINDOW_MS / 1000)}–${(i + 1) * (WINDOW_MS / 1000)} s`, window));
    const metTime = allDoneAt !== undefined && allDoneAt - deadline <= TARGET_ALL_ENDED_MS;
    const metP99 = during.p99Ms < TARGET_P99_MS && during.errors === 0;
    log(
      `Targets: all ended and recorded within ${TARGET_ALL_ENDED_MS / 1000} s: ${metTime ? 'met' : 'MISSED'}; ` +
        `signed-in p99 < ${TARGET_P99_MS} ms with no errors: ${metP99 ? 'met' : 'MISSED'}`,
    );
    mkdirSync(join(ROOT, '.tmp'), { recursive: true });
    const file = join(ROOT, '.tmp', `bench-expiry-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2));
    log(`Figures written to ${file}`);
  } finally {
    app?.kill('SIGTERM');
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
