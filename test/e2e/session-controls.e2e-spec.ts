import type { NestExpressApplication } from '@nestjs/platform-express';
import { Agent, attemptSignIn, csrfToken, newAgent, setCookie, signIn, sleep } from '../helpers/agents';
import { formCsrfToken } from '../helpers/forms';
import { connectionOf, useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const FIREFOX_UPDATED = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0';
const CHROME_ON_MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const REAUTH_MS = 1_200;
const MAX_FAILURES = 3;
let nextIp = 1;
const freshIp = () => `192.0.2.${nextIp++}`;

const events = (app: NestExpressApplication, filter: Record<string, unknown>) =>
  connectionOf(app).collection('session_events').find(filter).sort({ at: 1 }).toArray();

describe('session controls', () => {
  const ctx = useTestApp({
    db: 'session_controls',
    env: {
      TRUST_PROXY: '1',
      LOGIN_MAX_FAILURES: String(MAX_FAILURES),
      LOGIN_LOCK_MINUTES: '1',
      REAUTH_MINUTES: String(REAUTH_MS / 60_000),
      SESSION_MAX_PER_USER: '2',
    },
  });

  describe('device cookies', () => {
    it('are signed, HttpOnly, SameSite=Lax, long-lived, name no one in clear, and survive sign-out', async () => {
      const user = await createUser(ctx.app);
      const agent = newAgent(ctx.app).set('X-Forwarded-For', freshIp());
      const login = await attemptSignIn(agent, user.email, user.password);
      const cookie = setCookie(login.headers, 'device')!;
      const attributes = cookie.split(';').map((part) => part.trim().toLowerCase());
      expect(attributes).toEqual(expect.arrayContaining(['httponly', 'samesite=lax', 'path=/']));
      expect(Number(attributes.find((part) => part.startsWith('max-age='))?.split('=')[1])).toBe(180 * 24 * 60 * 60);
      expect(cookie.toLowerCase()).not.toContain(user.email.split('@')[0].toLowerCase());
      const token = await csrfToken(agent);
      const logout = await agent.post('/api/auth/logout').set('X-CSRF-Token', token).expect(204);
      expect(setCookie(logout.headers, 'device')).toBeUndefined();
      expect(logout.headers['clear-site-data']).not.toContain('cookies');
    });

    it('let the owner’s known browser sign in while a flood from elsewhere keeps the account locked', async () => {
      const user = await createUser(ctx.app);
      const owner = newAgent(ctx.app).set('X-Forwarded-For', freshIp());
      await attemptSignIn(owner, user.email, user.password).then((response) => expect(response.status).toBe(200));
      const token = await csrfToken(owner);
      await owner.post('/api/auth/logout').set('X-CSRF-Token', token).expect(204);

      for (let i = 0; i < MAX_FAILURES + 2; i++)
        await attemptSignIn(newAgent(ctx.app).set('X-Forwarded-For', freshIp()), user.email, 'guess');
      const stranger = await attemptSignIn(newAgent(ctx.app).set('X-Forwarded-For', freshIp()), user.email, user.password);
      expect(stranger.status).toBe(429);

      const known = await attemptSignIn(owner, user.email, user.password);
      expect(known.status).toBe(200);
      const succeeded = await events(ctx.app, { type: 'login.succeeded', userId: user.id });
      expect(succeeded.map((event) => event.reason)).toEqual(['new_device', 'trusted_device']);
    });

    it('treat a tampered device cookie as none: locked like any stranger', async () => {
      const user = await createUser(ctx.app);
      const owner = newAgent(ctx.app).set('X-Forwarded-For', freshIp());
      const login = await attemptSignIn(owner, user.email, user.password);
      const [name, value] = setCookie(login.headers, 'device')!.split(';')[0].split('=');
      const tampered = `${name}=${value.slice(0, -2)}${value.endsWith('AA') ? 'BB' : 'AA'}`;
      for (let i = 0; i < MAX_FAILURES + 1; i++)
        await attemptSignIn(newAgent(ctx.app).set('X-Forwarded-For', freshIp()), user.email, 'guess');
      const forger = newAgent(ctx.app).set('X-Forwarded-For', freshIp()).set('Cookie', tampered);
      const token = await csrfToken(forger);
      const response = await forger
        .post('/api/auth/login')
        .set('X-CSRF-Token', token)
        .set('Cookie', tampered)
        .send({ email: user.email, password: user.password });
      expect(response.status).toBe(429);
    });

    it('give each known browser its own small budget, after which its cookie is refused too', async () => {
      const user = await createUser(ctx.app);
      const owner = newAgent(ctx.app).set('X-Forwarded-For', freshIp());
      await attemptSignIn(owner, user.email, user.password);
      const token = await csrfToken(owner);
      await owner.post('/api/auth/logout').set('X-CSRF-Token', token).expect(204);
      for (let i = 0; i < 3; i++) expect((await attemptSignIn(owner, user.email, 'wrong')).status).toBe(401);
      expect((await attemptSignIn(owner, user.email, user.password)).status).toBe(429);
    });
  });

  describe('recent authentication', () => {
    let admin: TestUser;
    let agent: Agent;
    beforeAll(async () => {
      admin = await createUser(ctx.app, { role: 'admin' });
    });
    beforeEach(async () => {
      agent = await signIn(ctx.app, admin, newAgent(ctx.app).set('X-Forwarded-For', freshIp()));
    });

    async function patchRole(userId: string, role: string) {
      const token = await csrfToken(agent);
      return agent.patch(`/api/admin/users/${userId}`).set('X-CSRF-Token', token).send({ role });
    }

    it('lets a sensitive action through right after sign-in, then asks for the password again (AUTH_1009)', async () => {
      const subject = await createUser(ctx.app);
      await patchRole(subject.id, 'admin').then((response) => expect(response.status).toBe(200));
      await sleep(REAUTH_MS + 200);
      const refused = await patchRole(subject.id, 'user');
      expect(refused.status).toBe(403);
      expect(refused.body.error).toMatchObject({ code: 'AUTH_1009', details: { reauthUrl: '/reauth' } });

      const token = await csrfToken(agent);
      const wrong = await agent.post('/api/auth/reauth').set('X-CSRF-Token', token).send({ password: 'not it' });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error.code).toBe('AUTH_1001');
      await agent.post('/api/auth/reauth').set('X-CSRF-Token', token).send({ password: admin.password }).expect(204);
      await patchRole(subject.id, 'user').then((response) => expect(response.status).toBe(200));
      expect(await events(ctx.app, { type: 'reauth.succeeded', userId: admin.id })).toHaveLength(1);
    });

    it('checks at most the budget of a parallel burst of wrong re-authentication passwords', async () => {
      const user = await createUser(ctx.app);
      const own = await signIn(ctx.app, user, newAgent(ctx.app).set('X-Forwarded-For', freshIp()));
      const token = await csrfToken(own);
      const burst = await Promise.all(
        Array.from({ length: 12 }, () => own.post('/api/auth/reauth').set('X-CSRF-Token', token).send({ password: 'wrong' })),
      );
      const statuses = burst.map((response) => response.status);
      expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(MAX_FAILURES);
      expect(statuses.filter((status) => status !== 401 && status !== 429)).toEqual([]);
    });

    it('sends a page back to the dashboard, not to another site, when the Referer is foreign or malformed', async () => {
      const subject = await createUser(ctx.app);
      const page = await agent.get(`/admin/users/${subject.id}`).expect(200);
      await sleep(REAUTH_MS + 200);
      for (const referer of ['https://evil.example/admin/users', 'http://[::1', 'javascript:alert(1)']) {
        const response = await agent
          .post(`/admin/users/${subject.id}/disable`)
          .set('Referer', referer)
          .type('form')
          .send({ _csrf: formCsrfToken(page.text) });
        expect(response.status).toBe(303);
        expect(response.headers.location).toBe(`/reauth?next=${encodeURIComponent('/dashboard')}`);
      }
    });

    it('counts wrong re-authentication passwords toward the lockout', async () => {
      const user = await createUser(ctx.app);
      const own = await signIn(ctx.app, user, newAgent(ctx.app).set('X-Forwarded-For', freshIp()));
      const token = await csrfToken(own);
      for (let i = 0; i < MAX_FAILURES; i++) await own.post('/api/auth/reauth').set('X-CSRF-Token', token).send({ password: 'wrong' });
      const locked = await own.post('/api/auth/reauth').set('X-CSRF-Token', token).send({ password: user.password });
      expect(locked.status).toBe(429);
    });

    it('applies to creating an admin and to ending other sessions, not to a new plain user or this session', async () => {
      await sleep(REAUTH_MS + 200);
      const token = await csrfToken(agent);
      const user = await agent
        .post('/api/admin/users')
        .set('X-CSRF-Token', token)
        .send({ email: 'plain@example.test', password: 'a long passphrase 1' });
      expect(user.status).toBe(201);
      const adminUser = await agent
        .post('/api/admin/users')
        .set('X-CSRF-Token', token)
        .send({ email: 'root2@example.test', password: 'a long passphrase 2', role: 'admin' });
      expect(adminUser.body.error?.code).toBe('AUTH_1009');
      expect((await agent.delete('/api/sessions').set('X-CSRF-Token', token)).body.error?.code).toBe('AUTH_1009');
      expect((await agent.delete('/api/admin/sessions').set('X-CSRF-Token', token)).body.error?.code).toBe('AUTH_1009');
      const mine = (await agent.get('/api/sessions').expect(200)).body.items.find((item: { current: boolean }) => item.current);
      await agent.delete(`/api/sessions/${mine.id}`).set('X-CSRF-Token', token).expect(204);
    });

    it('sends a page to /reauth and back to where the action was', async () => {
      const subject = await createUser(ctx.app);
      const page = await agent.get(`/admin/users/${subject.id}`).expect(200);
      await sleep(REAUTH_MS + 200);
      const disable = await agent
        .post(`/admin/users/${subject.id}/disable`)
        .set('Referer', `http://127.0.0.1/admin/users/${subject.id}`)
        .set('Host', '127.0.0.1')
        .type('form')
        .send({ _csrf: formCsrfToken(page.text) });
      expect(disable.status).toBe(303);
      expect(disable.headers.location).toBe(`/reauth?next=${encodeURIComponent(`/admin/users/${subject.id}`)}`);
      const form = await agent.get(disable.headers.location).expect(200);
      const back = await agent
        .post('/reauth')
        .type('form')
        .send({ _csrf: formCsrfToken(form.text), password: admin.password, next: `/admin/users/${subject.id}` });
      expect(back.status).toBe(303);
      expect(back.headers.location).toBe(`/admin/users/${subject.id}`);
    });
  });

  it('ends everyone else’s sessions in an emergency, with one event saying how many and who', async () => {
    const admin = await createUser(ctx.app, { role: 'admin' });
    const others = await Promise.all(
      [1, 2].map(async () => signIn(ctx.app, await createUser(ctx.app), newAgent(ctx.app).set('X-Forwarded-For', freshIp()))),
    );
    const agent = await signIn(ctx.app, admin, newAgent(ctx.app).set('X-Forwarded-For', freshIp()));
    const token = await csrfToken(agent);
    const response = await agent.delete('/api/admin/sessions').set('X-CSRF-Token', token).expect(200);
    expect(response.body.ended).toBeGreaterThanOrEqual(2);
    for (const other of others) await other.get('/api/auth/me').expect(401);
    await agent.get('/api/auth/me').expect(200);
    const [event] = await events(ctx.app, { type: 'session.revoked_all', actorId: admin.id });
    expect(event).toMatchObject({ count: response.body.ended, actorId: admin.id });
  });

  it('keeps at most SESSION_MAX_PER_USER sessions: the least recently active ends, and the dashboard says so', async () => {
    const user = await createUser(ctx.app);
    const first = await signIn(ctx.app, user, newAgent(ctx.app).set('X-Forwarded-For', freshIp()));
    const second = await signIn(ctx.app, user, newAgent(ctx.app).set('X-Forwarded-For', freshIp()));
    const third = await signIn(ctx.app, user, newAgent(ctx.app).set('X-Forwarded-For', freshIp()));
    await first.get('/api/auth/me').expect(401);
    await second.get('/api/auth/me').expect(200);
    expect((await third.get('/dashboard').expect(200)).text).toContain('data-notice="session-limit"');
    expect(await events(ctx.app, { type: 'session.revoked', userId: user.id, reason: 'limit' })).toHaveLength(1);
  });

  describe('device changes', () => {
    it('end the session when another browser family or OS uses it (AUTH_1010), but not on a version update', async () => {
      const user = await createUser(ctx.app);
      const agent = await signIn(ctx.app, user, newAgent(ctx.app).set('X-Forwarded-For', freshIp()).set('User-Agent', FIREFOX));
      await agent.get('/api/auth/me').set('User-Agent', FIREFOX_UPDATED).expect(200);
      const stolen = await agent.get('/api/auth/me').set('User-Agent', CHROME_ON_MAC);
      expect(stolen.status).toBe(401);
      expect(stolen.body.error.code).toBe('AUTH_1010');
      expect(setCookie(stolen.headers, 'session_token')).toMatch(/Expires=Thu, 01 Jan 1970/);
      await agent.get('/api/auth/me').set('User-Agent', FIREFOX).expect(401);
      const [anomaly] = await events(ctx.app, { type: 'session.anomaly', userId: user.id });
      expect(anomaly).toMatchObject({ signedInUserAgent: FIREFOX, userAgent: CHROME_ON_MAC });
    });

    it('send a page to /login?expired=device with its message', async () => {
      const user = await createUser(ctx.app);
      const agent = await signIn(ctx.app, user, newAgent(ctx.app).set('X-Forwarded-For', freshIp()).set('User-Agent', FIREFOX));
      const page = await agent.get('/dashboard').set('User-Agent', CHROME_ON_MAC).expect(303);
      expect(page.headers.location).toBe('/login?next=%2Fdashboard&expired=device');
      expect((await newAgent(ctx.app).get(page.headers.location).expect(200)).text).toContain('used from another browser or device');
    });

    it('show the last sign-in from a new browser on the dashboard', async () => {
      const user = await createUser(ctx.app);
      const agent = await signIn(ctx.app, user, newAgent(ctx.app).set('X-Forwarded-For', '203.0.113.7').set('User-Agent', FIREFOX));
      const dashboard = (await agent.get('/dashboard').expect(200)).text;
      expect(dashboard).toMatch(/New sign-in from Firefox on Windows, \d\d:\d\d UTC, 203\.0\.113\.7/);
    });
  });
});

describe('SESSION_BIND_USER_AGENT=false', () => {
  const ctx = useTestApp({ db: 'unbound', env: { SESSION_BIND_USER_AGENT: 'false' } });

  it('lets the session be used from another browser', async () => {
    const agent = await signIn(ctx.app, await createUser(ctx.app), newAgent(ctx.app).set('User-Agent', FIREFOX));
    await agent.get('/api/auth/me').set('User-Agent', CHROME_ON_MAC).expect(200);
  });
});
