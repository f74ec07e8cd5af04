import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMBEDDED_DB_DIR } from '../../src/config/local-state';
import { buildFerretDb, RunningFerretDb, startFerretDb } from '../../src/database/ferretdb';
import { freePort } from '../../src/database/ports';
import { metricValue } from '../helpers/metrics';
import { Agent, csrfToken, newAgent, setCookie, signIn, sleep } from '../helpers/agents';
import { formCsrfToken } from '../helpers/forms';
import { createTestApp, uniqueDatabaseName } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

const ANSWER_WITHIN_MS = 3_000;
const RECOVER_WITHIN_MS = 5_000;

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = Date.now();
  const result = await run();
  return { result, ms: Date.now() - started };
}

/** Stops and restarts a real database process under a running app. */
describe('MongoDB outage', () => {
  let binary: string;
  let dataDir: string;
  let port: number;
  let database: RunningFerretDb;
  let app: NestExpressApplication;
  let user: TestUser;
  let agent: Agent;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    binary = await buildFerretDb(EMBEDDED_DB_DIR, () => undefined);
    dataDir = mkdtempSync(join(tmpdir(), 'outage-'));
    port = await freePort();
    database = await startFerretDb(binary, dataDir, port);
    app = await createTestApp({ db: uniqueDatabaseName('outage'), serverUri: database.uri });
    user = await createUser(app);
    agent = await signIn(app, user);
  });

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await app?.close();
    await database?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 503 quickly while the database is down, keeps the cookie, and recovers without a restart', async () => {
    const anonymous = newAgent(app);
    const anonymousToken = await csrfToken(anonymous);
    const formLeaver = await signIn(app, user);
    const formToken = formCsrfToken((await formLeaver.get('/dashboard').expect(200)).text);
    const jsonLeaver = await signIn(app, user);
    const jsonToken = await csrfToken(jsonLeaver);
    database.process.kill('SIGKILL');
    await new Promise((resolve) => database.process.once('exit', resolve));

    const ready = await timed(() => newAgent(app).get('/health/ready'));
    expect(ready.result.status).toBe(503);
    expect(ready.result.body.error.code).toBe('SYS_9002');
    expect(ready.ms).toBeLessThan(ANSWER_WITHIN_MS);

    const me = await timed(() => agent.get('/api/auth/me'));
    expect(me.result.status).toBe(503);
    expect(me.result.body.error.code).toBe('SYS_9002');
    expect(setCookie(me.result.headers, 'session_token')).toBeUndefined();
    expect(me.ms).toBeLessThan(ANSWER_WITHIN_MS);

    const page = await timed(() => agent.get('/dashboard'));
    expect(page.result.status).toBe(503);
    expect(page.result.text).toContain('SYS_9002');
    expect(page.ms).toBeLessThan(ANSWER_WITHIN_MS);

    const login = await timed(() =>
      anonymous.post('/api/auth/login').set('X-CSRF-Token', anonymousToken).send({ email: user.email, password: user.password }),
    );
    expect(login.result.status).toBe(503);
    expect(login.result.body.error.code).toBe('SYS_9002');
    expect(login.ms).toBeLessThan(ANSWER_WITHIN_MS);
    // An outage is counted as one, never as a lockout.
    expect(await metricValue(app, 'auth_sign_ins_total', { result: 'unavailable' })).toBe(1);
    expect(await metricValue(app, 'auth_sign_ins_total', { result: 'locked' })).toBe(0);

    // Signing out still clears the cookie: the page goes on to the login page, the API says 503.
    const formLogout = await formLeaver.post('/logout').type('form').send({ _csrf: formToken });
    expect(formLogout.status).toBe(303);
    expect(formLogout.headers.location).toBe('/login?loggedOut=1');
    expect(setCookie(formLogout.headers, 'session_token')).toMatch(/Expires=Thu, 01 Jan 1970/);
    const jsonLogout = await jsonLeaver.post('/api/auth/logout').set('X-CSRF-Token', jsonToken);
    expect(jsonLogout.status).toBe(503);
    expect(jsonLogout.body.error.code).toBe('SYS_9002');
    expect(setCookie(jsonLogout.headers, 'session_token')).toMatch(/Expires=Thu, 01 Jan 1970/);

    database = await startFerretDb(binary, dataDir, port);
    const back = Date.now();
    let status = 0;
    while (Date.now() - back < RECOVER_WITHIN_MS && status !== 200) {
      status = (await agent.get('/api/auth/me')).status;
      if (status !== 200) await sleep(200);
    }
    expect(status).toBe(200); // the same cookie: nobody was logged out by the outage
    expect(Date.now() - back).toBeLessThan(RECOVER_WITHIN_MS);
    await newAgent(app).get('/health/ready').expect(200);
    expect(unhandled).toEqual([]);
  });
});
