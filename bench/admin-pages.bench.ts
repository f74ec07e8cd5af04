/**
 * Seeds 100,000 sessions, 10,000 users and 50,000 events, then times every
 * admin page and its JSON twin against the real app. Usage:
 *   npm run bench:admin            (embedded database, or MONGODB_URI when set; BENCH_RUNS=7)
 * Prints one line per page (median and worst of 7 requests) and says whether
 * each stayed under the 300 ms target.
 */
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { mkdtempSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { AppModule } from '../src/app.module';
import { configureApp, NEST_APP_OPTIONS } from '../src/bootstrap';
import { ExpressHttpAdapter } from '../src/common/http/express-http.adapter';
import { validateEnvironment } from '../src/config/environment';
import { startEmbeddedDatabase } from '../src/database/embedded-database';
import { SESSION_EVENT_RETENTION_MS } from '../src/session-events/session-event.schema';
import { EXPIRED_SESSION_RETENTION_MS } from '../src/sessions/session-expiry-policy';
import { sessionStorageId } from '../src/sessions/session-id';
import { UsersService } from '../src/users/users.service';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { ObjectId } from 'mongodb';

const USERS = 10_000;
const SESSIONS = 100_000;
const EVENTS = 50_000;
const BATCH = 2_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const TARGET_MS = 300;
const ADMIN = { email: 'bench-admin@example.test', password: 'bench admin passphrase' };
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
];

async function inBatches<T>(total: number, make: (i: number) => T, insert: (docs: T[]) => Promise<unknown>, label: string) {
  const started = Date.now();
  for (let from = 0; from < total; from += BATCH) {
    await insert(Array.from({ length: Math.min(BATCH, total - from) }, (_, k) => make(from + k)));
    if ((from / BATCH) % 10 === 0) process.stdout.write(`  ${label}: ${from + BATCH}/${total}\n`);
  }
  process.stdout.write(`  ${label}: ${total} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

async function seed(db: NonNullable<Connection['db']>): Promise<string[]> {
  const now = Date.now();
  const userIds = Array.from({ length: USERS }, () => new ObjectId());
  await inBatches(
    USERS,
    (i) => ({
      _id: userIds[i],
      email: `user${String(i).padStart(5, '0')}@bench.test`,
      passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$placeholder$placeholder',
      name: `User ${i}`,
      role: 'user',
      disabled: false,
      createdAt: new Date(now - i * 60_000),
      updatedAt: new Date(now),
    }),
    (docs) => db.collection('users').insertMany(docs),
    'users',
  );
  await inBatches(
    SESSIONS,
    (i) => {
      const lastActivityAt = new Date(now - (i % 600) * 1000);
      return {
        _id: sessionStorageId(randomBytes(32).toString('base64url')),
        expires: new Date(lastActivityAt.getTime() + 15 * 60_000 + EXPIRED_SESSION_RETENTION_MS),
        session: {
          cookie: { path: '/', httpOnly: true, sameSite: 'lax', secure: false },
          userId: userIds[i % USERS].toHexString(),
          createdAt: new Date(now - 30 * 60_000),
          lastActivityAt,
          ip: `10.0.${(i >> 8) & 255}.${i & 255}`,
          userAgent: USER_AGENTS[i % USER_AGENTS.length],
        },
      };
    },
    (docs) => db.collection('sessions').insertMany(docs as never[]),
    'sessions',
  );
  const types = ['login.succeeded', 'login.failed', 'logout', 'session.expired', 'session.revoked'];
  await inBatches(
    EVENTS,
    (i) => {
      const at = new Date(now - i * 1000);
      return {
        type: types[i % types.length],
        userId: userIds[i % USERS].toHexString(),
        email: `user${String(i % USERS).padStart(5, '0')}@bench.test`,
        reason: i % 5 === 3 ? (i % 2 ? 'inactivity' : 'absolute') : undefined,
        ip: '10.0.0.1',
        userAgent: USER_AGENTS[0],
        correlationId: `bench-${i}`,
        at,
        expiresAt: new Date(at.getTime() + SESSION_EVENT_RETENTION_MS),
      };
    },
    (docs) => db.collection('session_events').insertMany(docs),
    'events',
  );
  return userIds.map((id) => id.toHexString());
}

async function time(agent: ReturnType<typeof request.agent>, path: string): Promise<{ median: number; worst: number; status: number }> {
  const samples: number[] = [];
  let status = 0;
  for (let i = 0; i < RUNS; i++) {
    const started = process.hrtime.bigint();
    status = (await agent.get(path)).status;
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(RUNS / 2)], worst: samples[RUNS - 1], status };
}

async function main(): Promise<void> {
  let uri = process.env.MONGODB_URI;
  let stop = async () => undefined as void;
  if (!uri) {
    const database = await startEmbeddedDatabase(mkdtempSync(join(tmpdir(), 'bench-')), (line) => process.stdout.write(`${line}\n`));
    uri = database.uri;
    stop = () => database.stop();
    process.stdout.write(`Database: embedded ${database.engine}\n`);
  }
  const dbName = `bench_${randomBytes(3).toString('hex')}`;
  const env = validateEnvironment({ NODE_ENV: 'test', LOG_LEVEL: 'warn', MONGODB_URI: `${uri.replace(/\/$/, '')}/${dbName}` });
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot({ env })] }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>(new ExpressHttpAdapter(), NEST_APP_OPTIONS);
  configureApp(app);
  await app.init();
  const connection = app.get<Connection>(getConnectionToken());
  try {
    const buildInfo = await connection.db!.admin().command({ buildInfo: 1 });
    process.stdout.write(
      `Server: ${buildInfo.ferretdbVersion ? `FerretDB ${buildInfo.ferretdbVersion}` : `MongoDB ${buildInfo.version}`}\n`,
    );
    process.stdout.write(`Seeding ${USERS} users, ${SESSIONS} sessions, ${EVENTS} events…\n`);
    const userIds = await seed(connection.db!);
    await app.get(UsersService).create({ ...ADMIN, role: 'admin' });

    const agent = request.agent(app.getHttpServer());
    const { body } = await agent.get('/api/auth/csrf');
    await agent.post('/api/auth/login').set('X-CSRF-Token', body.token).send(ADMIN).expect(200);

    const someUser = userIds[4242];
    const pages = [
      // The hot path of every signed-in request, for comparison: two lookups by _id.
      '/api/auth/me',
      '/admin',
      '/admin/users',
      '/admin/users?q=user04',
      '/admin/users?page=200',
      `/admin/users/${someUser}`,
      '/admin/sessions',
      `/admin/sessions?userId=${someUser}`,
      '/admin/sessions?page=50',
      '/admin/events',
      `/admin/events?userId=${someUser}`,
      '/admin/events?type=login.failed',
      '/api/admin/users?pageSize=100',
      '/api/admin/sessions?pageSize=100',
      '/api/admin/events?pageSize=100',
    ];
    process.stdout.write(`\n${'page'.padEnd(52)} ${'median'.padStart(9)} ${'worst'.padStart(9)}  result\n`);
    let missed = 0;
    const only = process.env.BENCH_ONLY;
    for (const path of pages.filter((page) => !only || page.startsWith(only))) {
      const { median, worst, status } = await time(agent, path);
      const ok = status === 200 && median < TARGET_MS;
      if (!ok) missed++;
      process.stdout.write(
        `${path.padEnd(52)} ${median.toFixed(0).padStart(7)}ms ${worst.toFixed(0).padStart(7)}ms  ${status !== 200 ? `HTTP ${status}` : ok ? 'ok' : `over ${TARGET_MS} ms`}\n`,
      );
    }
    const timed = pages.filter((page) => !only || page.startsWith(only)).length;
    process.stdout.write(`\n${timed - missed} of ${timed} requests under ${TARGET_MS} ms (median of ${RUNS})\n`);
  } finally {
    await connection.dropDatabase();
    await app.close();
    await stop();
  }
}

void main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
