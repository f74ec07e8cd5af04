import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { csrfToken, newAgent, sentCookie, setCookie, signIn, tokenOf } from '../helpers/agents';
import { sessionStorageId } from '../../src/sessions/session-id';
import { connectionOf, useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

const COOKIE = 'session_token';

describe('JSON sign-in and sessions', () => {
  let user: TestUser;

  const ctx = useTestApp({ db: 'auth_api' });
  beforeAll(async () => {
    user = await createUser(ctx.app, { name: 'Ada' });
  });

  async function login(body: unknown, agent = newAgent(ctx.app)) {
    const token = await csrfToken(agent);
    return agent
      .post('/api/auth/login')
      .set('X-CSRF-Token', token)
      .send(body as object);
  }

  describe('POST /api/auth/login', () => {
    it('returns the user and sets an HttpOnly, SameSite=Lax, signed session cookie on /', async () => {
      const response = await login({ email: user.email, password: user.password });
      expect(response.status).toBe(200);
      expect(response.body.user).toEqual({ id: user.id, email: user.email, name: 'Ada', role: 'user' });
      expect(JSON.stringify(response.body)).not.toMatch(/password/i);
      const cookie = setCookie(response.headers, COOKIE);
      expect(cookie).toBeDefined();
      const attributes = cookie!.split(';').map((part) => part.trim().toLowerCase());
      expect(attributes).toEqual(expect.arrayContaining(['path=/', 'httponly', 'samesite=lax']));
      expect(attributes).not.toContain('secure'); // COOKIE_SECURE is false outside production
      expect(attributes.some((part) => part.startsWith('expires=') || part.startsWith('max-age='))).toBe(false);
      expect(decodeURIComponent(cookie!.split(';')[0].split('=')[1])).toMatch(/^s:/);
    });

    it('accepts the email in any case', async () => {
      expect((await login({ email: user.email.toUpperCase(), password: user.password })).status).toBe(200);
    });

    it('answers a wrong password and an unknown email identically with AUTH_1001', async () => {
      const wrong = await login({ email: user.email, password: 'not-the-password' });
      const unknown = await login({ email: 'nobody@example.test', password: 'not-the-password' });
      for (const response of [wrong, unknown]) {
        expect(response.status).toBe(401);
        expect(setCookie(response.headers, COOKIE)).toBeUndefined();
      }
      const strip = (body: { error: Record<string, unknown> }) => ({ ...body.error, correlationId: undefined });
      expect(strip(wrong.body)).toEqual(strip(unknown.body));
      expect(wrong.body.error.code).toBe('AUTH_1001');
    });

    it('refuses an operator object instead of an email with VAL_2001 naming the field', async () => {
      const response = await login({ email: { $gt: '' }, password: user.password });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'VAL_2001', details: { fields: { email: expect.any(String) } } });
    });

    it('says which field is missing, and that it is required (not how long it may be)', async () => {
      const response = await login({ email: user.email });
      expect(response.status).toBe(400);
      expect(response.body.error.details).toEqual({ fields: { password: 'password is required' } });
    });

    it('refuses unknown fields, missing fields and non-object bodies with VAL_2001', async () => {
      for (const body of [{ email: user.email, password: user.password, role: 'admin' }, { email: user.email }, [1, 2]]) {
        const response = await login(body);
        expect(response.status).toBe(400);
        expect(response.body.error.code).toBe('VAL_2001');
      }
    });

    it('answers malformed JSON with VAL_2001 and a 1 MB body with VAL_2002', async () => {
      const agent = newAgent(ctx.app);
      const token = await csrfToken(agent);
      const malformed = await agent
        .post('/api/auth/login')
        .set('X-CSRF-Token', token)
        .set('Content-Type', 'application/json')
        .send('{"email": "a@b.c", "password": ');
      expect(malformed.status).toBe(400);
      expect(malformed.body.error.code).toBe('VAL_2001');
      expect(JSON.stringify(malformed.body)).not.toMatch(/Unexpected|JSON\.parse|at /);

      const huge = await agent
        .post('/api/auth/login')
        .set('X-CSRF-Token', token)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(1024 * 1024) }));
      expect(huge.status).toBe(413);
      expect(huge.body.error.code).toBe('VAL_2002');
    });

    it('reads a JSON body sent in chunks, without a Content-Length', async () => {
      const csrf = await newAgent(ctx.app).get('/api/auth/csrf').expect(200);
      const cookies = (csrf.headers['set-cookie'] as unknown as string[]).map((cookie) => cookie.split(';')[0]).join('; ');
      await ctx.app.listen(0, '127.0.0.1');
      const { port } = ctx.app.getHttpServer().address() as AddressInfo;
      const body = JSON.stringify({ email: user.email, password: user.password });
      const status = await new Promise<number | undefined>((resolve, reject) => {
        const headers = { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf.body.token as string, Cookie: cookies };
        const sent = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/api/auth/login', headers }, (response) => {
          response.resume();
          resolve(response.statusCode);
        });
        sent.on('error', reject);
        // Two writes and no Content-Length: node sends the body with Transfer-Encoding: chunked.
        sent.write(body.slice(0, 10));
        sent.end(body.slice(10));
        expect(sent.getHeader('content-length')).toBeUndefined();
      });
      expect(status).toBe(200);
    });

    it('issues a new session id at sign-in (no fixation)', async () => {
      const agent = await signIn(ctx.app, user);
      const before = sentCookie(await agent.get('/api/auth/me').expect(200), COOKIE);
      const again = await login({ email: user.email, password: user.password }, agent);
      expect(again.status).toBe(200);
      expect(setCookie(again.headers, COOKIE)).toBeDefined();
      const after = setCookie(again.headers, COOKIE)!.split(';')[0];
      expect(tokenOf(after)).toHaveLength(tokenOf(before).length);
      expect(tokenOf(after)).not.toBe(tokenOf(before));
      await newAgent(ctx.app).get('/api/auth/me').set('Cookie', before).expect(401);
    });
  });

  describe('GET /api/auth/me', () => {
    it('answers AUTH_1004 without a cookie', async () => {
      const response = await newAgent(ctx.app).get('/api/auth/me').expect(401);
      expect(response.body.error.code).toBe('AUTH_1004');
    });

    it('answers AUTH_1004 to a Bearer header alone: only the cookie authenticates', async () => {
      const agent = await signIn(ctx.app, user);
      const token = tokenOf(sentCookie(await agent.get('/api/auth/me'), COOKIE));
      const response = await newAgent(ctx.app).get('/api/auth/me').set('Authorization', `Bearer ${token}`).expect(401);
      expect(response.body.error.code).toBe('AUTH_1004');
    });

    it('answers AUTH_1003 to a tampered cookie and clears it', async () => {
      const agent = await signIn(ctx.app, user);
      const cookie = sentCookie(await agent.get('/api/auth/me'), COOKIE);
      const tampered = cookie.replace(/.$/, (last) => (last === 'A' ? 'B' : 'A'));
      const response = await newAgent(ctx.app).get('/api/auth/me').set('Cookie', tampered).expect(401);
      expect(response.body.error.code).toBe('AUTH_1003');
      expect(setCookie(response.headers, COOKIE)).toMatch(/Expires=Thu, 01 Jan 1970/);
    });

    it('returns the user and the session with both deadlines', async () => {
      const agent = await signIn(ctx.app, user);
      const { body } = await agent.get('/api/auth/me').expect(200);
      expect(body.user.email).toBe(user.email);
      const { createdAt, lastActivityAt, idleExpiresAt, absoluteExpiresAt } = body.session;
      expect(Date.parse(idleExpiresAt) - Date.parse(lastActivityAt)).toBe(15 * 60_000);
      expect(Date.parse(absoluteExpiresAt) - Date.parse(createdAt)).toBe(160 * 60_000);
    });
  });

  describe('POST /api/auth/logout', () => {
    it('ends the session server-side: the old cookie replayed gets AUTH_1003', async () => {
      const agent = await signIn(ctx.app, user);
      const cookie = sentCookie(await agent.get('/api/auth/me').expect(200), COOKIE);
      const token = await csrfToken(agent);
      const response = await agent.post('/api/auth/logout').set('X-CSRF-Token', token).expect(204);
      expect(setCookie(response.headers, COOKIE)).toMatch(/Expires=Thu, 01 Jan 1970/);
      expect(response.headers['clear-site-data']).toBe('"cache", "storage"');

      const replay = await newAgent(ctx.app).get('/api/auth/me').set('Cookie', cookie).expect(401);
      expect(replay.body.error.code).toBe('AUTH_1003');
    });

    it('leaves the same user’s other sessions alone', async () => {
      const laptop = await signIn(ctx.app, user);
      const phone = await signIn(ctx.app, user);
      const token = await csrfToken(laptop);
      await laptop.post('/api/auth/logout').set('X-CSRF-Token', token).expect(204);
      await laptop.get('/api/auth/me').expect(401);
      await phone.get('/api/auth/me').expect(200);
    });

    it('is idempotent: an ended session signs out again with 204 and the cookie cleared, whatever token the page kept', async () => {
      const agent = await signIn(ctx.app, user);
      const cookie = sentCookie(await agent.get('/api/auth/me').expect(200), COOKIE);
      const token = await csrfToken(agent);
      await agent.post('/api/auth/logout').set('X-CSRF-Token', token).expect(204);
      // Another tab still holds the old cookie and the token issued for it.
      const again = await newAgent(ctx.app).post('/api/auth/logout').set('Cookie', cookie).set('X-CSRF-Token', token).expect(204);
      expect(setCookie(again.headers, COOKIE)).toMatch(/Expires=Thu, 01 Jan 1970/);
      const page = await newAgent(ctx.app).post('/logout').set('Cookie', cookie).type('form').send({ _csrf: token }).expect(303);
      expect(page.headers.location).toBe('/login?loggedOut=1');
    });

    it('still needs the CSRF token to sign out a live session', async () => {
      const agent = await signIn(ctx.app, user);
      const refused = await agent.post('/api/auth/logout').expect(403);
      expect(refused.body.error.code).toBe('AUTH_1008');
      await agent.get('/api/auth/me').expect(200);
    });

    it('answers 204 and clears the cookie without a session too', async () => {
      const agent = newAgent(ctx.app);
      const token = await csrfToken(agent);
      const response = await agent.post('/api/auth/logout').set('X-CSRF-Token', token).expect(204);
      expect(setCookie(response.headers, COOKIE)).toBeDefined();
    });
  });

  describe('deadlines near the end of the lifetime', () => {
    const shortLived = useTestApp({ db: 'auth_api_short', env: { SESSION_EXPIRE_MINUTES: '1' } });

    it('reports the idle deadline as the earlier of the two', async () => {
      const agent = await signIn(shortLived.app, await createUser(shortLived.app));
      for (const path of ['/api/auth/me', '/api/auth/session']) {
        const body = (await agent.get(path).expect(200)).body;
        const session = body.session ?? body;
        expect(session.idleExpiresAt).toBe(session.absoluteExpiresAt);
      }
    });
  });

  describe('stored sessions', () => {
    it('are documents keyed by a hash of the token, queryable by user, with no password hash', async () => {
      const agent = await signIn(ctx.app, user);
      const token = tokenOf(sentCookie(await agent.get('/api/auth/me'), COOKIE));
      expect(token.length).toBeGreaterThanOrEqual(43);
      const sessions = connectionOf(ctx.app).collection('sessions');
      expect(await sessions.findOne({ _id: token as never })).toBeNull();
      expect(await sessions.findOne({ _id: sessionStorageId(token) as never })).toMatchObject({ session: { userId: user.id } });
      const mine = await sessions.find({ 'session.userId': user.id }).toArray();
      expect(mine.length).toBeGreaterThan(0);
      expect(typeof mine[0].session).toBe('object');
      expect(JSON.stringify(mine)).not.toMatch(/argon2|passwordHash/);
    });
  });

  describe('correlation ids', () => {
    it('echoes a well-formed X-Correlation-ID, also in error bodies', async () => {
      const response = await newAgent(ctx.app).get('/api/auth/me').set('X-Correlation-ID', 'trace-42.a:b').expect(401);
      expect(response.headers['x-correlation-id']).toBe('trace-42.a:b');
      expect(response.body.error.correlationId).toBe('trace-42.a:b');
    });

    it('replaces a malformed one with a new UUID', async () => {
      const response = await newAgent(ctx.app).get('/api/auth/me').set('X-Correlation-ID', 'bad id with spaces').expect(401);
      expect(response.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.body.error.correlationId).toBe(response.headers['x-correlation-id']);
    });

    it('is generated on redirects and unknown routes, with X-Response-Time', async () => {
      for (const path of ['/', '/api/nope']) {
        const response = await newAgent(ctx.app).get(path);
        expect(response.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
        expect(response.headers['x-response-time']).toMatch(/^\d+$/);
      }
      const missing = await newAgent(ctx.app).get('/api/nope').expect(404);
      expect(missing.body.error.code).toBe('RES_3001');
    });
  });
});
