import type { NestExpressApplication } from '@nestjs/platform-express';
import { getConnectionToken } from '@nestjs/mongoose';
import { Test } from '@nestjs/testing';
import ConnectionString from 'mongodb-connection-string-url';
import type { Connection } from 'mongoose';
import { randomBytes } from 'node:crypto';
import type { DestinationStream } from 'pino';
import { AppModule } from '../../src/app.module';
import { configureApp, NEST_APP_OPTIONS } from '../../src/bootstrap';
import { ExpressHttpAdapter } from '../../src/common/http/express-http.adapter';
import { validateEnvironment } from '../../src/config/environment';
import { PASSWORD_HASH_OPTIONS, PasswordHashOptions } from '../../src/users/password-hasher';

export const TEST_SESSION_SECRET = 'test-session-secret-0123456789abcdefghijklmnop';
/** argon2id at its cheapest: tests exercise sessions, not hashing cost. */
const FAST_PASSWORD_HASHING: PasswordHashOptions = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

export interface TestAppOptions {
  /** Database name; one per test file. A random suffix keeps reruns apart. */
  db: string;
  /** Environment variables on top of the test defaults. */
  env?: Record<string, string>;
  logDestination?: DestinationStream;
  /** A database server of the test's own (outage tests); the run's shared server otherwise. */
  serverUri?: string;
  /** Keep production password hashing (for timing tests). */
  realPasswordHashing?: boolean;
}

/** The URI of the run's database server with `db` as the database. */
export function databaseUri(db: string, server = process.env.MONGODB_URI): string {
  const base = server;
  if (!base) throw new Error('MONGODB_URI is not set: run through `npm test`, whose global setup starts a database');
  const uri = new ConnectionString(base);
  uri.pathname = `/${db}`;
  return uri.toString();
}

export function uniqueDatabaseName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** The real app (real middleware stack, real database) with fast password hashing. */
export async function createTestApp(options: TestAppOptions): Promise<NestExpressApplication> {
  const env = validateEnvironment({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    SESSION_SECRET: TEST_SESSION_SECRET,
    ...options.env,
    MONGODB_URI: databaseUri(options.db, options.serverUri),
  });
  const builder = Test.createTestingModule({
    imports: [AppModule.forRoot({ env, logDestination: options.logDestination })],
  });
  if (!options.realPasswordHashing) builder.overrideProvider(PASSWORD_HASH_OPTIONS).useValue(FAST_PASSWORD_HASHING);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>(new ExpressHttpAdapter(), NEST_APP_OPTIONS);
  configureApp(app);
  await app.init();
  return app;
}

export function connectionOf(app: NestExpressApplication): Connection {
  return app.get<Connection>(getConnectionToken());
}

/** Drops the test file's database and closes the app. */
export async function destroyTestApp(app: NestExpressApplication | undefined): Promise<void> {
  if (!app) return;
  await connectionOf(app).dropDatabase();
  await app.close();
}

/** What `useTestApp` builds: the app once the describe block's beforeAll has run, and its database's name. */
export interface TestAppHandle {
  /** The app. Read it inside hooks and tests: it does not exist while the describe block is being defined. */
  readonly app: NestExpressApplication;
  /** The database's name: the prefix given and a random suffix. */
  readonly db: string;
}

export type UseTestAppOptions = Omit<TestAppOptions, 'db'> & {
  /** Prefix of the database's name, one per describe block; a random suffix keeps files and reruns apart. */
  db: string;
};

/**
 * The real app for the current describe block: built in a beforeAll (after the
 * hooks registered before this call, before those registered after it), its
 * database dropped and the app closed in an afterAll. Options given as a
 * function are read when the app is built, for values earlier hooks set.
 *
 *     const ctx = useTestApp({ db: 'concurrency', env: { TRUST_PROXY: '1' } });
 *     it('…', () => request(ctx.app.getHttpServer()).get('/health/live').expect(200));
 */
export function useTestApp(options: UseTestAppOptions | (() => UseTestAppOptions)): TestAppHandle {
  let app: NestExpressApplication | undefined;
  let db: string | undefined;
  beforeAll(async () => {
    const { db: prefix, ...rest } = typeof options === 'function' ? options() : options;
    db = uniqueDatabaseName(prefix);
    app = await createTestApp({ ...rest, db });
  });
  afterAll(() => destroyTestApp(app));
  const built = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useTestApp: the app is built in beforeAll; read it inside hooks and tests');
    return value;
  };
  return {
    get app() {
      return built(app);
    },
    get db() {
      return built(db);
    },
  };
}
