import request from 'supertest';
import { SESSION_READ_CACHE_MS } from '../../src/sessions/session.constants';
import { setCookie } from '../helpers/agents';
import { AppProcess, startAppProcess, startTimeouts } from '../helpers/app-process';
import { databaseUri, destroyTestApp, createTestApp, TEST_SESSION_SECRET, uniqueDatabaseName } from '../helpers/test-app';

const ADMIN = { email: 'ops@example.test', password: 'a long shared admin passphrase' };

async function csrf(url: string, cookie?: string) {
  const response = await request(url)
    .get('/api/auth/csrf')
    .set('Cookie', cookie ?? '');
  const csrfCookie = nameAndValue(response.headers, 'csrf');
  return { token: response.body.token as string, cookie: [cookie, csrfCookie].filter(Boolean).join('; ') };
}

/** `name=value` of a cookie the response set (what a browser would send back). */
function nameAndValue(headers: Record<string, unknown>, name: string): string {
  return setCookie(headers, name)!.split(';')[0];
}

async function login(url: string, password: string) {
  const { token, cookie } = await csrf(url);
  return request(url).post('/api/auth/login').set('Cookie', cookie).set('X-CSRF-Token', token).send({ email: ADMIN.email, password });
}

/** Two real app processes on one database: MongoDB is the only shared state. */
describe('two instances on one database', () => {
  const db = uniqueDatabaseName('instances');
  let first: AppProcess;
  let second: AppProcess;

  beforeAll(async () => {
    const env = {
      MONGODB_URI: databaseUri(db),
      SESSION_SECRET: TEST_SESSION_SECRET,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      LOGIN_MAX_FAILURES: '3',
    };
    // Booting together also proves that racing to create the same admin is harmless.
    [first, second] = await Promise.all([startAppProcess(env), startAppProcess(env)]);
  }, startTimeouts(1));

  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    await destroyTestApp(await createTestApp({ db }));
  });

  it('accepts a session made on one instance on the other, and refuses it on both at once after sign-out', async () => {
    const signedIn = await login(first.url, ADMIN.password);
    expect(signedIn.status).toBe(200);
    const sessionCookie = nameAndValue(signedIn.headers, 'session_token');

    await request(second.url).get('/api/auth/me').set('Cookie', sessionCookie).expect(200);

    const { token, cookie } = await csrf(second.url, sessionCookie);
    await request(second.url).post('/api/auth/logout').set('Cookie', cookie).set('X-CSRF-Token', token).expect(204);

    for (const instance of [first, second]) {
      const response = await request(instance.url).get('/api/auth/me').set('Cookie', sessionCookie).expect(401);
      expect(response.body.error.code).toBe('AUTH_1003');
    }
  });

  it('refuses a session revoked on the other instance at once', async () => {
    const onFirst = await login(first.url, ADMIN.password);
    const firstCookie = nameAndValue(onFirst.headers, 'session_token');
    const onSecond = await login(second.url, ADMIN.password);
    const secondCookie = nameAndValue(onSecond.headers, 'session_token');

    const { token, cookie } = await csrf(second.url, secondCookie);
    await request(second.url).delete('/api/sessions').set('Cookie', cookie).set('X-CSRF-Token', token).expect(204);
    await request(first.url).get('/api/auth/me').set('Cookie', firstCookie).expect(401);
    await request(second.url).get('/api/auth/me').set('Cookie', secondCookie).expect(200);
  });

  it('stops a session that another instance just read within 1 s of its sign-out (the read cache bound)', async () => {
    const signedIn = await login(first.url, ADMIN.password);
    const sessionCookie = nameAndValue(signedIn.headers, 'session_token');
    // The second instance reads it now, and may answer from memory for up to a second.
    await request(second.url).get('/api/auth/me').set('Cookie', sessionCookie).expect(200);

    const { token, cookie } = await csrf(first.url, sessionCookie);
    await request(first.url).post('/api/auth/logout').set('Cookie', cookie).set('X-CSRF-Token', token).expect(204);
    const signedOut = Date.now();
    await request(first.url).get('/api/auth/me').set('Cookie', sessionCookie).expect(401);
    let status = 200;
    while (status === 200 && Date.now() - signedOut < 3_000) {
      status = (await request(second.url).get('/api/auth/me').set('Cookie', sessionCookie)).status;
    }
    expect(status).toBe(401);
    expect(Date.now() - signedOut).toBeLessThanOrEqual(SESSION_READ_CACHE_MS + 250);
  });

  it('counts failed sign-ins across instances', async () => {
    expect((await login(first.url, 'wrong password 1')).status).toBe(401);
    expect((await login(second.url, 'wrong password 2')).status).toBe(401);
    expect((await login(first.url, 'wrong password 3')).status).toBe(401);
    const locked = await login(second.url, ADMIN.password);
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('AUTH_1006');
  });
});
