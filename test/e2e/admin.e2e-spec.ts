import { Agent, csrfToken, newAgent, signIn } from '../helpers/agents';
import { formCsrfToken } from '../helpers/forms';
import { useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

const ADMIN_PAGES = ['/admin', '/admin/users', '/admin/sessions', '/admin/events'];
/** Asia/Kolkata keeps one offset all year, half an hour off whole hours: a time shown in it cannot pass for UTC. */
const KOLKATA_OFFSET_MS = (5 * 60 + 30) * 60_000;

describe('administration', () => {
  let admin: TestUser;
  let adminAgent: Agent;

  const ctx = useTestApp({ db: 'admin', env: { ADMIN_TIME_ZONE: 'Asia/Kolkata' } });
  beforeAll(async () => {
    admin = await createUser(ctx.app, { role: 'admin' });
    adminAgent = await signIn(ctx.app, admin);
  });

  async function patchUser(id: string, body: object) {
    const token = await csrfToken(adminAgent);
    return adminAgent.patch(`/api/admin/users/${id}`).set('X-CSRF-Token', token).send(body);
  }

  describe('access', () => {
    it('refuses a plain user with 403 AUTH_1005 in JSON and a 403 page', async () => {
      const agent = await signIn(ctx.app, await createUser(ctx.app));
      for (const path of ['/api/admin/users', '/api/admin/sessions', '/api/admin/events']) {
        const response = await agent.get(path).expect(403);
        expect(response.body.error.code).toBe('AUTH_1005');
      }
      for (const path of ADMIN_PAGES) {
        const page = await agent.get(path).expect(403);
        expect(page.text).toContain('AUTH_1005');
      }
    });

    it('sends an anonymous visitor to sign in, and answers AUTH_1004 in JSON', async () => {
      expect((await newAgent(ctx.app).get('/admin/users').expect(303)).headers.location).toBe('/login?next=%2Fadmin%2Fusers');
      expect((await newAgent(ctx.app).get('/api/admin/users').expect(401)).body.error.code).toBe('AUTH_1004');
    });

    it('serves every admin page to an admin', async () => {
      for (const path of ADMIN_PAGES) await adminAgent.get(path).expect(200);
    });
  });

  describe('users', () => {
    it('creates a user who can sign in, and refuses a weak password naming the field', async () => {
      const token = await csrfToken(adminAgent);
      const created = await adminAgent
        .post('/api/admin/users')
        .set('X-CSRF-Token', token)
        .send({ email: 'New.Person@Example.test', password: 'a good long passphrase', name: 'New Person' })
        .expect(201);
      expect(created.body.user).toMatchObject({ id: expect.any(String), email: 'new.person@example.test', role: 'user', disabled: false });
      expect(JSON.stringify(created.body)).not.toMatch(/password/i);
      await signIn(ctx.app, { email: 'new.person@example.test', password: 'a good long passphrase' });

      const weak = await adminAgent
        .post('/api/admin/users')
        .set('X-CSRF-Token', token)
        .send({ email: 'weak@example.test', password: 'short' });
      expect(weak.status).toBe(400);
      expect(weak.body.error).toMatchObject({ code: 'VAL_2001', details: { fields: { password: expect.any(String) } } });
    });

    it('searches by email prefix and paginates', async () => {
      for (let i = 0; i < 3; i++) await createUser(ctx.app, { email: `search-${i}@example.test` });
      const page = (await adminAgent.get('/api/admin/users?q=search-&pageSize=2').expect(200)).body;
      expect(page).toMatchObject({ total: 3, page: 1, pageSize: 2 });
      expect(page.items.map((user: { email: string }) => user.email)).toEqual(['search-0@example.test', 'search-1@example.test']);
      const regexTrick = (await adminAgent.get('/api/admin/users?q=.*').expect(200)).body;
      expect(regexTrick.total).toBe(0);
    });

    it('disabling ends the user’s live sessions at once and later sign-ins get AUTH_1007', async () => {
      const user = await createUser(ctx.app);
      const [laptop, phone] = [await signIn(ctx.app, user), await signIn(ctx.app, user)];
      const response = await patchUser(user.id, { disabled: true });
      expect(response.status).toBe(200);
      expect(response.body.user).toMatchObject({ id: user.id, disabled: true });
      for (const agent of [laptop, phone]) expect((await agent.get('/api/auth/me').expect(401)).body.error.code).toBe('AUTH_1003');

      const agent = newAgent(ctx.app);
      const token = await csrfToken(agent);
      const refused = await agent.post('/api/auth/login').set('X-CSRF-Token', token).send({ email: user.email, password: user.password });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('AUTH_1007');

      expect((await patchUser(user.id, { disabled: false })).status).toBe(200);
      await signIn(ctx.app, user);
    });

    it('a role change ends the user’s sessions, so the new role applies from the next sign-in', async () => {
      const user = await createUser(ctx.app);
      const agent = await signIn(ctx.app, user);
      expect((await patchUser(user.id, { role: 'admin' })).body.user.role).toBe('admin');
      await agent.get('/api/auth/me').expect(401);
      const again = await signIn(ctx.app, user);
      await again.get('/api/admin/users').expect(200);
    });

    it('refuses to let admins disable or demote themselves', async () => {
      const response = await patchUser(admin.id, { disabled: true });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VAL_2001');
      expect((await patchUser(admin.id, { role: 'user' })).status).toBe(400);
      await adminAgent.get('/api/admin/users').expect(200);
    });

    it('answers 404 for an unknown user and VAL_2001 for a malformed id or field', async () => {
      expect((await patchUser('0123456789abcdef01234567', { name: 'x' })).status).toBe(404);
      expect((await patchUser('not-an-id', { name: 'x' })).body.error.code).toBe('VAL_2001');
      expect((await patchUser(admin.id, { role: 'root' })).body.error.code).toBe('VAL_2001');
      expect((await patchUser(admin.id, { disabled: 'yes' })).body.error.code).toBe('VAL_2001');
    });
  });

  describe('sessions', () => {
    it('lists everyone’s sessions with the owner’s email, filters by user, and ends one', async () => {
      const user = await createUser(ctx.app);
      const victim = await signIn(ctx.app, user);
      const list = (await adminAgent.get(`/api/admin/sessions?userId=${user.id}`).expect(200)).body;
      expect(list.total).toBe(1);
      expect(list.items[0]).toMatchObject({ userId: user.id, email: user.email, current: false });
      const token = await csrfToken(adminAgent);
      await adminAgent.delete(`/api/admin/sessions/${list.items[0].id}`).set('X-CSRF-Token', token).expect(204);
      expect((await victim.get('/api/auth/me').expect(401)).body.error.code).toBe('AUTH_1003');
      await adminAgent.delete(`/api/admin/sessions/${list.items[0].id}`).set('X-CSRF-Token', token).expect(404);
    });

    it('ends all of a user’s sessions', async () => {
      const user = await createUser(ctx.app);
      const agents = [await signIn(ctx.app, user), await signIn(ctx.app, user)];
      const token = await csrfToken(adminAgent);
      await adminAgent.delete(`/api/admin/users/${user.id}/sessions`).set('X-CSRF-Token', token).expect(204);
      for (const agent of agents) await agent.get('/api/auth/me').expect(401);
      await adminAgent.get('/api/admin/users').expect(200);
    });

    it('ends a session from the user page and comes back to it', async () => {
      const user = await createUser(ctx.app);
      await signIn(ctx.app, user);
      const page = await adminAgent.get(`/admin/users/${user.id}`).expect(200);
      const id = /data-session-id="([0-9a-f]{64})"/.exec(page.text)![1];
      const ended = await adminAgent
        .post(`/admin/sessions/${id}/end`)
        .type('form')
        .send({ _csrf: formCsrfToken(page.text), returnTo: `/admin/users/${user.id}` })
        .expect(303);
      expect(ended.headers.location).toBe(`/admin/users/${user.id}`);
      expect((await adminAgent.get(`/api/admin/sessions?userId=${user.id}`)).body.total).toBe(0);
    });
  });

  describe('event log', () => {
    it('records each lifecycle step with correlation id, IP and user agent, and never a password', async () => {
      const user = await createUser(ctx.app);
      const agent = newAgent(ctx.app).set('User-Agent', 'EventTest/1.0');
      let token = await csrfToken(agent);
      await agent
        .post('/api/auth/login')
        .set('X-CSRF-Token', token)
        .set('X-Correlation-ID', 'evt-fail')
        .send({ email: user.email, password: 'wrong password' });
      await agent
        .post('/api/auth/login')
        .set('X-CSRF-Token', token)
        .set('X-Correlation-ID', 'evt-ok')
        .send({ email: user.email, password: user.password });
      token = await csrfToken(agent);
      await agent.post('/api/auth/logout').set('X-CSRF-Token', token).set('X-Correlation-ID', 'evt-out').expect(204);
      const second = await signIn(ctx.app, user);
      const [session] = (await second.get('/api/sessions')).body.items;
      const adminToken = await csrfToken(adminAgent);
      await adminAgent.delete(`/api/admin/sessions/${session.id}`).set('X-CSRF-Token', adminToken).set('X-Correlation-ID', 'evt-revoke');
      await patchUser(user.id, { disabled: true });

      const events = (await adminAgent.get(`/api/admin/events?userId=${user.id}&pageSize=100`).expect(200)).body.items;
      const byType = (type: string) => events.filter((event: { type: string }) => event.type === type);
      expect(byType('login.failed')[0]).toMatchObject({
        correlationId: 'evt-fail',
        reason: 'invalid_credentials',
        userAgent: 'EventTest/1.0',
        ip: expect.any(String),
      });
      expect(byType('login.succeeded').map((e: { correlationId: string }) => e.correlationId)).toContain('evt-ok');
      expect(byType('logout')[0]).toMatchObject({ correlationId: 'evt-out', sessionId: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(byType('session.revoked')[0]).toMatchObject({ correlationId: 'evt-revoke', actorId: admin.id, reason: 'admin' });
      expect(byType('user.disabled')[0]).toMatchObject({ actorId: admin.id });
      expect(JSON.stringify(events)).not.toMatch(/wrong password|argon2|passwordHash/);

      const filtered = (await adminAgent.get('/api/admin/events?type=logout').expect(200)).body;
      expect(filtered.items.every((event: { type: string }) => event.type === 'logout')).toBe(true);
      expect((await adminAgent.get('/api/admin/events?type=nope').expect(400)).body.error.code).toBe('VAL_2001');
    });

    it('shows short times in ADMIN_TIME_ZONE, which each page names, and keeps the ISO time in the <time> element', async () => {
      await signIn(ctx.app, await createUser(ctx.app));
      for (const path of ['/admin/users', `/admin/users/${admin.id}`, '/admin/sessions', '/admin/events']) {
        const page = await adminAgent.get(path).expect(200);
        expect(page.text.match(/data-time-zone>Times in Asia\/Kolkata\./g)).toHaveLength(1);
        expect(page.text).not.toMatch(/\d\d:\d\d:\d\d UTC/);
        const times = [...page.text.matchAll(/<time datetime="([^"]+)" title="\1">([^<]+)<\/time>/g)];
        expect(times.length).toBeGreaterThan(0);
        for (const [, iso, shown] of times) {
          const at = new Date(iso);
          expect(at.toISOString()).toBe(iso);
          const clock = new Date(at.getTime() + KOLKATA_OFFSET_MS).toISOString().slice(11, 16);
          expect(shown).toMatch(new RegExp(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \\d{1,2} [A-Z][a-z]{2}( \\d{4})? ${clock}$`));
        }
      }
    });

    it('shows the overview figures', async () => {
      const page = await adminAgent.get('/admin').expect(200);
      for (const stat of ['activeSessions', 'users', 'signIns', 'failures', 'expiredByInactivity', 'expiredByAbsolute']) {
        expect(page.text).toMatch(new RegExp(`data-stat="${stat}">\\d+<`));
      }
    });

    it('counts active sessions as the page loads: the overview and the last point of the chart are current', async () => {
      await Promise.all([signIn(ctx.app, await createUser(ctx.app)), signIn(ctx.app, await createUser(ctx.app))]);
      const live = (await adminAgent.get('/api/admin/sessions?pageSize=1').expect(200)).body.total;

      const overview = await adminAgent.get('/admin').expect(200);
      expect(overview.text).toContain(`data-stat="activeSessions">${live}<`);
      expect(overview.text).toContain(`${live === 1 ? 'active session' : 'active sessions'}</div>`);
      expect(overview.text).not.toContain('(counted');
      const before = Date.now();
      const { body } = await adminAgent.get('/api/admin/analytics?range=24h').expect(200);
      const last = body.series.activeSessions[body.series.activeSessions.length - 1];
      expect(last.active).toBe(live);
      expect(Date.parse(last.at)).toBeGreaterThanOrEqual(before);
    });
  });
});
