import type { NestExpressApplication } from '@nestjs/platform-express';
import { csrfToken, deleteJson as remove, newAgent, postJson as post, sentCookie, setCookie, signIn, sleep } from '../helpers/agents';
import { formCsrfToken } from '../helpers/forms';
import { metricValue } from '../helpers/metrics';
import { awayFromStepEdge, enrolTotp, enrolTotpAt, totpCode } from '../helpers/second-factors';
import { connectionOf, useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

const STEP_MS = 30_000;
const MAX_FAILURES = 3;
const REAUTH_MS = 6_000;
let nextIp = 1;

const events = (app: NestExpressApplication, filter: Record<string, unknown>) =>
  connectionOf(app).collection('session_events').find(filter).sort({ at: 1 }).toArray();

describe('second factors', () => {
  const ctx = useTestApp({
    db: 'second_factors',
    env: {
      TRUST_PROXY: '1',
      LOGIN_MAX_FAILURES: String(MAX_FAILURES),
      LOGIN_LOCK_MINUTES: '1',
      REAUTH_MINUTES: String(REAUTH_MS / 60_000),
    },
  });

  /** An agent of its own client address, so one test's failures never reach another's IP counter. */
  const freshAgent = () => newAgent(ctx.app).set('X-Forwarded-For', `198.51.100.${nextIp++}`);
  const signedIn = (user: TestUser) => signIn(ctx.app, user, freshAgent());

  describe('how a session was proven (amr)', () => {
    it('says a password sign-in was proven by the password, in /me, the device list and the admin list', async () => {
      const before = Date.now();
      const user = await createUser(ctx.app);
      const agent = await signedIn(user);
      const { amr } = (await agent.get('/api/auth/me').expect(200)).body.session;
      expect(amr).toEqual([{ method: 'pwd', at: expect.any(String) }]);
      expect(Date.parse(amr[0].at)).toBeGreaterThanOrEqual(before - 1000);

      const devices = (await agent.get('/api/sessions').expect(200)).body;
      expect(devices.items).toEqual([expect.objectContaining({ current: true, amr })]);

      const admin = await createUser(ctx.app, { role: 'admin' });
      const adminAgent = await signedIn(admin);
      const sessions = (await adminAgent.get(`/api/admin/sessions?userId=${user.id}`).expect(200)).body;
      expect(sessions.items).toEqual([expect.objectContaining({ userId: user.id, amr })]);
    });
  });

  describe('enrolling an authenticator app', () => {
    it('counts the factor only once a valid code confirms it, then lists it with ten recovery codes', async () => {
      const user = await createUser(ctx.app);
      const agent = await signedIn(user);
      const started = await post(agent, '/api/auth/factors/totp', { name: 'Phone' });
      expect(started.status).toBe(201);
      expect(started.body).toEqual({
        id: expect.any(String),
        secret: expect.stringMatching(/^[A-Z2-7]{32}$/),
        otpauthUrl: expect.any(String),
      });
      const uri = new URL(started.body.otpauthUrl);
      expect(uri.protocol).toBe('otpauth:');
      expect(uri.searchParams.get('secret')).toBe(started.body.secret);
      expect((await agent.get('/api/auth/factors').expect(200)).body).toEqual({ items: [], recoveryCodesLeft: 0 });

      await awayFromStepEdge();
      const wrong = await post(agent, `/api/auth/factors/totp/${started.body.id}/verify`, {
        code: totpCode(started.body.secret, Date.now() + 2 * STEP_MS),
      });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error.code).toBe('AUTH_1013');

      const confirmed = await post(agent, `/api/auth/factors/totp/${started.body.id}/verify`, { code: totpCode(started.body.secret) });
      expect(confirmed.status).toBe(200);
      expect(confirmed.body.factor).toMatchObject({ id: started.body.id, type: 'totp', name: 'Phone', confirmedAt: expect.any(String) });
      expect(confirmed.body.factor.secret).toBeUndefined();
      expect(confirmed.body.recoveryCodes).toHaveLength(10);
      const list = (await agent.get('/api/auth/factors').expect(200)).body;
      expect(list).toEqual({ items: [confirmed.body.factor], recoveryCodesLeft: 10 });
      expect(await events(ctx.app, { userId: user.id, type: { $in: ['mfa.enrolled', 'mfa.failed'] } })).toEqual([
        expect.objectContaining({ type: 'mfa.failed', method: 'totp', reason: 'enrolment' }),
        expect.objectContaining({ type: 'mfa.enrolled', method: 'totp' }),
      ]);
    });

    it('ends the account’s other sessions and keeps this one under a new id, now proven by the code too', async () => {
      const user = await createUser(ctx.app);
      const agent = await signedIn(user);
      const elsewhere = await signedIn(user);
      const before = sentCookie(await agent.get('/api/auth/me').expect(200), 'session_token');
      await enrolTotp(agent);

      expect((await elsewhere.get('/api/auth/me').expect(401)).body.error.code).toBe('AUTH_1003');
      const me = await agent.get('/api/auth/me').expect(200);
      expect(sentCookie(me, 'session_token')).not.toBe(before);
      expect(me.body.session.amr.map((entry: { method: string }) => entry.method)).toEqual(['pwd', 'otp']);
      const old = newAgent(ctx.app).set('Cookie', before);
      expect((await old.get('/api/auth/me').expect(401)).body.error.code).toBe('AUTH_1003');
    });

    it('counts wrong enrolment codes toward the account’s lockout like wrong passwords, also from a known browser', async () => {
      const user = await createUser(ctx.app);
      const agent = await signedIn(user);
      const { id } = (await post(agent, '/api/auth/factors/totp')).body;
      const answers = [];
      for (let i = 0; i <= MAX_FAILURES; i++)
        answers.push((await post(agent, `/api/auth/factors/totp/${id}/verify`, { code: '000000' })).status);
      expect(answers).toEqual([...Array(MAX_FAILURES).fill(401), 429]);
      const stranger = await post(freshAgent(), '/api/auth/login', { email: user.email, password: user.password });
      expect(stranger.status).toBe(429);
    });

    it('refuses another user’s enrolment and factor ids as not found', async () => {
      const owner = await createUser(ctx.app);
      const other = await createUser(ctx.app);
      const ownerAgent = await signedIn(owner);
      const otherAgent = await signedIn(other);
      const { factorId, secret } = await enrolTotp(ownerAgent);
      const { id: pending, secret: pendingSecret } = (await post(ownerAgent, '/api/auth/factors/totp')).body;

      const confirm = await post(otherAgent, `/api/auth/factors/totp/${pending}/verify`, { code: totpCode(pendingSecret) });
      expect(confirm.status).toBe(404);
      const removal = await remove(otherAgent, `/api/auth/factors/${factorId}`);
      expect(removal.status).toBe(404);
      expect((await ownerAgent.get('/api/auth/factors').expect(200)).body.items).toHaveLength(1);
      expect(secret).not.toBe(pendingSecret);
    });

    it('removes a factor, its recovery codes with the last one, ending the other sessions', async () => {
      const user = await createUser(ctx.app);
      const agent = await signedIn(user);
      const { factorId } = await enrolTotp(agent);
      const elsewhere = await signedIn(user);
      expect((await remove(agent, `/api/auth/factors/${factorId}`)).status).toBe(204);
      expect((await agent.get('/api/auth/factors').expect(200)).body).toEqual({ items: [], recoveryCodesLeft: 0 });
      expect((await elsewhere.get('/api/auth/me').expect(401)).body.error.code).toBe('AUTH_1003');
      expect(await events(ctx.app, { userId: user.id, type: 'mfa.removed' })).toHaveLength(1);
    });

    it('regenerates recovery codes: a new set of ten, shown once, the other sessions ended', async () => {
      const user = await createUser(ctx.app);
      const agent = await signedIn(user);
      const { recoveryCodes } = await enrolTotp(agent);
      const elsewhere = await signedIn(user);
      const fresh = await post(agent, '/api/auth/recovery-codes');
      expect(fresh.status).toBe(200);
      expect(fresh.body.recoveryCodes).toHaveLength(10);
      expect(fresh.body.recoveryCodes).not.toEqual(expect.arrayContaining([recoveryCodes[0]]));
      expect((await elsewhere.get('/api/auth/me').expect(401)).body.error.code).toBe('AUTH_1003');
    });

    it('needs a recent authentication to enrol, remove or regenerate', async () => {
      const user = await createUser(ctx.app);
      const agent = await signedIn(user);
      const { factorId } = await enrolTotp(agent);
      await sleep(REAUTH_MS + 200);
      for (const response of [
        await post(agent, '/api/auth/factors/totp'),
        await post(agent, `/api/auth/factors/totp/${factorId}/verify`, { code: '123456' }),
        await remove(agent, `/api/auth/factors/${factorId}`),
        await post(agent, '/api/auth/recovery-codes'),
      ]) {
        expect(response.status).toBe(403);
        expect(response.body.error).toMatchObject({ code: 'AUTH_1009', details: { reauthUrl: '/reauth' } });
      }
    });
  });

  describe('signing in with a second factor', () => {
    /** An account with an authenticator app whose last used step lies well in the past. */
    async function withFactor() {
      const user = await createUser(ctx.app);
      const enrolled = await enrolTotpAt(ctx.app, user, Date.now() - 10 * STEP_MS);
      return { user, ...enrolled };
    }

    /** The password step: the agent then holds a pending session. */
    async function passwordStep(user: TestUser, agent = freshAgent()) {
      const response = await post(agent, '/api/auth/login', { email: user.email, password: user.password });
      expect(response.status).toBe(200);
      return { agent, response };
    }

    it('answers the password with the methods, then signs in under a new id proven by both', async () => {
      const { user, secret } = await withFactor();
      const { agent, response } = await passwordStep(user);
      expect(response.body).toEqual({ secondFactor: { methods: ['totp', 'recovery'] } });
      expect(setCookie(response.headers, 'device')).toBeUndefined();
      const pendingCookie = setCookie(response.headers, 'session_token')!.split(';')[0];

      await awayFromStepEdge();
      const done = await post(agent, '/api/auth/login/totp', { code: totpCode(secret) });
      expect(done.status).toBe(200);
      expect(done.body.user).toMatchObject({ id: user.id, email: user.email });
      expect(setCookie(done.headers, 'device')).toBeDefined();
      const signedInCookie = setCookie(done.headers, 'session_token')!.split(';')[0];
      expect(signedInCookie).not.toBe(pendingCookie);

      const me = (await agent.get('/api/auth/me').expect(200)).body;
      expect(me.session.amr.map((entry: { method: string }) => entry.method)).toEqual(['pwd', 'otp']);
      const stale = await newAgent(ctx.app).get('/api/auth/me').set('Cookie', pendingCookie);
      expect(stale.status).toBe(401);
      expect(await events(ctx.app, { userId: user.id, type: { $in: ['mfa.succeeded', 'login.succeeded'] } })).toEqual([
        expect.objectContaining({ type: 'login.succeeded' }),
        expect.objectContaining({ type: 'mfa.succeeded', method: 'totp' }),
      ]);
    });

    it('lets a pending session reach nothing but the second step: AUTH_1012 with the methods, pages sent to finish', async () => {
      const { user } = await withFactor();
      const { agent } = await passwordStep(user);
      for (const path of ['/api/auth/me', '/api/sessions', '/api/auth/factors']) {
        const response = await agent.get(path);
        expect(response.status).toBe(401);
        expect(response.body.error).toMatchObject({ code: 'AUTH_1012', details: { methods: ['totp', 'recovery'] } });
      }
      expect((await post(agent, '/api/auth/factors/totp')).body.error.code).toBe('AUTH_1012');
      const page = await agent.get('/dashboard').expect(303);
      expect(page.headers.location).toBe('/login/second-factor');
    });

    it('refuses a second step without the first (AUTH_1004), also from a session signed in already', async () => {
      const { user, secret } = await withFactor();
      const stranger = await post(freshAgent(), '/api/auth/login/totp', { code: totpCode(secret) });
      expect(stranger.status).toBe(401);
      expect(stranger.body.error.code).toBe('AUTH_1004');
      const other = await createUser(ctx.app);
      const signedInAgent = await signedIn(other);
      const again = await post(signedInAgent, '/api/auth/login/recovery', { code: 'abcde-fghjk' });
      expect(again.body.error.code).toBe('AUTH_1004');
      expect(await events(ctx.app, { userId: user.id, type: 'mfa.failed' })).toHaveLength(0);
    });

    it('accepts the codes of the steps either side of now, never two steps away, and never a code twice', async () => {
      const { user, secret } = await withFactor();
      await awayFromStepEdge();
      const now = Date.now();
      const { agent } = await passwordStep(user);
      for (const at of [now - 2 * STEP_MS, now + 2 * STEP_MS]) {
        const refused = await post(agent, '/api/auth/login/totp', { code: totpCode(secret, at) });
        expect(refused.status).toBe(401);
        expect(refused.body.error.code).toBe('AUTH_1013');
      }
      await post(agent, '/api/auth/login/totp', { code: totpCode(secret, now - STEP_MS) }).then((r) => expect(r.status).toBe(200));

      const { agent: later } = await passwordStep(user);
      const replay = await post(later, '/api/auth/login/totp', { code: totpCode(secret, now - STEP_MS) });
      expect(replay.body.error.code).toBe('AUTH_1013');
      await post(later, '/api/auth/login/totp', { code: totpCode(secret, now + STEP_MS) }).then((r) => expect(r.status).toBe(200));
      const { agent: third } = await passwordStep(user);
      const older = await post(third, '/api/auth/login/totp', { code: totpCode(secret, now) });
      expect(older.body.error.code).toBe('AUTH_1013');
    });

    it('refuses a code of another user’s app, and counts it', async () => {
      const { user } = await withFactor();
      const other = await withFactor();
      const { agent } = await passwordStep(user);
      const response = await post(agent, '/api/auth/login/totp', { code: totpCode(other.secret) });
      expect(response.body.error.code).toBe('AUTH_1013');
      expect(await events(ctx.app, { userId: user.id, type: 'mfa.failed' })).toEqual([
        expect.objectContaining({ method: 'totp', reason: 'sign_in' }),
      ]);
    });

    it('checks at most the allowed number of parallel guesses; the rest, and then the right code, are locked out', async () => {
      const { user, secret } = await withFactor();
      const { agent } = await passwordStep(user);
      const token = await csrfToken(agent);
      const guesses = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          agent
            .post('/api/auth/login/totp')
            .set('X-CSRF-Token', token)
            .send({ code: String(100000 + i) }),
        ),
      );
      const statuses = guesses.map((guess) => guess.status).sort();
      expect(statuses).toEqual([...Array(MAX_FAILURES).fill(401), ...Array(10 - MAX_FAILURES).fill(429)]);
      await awayFromStepEdge();
      const right = await post(agent, '/api/auth/login/totp', { code: totpCode(secret) });
      expect(right.status).toBe(429);
      expect(right.body.error.code).toBe('AUTH_1006');
    });

    it('keeps code failures counted across password steps: a known password never starts the count over', async () => {
      const { user } = await withFactor();
      for (let i = 0; i < MAX_FAILURES; i++) {
        const { agent } = await passwordStep(user);
        expect((await post(agent, '/api/auth/login/totp', { code: '000000' })).status).toBe(401);
      }
      const locked = await post(freshAgent(), '/api/auth/login', { email: user.email, password: user.password });
      expect(locked.status).toBe(429);
    });

    it('lets one of two sign-ins with the same code through', async () => {
      const { user, secret } = await withFactor();
      const [first, second] = await Promise.all([passwordStep(user), passwordStep(user)]);
      await awayFromStepEdge();
      const code = totpCode(secret);
      const [a, b] = [await csrfToken(first.agent), await csrfToken(second.agent)];
      const results = await Promise.all([
        first.agent.post('/api/auth/login/totp').set('X-CSRF-Token', a).send({ code }),
        second.agent.post('/api/auth/login/totp').set('X-CSRF-Token', b).send({ code }),
      ]);
      expect(results.map((result) => result.status).sort()).toEqual([200, 401]);
    });

    it('spends a recovery code once, says how many are left, records it and ends the other sessions', async () => {
      const { user, recoveryCodes } = await withFactor();
      const { agent: before } = await passwordStep(user);
      const { agent } = await passwordStep(user);
      const used = await post(agent, '/api/auth/login/recovery', { code: recoveryCodes[0] });
      expect(used.status).toBe(200);
      expect(used.body).toMatchObject({ user: { id: user.id }, recoveryCodesLeft: 9 });
      const me = (await agent.get('/api/auth/me').expect(200)).body;
      expect(me.session.amr.map((entry: { method: string }) => entry.method)).toEqual(['pwd', 'recovery']);
      expect((await before.get('/api/auth/me')).body.error.code).toBe('AUTH_1003');
      expect(await events(ctx.app, { userId: user.id, type: 'mfa.recovery_used' })).toEqual([expect.objectContaining({ left: 9 })]);

      const { agent: again } = await passwordStep(user);
      const twice = await post(again, '/api/auth/login/recovery', { code: recoveryCodes[0] });
      expect(twice.status).toBe(401);
      expect(twice.body.error.code).toBe('AUTH_1013');
    });

    it('shows a sign-in waiting for its second step in the owner’s device list, where it can be ended', async () => {
      const { user, secret } = await withFactor();
      const { agent: owner } = await passwordStep(user);
      await awayFromStepEdge();
      expect((await post(owner, '/api/auth/login/totp', { code: totpCode(secret) })).status).toBe(200);
      const { agent: stranger } = await passwordStep(user);
      const list = (await owner.get('/api/sessions').expect(200)).body.items as { id: string; pending?: true; current: boolean }[];
      const waiting = list.find((item) => item.pending);
      expect(waiting).toMatchObject({ current: false, amr: [{ method: 'pwd', at: expect.any(String) }] });
      expect(list.find((item) => item.current)?.pending).toBeUndefined();
      expect((await remove(owner, `/api/sessions/${waiting!.id}`)).status).toBe(204);
      expect((await stranger.get('/api/auth/me')).body.error.code).toBe('AUTH_1003');
    });

    it('never lets a known browser skip the second factor', async () => {
      const user = await createUser(ctx.app);
      const agent = await signedIn(user);
      await enrolTotp(agent);
      await post(agent, '/api/auth/logout').then((r) => expect(r.status).toBe(204));
      const { response } = await passwordStep(user, agent);
      expect(response.body).toEqual({ secondFactor: { methods: ['totp', 'recovery'] } });
      expect((await agent.get('/api/auth/me')).body.error.code).toBe('AUTH_1012');
    });

    it('ends a pending sign-in after five minutes', async () => {
      const { user, secret } = await withFactor();
      const { agent } = await passwordStep(user);
      await connectionOf(ctx.app)
        .collection('sessions')
        .updateMany(
          { 'session.userId': user.id, 'session.pending': { $exists: true } },
          { $set: { 'session.pending.until': new Date(Date.now() - 1) } },
        );
      // Past the one-second read cache, which may still hold the session as it was.
      await sleep(1100);
      const late = await agent.get('/api/auth/me');
      expect(late.status).toBe(401);
      expect(late.body.error).toMatchObject({ code: 'AUTH_1002', details: { reason: 'absolute' } });
      expect((await post(agent, '/api/auth/login/totp', { code: totpCode(secret) })).body.error.code).toBe('AUTH_1004');
    });

    it('works through the pages: /login, then /login/second-factor, then the dashboard', async () => {
      const { user, secret } = await withFactor();
      const agent = freshAgent();
      const form = await agent.get('/login').expect(200);
      const login = await agent
        .post('/login')
        .type('form')
        .send({ _csrf: formCsrfToken(form.text), email: user.email, password: user.password, next: '/account/sessions' })
        .expect(303);
      expect(login.headers.location).toBe('/login/second-factor?next=%2Faccount%2Fsessions');
      const page = await agent.get(login.headers.location).expect(200);
      expect(page.text).toContain('authenticator app');
      expect(page.text).toContain('Use a recovery code');
      expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)/);
      expect(page.headers['content-security-policy']).toContain("script-src 'self'");

      const wrong = await agent
        .post('/login/second-factor')
        .type('form')
        .send({ _csrf: formCsrfToken(page.text), method: 'totp', code: '000000', next: '/account/sessions' });
      expect(wrong.status).toBe(401);
      expect(wrong.text).toContain('AUTH_1013');
      await awayFromStepEdge();
      const done = await agent
        .post('/login/second-factor')
        .type('form')
        .send({ _csrf: formCsrfToken(wrong.text), method: 'totp', code: totpCode(secret), next: '/account/sessions' })
        .expect(303);
      expect(done.headers.location).toBe('/account/sessions');
      await agent.get('/dashboard').expect(200);
    });
  });

  describe('the security page', () => {
    it('enrols an app from a QR code drawn on the server, shows the recovery codes once, and removes it', async () => {
      const user = await createUser(ctx.app);
      const agent = await signedIn(user);
      let page = await agent.get('/account/security').expect(200);
      expect(page.text).toContain('No second factor yet');
      expect(page.headers['content-security-policy']).toContain("script-src 'self'");

      page = await agent
        .post('/account/security/totp')
        .type('form')
        .send({ _csrf: formCsrfToken(page.text) })
        .expect(200);
      expect(page.text).toMatch(/<figure class="qr"><svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)|style=/);
      const secret = /data-secret>([A-Z2-7]+)</.exec(page.text)![1];
      const action = /action="(\/account\/security\/totp\/[0-9a-f]{24}\/verify)"/.exec(page.text)![1];

      const wrong = await agent
        .post(action)
        .type('form')
        .send({ _csrf: formCsrfToken(page.text), code: '000000' });
      expect(wrong.status).toBe(401);
      expect(wrong.text).toContain('That code is not right');
      await awayFromStepEdge();
      page = await agent
        .post(action)
        .type('form')
        .send({ _csrf: formCsrfToken(wrong.text), code: totpCode(secret) })
        .expect(200);
      expect(page.text).toContain('Your authenticator app is set up');
      expect(page.text.match(/<li><code>[a-z2-9]{5}-[a-z2-9]{5}<\/code><\/li>/g)).toHaveLength(10);
      page = await agent.get('/account/security').expect(200);
      expect(page.text).not.toContain('data-recovery-codes');
      expect(page.text).toContain('10 unused');

      const factorId = /data-factor-id="([0-9a-f]{24})"/.exec(page.text)![1];
      const removed = await agent
        .post(`/account/security/factors/${factorId}/remove`)
        .type('form')
        .send({ _csrf: formCsrfToken(page.text) })
        .expect(303);
      expect(removed.headers.location).toBe('/account/security?done=removed');
      expect((await agent.get(removed.headers.location).expect(200)).text).toContain('No second factor yet');
    });
  });

  describe('re-authenticating', () => {
    /** Signed in with the password and the app's code for time `at`. */
    async function signedInWithCode(user: TestUser, secret: string, at: number) {
      const agent = freshAgent();
      expect((await post(agent, '/api/auth/login', { email: user.email, password: user.password })).status).toBe(200);
      expect((await post(agent, '/api/auth/login/totp', { code: totpCode(secret, at) })).status).toBe(200);
      return agent;
    }

    it('accepts a code instead of the password, proving the factor again under a new id', async () => {
      const user = await createUser(ctx.app);
      const { secret } = await enrolTotpAt(ctx.app, user, Date.now() - 10 * STEP_MS);
      await awayFromStepEdge();
      const now = Date.now();
      const agent = await signedInWithCode(user, secret, now - STEP_MS);
      const before = (await agent.get('/api/auth/me').expect(200)).body.session.amr;
      const reauth = await post(agent, '/api/auth/reauth', { code: totpCode(secret, now) });
      expect(reauth.status).toBe(204);
      expect(setCookie(reauth.headers, 'session_token')).toBeDefined();
      const after = (await agent.get('/api/auth/me').expect(200)).body.session.amr;
      expect(after.map((entry: { method: string }) => entry.method)).toEqual(['pwd', 'otp']);
      expect(Date.parse(after[1].at)).toBeGreaterThanOrEqual(Date.parse(before[1].at));
      expect(after[0]).toEqual(before[0]);

      const replay = await post(agent, '/api/auth/reauth', { code: totpCode(secret, now) });
      expect(replay.body.error.code).toBe('AUTH_1013');
      for (const body of [{}, { password: user.password, code: totpCode(secret, now + STEP_MS) }]) {
        const refused = await post(agent, '/api/auth/reauth', body);
        expect(refused.status).toBe(400);
        expect(refused.body.error.code).toBe('VAL_2001');
      }
    });

    it('does not let the password alone change the factors of an account that has one', async () => {
      const user = await createUser(ctx.app);
      const { secret, factorId } = await enrolTotpAt(ctx.app, user, Date.now() - 10 * STEP_MS);
      await awayFromStepEdge();
      const now = Date.now();
      const agent = await signedInWithCode(user, secret, now - STEP_MS);
      await sleep(REAUTH_MS + 200);
      expect((await post(agent, '/api/auth/reauth', { password: user.password })).status).toBe(204);
      for (const response of [
        await post(agent, '/api/auth/factors/totp'),
        await remove(agent, `/api/auth/factors/${factorId}`),
        await post(agent, '/api/auth/recovery-codes'),
      ]) {
        expect(response.status).toBe(403);
        expect(response.body.error).toMatchObject({ code: 'AUTH_1009', details: { reauthUrl: '/reauth', factor: true } });
      }
      const page = await agent.get('/reauth?next=/account/security').expect(200);
      expect(page.text).toContain('name="code"');

      expect((await post(agent, '/api/auth/reauth', { code: totpCode(secret, now) })).status).toBe(204);
      expect((await remove(agent, `/api/auth/factors/${factorId}`)).status).toBe(204);
    });

    it('lets a sign-in with a recovery code replace a lost factor at once', async () => {
      const user = await createUser(ctx.app);
      const { factorId, recoveryCodes } = await enrolTotpAt(ctx.app, user, Date.now() - 10 * STEP_MS);
      const agent = freshAgent();
      await post(agent, '/api/auth/login', { email: user.email, password: user.password });
      expect((await post(agent, '/api/auth/login/recovery', { code: recoveryCodes[3] })).status).toBe(200);
      expect((await remove(agent, `/api/auth/factors/${factorId}`)).status).toBe(204);
      await enrolTotp(agent);
    });
  });

  describe('counting second steps', () => {
    it('counts second-step sign-ins and refused codes by method, in analytics and in the metrics', async () => {
      const admin = await createUser(ctx.app, { role: 'admin' });
      const adminAgent = await signedIn(admin);
      const totals = async () => (await adminAgent.get('/api/admin/analytics?range=24h').expect(200)).body.totals.secondFactor;
      const metric = (method: string, result: string) => metricValue(ctx.app, 'auth_second_factor_total', { method, result });
      const before = await totals();
      const [totpOk, totpFailed, recoveryOk] = await Promise.all([
        metric('totp', 'success'),
        metric('totp', 'failure'),
        metric('recovery', 'success'),
      ]);

      const user = await createUser(ctx.app);
      const { secret, recoveryCodes } = await enrolTotpAt(ctx.app, user, Date.now() - 10 * STEP_MS);
      const agent = freshAgent();
      await post(agent, '/api/auth/login', { email: user.email, password: user.password });
      expect((await post(agent, '/api/auth/login/totp', { code: '000000' })).status).toBe(401);
      await awayFromStepEdge();
      expect((await post(agent, '/api/auth/login/totp', { code: totpCode(secret) })).status).toBe(200);
      const other = freshAgent();
      await post(other, '/api/auth/login', { email: user.email, password: user.password });
      expect((await post(other, '/api/auth/login/recovery', { code: recoveryCodes[0] })).status).toBe(200);

      const after = await totals();
      expect(after.succeeded - before.succeeded).toBe(2);
      expect(after.failed - before.failed).toBe(1);
      expect(after.byMethod.totp.succeeded - before.byMethod.totp.succeeded).toBe(1);
      expect(after.byMethod.totp.failed - before.byMethod.totp.failed).toBe(1);
      expect(after.byMethod.recovery.succeeded - before.byMethod.recovery.succeeded).toBe(1);
      expect(await metric('totp', 'success')).toBe(totpOk + 1);
      expect(await metric('totp', 'failure')).toBe(totpFailed + 1);
      expect(await metric('recovery', 'success')).toBe(recoveryOk + 1);
    });
  });

  describe('an admin resetting a user’s factors', () => {
    it('needs recent authentication, records mfa.reset, ends the user’s sessions, and lets them in by password', async () => {
      const user = await createUser(ctx.app);
      const { secret } = await enrolTotpAt(ctx.app, user, Date.now() - 10 * STEP_MS);
      const userAgent = freshAgent();
      await post(userAgent, '/api/auth/login', { email: user.email, password: user.password });
      await awayFromStepEdge();
      expect((await post(userAgent, '/api/auth/login/totp', { code: totpCode(secret) })).status).toBe(200);

      const admin = await createUser(ctx.app, { role: 'admin' });
      const adminAgent = await signedIn(admin);
      const self = await remove(adminAgent, `/api/admin/users/${admin.id}/factors`);
      expect(self.status).toBe(400);
      const reset = await remove(adminAgent, `/api/admin/users/${user.id}/factors`);
      expect(reset.status).toBe(200);
      expect(reset.body).toEqual({ removed: 1 });
      expect((await userAgent.get('/api/auth/me')).body.error.code).toBe('AUTH_1003');
      expect(await events(ctx.app, { userId: user.id, type: 'mfa.reset' })).toEqual([expect.objectContaining({ actorId: admin.id })]);
      const again = await post(freshAgent(), '/api/auth/login', { email: user.email, password: user.password });
      expect(again.body).toEqual({ user: expect.objectContaining({ id: user.id }) });

      await sleep(REAUTH_MS + 200);
      const stale = await remove(adminAgent, `/api/admin/users/${user.id}/factors`);
      expect(stale.status).toBe(403);
      expect(stale.body.error.code).toBe('AUTH_1009');
    });
  });
});

describe('second factors required by role (MFA_REQUIRED_ROLES)', () => {
  const ctx = useTestApp({ db: 'second_factors_policy', env: { TRUST_PROXY: '1', MFA_REQUIRED_ROLES: 'admin' } });
  const freshAgent = () => newAgent(ctx.app).set('X-Forwarded-For', `203.0.113.${nextIp++}`);

  it('sends an admin without a factor to enrolment, lets them reach nothing else, and signs them in once enrolled', async () => {
    const admin = await createUser(ctx.app, { role: 'admin' });
    const agent = freshAgent();
    const password = await post(agent, '/api/auth/login', { email: admin.email, password: admin.password });
    expect(password.body).toEqual({ secondFactor: { methods: [], enrol: true } });
    for (const path of ['/api/auth/me', '/api/admin/users']) {
      const refused = await agent.get(path);
      expect(refused.status).toBe(401);
      expect(refused.body.error).toMatchObject({
        code: 'AUTH_1012',
        details: { methods: [], enrol: true, secondFactorUrl: '/account/security' },
      });
    }
    expect((await post(agent, '/api/auth/login/totp', { code: '123456' })).status).toBe(401);
    expect((await agent.get('/admin').expect(303)).headers.location).toBe('/account/security');
    expect((await agent.get('/login/second-factor').expect(303)).headers.location).toBe('/account/security');
    expect((await agent.get('/account/security').expect(200)).text).toContain('data-notice="enrol-required"');

    expect((await agent.get('/api/auth/factors').expect(200)).body).toEqual({ items: [], recoveryCodesLeft: 0 });
    const started = await post(agent, '/api/auth/factors/totp');
    expect(started.status).toBe(201);
    await awayFromStepEdge();
    const confirmed = await post(agent, `/api/auth/factors/totp/${started.body.id}/verify`, { code: totpCode(started.body.secret) });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.recoveryCodes).toHaveLength(10);
    const me = (await agent.get('/api/auth/me').expect(200)).body;
    expect(me.session.amr.map((entry: { method: string }) => entry.method)).toEqual(['pwd', 'otp']);
    await agent.get('/api/admin/users').expect(200);

    const next = await post(freshAgent(), '/api/auth/login', { email: admin.email, password: admin.password });
    expect(next.body).toEqual({ secondFactor: { methods: ['totp', 'recovery'] } });
  });

  it('leaves roles not listed to sign in with the password alone', async () => {
    const user = await createUser(ctx.app);
    const response = await post(freshAgent(), '/api/auth/login', { email: user.email, password: user.password });
    expect(response.body).toEqual({ user: expect.objectContaining({ id: user.id }) });
  });

  it('enrols from the page and completes the sign-in there', async () => {
    const admin = await createUser(ctx.app, { role: 'admin' });
    const agent = freshAgent();
    const form = await agent.get('/login').expect(200);
    const login = await agent
      .post('/login')
      .type('form')
      .send({ _csrf: formCsrfToken(form.text), email: admin.email, password: admin.password })
      .expect(303);
    expect(login.headers.location).toBe('/account/security');
    let page = await agent.get('/account/security').expect(200);
    page = await agent
      .post('/account/security/totp')
      .type('form')
      .send({ _csrf: formCsrfToken(page.text) })
      .expect(200);
    const secret = /data-secret>([A-Z2-7]+)</.exec(page.text)![1];
    const action = /action="(\/account\/security\/totp\/[0-9a-f]{24}\/verify)"/.exec(page.text)![1];
    await awayFromStepEdge();
    page = await agent
      .post(action)
      .type('form')
      .send({ _csrf: formCsrfToken(page.text), code: totpCode(secret) })
      .expect(200);
    expect(page.text).toContain('Your authenticator app is set up');
    expect(page.text).not.toContain('data-notice="enrol-required"');
    await agent.get('/admin').expect(200);
  });
});

describe('pending sign-ins and SESSION_MAX_PER_USER', () => {
  const ctx = useTestApp({ db: 'second_factors_limit', env: { TRUST_PROXY: '1', SESSION_MAX_PER_USER: '2' } });
  const freshAgent = () => newAgent(ctx.app).set('X-Forwarded-For', `203.0.113.${nextIp++}`);

  it('does not count password steps waiting for a code among the sessions a sign-in makes room for', async () => {
    const user = await createUser(ctx.app);
    const { secret } = await enrolTotpAt(ctx.app, user, Date.now() - 10 * STEP_MS);
    const owner = freshAgent();
    await post(owner, '/api/auth/login', { email: user.email, password: user.password });
    await awayFromStepEdge();
    expect((await post(owner, '/api/auth/login/totp', { code: totpCode(secret) })).status).toBe(200);

    for (let i = 0; i < 3; i++)
      expect((await post(freshAgent(), '/api/auth/login', { email: user.email, password: user.password })).status).toBe(200);
    const second = freshAgent();
    await post(second, '/api/auth/login', { email: user.email, password: user.password });
    expect((await post(second, '/api/auth/login/totp', { code: totpCode(secret, Date.now() + STEP_MS) })).status).toBe(200);
    await owner.get('/api/auth/me').expect(200);
    await second.get('/api/auth/me').expect(200);
  });

  it('lets an admin reset a user’s factors from the user’s page', async () => {
    const user = await createUser(ctx.app);
    await enrolTotpAt(ctx.app, user, Date.now() - 10 * STEP_MS);
    const admin = await createUser(ctx.app, { role: 'admin' });
    const agent = freshAgent();
    expect((await post(agent, '/api/auth/login', { email: admin.email, password: admin.password })).status).toBe(200);
    const page = await agent.get(`/admin/users/${user.id}`).expect(200);
    expect(page.text).toContain('Authenticator app');
    const reset = await agent
      .post(`/admin/users/${user.id}/factors/reset`)
      .type('form')
      .send({ _csrf: formCsrfToken(page.text) })
      .expect(303);
    expect(reset.headers.location).toBe(`/admin/users/${user.id}`);
    expect((await agent.get(reset.headers.location).expect(200)).text).toMatch(/data-field="factors">none</);
  });
});
